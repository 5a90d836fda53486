"""The ledger spreadsheet (台账): summary, data problems, subdistricts, communities, priority list,
bundles, sites, unserved.

Values a planner reads are in the ledger's language: category keys, distance mode, tier and
solver method are translated on every sheet (by column, :func:`_localise`); shares, areas,
distances and scores are numbers with an Excel number format (``0.0%``, ``#,##0``, ``0.0``).
Every sheet is set up for printing: landscape, fit to the page width, header row repeated on
each page, frozen header row and filters.

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
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import io, settings

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
]
_TIER = {
    "zh": {
        "priority": "优先改造",
        "standard": "一般改造",
        "not_eligible": "不纳入",
        "unknown": "待核实",
    },
    "en": {
        "priority": "priority",
        "standard": "standard",
        "not_eligible": "not eligible",
        "unknown": "to verify",
    },
}


PERCENT, INTEGER, DECIMAL = "0.0%", "#,##0", "0.0"


@cache
def _config() -> dict:
    return tomllib.loads((settings.DATA_DIR / "ledger.toml").read_text("utf-8"))


def _headers(lang: str) -> dict:
    return _config()[lang]


@cache
def _header_formats(lang: str) -> dict[str, str]:
    """Number format of each column header of ``lang`` (from ``[formats]`` by column key)."""
    heads = _headers(lang)["columns"]
    out = {}
    for fmt, keys in ((PERCENT, "percent"), (INTEGER, "integer"), (DECIMAL, "decimal")):
        for key in _config()["formats"][keys]:
            out[heads.get(key, key)] = fmt
    return out


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
    frame = _capacity_columns(frame, result, lang)
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


_CAPACITY_SUFFIXES = ("_need", "_supply", "_ratio", "_short", "_state", "_assumed")


def _capacity_columns(frame: pd.DataFrame, result, lang: str) -> pd.DataFrame:
    """The capacity stage's per-category columns (need, supply, ratio, shortfall, state, assumed)
    and demand columns under the planner's names (``data/ledger.toml`` ``capacity_columns``)."""
    comm = result.communities
    heads = _headers(lang)["capacity_columns"]
    states = heads["states"]
    added = {}
    for col in comm.columns:
        if col.startswith("demand_"):
            added[heads.get(col, col)] = comm[col]
    for key, cat in result.standards.categories.items():
        for suffix in _CAPACITY_SUFFIXES:
            col = f"{key}{suffix}"
            if col not in comm:
                continue
            values = comm[col]
            if suffix == "_state":
                values = values.map(lambda v: states.get(v, v) if isinstance(v, str) else v)
            elif suffix == "_assumed":
                values = values.map({True: "是" if lang == "zh" else "yes", False: ""})
            added[heads[suffix[1:]].format(name=cat.label(lang))] = values
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1) if added else frame


def _derived(column: str, result) -> bool:
    keys = tuple(result.standards.categories)
    suffixes = ("_m", "_ok", "_nearest", *_CAPACITY_SUFFIXES)
    return (
        column.endswith(suffixes)
        and column.rsplit("_", 1)[0] in keys
        or column in ("built_year_min", "built_year_max", "willingness_ok")
        or column.startswith("demand_")
    )


def _table(frame, lang: str, drop=("geometry",)) -> pd.DataFrame:
    frame = pd.DataFrame(frame).drop(columns=[c for c in drop if c in frame])
    if "tier" in frame:
        frame["tier"] = frame["tier"].astype(str).map(_TIER[lang])
    return frame.rename(columns=_headers(lang)["columns"])


def _pct(value) -> str:
    """A share as a percent; empty when it cannot be computed (no household counts)."""
    return "" if value is None else f"{value:.1%}"


