"""Review session 5: defects found by running the tool as a new planner and as an attacker
(hostile names, bad numbers), each pinned by a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from openpyxl import load_workbook

from spatial.config.standards import load_standards
from spatial.core.errors import InputError
from spatial.core.messages import labels, text, visible
from spatial.inputs.parse import parse_number
from spatial.outputs.ledger import summary_sheets as summarysheets
from spatial.outputs.ledger import write as ledger
from spatial.outputs.ledger.workbook import write_book
from spatial.text.html import esc, fragment

from .conftest import JINAN, file_digest, small_communities, small_facilities_csv


def test_negative_value_in_a_column_with_blanks_is_a_clean_error():
    """A capacity column is mostly blank (only some facilities have beds): a negative value in it
    was an internal error (``boolean value of NA is ambiguous``, exit 3), not the row's error."""
    with pytest.raises(InputError) as info:
        parse_number(pd.Series(["", "12", None, "-5", ""]), "床位", Path("facilities.csv"))
    assert info.value.key == "err_negative"
    assert info.value.fields["row"] == 5  # header is row 1: the 4th value is row 5
    assert "'床位'" in str(info.value) and "-5" in str(info.value)
    # blanks alone stay blanks, numbers stay numbers
    values = parse_number(pd.Series(["", "12", None]), "床位", Path("f.csv"))
    assert values.isna().tolist() == [True, False, True] and values.iloc[1] == 12.0


def test_negative_beds_exit_2_through_the_cli(small_project, run_cli):
    folder = small_project.parent
    rows = [("幸福养老院", "养老院", *JINAN), ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1])]
    small_facilities_csv(folder / "facilities.csv", rows)
    frame = pd.read_csv(folder / "facilities.csv")
    frame["床位"] = [-20, None]
    frame.to_csv(folder / "facilities.csv", index=False)
    before = {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()}
    code, stdout, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr + stdout
    assert "facilities.csv" in lines[0] and "row 2" in lines[0] and "'床位'" in lines[0]
    assert {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()} == before


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


# ---- the terminal: a value quoted in an error line is shown, never acted on ----------------


def test_error_line_shows_escape_sequences_and_bidi_overrides_as_text(small_project, run_cli):
    """A households cell holding ``ESC[2J`` (clear screen), a colour code and a right-to-left
    override was printed raw in the error line: the terminal cleared itself and the rest of the
    line ran backwards. The line now quotes them as ``\\x1b``/``\\u202e``."""
    folder = small_project.parent
    comm = small_communities()
    comm["户数"] = ["100", "\x1b[2J\x1b[31m12\u202e3", "130", "140"]
    comm.to_file(folder / "communities.gpkg")
    for lang, start in (("zh", "错误："), ("en", "error: ")):
        code, stdout, stderr = run_cli("check", "--config", small_project, "--lang", lang)
        assert code == 2
        line = stderr.strip()
        assert line.startswith(start) and "\n" not in line, stderr
        assert not any(ch in line for ch in "\x1b\u202e\x07"), repr(line)
        assert "\\x1b[2J\\x1b[31m12\\u202e3" in line and "communities.gpkg" in line
    assert visible("名称\u2066x\u2069\x9b\x7f") == "名称\\u2066x\\u2069\\x9b\\x7f"
    assert visible("A 栋 ✓ é\u200d") == "A 栋 ✓ é\u200d"  # printable text is untouched


# ---- the maps: a bidi override in a name reverses that name only ---------------------------


def test_bidi_override_in_a_name_is_closed_inside_the_name():
    """A community named ``\\u202etxt.exe`` (right-to-left override) made Chromium show the text
    after it backwards: "— 片区 B06 (12 户)" read "(户 21) 60B 区片 —". Every text from the data
    now closes what it opens (PDF for an override or embedding, PDI for an isolate)."""
    card = str(fragment("<b>{}</b> B06 (12)", "\u202etxt.exe"))
    assert card == "<b>\u202etxt.exe\u202c</b> B06 (12)"
    assert str(esc("\u2067a\u202bb")) == "\u2067a\u202bb\u2069\u202c"  # isolate first, then PDF
    assert str(esc("\u202e\u202c\u202e<i>")) == "\u202e\u202c\u202e&lt;i&gt;\u202c\u202c"
    assert str(esc("兰山 A&B {x}")) == "兰山 A&amp;B &#123;x&#125;"  # no bidi: as before


