"""The region's ledger (``ledger.xlsx`` beside a batch's project folders): one row per project
with the region's total row, the city health-check sheet (城市体检: each indicator per project,
with its definition and source) and the projects that failed. Written through the ledger's one
cell writer (:mod:`spatial.outputs.ledger.workbook`): every text a text cell, never a formula."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spatial.config.health_check import health_indicators
from spatial.config.standards import load_standards
from spatial.core.messages import text
from spatial.outputs import staging
from spatial.outputs.ledger.workbook import DECIMAL, INTEGER, PERCENT, write_book


def _t(lang: str, key: str, **fields: object) -> str:
    return text(lang, f"region_{key}", **fields)


def _category_names(lang: str) -> dict[str, str]:
    return {k: c.label(lang) for k, c in load_standards().categories.items()}


def _capacity_units(records: list[dict], lang: str) -> dict[str, str]:
    """Per capacity category, its supply unit (as the first project that has it states it)."""
    units: dict[str, str] = {}
    for r in records:
        for cat, block in ((r["summary"].get("capacity") or {}).get("categories") or {}).items():
            unit = block.get("supply_unit_en" if lang == "en" else "supply_unit", "")
            units.setdefault(cat, unit)
    return units


def _row(name: str, figures: dict, cats: list[str], capacity: list[str]) -> list:
    return [
        name,
        figures["communities"],
        figures["old_communities"],
        figures["households"],
        figures["full_coverage_now"],
        figures["full_coverage_after"],
        *[figures["coverage"].get(c) for c in cats],
        figures["bundles"],
        figures["sites"],
        *[figures["shortfall"].get(c) for c in capacity],
        figures["data_problems"],
    ]


def _table(region: str, totals: dict, rows: list[dict], lang: str, units: dict) -> pd.DataFrame:
    names = _category_names(lang)
    cats = list(totals["coverage"])
    capacity = list(totals["shortfall"])
    heads = [
        _t(lang, "project"),
        _t(lang, "communities"),
        _t(lang, "old_communities"),
        _t(lang, "households"),
        _t(lang, "full_now"),
        _t(lang, "full_after"),
        *[_t(lang, "coverage", name=names.get(c, c)) for c in cats],
        _t(lang, "bundles"),
        _t(lang, "sites"),
        *[_t(lang, "shortfall", name=names.get(c, c), unit=units.get(c, "")) for c in capacity],
        _t(lang, "data_problems"),
    ]
    body = [_row(r["name"], r, cats, capacity) for r in rows]
    body.append(_row(_t(lang, "total", region=region), totals, cats, capacity))
    frame = pd.DataFrame(body, columns=heads)
    share_cols = {5, 6, *range(7, 7 + len(cats))}
    shortfall_cols = set(range(len(heads) - len(capacity), len(heads)))
    frame.attrs["formats"] = {
        k: PERCENT if k in share_cols else DECIMAL if k in shortfall_cols else INTEGER
        for k in range(2, len(heads) + 1)
    }
    return frame


def health_sheet(region: str, summary: dict, records: list[dict], lang: str) -> pd.DataFrame:
    """城市体检: one row per indicator — the region's value, each project's, the definition and the
    source; a ``missing`` indicator counts compounds (with their share), the attainment rate is a
    share. A value the run could not measure is empty, never zero."""
    rows, formats = [], []
    for ind in health_indicators():
        total = summary["totals"]["health"][ind.key]
        per = [p["health"][ind.key] for p in summary["projects"]]
        if ind.kind == "full_coverage":
            values = [total["share"], *[h["share"] for h in per]]
            formats.append(PERCENT)
        else:
            values = [total["count"], *[h["count"] for h in per]]
            formats.append(INTEGER)
        verified = _t(lang, "verified") if ind.verified else _t(lang, "unverified")
        rows.append([ind.label(lang), *values, ind.definition(lang), ind.source, verified])
        if ind.kind == "missing":  # the same compounds as a share of all compounds
            shares = [total["share"], *[h["share"] for h in per]]
            label = _t(lang, "share_of", name=ind.label(lang))
            rows.append([label, *shares, ind.definition(lang), ind.source, verified])
            formats.append(PERCENT)
    heads = [
        _t(lang, "indicator"),
        _t(lang, "total", region=region),
        *[p["name"] for p in summary["projects"]],
        _t(lang, "definition"),
        _t(lang, "source"),
        _t(lang, "checked"),
    ]
    frame = pd.DataFrame(rows, columns=_unique(heads))
    frame.attrs["row_formats"] = formats
    return frame


def _unique(heads: list[str]) -> list[str]:
    """Column names made distinct (a project named like a fixed column)."""
    seen: dict[str, int] = {}
    out = []
    for h in heads:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def failed_sheet(failed: list[dict], lang: str) -> pd.DataFrame:
    """The projects that did not run: name, exit code, the one-line message."""
    rows = [[f["name"], f["code"], f["message"]] for f in failed]
    heads = [_t(lang, "project"), _t(lang, "code"), _t(lang, "message")]
    return pd.DataFrame(rows, columns=heads)


def write_region_ledger(
    target: Path, summary: dict, records: list[dict], failed: list[dict], lang: str
) -> Path:
    """Write the region's ledger to ``target`` (atomically).

    Parameters
    ----------
    target : Path
    summary : dict
        The region's ``summary.json`` (:func:`spatial.workflow.region.region_summary`).
    records : list of dict
        The projects that ran (:func:`spatial.workflow.region.project_record`: their units).
    failed : list of dict
    lang : str
    """
    region = summary["region"]
    rows = summary["projects"]
    table = _table(region, summary["totals"], rows, lang, _capacity_units(records, lang))
    sheets = [
        (_t(lang, "sheet_projects"), table, table.attrs["formats"]),
        (_t(lang, "sheet_health"), health_sheet(region, summary, records, lang), {}),
    ]
    if failed:
        sheets.append((_t(lang, "sheet_failed"), failed_sheet(failed, lang), {2: INTEGER}))
    with staging.atomic_path(target) as tmp:
        write_book(tmp, sheets)
    return target