def _summary_sheet(result, lang: str) -> pd.DataFrame:
    """Item / value rows; shares stay numbers (``attrs["row_formats"]`` gives each row's format)."""
    s = result.summary
    zh = lang == "zh"
    rows = [
        ("项目" if zh else "Project", s.get("project"), None),
        ("小区数" if zh else "Communities", s.get("communities"), INTEGER),
        ("老旧小区数" if zh else "Old communities", s.get("old_communities"), INTEGER),
        ("户数" if zh else "Households", s.get("households"), INTEGER),
        ("坐标系" if zh else "CRS", s.get("crs"), None),
    ]
    cov = s.get("coverage")
    values = _headers(lang)["values"]
    cats = result.standards.categories
    sites = (s.get("sites") or {}).get("by_category", {})
    if cov:
        basket = ("、" if zh else ", ").join(
            cats[k].label(lang) for k in cov["basket"] if k in cats
        )
        mode = values["distance_mode"].get(cov["distance_mode"], cov["distance_mode"])
        rows += [
            (
                "全覆盖户数占比" if zh else "Households fully covered",
                cov["full_coverage_households"],
                PERCENT,
            ),
            (
                "全覆盖小区占比" if zh else "Communities fully covered",
                cov["full_coverage_communities"],
                PERCENT,
            ),
            (
                "全覆盖口径" if zh else "Full coverage means",
                f"{basket}均在服务半径内" if zh else f"all of {basket} within their radius",
                None,
            ),
            ("国家目标" if zh else "National target", cov["national_target"], PERCENT),
            ("距离计算" if zh else "Distance mode", mode, None),
        ]
        for key, shares in cov["categories"].items():
            name = cats[key].label(lang) if key in cats else key
            rows.append(
                (
                    f"{name}覆盖户数占比" if zh else f"{name}: households covered",
                    shares["households"],
                    PERCENT,
                )
            )
            if key in sites:
                method = sites[key].get("method", "")
                rows += [
                    (
                        f"{name}选址后覆盖户数占比" if zh else f"{name}: covered after siting",
                        sites[key].get("households_after"),
                        PERCENT,
                    ),
                    (
                        f"{name}选址方法" if zh else f"{name}: siting method",
                        values["method"].get(method, method),
                        None,
                    ),
                ]
    if "bundles" in s:
        rows.append(("成片改造片区数" if zh else "Bundles", s["bundles"]["count"], INTEGER))
    if "sites" in s:
        rows += [
            ("推荐选址数" if zh else "Recommended sites", s["sites"]["count"], INTEGER),
            (
                ("选址后全覆盖户数占比" if zh else "Households fully covered after siting")
                if s["sites"].get("weights", "households") == "households"
                else ("选址后全覆盖小区占比" if zh else "Communities fully covered after siting"),
                s["sites"]["full_coverage_households_after"]
                if s["sites"].get("weights", "households") == "households"
                else s["sites"].get("full_coverage_communities_after"),
                PERCENT,
            ),
        ]
    heads = _headers(lang)["columns"]
    frame = pd.DataFrame([r[:2] for r in rows], columns=[heads["item"], heads["value"]])
    frame.attrs["row_formats"] = [r[2] for r in rows]
    return frame


def _subdistrict_sheet(result, lang: str) -> pd.DataFrame | None:
    """One row per subdistrict (``summary["coverage"]["by_subdistrict"]``) and a total row."""
    cov = result.summary.get("coverage")
    if not cov or not cov.get("by_subdistrict"):
        return None
    from .eligibility import last_full_year

    h = _headers(lang)["subdistricts"]
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
            {**cov, "households": cov.get("households_total", cov["households"])},
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


def _site_coverage_sheet(result, lang: str) -> pd.DataFrame:
    """Household coverage before and after the recommended sites: full coverage and per
    category, for the whole area and per subdistrict (``summary["sites"]``)."""
    s = result.summary["sites"]
    heads = _headers(lang)["site_coverage"]
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
    return pd.DataFrame(rows, columns=cols)


def _problems_sheet(result, lang: str) -> pd.DataFrame | None:
    """The data problems of the run (``summary["warnings"]``), one row per problem; None if none."""
    warnings = result.summary.get("warnings") or []
    if not warnings:
        return None
    heads = _headers(lang)["problems"]
    sep = "、" if lang == "zh" else ", "
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
                    t("cap_source"): c["source"],
                }
            )
    return pd.DataFrame(rows)


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


def _localise(frame: pd.DataFrame, result, lang: str) -> pd.DataFrame:
    """Translate keys in cells by column header (category, shared gaps, distance mode, method)
    and round floats to what a planner reads; works on every sheet, whoever built it."""
    heads = _headers(lang)["columns"]
    values = _headers(lang)["values"]
    cats = result.standards.categories
    sep = "、" if lang == "zh" else ", "

    def cat(key):
        return cats[key].label(lang) if isinstance(key, str) and key in cats else key

    def cat_list(value):
        if not isinstance(value, str):
            return value
        return sep.join(str(cat(k.strip())) for k in value.split(",") if k.strip())

    frame = frame.copy()
    for col in frame.columns:
        if col == heads["category"]:
            frame[col] = frame[col].map(cat)
        elif col == heads["shared_gaps"]:
            frame[col] = frame[col].map(cat_list)
        elif col in (heads["distance_mode"], heads["method"]):
            table = values["distance_mode" if col == heads["distance_mode"] else "method"]
            frame[col] = frame[col].map(lambda v, t=table: t.get(v, v) if isinstance(v, str) else v)
        elif frame[col].dtype.kind == "f":
            fmt = (_header_formats(lang) | frame.attrs.get("formats", {})).get(col)
            frame[col] = frame[col].round(4 if fmt == PERCENT else 2)
    return frame


