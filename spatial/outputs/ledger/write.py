"""The ledger spreadsheet (台账): summary, data problems, subdistricts, communities, capacity,
priority list, bundles, sites, programmes, coverage after the sites, unserved.

Values a planner reads are in the ledger's language: category keys, distance mode, tier and
solver method are translated on every sheet (by column, :func:`_localise`); shares, areas,
distances and scores are numbers with an Excel number format (``0.0%``, ``#,##0``, ``0.0``).
Texts come from the message catalogue (``data/i18n.toml``, ``ledger.*``); the sheets built from
``summary.json`` are in :mod:`summarysheets`, the cells (text, never a formula) are written by
:mod:`workbook`. No cell of the ledger holds a formula.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pandas as pd

from spatial.analysis.coverage.basis import DISTANCE_UNITS, distance_unit
from spatial.analysis.result import RunResult
from spatial.analysis.siting.tables import reason_text
from spatial.core.messages import LANGS, labels, text
from spatial.outputs import staging
from spatial.outputs.ledger import plan_sheets
from spatial.outputs.ledger import summary_sheets as summarysheets
from spatial.outputs.ledger.workbook import DECIMAL, GROUPED, INTEGER, PERCENT, write_book

_COMMUNITY_COLUMNS = [
    "cid",
    "name",
    "subdistrict",
    "built_raw",
    "built_year",
    "built_approx",
    "households",
    "floor_area",
    "area_m2",
    "willingness",
    "infrastructure_deficit",
    "funding_share",
    "tier",
    "eligible",
    "eligibility_reason",
    "bundle_id",
    "gaps",
    "full_coverage",
    "distance_mode",
    "access_basis",
]
#: Number formats by column key (the value stays a number; Excel shows it this way).
_FORMATS = {
    PERCENT: (
        "willingness",
        "funding_share",
        "households_before",
        "households_after",
        "full_coverage_households",
        "full_coverage_communities",
        "share",
    ),
    INTEGER: (
        "households",
        "floor_area",
        "floor_area_m2",
        "area_m2",
        "new_households",
        "new_communities",
        "members",
        "priority_members",
        "gap_households",
        "gaps",
        "span_m",
    ),
    DECIMAL: (
        "score",
        "score_tier",
        "score_gaps",
        "score_willingness",
        "score_infrastructure",
        "score_funding",
        "score_shortfall",
        "infrastructure_deficit",
    ),
}


def _headers(lang: str) -> dict:
    """The ledger's texts of ``lang`` (``ledger.*`` in ``data/i18n.toml``)."""
    return labels(lang)["ledger"]


@cache
def _header_formats(lang: str) -> dict[str, str]:
    """Number format of each column header of ``lang`` (:data:`_FORMATS` by column key)."""
    heads = _headers(lang)["columns"]
    return {heads.get(key, key): fmt for fmt, keys in _FORMATS.items() for key in keys}


def _community_sheet(result: RunResult, lang: str) -> pd.DataFrame:
    comm = result.communities
    cols = [c for c in _COMMUNITY_COLUMNS if c in comm]
    frame = pd.DataFrame(comm[cols]).copy()
    if "tier" in frame:
        frame["tier"] = frame["tier"].astype(str).map(_headers(lang)["tiers"])
    heads = _headers(lang)["columns"]
    named = _headers(lang)["category_columns"]
    unit = distance_unit(result.summary.get("coverage"), lang)  # flat-equivalent m with hills
    renamed = {c: heads.get(c, c) for c in cols}
    for key, cat in result.standards.categories.items():
        if f"{key}_m" not in comm:
            continue
        name = cat.label(lang)
        frame[named["distance"].format(name=name, unit=unit)] = comm[f"{key}_m"].round(0)
        frame[named["ok"].format(name=name)] = comm[f"{key}_ok"].map({True: "✓", False: "✗"})
        frame[named["nearest"].format(name=name)] = comm[f"{key}_nearest"]
        if f"{key}_min" in comm:  # minutes at the pace of the group it serves
            group = result.standards.pace[key][0]
            frame[named["minutes"].format(name=name, group=text(lang, f"pace_{group}"))] = comm[
                f"{key}_min"
            ].round(0)
    frame, formats = _capacity_columns(frame, result, lang)
    if result.bundling is not None:
        ranks = result.bundling.priority.set_index("cid")[["rank", "score"]]
        frame = frame.join(ranks, on="cid")
        renamed |= {"rank": heads["rank"], "score": heads["score"]}
    extra = [
        c
        for c in comm.columns
        if c not in frame.columns and not _derived(c, result) and c != "geometry"
    ]
    frame = pd.concat([frame, pd.DataFrame(comm[extra])], axis=1)
    yes_no = {True: _headers(lang)["yes"], False: _headers(lang)["no"]}
    for col in ("built_approx", "eligible", "full_coverage"):
        if col in frame:
            frame[col] = frame[col].map(yes_no)
    if "built_raw" in frame:
        frame["built_raw"] = frame["built_raw"].map(_year_number)
    out = frame.rename(columns=renamed)
    out.attrs["key_columns"] = 2  # id and name stay in view and print on every page
    out.attrs["formats"] = formats
    return out


