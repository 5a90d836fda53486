"""The ledger spreadsheet (台账): summary, data problems, communities, priority list, bundles,
sites, unserved.

Every cell is written by :func:`_put`: numbers and booleans stay numbers and booleans, everything
else is a text cell (``data_type = "s"``), so a value such as ``=HYPERLINK(…)`` or
``=cmd|' /C calc'!A0`` is shown, never evaluated; text that starts like a formula (``= + - @``,
tab, CR — OWASP's list) also gets Excel's quote prefix, so it stays text when a planner edits the
cell. No cell of the ledger holds a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import tomllib
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import io, settings

_COMMUNITY_COLUMNS = [
    "cid", "name", "subdistrict", "built_raw", "built_year", "built_approx", "households",
    "floor_area", "area_m2", "willingness", "infrastructure_deficit", "funding_share", "tier",
    "eligible", "eligibility_reason", "bundle_id", "gaps", "full_coverage", "distance_mode",
]  # fmt: skip
_TIER = {"zh": {"priority": "优先改造", "standard": "一般改造", "not_eligible": "不纳入", "unknown": "待核实"},
         "en": {"priority": "priority", "standard": "standard", "not_eligible": "not eligible",
                "unknown": "to verify"}}  # fmt: skip


@cache
def _headers(lang: str) -> dict:
    return tomllib.loads((settings.DATA_DIR / "ledger.toml").read_text("utf-8"))[lang]


def _community_sheet(result, lang: str) -> pd.DataFrame:
    comm = result.communities
    cols = [c for c in _COMMUNITY_COLUMNS if c in comm]
    frame = pd.DataFrame(comm[cols]).copy()
    if "tier" in frame:
        frame["tier"] = frame["tier"].astype(str).map(_TIER[lang])
    heads = _headers(lang)["columns"]
    renamed = {c: heads.get(c, c) for c in cols}
    for key, cat in result.standards.categories.items():
        if f"{key}_m" not in comm:
            continue
        name = cat.label(lang)
        frame[f"{name}距离(m)" if lang == "zh" else f"{name} (m)"] = comm[f"{key}_m"].round(0)
        frame[f"{name}达标" if lang == "zh" else f"{name} ok"] = comm[f"{key}_ok"].map(
            {True: "✓", False: "✗"}
        )
        frame[f"{name}最近设施" if lang == "zh" else f"{name}: nearest"] = comm[f"{key}_nearest"]
    if "priority" in result.layers_out:
        ranks = result.layers_out["priority"].set_index("cid")[["rank", "score"]]
        frame = frame.join(ranks, on="cid")
        renamed |= {"rank": heads["rank"], "score": heads["score"]}
    extra = [
        c
        for c in comm.columns
        if c not in frame.columns and not _derived(c, result) and c != "geometry"
    ]
    frame = pd.concat([frame, pd.DataFrame(comm[extra])], axis=1)
    for col in ("built_approx", "eligible", "full_coverage"):
        if col in frame:
            frame[col] = frame[col].map({True: "是" if lang == "zh" else "yes", False: ""})
    return frame.rename(columns=renamed)


def _derived(column: str, result) -> bool:
    keys = tuple(result.standards.categories)
    return column.endswith(("_m", "_ok", "_nearest")) and column.rsplit("_", 1)[0] in keys or column in (
        "built_year_min", "built_year_max", "willingness_ok")  # fmt: skip


def _table(frame, lang: str, drop=("geometry",)) -> pd.DataFrame:
    frame = pd.DataFrame(frame).drop(columns=[c for c in drop if c in frame])
    if "tier" in frame:
        frame["tier"] = frame["tier"].astype(str).map(_TIER[lang])
    return frame.rename(columns=_headers(lang)["columns"])


def _pct(value) -> str:
    """A share as a percent; empty when it cannot be computed (no household counts)."""
    return "" if value is None else f"{value:.1%}"


def _summary_sheet(result, lang: str) -> pd.DataFrame:
    s = result.summary
    zh = lang == "zh"
    rows = [("项目" if zh else "Project", s.get("project")), ("小区数" if zh else "Communities", s.get("communities")),
            ("老旧小区数" if zh else "Old communities", s.get("old_communities")),
            ("户数" if zh else "Households", s.get("households")), ("坐标系" if zh else "CRS", s.get("crs"))]  # fmt: skip
    cov = s.get("coverage")
    if cov:
        rows += [("全覆盖户数占比" if zh else "Households fully covered", _pct(cov["full_coverage_households"])),
                 ("全覆盖小区占比" if zh else "Communities fully covered", _pct(cov["full_coverage_communities"])),
                 ("国家目标" if zh else "National target", f"{cov['national_target']:.0%}"),
                 ("距离计算" if zh else "Distance mode", cov["distance_mode"])]  # fmt: skip
        for key, shares in cov["categories"].items():
            name = result.standards.categories[key].label(lang)
            rows.append(
                (
                    f"{name}覆盖户数占比" if zh else f"{name}: households covered",
                    _pct(shares["households"]),
                )
            )
    if "bundles" in s:
        rows.append(("成片改造片区数" if zh else "Bundles", s["bundles"]["count"]))
    if "sites" in s:
        rows += [("推荐选址数" if zh else "Recommended sites", s["sites"]["count"]),
                 ("选址后全覆盖户数占比" if zh else "Fully covered after siting",
                  _pct(s["sites"]["full_coverage_households_after"]))]  # fmt: skip
    heads = _headers(lang)["columns"]
    return pd.DataFrame(rows, columns=[heads["item"], heads["value"]])


def _site_coverage_sheet(result, lang: str) -> pd.DataFrame:
    """Household coverage before and after the recommended sites: full coverage and per
    category, for the whole area and per subdistrict (``summary["sites"]``)."""
    s = result.summary["sites"]
    heads = _headers(lang)["site_coverage"]
    names = {k: c.label(lang) for k, c in result.standards.categories.items()}
    rows = [(heads["whole"], heads["full"], s["full_coverage_households_before"],
             s["full_coverage_households_after"])]  # fmt: skip
    rows += [(heads["whole"], names[k], b["households_before"], b["households_after"])
             for k, b in s["by_category"].items()]  # fmt: skip
    for sub, block in s.get("by_subdistrict", {}).items():
        rows.append((sub, heads["full"], block["full_coverage_households_before"],
                     block["full_coverage_households_after"]))  # fmt: skip
        rows += [(sub, names[k], v["before"], v["after"]) for k, v in block["categories"].items()]
    cols = [heads["scope"], heads["category"], heads["before"], heads["after"]]
    return pd.DataFrame(rows, columns=cols)


def _problems_sheet(result, lang: str) -> pd.DataFrame | None:
    """The data problems of the run (``summary["warnings"]``), one row per problem; None if none."""
    warnings = result.summary.get("warnings") or []
    if not warnings:
        return None
    heads = _headers(lang)["problems"]
    sep = "、" if lang == "zh" else ", "
    rows = [{heads["code"]: w.get("code"), heads["layer"]: w.get("layer"),
             heads["message"]: w.get("message"), heads["count"]: w.get("count"),
             heads["sample"]: sep.join(str(v) for v in w.get("sample") or [])} for w in warnings]  # fmt: skip
    return pd.DataFrame(rows, columns=list(heads.values()))


def _capacity_sheet(result, lang: str) -> pd.DataFrame | None:
    """缺口测算: supply against demand per category for the district, each subdistrict and each
    bundle (``summary["capacity"]``); None when the capacity stage did not run."""
    from .messages import text

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
            rows.append({
                t("cap_scope"): scope, t("cap_name"): name,
                t("cap_category"): result.standards.categories[key].label(lang),
                t("cap_indicator"): c["indicator"] if lang == "zh" else c["indicator_en"],
                t("cap_target"): c["target"], t("cap_target_existing"): c["target_existing"],
                t("cap_demand"): v["demand"], t("cap_need"): v["need"],
                t("cap_supply"): v["supply_reaching"], t("cap_ratio"): v["ratio"],
                t("cap_short"): v["shortfall"],
                t("cap_unit"): c["supply_unit"] if lang == "zh" else c["supply_unit_en"],
                t("cap_communities_short"): v["communities_short"],
                t("cap_communities_gap"): v["communities_gap"],
                t("cap_assumed"): c["assumed_share"], t("cap_source"): c["source"],
            })  # fmt: skip
    return pd.DataFrame(rows)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def _cell_value(value: object) -> object:
    """A value openpyxl stores as is: None, bool, int, float, datetime or str."""
    if isinstance(value, list | tuple | set | dict | np.ndarray):
        return str(value)
    if value is None or pd.isna(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date) and getattr(value, "tzinfo", None) is None:
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _put(sheet, row: int, column: int, value: object) -> None:
    """Write one cell: numbers as numbers, any text as a text cell (never a formula)."""
    cell = sheet.cell(row=row, column=column)
    cell.value = _cell_value(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # openpyxl makes "=…" a formula; the ledger has none
        if cell.value.startswith(FORMULA_START):
            cell.quotePrefix = True


def _write_sheet(sheet, frame: pd.DataFrame) -> None:
    for col, name in enumerate(frame.columns, start=1):
        _put(sheet, 1, col, name)
    for row, values in enumerate(frame.itertuples(index=False, name=None), start=2):
        for col, value in enumerate(values, start=1):
            _put(sheet, row, col, value)


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format(sheet) -> None:
    """Bold frozen header row, filters, column widths from the content (CJK counted double)."""
    sheet.freeze_panes = "A2"
    if sheet.max_row >= 1 and sheet.max_column >= 1:
        sheet.auto_filter.ref = sheet.dimensions
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for idx, column in enumerate(sheet.iter_cols(values_only=True), start=1):
        widest = max((_width(v) for v in column[:500]), default=8)
        sheet.column_dimensions[get_column_letter(idx)].width = min(max(widest + 2, 8), 60)


def write_ledger(result, out: Path, lang: str) -> Path:
    """Write ``ledger.xlsx`` atomically with one formatted sheet per table."""
    names = _headers(lang)["sheets"]
    sheets = {names["summary"]: _summary_sheet(result, lang)}
    problems = _problems_sheet(result, lang)
    if problems is not None:
        sheets[names["problems"]] = problems
    sheets[names["communities"]] = _community_sheet(result, lang)
    capacity = _capacity_sheet(result, lang)
    if capacity is not None:
        from .messages import text

        sheets[text(lang, "cap_sheet")] = capacity
    if "priority" in result.layers_out:
        sheets[names["priority"]] = _table(result.layers_out["priority"], lang)
    if "bundles" in result.layers_out:
        sheets[names["bundles"]] = _table(result.layers_out["bundles"], lang)
    if "sites" in result.layers_out:
        sheets[names["sites"]] = _table(result.layers_out["sites"], lang)
    if "programmes" in result.layers_out:
        sheets[names["programmes"]] = _table(result.layers_out["programmes"], lang)
    if "sites" in result.summary:
        sheets[names["site_coverage"]] = _site_coverage_sheet(result, lang)
    if result.unserved is not None:
        sheets[names["unserved"]] = _table(result.unserved, lang)
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        _write_sheet(sheet, frame)
        _format(sheet)
    target = out / "ledger.xlsx"
    with io.atomic_path(target) as tmp:
        book.save(tmp)
    return target
