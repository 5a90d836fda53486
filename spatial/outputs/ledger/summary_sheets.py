"""The ledger's sheets built from ``summary.json``'s blocks: summary, subdistricts, coverage
before and after the sites, data problems, capacity (缺口测算). Texts from the message catalogue
(``data/i18n.toml``, ``ledger.*`` and ``cap_*``); each function returns the sheet's frame, or
``None`` when its block is absent."""

from __future__ import annotations

import pandas as pd

from spatial.analysis.bundles.eligibility import last_full_year
from spatial.analysis.coverage.basis import threshold_text
from spatial.analysis.result import RunResult
from spatial.core.messages import labels, render, text
from spatial.inputs.facility_names import empty_note
from spatial.outputs.ledger.workbook import DECIMAL, INTEGER, PERCENT


def _texts(lang: str) -> dict:
    """The ledger's texts of ``lang`` (``ledger.*`` in ``data/i18n.toml``)."""
    return labels(lang)["ledger"]


def summary_sheet(result: RunResult, lang: str) -> pd.DataFrame:
    """Item / value rows; shares stay numbers (``attrs["row_formats"]`` gives each row's format)."""
    s = result.summary
    t = _texts(lang)
    h = t["summary"]
    rows = [
        (h["project"], s.get("project"), None),
        (h["communities"], s.get("communities"), INTEGER),
        (h["old_communities"], s.get("old_communities"), INTEGER),
        (h["households"], s.get("households"), INTEGER),
        (h["crs"], s.get("crs"), None),
    ]
    cov = s.get("coverage")
    values = t["values"]
    cats = result.standards.categories
    sites = (s.get("sites") or {}).get("by_category", {})
    if cov:
        basket = t["sep"].join(cats[k].label(lang) for k in cov["basket"] if k in cats)
        mode = values["distance_mode"].get(cov["distance_mode"], cov["distance_mode"])
        empty = cov.get("basket_without_facilities", [])
        if empty:  # said before the shares it makes 0
            note = empty_note(result.standards, empty, cov["basket"], lang)
            rows.insert(1, (h["empty_categories"], note, None))
        rows += [
            (h["full_households"], cov["full_coverage_households"], PERCENT),
            (h["full_communities"], cov["full_coverage_communities"], PERCENT),
            (h["full_means"], h["full_means_value"].format(basket=basket), None),
            (h["national_target"], cov["national_target"], PERCENT),
            (h["distance_mode"], mode, None),
        ]
        name_of = lambda k: cats[k].label(lang) if k in cats else k  # noqa: E731
        rows.append((h["threshold"], threshold_text(cov, name_of, lang), None))
        rows += _basis_rows(cov.get("access_basis") or {}, cats, lang, h)
        for key, shares in cov["categories"].items():
            name = cats[key].label(lang) if key in cats else key
            rows.append((h["category_households"].format(name=name), shares["households"], PERCENT))
            if key in sites:
                method = sites[key].get("method", "")
                rows += [
                    (
                        h["category_after"].format(name=name),
                        sites[key].get("households_after"),
                        PERCENT,
                    ),
                    (
                        h["category_method"].format(name=name),
                        values["method"].get(method, method),
                        None,
                    ),
                ]
    if "bundles" in s:
        rows.append((h["bundles"], s["bundles"]["count"], INTEGER))
    if "sites" in s:
        by_households = s["sites"].get("weights", "households") == "households"
        rows += [
            (h["sites"], s["sites"]["count"], INTEGER),
            (
                h["after_households"] if by_households else h["after_communities"],
                s["sites"]["full_coverage_households_after"]
                if by_households
                else s["sites"].get("full_coverage_communities_after"),
                PERCENT,
            ),
        ]
    rows += _sizing_rows(result, lang)
    heads = t["columns"]
    frame = pd.DataFrame([r[:2] for r in rows], columns=[heads["item"], heads["value"]])
    frame.attrs["row_formats"] = [r[2] for r in rows]
    return frame