def _year_number(value: object) -> object:
    """A raw build year that is a plain year ("2015") as the number 2015, so that a spreadsheet
    sorts and filters it as one; any other text ("1982.5", "1976年") stays as written."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 4:
        return int(value.strip())
    return value


_CAPACITY_SUFFIXES = ("_need", "_supply", "_ratio", "_short", "_state", "_assumed")
#: an amount of the capacity stage (m², places, beds, residents): one decimal, thousands grouped
AMOUNT = "#,##0.0"


def _capacity_columns(
    frame: pd.DataFrame, result: RunResult, lang: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The capacity stage's per-category columns (need, supply, ratio, shortfall, state, assumed)
    and demand columns under the planner's names (``ledger.capacity_columns`` in the catalogue),
    and their number formats by header: each cell holds the run's value (to two decimals,
    :func:`_localise`, never rounded to one first), shown to one decimal, the ratio as a
    percent."""
    comm = result.communities
    heads = _headers(lang)["capacity_columns"]
    states = heads["states"]
    indicators = result.capacity.settings.indicators if result.capacity else {}
    units = {
        key: ind.supply_unit_zh if lang == "zh" else ind.supply_unit_en
        for key, ind in indicators.items()
    }
    added, formats = {}, {}
    for col in comm.columns:
        if col.startswith("demand_"):
            added[heads.get(col, col)] = comm[col]
            formats[heads.get(col, col)] = AMOUNT
    for key, cat in result.standards.categories.items():
        for suffix in _CAPACITY_SUFFIXES:
            col = f"{key}{suffix}"
            if col not in comm:
                continue
            values = comm[col]
            if suffix == "_state":
                values = values.map(lambda v: states.get(v, v) if isinstance(v, str) else v)
            elif suffix == "_assumed":
                values = values.map({True: _headers(lang)["yes"], False: _headers(lang)["no"]})
            head = heads[suffix[1:]].format(name=cat.label(lang), unit=units.get(key, ""))
            added[head] = values
            if suffix in ("_need", "_supply", "_short"):
                formats[head] = AMOUNT
            elif suffix == "_ratio":
                formats[head] = PERCENT
    if not added:
        return frame, formats
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1), formats


def _derived(column: str, result: RunResult) -> bool:
    keys = tuple(result.standards.categories)
    suffixes = ("_m", "_ok", "_nearest", "_min", *_CAPACITY_SUFFIXES)
    return (
        column.endswith(suffixes)
        and column.rsplit("_", 1)[0] in keys
        or column in ("built_year_min", "built_year_max", "willingness_ok")
        or column.startswith("demand_")
    )


