"""The ledger's summary-built sheets and column headers: every share a percent cell, every count
and amount with its number format, every header in the ledger's language (no raw keys, no
repeated English description)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from openpyxl import load_workbook

from spatial.config.standards import load_standards
from spatial.core.messages import labels, text
from spatial.outputs.ledger import summary_sheets as summarysheets
from spatial.outputs.ledger import write as ledger
from spatial.outputs.ledger.workbook import write_book

# ---- ledger: every share a percent, every column header in the ledger's language ----------


def _result(summary: dict):
    """What the summary-built sheets read of a run: its summary and the standards."""
    return SimpleNamespace(summary=summary, standards=load_standards())


def _written(frame: pd.DataFrame, result, lang: str, tmp_path: Path):
    """``frame`` written as ``write_ledger`` writes each sheet; the sheet read back."""
    localised = ledger._localise(frame, result, lang)
    localised.attrs = frame.attrs
    formats = ledger._column_formats(localised, lang)
    write_book(tmp_path / f"s_{lang}.xlsx", [("s", localised, formats)])
    return load_workbook(tmp_path / f"s_{lang}.xlsx")["s"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_coverage_before_after_sites_both_columns_are_percent(lang, tmp_path):
    """选址前后覆盖: the 'before' share was rounded to 2 decimals and shown as 0.07 (General)
    while the terminal, summary.json and map say 6.9 %."""
    cats = {"nursing_home": {"households_before": 0.4904, "households_after": 0.8866}}
    sub = {"households": 10, "full_coverage_households_before": 0.1041}
    sub |= {"full_coverage_households_after": 0.4692}
    sub["categories"] = {"nursing_home": {"before": 0.9919, "after": 1.0}}
    summary = {"sites": {"full_coverage_households_before": 0.0689}}
    summary["sites"] |= {"full_coverage_households_after": 0.476, "by_category": cats}
    summary["sites"]["by_subdistrict"] = {"兰山街道": sub}
    result = _result(summary)
    sheet = _written(summarysheets.site_coverage_sheet(result, lang), result, lang, tmp_path)
    rows = list(sheet.iter_rows(min_row=2))
    assert [(r[2].value, r[3].value) for r in rows] == [
        (0.0689, 0.476),
        (0.4904, 0.8866),
        (0.1041, 0.4692),
        (0.9919, 1),
    ]
    assert all(c.number_format == "0.0%" for r in rows for c in r[2:])


def test_capacity_sheet_numbers_have_formats(tmp_path):
    """缺口测算: shares (supply ratio, share assumed) as percent, counts and amounts formatted;
    every cell was 'General' (1.36 for 136 %, 1 for 100 % assumed)."""
    cat = {"indicator": "平方米/百户", "indicator_en": "m² per 100 households", "target": 20.0}
    cat |= {"target_existing": 15.0, "supply_unit": "平方米", "supply_unit_en": "m²"}
    cat |= {"assumed_share": 1.0, "source": "国办发〔2019〕5号"}
    values = {"demand": 44674.0, "need": 7266.9, "supply_reaching": 9900.1, "ratio": 1.362}
    values |= {"shortfall": 3278.7, "communities_short": 2, "communities_gap": 73}
    summary = {"project": "p", "capacity": {"categories": {"elderly_daycare": cat | values}}}
    summary["capacity"]["by_subdistrict"] = {}
    result = _result(summary)
    for lang in ("zh", "en"):
        frame = summarysheets.capacity_sheet(result, lang)
        sheet = _written(frame, result, lang, tmp_path)
        heads = [c.value for c in sheet[1]]
        row = {h: c for h, c in zip(heads, sheet[2], strict=True)}

        def cell(key, row=row, lang=lang):
            return row[text(lang, key)]

        assert cell("cap_ratio").value == 1.362 and cell("cap_ratio").number_format == "0.0%"
        assert cell("cap_assumed").value == 1 and cell("cap_assumed").number_format == "0.0%"
        assert cell("cap_demand").number_format == "#,##0"
        assert cell("cap_communities_gap").number_format == "#,##0"
        assert cell("cap_short").value == 3278.7 and cell("cap_short").number_format == "0.0"


def _head(lang: str, key: str) -> str:
    return labels(lang)["ledger"]["columns"][key]


def test_priority_shortfall_score_and_parcel_name_headers_are_translated():
    """The priority list showed the raw key ``score_shortfall`` as a header in both languages,
    and the parcels' sheets headed the parcel's name 小区名称 (community name)."""
    priority = pd.DataFrame({"cid": ["A"], "score_funding": [0.0], "score_shortfall": [1.5]})
    sites = pd.DataFrame({"pid": ["DK1"], "name": ["旧厂"], "category": ["market"]})
    for lang in ("zh", "en"):
        heads = list(ledger._table(priority, lang).columns)
        assert "score_shortfall" not in heads
        assert _head(lang, "score_shortfall") in heads
        assert ledger._header_formats(lang)[_head(lang, "score_shortfall")] == "0.0"
        parcel_heads = list(ledger._table(sites, lang, parcels=True).columns)
        assert _head(lang, "parcel_name") in parcel_heads
        assert _head(lang, "name") not in parcel_heads
    assert "地块名称" in ledger._table(sites, "zh", parcels=True).columns
    assert "小区名称" in ledger._table(priority.assign(name="x"), "zh").columns


def test_english_ledger_does_not_repeat_the_bundle_description():
    """The English bundles sheet had 'Description' and 'Description (EN)' with the same text."""
    bundles = pd.DataFrame({"bundle_id": ["B01"], "description": ["d"], "description_en": ["d"]})
    assert "Description (EN)" not in ledger._table(bundles, "en").columns
    assert "Description" in ledger._table(bundles, "en").columns
    assert "片区说明" in set(ledger._table(bundles, "zh").columns)  # no English column (issue 30)
    assert "Description (EN)" not in set(ledger._table(bundles, "zh").columns)