def _sizing_rows(result: RunResult, lang: str) -> list[tuple]:
    """The facilities sized from the capacity shortfall, and per category the shortfall closed
    and left (supply units), from ``summary["sites"]["sizing"]``."""
    sizing = (result.summary.get("sites") or {}).get("sizing") or {}
    if not sizing.get("by_category"):
        return []
    h = _texts(lang)["summary"]
    cats = result.standards.categories
    rows: list[tuple] = [(h["sites_sized"], sizing["sites_from_shortfall"], INTEGER)]
    for key, block in sizing["by_category"].items():
        name = cats[key].label(lang) if key in cats else key
        unit = block["unit"] if lang == "zh" else block["unit_en"]
        rows += [
            (h["shortfall_closed"].format(name=name, unit=unit), block["closed"], INTEGER),
            (h["shortfall_left"].format(name=name, unit=unit), block["left"], INTEGER),
        ]
    return rows


def subdistrict_sheet(result: RunResult, lang: str) -> pd.DataFrame | None:
    """One row per subdistrict (``summary["coverage"]["by_subdistrict"]``) and a total row."""
    cov = result.summary.get("coverage")
    if not cov or not cov.get("by_subdistrict"):
        return None
    h = _texts(lang)["subdistricts"]
    comm = result.communities
    subs = comm["subdistrict"].fillna("").astype(str).replace("", "未注明")
    old = comm["built_year_max"] <= last_full_year(result.project.policy.old_cutoff)
    old_by = old.groupby(subs).sum()
    cats = result.standards.categories
    keys = list(cov["categories"])

    def row(name, block, n_old):
        out = {
            h["subdistrict"]: name,
            h["communities"]: block["communities"],
            h["households"]: block["households"],
            h["old_communities"]: int(n_old),
            h["full_households"]: block["full_coverage_households"],
            h["full_communities"]: block["full_coverage_communities"],
        }
        for key in keys:
            label = cats[key].label(lang) if key in cats else key
            out[h["category"].format(name=label)] = block["categories"][key]["households"]
        return out

    rows = [row(name, block, old_by.get(name, 0)) for name, block in cov["by_subdistrict"].items()]
    rows.append(
        row(
            h["total"],
            cov,
            result.summary.get("old_communities", int(old.sum())),
        )
    )
    frame = pd.DataFrame(rows)
    share_cols = [c for c in frame.columns[4:]]
    frame.attrs["formats"] = {c: PERCENT for c in share_cols} | {
        h["communities"]: INTEGER,
        h["households"]: INTEGER,
        h["old_communities"]: INTEGER,
    }
    return frame


def site_coverage_sheet(result: RunResult, lang: str) -> pd.DataFrame:
    """Household coverage before and after the recommended sites: full coverage and per
    category, for the whole area and per subdistrict (``summary["sites"]``)."""
    s = result.summary["sites"]
    heads = _texts(lang)["site_coverage"]
    names = {k: c.label(lang) for k, c in result.standards.categories.items()}
    rows = [
        (
            heads["whole"],
            heads["full"],
            s["full_coverage_households_before"],
            s["full_coverage_households_after"],
        )
    ]
    rows += [
        (heads["whole"], names[k], b["households_before"], b["households_after"])
        for k, b in s["by_category"].items()
    ]
    for sub, block in s.get("by_subdistrict", {}).items():
        rows.append(
            (
                sub,
                heads["full"],
                block["full_coverage_households_before"],
                block["full_coverage_households_after"],
            )
        )
        rows += [(sub, names[k], v["before"], v["after"]) for k, v in block["categories"].items()]
    cols = [heads["scope"], heads["category"], heads["before"], heads["after"]]
    frame = pd.DataFrame(rows, columns=cols)
    frame.attrs["formats"] = {heads["before"]: PERCENT, heads["after"]: PERCENT}
    return frame


def problems_sheet(result: RunResult, lang: str) -> pd.DataFrame | None:
    """The data problems of the run (``summary["warnings"]``), one row per problem; None if none."""
    warnings = result.summary.get("warnings") or []
    if not warnings:
        return None
    heads = _texts(lang)["problems"]
    sep = _texts(lang)["sep"]
    rows = [
        {
            heads["code"]: w.get("code"),
            heads["layer"]: w.get("layer"),
            heads["message"]: w.get("message"),
            heads["count"]: w.get("count"),
            heads["sample"]: sep.join(str(v) for v in w.get("sample") or []),
        }
        for w in warnings
    ]
    return pd.DataFrame(rows, columns=list(heads.values()))