def _table(
    frame, lang: str, drop=("geometry",), parcels: bool = False, keys: int = 2, names=None
) -> pd.DataFrame:
    """A layer as a sheet: headers in ``lang``; on the parcels' sheets ``name`` is the parcel's.
    ``description`` is already in the ledger's language: ``description_en`` is not a column.
    ``keys`` leading columns (id, name) stay in view; with ``names`` (community names by id) a
    ``covered_ids`` column is followed by the same communities as "id name"."""
    drop = (*drop, "description_en")
    frame = pd.DataFrame(frame).drop(columns=[c for c in drop if c in frame])
    if names is not None and "covered_ids" in frame:
        at = list(frame.columns).index("covered_ids") + 1
        sep = _headers(lang)["sep"]
        named = frame["covered_ids"].map(lambda v: _id_names(v, names, sep))
        frame.insert(at, "covered_names", named)
    if "tier" in frame:
        frame["tier"] = frame["tier"].astype(str).map(_headers(lang)["tiers"])
    # the one term for partner parcels, as on the maps and the print pack
    heads = _headers(lang)["columns"] | {"partner_parcels": labels(lang)["partner_parcels"]}
    out = frame.rename(columns=heads | ({"name": heads["parcel_name"]} if parcels else {}))
    out.attrs["key_columns"] = keys
    return out


def _id_names(ids: object, names: dict, sep: str) -> object:
    """ "C1,C2" as "C1 名称1、C2 名称2" (``sep`` between; an unknown id as itself)."""
    if not isinstance(ids, str):
        return ids
    parts = [i.strip() for i in ids.split(",") if i.strip()]
    return sep.join(f"{i} {names[i]}" if names.get(i) else i for i in parts)