def test_empty_layer_names_its_project_section(small_project, run_cli):
    """An empty facility table said "facilities 图层为空": the English key read as a word inside
    the Chinese line. It names the project file's section: [facilities]."""
    folder = small_project.parent
    pd.read_csv(folder / "facilities.csv").iloc[:0].to_csv(folder / "facilities.csv", index=False)
    code, _, stderr = run_cli("check", "--config", small_project)
    assert code == 2 and "facilities.csv" in stderr
    assert "项目文件 [facilities] 的图层为空" in stderr
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2 and "the [facilities] layer is empty" in stderr


def test_new_project_missing_file_names_the_section(tmp_path, run_cli):
    """The first thing a new planner sees after ``lifecircle init DIR`` + ``check`` is the
    template's communities.shp missing: the line said "check [path] in the project file"
    without saying which of the sections' paths."""
    assert run_cli("init", tmp_path / "p")[0] == 0
    code, _, stderr = run_cli("check", "--config", tmp_path / "p", "--lang", "en")
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "communities.shp" in stderr and "file not found" in stderr
    assert "path under [communities]" in stderr
    code, _, stderr = run_cli("check", "--config", tmp_path / "p")
    assert code == 2 and "项目文件 [communities] 的 path" in stderr


# ---- error lines name the row of the file, as the planner counts it -----------------------


def _facilities_with_beds(folder: Path, title: bool) -> None:
    """Four facilities, the 2nd 90 km away (dropped as an outlier), the 4th with beds 'abc'."""
    rows = [
        ("幸福养老院", "养老院", *JINAN),
        ("远处养老院", "养老院", JINAN[0] + 1.0, JINAN[1]),
        ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1]),
        ("东方养老院", "养老院", JINAN[0] + 0.001, JINAN[1]),
    ]
    small_facilities_csv(folder / "facilities.csv", rows)
    frame = pd.read_csv(folder / "facilities.csv")
    frame["床位"] = ["100", "", "", "abc"]
    body = frame.to_csv(index=False)
    head = "某区设施清单（2024年）,,,,\n" if title else ""
    (folder / "facilities.csv").write_text(head + body, encoding="utf-8")


@pytest.mark.parametrize("title", [False, True])
def test_bad_value_row_counts_rows_dropped_before_and_a_title_row(small_project, run_cli, title):
    """The row was the value's position + 2 after outliers were dropped and without the title
    rows above the header: 'row 4' for a value on line 5 (6 with a title row)."""
    folder = small_project.parent
    _facilities_with_beds(folder, title)
    line = next(
        i
        for i, t in enumerate((folder / "facilities.csv").read_text("utf-8").splitlines(), 1)
        if t.endswith(",abc")
    )
    assert line == (6 if title else 5)
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2, stderr
    assert f"row {line}, column '床位': 'abc' is not a number" in stderr


def test_duplicate_id_rows_count_a_copy_dropped_before(small_project, run_cli):
    """An exact copy of a community (dropped with a warning) sat above two communities sharing
    an id: the error named rows 4, 5 — the rows after the copy was taken out — not 5, 6."""
    folder = small_project.parent
    comm = small_communities(4)
    comm["编号"] = ["A1", "A2", "A3", "A3"]
    comm = pd.concat([comm.iloc[:1], comm]).reset_index(drop=True)  # row 3 copies row 2
    comm.to_file(folder / "communities.gpkg")
    text_ = (folder / "project.toml").read_text("utf-8")
    text_ = text_.replace('path = "communities.gpkg"', 'path = "communities.gpkg"\nid = "编号"')
    (folder / "project.toml").write_text(text_, "utf-8")
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2 and "duplicate id 'A3'" in stderr, stderr
    assert "(rows 5, 6)" in stderr, stderr  # header 1, A1 2, its copy 3, A2 4, A3 5 and 6


def test_english_ledger_does_not_repeat_the_bundle_description():
    """The English bundles sheet had 'Description' and 'Description (EN)' with the same text."""
    bundles = pd.DataFrame({"bundle_id": ["B01"], "description": ["d"], "description_en": ["d"]})
    assert "Description (EN)" not in ledger._table(bundles, "en").columns
    assert "Description" in ledger._table(bundles, "en").columns
    assert "片区说明" in set(ledger._table(bundles, "zh").columns)  # no English column (issue 30)
    assert "Description (EN)" not in set(ledger._table(bundles, "zh").columns)