def dropped_facilities_sheet(result: RunResult, lang: str) -> pd.DataFrame | None:
    """Every facility row left out for its category, by name (``summary["facilities_dropped"]``);
    None when none was."""
    records = result.summary.get("facilities_dropped") or []
    if not records:
        return None
    heads = _texts(lang)["dropped"]
    rows = [
        {
            heads["row"]: r["row"],
            heads["name"]: r["name"],
            heads["category"]: r["category"],
            heads["reason"]: r["why"],
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=list(heads.values()))


def capacity_sheet(result: RunResult, lang: str) -> pd.DataFrame | None:
    """缺口测算: supply against demand per category for the district, each subdistrict and each
    bundle (``summary["capacity"]``); None when the capacity stage did not run."""
    cap = result.summary.get("capacity")
    if not cap:
        return None
    t = lambda key: text(lang, key)  # noqa: E731
    cats = cap["categories"]
    scopes = [(t("cap_scope_all"), result.summary.get("project"), {k: cats[k] for k in cats})]
    scopes += [(t("cap_scope_subdistrict"), name, v) for name, v in cap["by_subdistrict"].items()]
    scopes += [(t("cap_scope_bundle"), name, v) for name, v in cap.get("by_bundle", {}).items()]
    rows = []
    for scope, name, block in scopes:
        for key, v in block.items():
            c = cats[key]
            rows.append(
                {
                    t("cap_scope"): scope,
                    t("cap_name"): name,
                    t("cap_category"): result.standards.categories[key].label(lang),
                    t("cap_indicator"): c["indicator"] if lang == "zh" else c["indicator_en"],
                    t("cap_target"): c["target"],
                    t("cap_target_existing"): c["target_existing"],
                    t("cap_demand"): v["demand"],
                    t("cap_need"): v["need"],
                    t("cap_supply"): v["supply_reaching"],
                    t("cap_ratio"): v["ratio"],
                    t("cap_short"): v["shortfall"],
                    t("cap_unit"): c["supply_unit"] if lang == "zh" else c["supply_unit_en"],
                    t("cap_communities_short"): v["communities_short"],
                    t("cap_communities_gap"): v["communities_gap"],
                    t("cap_assumed"): c["assumed_share"],
                    t("cap_source"): c["source"]
                    if lang == "zh"
                    else c.get("source_en", c["source"]),
                    t("cap_verified"): _yes_no(lang, c.get("verified")),
                    t("cap_caveat"): render(c.get("caveat"), lang)
                    if lang == "zh"
                    else c.get("caveat_en"),
                }
            )
    frame = pd.DataFrame(rows)
    frame.attrs["formats"] = {t(k): f for k, f in _CAPACITY_FORMATS.items()}
    return frame


#: Number formats of the capacity sheet's columns (catalogue key → format): shares as percent
#: (the supply ratio as on the map), counts whole, amounts in the indicator's unit to 0.1.
_CAPACITY_FORMATS = {
    "cap_demand": INTEGER,
    "cap_need": DECIMAL,
    "cap_supply": DECIMAL,
    "cap_ratio": PERCENT,
    "cap_short": DECIMAL,
    "cap_communities_short": INTEGER,
    "cap_communities_gap": INTEGER,
    "cap_assumed": PERCENT,
}


def _yes_no(lang: str, value: object) -> str | None:
    """是 / 否 (yes / no) of a flag; None (a blank cell) when it is unknown."""
    if value is None:
        return None
    return _texts(lang)["yes" if value else "no"]


def _basis_rows(block: dict, cats: dict, lang: str, h: dict) -> list[tuple]:
    """With gates: the communities per basis and what measuring from the gates took away."""
    if not block.get("gates"):
        return []
    inner = text(lang, f"inner_{block.get('inner_walk') or 'none'}")
    rows = [
        (
            h["access_basis"],
            h["access_basis_value"].format(
                gates=block["gates"], outline=block["outline"], inner=inner
            ),
            None,
        )
    ]

    def lost(change: dict) -> str:
        hh = change["lost_households"]
        return h["lost_value"].format(
            communities=change["lost_communities"], households="—" if hh is None else f"{hh:,}"
        )

    if "full_coverage" in block:
        rows.append((h["full_lost"], lost(block["full_coverage"]), None))
    for key, change in (block.get("categories") or {}).items():
        name = cats[key].label(lang) if key in cats else key
        rows.append((h["category_lost"].format(name=name), lost(change), None))
    return rows