def _unique_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Headers made unique: a raw column of the planner's file may carry the name a derived
    column is given (e.g. 户数 kept while ``households = "none"``); the later one gets " (2)"."""
    seen: dict[str, int] = {}
    names = []
    for col in map(str, frame.columns):
        seen[col] = seen.get(col, 0) + 1
        names.append(col if seen[col] == 1 else f"{col} ({seen[col]})")
    if names == list(map(str, frame.columns)):
        return frame
    out = frame.copy()
    out.columns = names
    out.attrs = frame.attrs
    return out


def _localise(frame: pd.DataFrame, result: RunResult, lang: str) -> pd.DataFrame:
    """Translate keys in cells by column header (category, shared gaps, distance mode, method,
    size basis, status; reasons and suggestions from their codes)
    and round floats to what a planner reads; works on every sheet, whoever built it."""
    heads = _headers(lang)["columns"]
    values = _headers(lang)["values"]
    cats = result.standards.categories
    sep = _headers(lang)["sep"]

    def cat(key):
        return cats[key].label(lang) if isinstance(key, str) and key in cats else key

    def cat_list(value):
        if not isinstance(value, str):
            return value
        return sep.join(str(cat(k.strip())) for k in value.split(",") if k.strip())

    coded = {
        heads[k]: k for k in ("distance_mode", "access_basis", "method", "size_basis", "status")
    }
    frame = frame.copy()
    if heads["reason_code"] in frame and heads["reason"] in frame:  # programmes, unserved
        frame[heads["reason"]] = frame[heads["reason_code"]].map(
            lambda c: reason_text(lang, c) if isinstance(c, str) else c
        )
    if heads["suggestion"] in frame:
        frame[heads["suggestion"]] = frame[heads["suggestion"]].map(
            lambda v: text(lang, "site_suggestion_other_measures") if v else v
        )
    for col in frame.columns:
        if col == heads["category"]:
            frame[col] = frame[col].map(cat)
        elif col == heads["shared_gaps"]:
            frame[col] = frame[col].map(cat_list)
        elif col in coded:
            table = values[coded[col]]
            frame[col] = frame[col].map(lambda v, t=table: t.get(v, v) if isinstance(v, str) else v)
        elif frame[col].dtype.kind == "f":
            fmt = (_header_formats(lang) | frame.attrs.get("formats", {})).get(col)
            frame[col] = frame[col].round(4 if fmt == PERCENT else 2)
    return frame


#: Per-category distance columns (whole metres), in either language and unit: "{name}距离(m)",
#: "{name} (m)", "{name}距离(平地等效米)"…
_DISTANCE_SUFFIXES = tuple(
    labels(lang)["ledger"]["category_columns"]["distance"]
    .replace("{name}", "")
    .replace("{unit}", labels(lang)[f"distance_unit_{unit}"])
    for lang in LANGS
    for unit in DISTANCE_UNITS
)


#: A column of areas: "(㎡)" or "(m²)" in its header (whole square metres).
_AREA_UNIT = re.compile(r"[(（](㎡|m²)[)）]")
#: Number columns shown as written, without a thousands separator: years, ranks, row numbers.
_PLAIN_KEYS = ("built_raw", "built_year", "built_from", "built_to", "rank")


def _column_formats(frame: pd.DataFrame, lang: str) -> dict[int, str]:
    """Number format per 1-based column: by header (:data:`_FORMATS`), ``attrs["formats"]``, the
    per-category distance columns (whole metres); any other number column gets thousands
    separators (``#,##0``, or ``#,##0.0#`` when it holds fractions) but years, ranks and row
    numbers (:data:`_PLAIN_KEYS`), which show as written."""
    known = _header_formats(lang) | frame.attrs.get("formats", {})
    heads = _headers(lang)
    plain = {heads["columns"][k] for k in _PLAIN_KEYS} | {heads["dropped"]["row"]}
    out = {}
    for idx, col in enumerate(frame.columns, start=1):
        name = str(col)
        if name in known:
            out[idx] = known[name]
        elif name.endswith(_DISTANCE_SUFFIXES) or _AREA_UNIT.search(name):
            out[idx] = INTEGER  # whole metres, whole m²
        elif name not in plain and frame[col].dtype.kind in "iuf":
            whole = frame[col].dropna().mod(1).eq(0).all()
            out[idx] = INTEGER if whole else GROUPED
    return out


def write_ledger(result: RunResult, out: Path, lang: str) -> Path:
    """Write ``ledger.xlsx`` atomically with one formatted sheet per table."""
    names = _headers(lang)["sheets"]
    sheets = {names["summary"]: summarysheets.summary_sheet(result, lang)}
    problems = summarysheets.problems_sheet(result, lang)
    if problems is not None:
        sheets[names["problems"]] = problems
    dropped = summarysheets.dropped_facilities_sheet(result, lang)
    if dropped is not None:
        sheets[names["dropped_facilities"]] = dropped
    sheets[names["communities"]] = _community_sheet(result, lang)
    subdistricts = summarysheets.subdistrict_sheet(result, lang)
    if subdistricts is not None:
        sheets[_headers(lang)["subdistricts"]["sheet"]] = subdistricts
    capacity = summarysheets.capacity_sheet(result, lang)
    if capacity is not None:
        sheets[text(lang, "cap_sheet")] = capacity
    if result.bundling is not None:
        sheets[names["priority"]] = _table(result.bundling.priority, lang)
        sheets[names["bundles"]] = _table(result.bundling.bundles, lang, keys=1)
    if result.plan is not None and "plan" in result.summary:
        sheets[names["plan"]] = plan_sheets.year_sheet(result, lang)
        sheets[names["plan_compounds"]] = plan_sheets.compound_sheet(result, lang)
    if result.siting is not None:
        comm = result.communities
        by_id = dict(zip(comm["cid"].astype(str), comm["name"].fillna(""), strict=True))
        sheets[names["sites"]] = _table(result.siting.sites, lang, parcels=True, names=by_id)
        sheets[names["programmes"]] = _table(result.siting.programmes, lang, parcels=True)
    if "sites" in result.summary:
        sheets[names["site_coverage"]] = summarysheets.site_coverage_sheet(result, lang)
    if result.siting is not None:
        sheets[names["unserved"]] = _table(result.siting.unserved, lang)
    tables = []
    for name, frame in sheets.items():
        frame = _unique_columns(frame)
        localised = _localise(frame, result, lang)
        localised.attrs = frame.attrs
        tables.append((name, localised, _column_formats(localised, lang)))
    target = out / "ledger.xlsx"
    with staging.atomic_path(target) as tmp:
        write_book(tmp, tables)
    return target