def _column_formats(frame: pd.DataFrame, lang: str) -> dict[int, str]:
    """Number format per 1-based column: by header (``[formats]``), ``attrs["formats"]``, and the
    per-category distance columns (whole metres)."""
    known = _header_formats(lang) | frame.attrs.get("formats", {})
    out = {}
    for idx, col in enumerate(frame.columns, start=1):
        name = str(col)
        if name in known:
            out[idx] = known[name]
        elif name.endswith(("距离(m)", " (m)")):
            out[idx] = INTEGER
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def _cell_value(value: object) -> object:
    """A value openpyxl stores as is: None, bool, int, float, datetime or str."""
    kind = type(value)  # the common plain types first (most cells), same results as below
    if kind is str:
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else (None if value != value else str(value))
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


def _put(sheet, value: object, number_format: str | None = None, header: bool = False):
    """One cell for ``sheet.append``: numbers as numbers (with ``number_format``), any text as a
    text cell (never a formula). Plain numbers and blanks go as bare values (cheapest)."""
    value = _cell_value(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl makes "=…" a formula; the ledger has none
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif number_format and isinstance(value, int | float) and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
    elif header:
        cell = WriteOnlyCell(sheet, value)
    else:
        return value
    if header:
        cell.font, cell.fill, cell.alignment = _HEADER_STYLE
    return cell


_HEADER_STYLE = (
    Font(bold=True),
    PatternFill("solid", fgColor="DDEBF7"),
    Alignment(vertical="center", wrap_text=True),
)


def _write_sheet(sheet, frame: pd.DataFrame, lang: str) -> None:
    """Set up ``sheet`` (a write-only sheet: everything before the rows) and append the rows."""
    _format(sheet, frame)
    sheet.append([_put(sheet, name, header=True) for name in frame.columns])
    formats = _column_formats(frame, lang)
    row_formats = frame.attrs.get("row_formats")
    columns = [_plain(frame.iloc[:, k]) for k in range(frame.shape[1])]
    for row, values in enumerate(zip(*columns, strict=True)):
        if row_formats:
            fmts = [None] + [row_formats[row]] * (len(values) - 1)
        else:
            fmts = [formats.get(col) for col in range(1, len(values) + 1)]
        sheet.append([_put(sheet, v, f) for v, f in zip(values, fmts, strict=True)])


def _plain(column: pd.Series) -> list:
    """A column as plain Python values (numeric columns converted at once, not cell by cell)."""
    if column.dtype.kind in "iu":
        return column.tolist()
    if column.dtype.kind == "f":
        return column.astype(object).where(column.notna(), None).tolist()
    return column.tolist()


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format(sheet, frame: pd.DataFrame) -> None:
    """Frozen header row, filters, column widths from the content (CJK counted double; the first
    500 rows), and print setup: landscape A4, fit to one page wide, header row on every page."""
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(len(frame.columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    head = frame.head(500)
    for idx, col in enumerate(frame.columns, start=1):
        values = [col, *(_cell_value(v) for v in head[col].tolist())] if len(head) else [col]
        widest = max(_width(v) for v in values)
        sheet.column_dimensions[get_column_letter(idx)].width = min(max(widest + 2, 8), 60)


def write_ledger(result, out: Path, lang: str) -> Path:
    """Write ``ledger.xlsx`` atomically with one formatted sheet per table."""
    names = _headers(lang)["sheets"]
    sheets = {names["summary"]: _summary_sheet(result, lang)}
    problems = _problems_sheet(result, lang)
    if problems is not None:
        sheets[names["problems"]] = problems
    sheets[names["communities"]] = _community_sheet(result, lang)
    subdistricts = _subdistrict_sheet(result, lang)
    if subdistricts is not None:
        sheets[_headers(lang)["subdistricts"]["sheet"]] = subdistricts
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
    book = Workbook(write_only=True)  # rows streamed to the file: no cell objects kept
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        frame = _unique_columns(frame)
        localised = _localise(frame, result, lang)
        localised.attrs = frame.attrs
        _write_sheet(sheet, localised, lang)
    target = out / "ledger.xlsx"
    with io.atomic_path(target) as tmp:
        book.save(tmp)
    return target
