"""The print pack (overview, group maps, bundle sheets in one PDF; PNGs) and the ledger's polish
(translated values, number formats, subdistrict sheet, print setup), on the demo district."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from openpyxl import load_workbook

from spatial.outputs.ledger.write import write_ledger
from spatial.outputs.printing import pack as printmap
from spatial.outputs.printing import pdf as printpdf
from spatial.outputs.printing import sheets as printpack
from spatial.outputs.style import share_text
from spatial.text.printing import font_file

STAGES = ("coverage", "bundle", "sites")
GROUPS = ("elderly", "childcare", "clinics", "markets")


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(STAGES)


@pytest.fixture(scope="module")
def pack(demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    printmap.write_print_maps(demo, out, "zh")
    return out


@pytest.fixture(scope="module")
def ledgers(demo, tmp_path_factory) -> dict:
    books = {}
    for lang in ("zh", "en"):
        out = tmp_path_factory.mktemp(f"ledger_{lang}")
        books[lang] = load_workbook(write_ledger(demo, out, lang))
    return books


def _pdf_pages(path: Path) -> int:
    """Pages of a PDF written by matplotlib (its page objects are plain dictionaries)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", path.read_bytes()))


def test_share_text_one_rule():
    assert share_text(0.0689) == "6.9%"
    assert share_text(0.5113) == "51.1%"
    assert share_text(1) == "100.0%"
    assert (
        share_text(0.00044) == "0.0%" and share_text(0.00049) == "0.1%"
    )  # half up from 4 decimals
    assert share_text(None) == "–" and share_text(float("nan")) == "–"


def test_pdf_holds_overview_groups_and_one_sheet_per_bundle(demo, pack):
    bundles = demo.bundling.bundles
    assert len(bundles) == 19
    assert _pdf_pages(pack / "overview.pdf") == 1 + len(GROUPS) + len(bundles)


def test_pngs_are_a3_at_300_dpi(demo, pack):
    from PIL import Image

    for name in ("overview", *GROUPS):
        image = Image.open(pack / f"{name}.png")
        assert image.size == (4960, 3507), name
        small = np.asarray(image.convert("RGB").resize((496, 350)))
        assert small.std() > 20, name  # a drawing, not an empty page
    assert printmap.print_names(demo) == [f"{n}.png" for n in ("overview", *GROUPS)]


def _texts(fig) -> str:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
    return "\n".join(found)


def _sheet_texts(demo, bundle, lang: str) -> str:
    """The texts drawn on ``bundle``'s sheet, one per line."""
    doc = printpdf.Sheets(font_file(printmap.cjk_font()))
    printpack.bundle_page(printpack._Context(demo), bundle, lang, doc)
    return "\n".join(t.text for t in doc.texts)


def test_bundle_sheet_lists_its_members_gaps_and_sites(demo):
    bundles = demo.bundling.bundles
    b01 = bundles.loc[bundles["bundle_id"] == "B01"].iloc[0]
    shown = _sheet_texts(demo, b01, "zh")
    comm = demo.communities
    members = comm.loc[comm["bundle_id"] == "B01"]
    assert len(members) == 6
    for name, households in zip(members["name"], members["households"], strict=True):
        assert name in shown
        assert f"{int(households):,}" in shown
    assert "B01片区图则" in shown
    assert "养老院、托儿所、幼儿园、社区卫生服务中心" in shown  # the shared gaps, by name
    assert "nursing_home" not in shown
    # a recommended site serving a member is listed with its parcel id
    sites = demo.siting.sites
    serving = sites.loc[sites["covered_ids"].str.contains("LS005")]
    assert len(serving) and all(pid in shown for pid in serving["pid"])


def test_group_map_headline_is_the_groups_share(demo):
    comm = demo.communities
    keys = ["elderly_daycare", "nursing_home"]
    ok = comm[[f"{k}_ok" for k in keys]].all(axis=1)
    expected = comm.loc[ok, "households"].sum() / comm["households"].sum()
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._group(printmap.MapBase(demo), "zh", "elderly", keys)
    shown = _texts(fig)
    plt.close(fig)
    assert f"养老设施全覆盖户数占比 {share_text(expected)}" in shown
    overall = share_text(demo.summary["coverage"]["full_coverage_households"])
    assert overall not in shown.split("\n")[1]


def test_overview_headline_before_after_and_definition(demo):
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._overview(printmap.MapBase(demo), "zh")
    shown = _texts(fig)
    plt.close(fig)
    assert "全覆盖户数占比 6.9% → 47.6%（推荐选址后）" in shown
    assert "以下8类设施均在服务半径内（按步行路网计算）" in shown and "养老院 1000 m" in shown
    assert "km" in shown or " m" in shown
    assert "ft" not in re.findall(r"\b(ft|feet|mi)\b", shown) and "feet" not in shown


def test_zh_ledger_names_categories_modes_and_methods_in_chinese(demo, ledgers):
    keys = set(demo.standards.categories) | {"network", "straight_line"}
    methods = {"exact (MCLP)", "greedy", "greedy (= exact optimum)"}
    book = ledgers["zh"]
    for sheet in book:
        for row in sheet.iter_rows():
            for c in row:
                assert c.value not in keys | methods, (sheet.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert "nursing_home" not in c.value and "elderly_daycare" not in c.value
    heads = [c.value for c in book["成片改造片区"][1]]
    col = heads.index("共同缺项")
    assert book["成片改造片区"][2][col].value == "养老院、托儿所、幼儿园、社区卫生服务中心"
    unserved = {r[2] for r in book["需其他措施"].iter_rows(min_row=2, values_only=True)}
    assert "老年人日间照料中心" in unserved
    en = {c.value for s in ledgers["en"] for row in s.iter_rows() for c in row}
    assert (
        not en & keys and "Nursing home, Nursery (0-3), Kindergarten, Community health centre" in en
    )


def test_shares_and_areas_are_numbers_with_formats(demo, ledgers):
    book = ledgers["zh"]
    summary = {r[0].value: r[1] for r in book["汇总"].iter_rows(min_row=2)}
    cov = demo.summary["coverage"]
    cell = summary["全覆盖户数占比"]
    assert cell.data_type == "n" and cell.value == cov["full_coverage_households"]
    assert cell.number_format == "0.0%"
    assert (
        summary["选址后全覆盖户数占比"].value
        == demo.summary["sites"]["full_coverage_households_after"]
    )
    assert summary["小区数"].number_format == "#,##0"
    assert summary["距离计算"].value == "步行路网"
    sheet = book["小区台账"]
    heads = [c.value for c in sheet[1]]
    for head, fmt in (("改造意愿", "0.0%"), ("占地面积(㎡)", "#,##0"), ("养老院距离(m)", "#,##0")):
        cells = [r[heads.index(head)] for r in sheet.iter_rows(min_row=2)]
        numbers = [c for c in cells if c.value is not None]
        assert numbers and all(c.data_type == "n" and c.number_format == fmt for c in numbers)
    area = [r[heads.index("占地面积(㎡)")].value for r in sheet.iter_rows(min_row=2)]
    assert all(round(v, 2) == v for v in area)  # no 15-digit decimals


def test_subdistrict_sheet_adds_up_to_the_summary(demo, ledgers):
    sheet = ledgers["zh"]["街道汇总"]
    heads = [c.value for c in sheet[1]]
    rows = [dict(zip(heads, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    parts, total = rows[:-1], rows[-1]
    s = demo.summary
    assert total["街道"] == "合计" and len(parts) == 4
    for head, key in (("小区数", "communities"), ("户数", "households"),
                      ("老旧小区数", "old_communities")):  # fmt: skip
        assert sum(r[head] for r in parts) == s[key] == total[head]
    assert total["全覆盖户数占比"] == s["coverage"]["full_coverage_households"]
    by_sub = s["coverage"]["by_subdistrict"]
    for r in parts:
        block = by_sub[r["街道"]]
        assert r["全覆盖户数占比"] == block["full_coverage_households"]
        assert r["养老院覆盖户数占比"] == block["categories"]["nursing_home"]["households"]
    covered = sum(r["全覆盖户数占比"] * r["户数"] for r in parts)
    assert covered / total["户数"] == pytest.approx(total["全覆盖户数占比"], abs=1e-3)
    assert sheet["E2"].number_format == "0.0%" and sheet["B2"].number_format == "#,##0"


def test_every_sheet_is_set_up_for_printing(ledgers):
    from spatial.outputs.ledger.workbook import WIDE_COLUMNS

    for lang, book in ledgers.items():
        for sheet in book:
            setup = sheet.page_setup
            assert setup.orientation == "landscape", (lang, sheet.title)
            assert sheet.print_title_rows == "$1:$1" and sheet.auto_filter.ref
            assert sheet.freeze_panes in ("A2", "B2", "C2"), (lang, sheet.title)
            if sheet.max_column <= WIDE_COLUMNS:  # A4, one page wide, any pages down
                assert setup.paperSize == 9 and setup.fitToHeight == 0
                assert (setup.fitToWidth or 1) == 1  # 1 is the OOXML default when absent
                assert sheet.sheet_properties.pageSetUpPr.fitToPage
            else:  # A3 at full size across pages, the frozen id columns repeated on each
                assert setup.paperSize == 8 and not sheet.sheet_properties.pageSetUpPr.fitToPage
                keys = sheet.freeze_panes[0]
                if keys != "A":
                    assert sheet.print_title_cols == f"$A:${chr(ord(keys) - 1)}"


def test_bundle_sheet_in_english_names_categories_in_english(demo):
    bundles = demo.bundling.bundles
    b01 = bundles.loc[bundles["bundle_id"] == "B01"].iloc[0]
    shown = _sheet_texts(demo, b01, "en")
    assert "Bundle B01" in shown and "Member communities" in shown
    assert "Nursing home, Nursery (0-3), Kindergarten, Community health centre" in shown
    assert "养老院" not in shown and "托儿所" not in shown  # category names, not the data's


def test_a_long_title_is_made_smaller_then_cut_never_run_off_the_page():
    from spatial.outputs.printing.page import TITLE_MIN_PT, TITLE_PT, fitted_title

    assert fitted_title("兰山区老旧小区改造（演示数据）") == (
        "兰山区老旧小区改造（演示数据）",
        TITLE_PT,
    )
    shown, size = fitted_title("某" * 80)
    assert shown == "某" * 80 and TITLE_MIN_PT < size < TITLE_PT
    shown, size = fitted_title("某" * 200)
    assert size == TITLE_MIN_PT and shown.endswith("…") and len(shown) < 100


def test_capacity_headers_carry_the_indicator_units(demo, ledgers):
    """Need, supply and shortfall columns say their unit (from data/standards/capacity.toml)."""
    indicators = demo.capacity.settings.indicators
    for lang, sheet in (("zh", "小区台账"), ("en", "Communities")):
        heads = {c.value for c in ledgers[lang][sheet][1]}
        for key, ind in indicators.items():
            name = demo.standards.categories[key].label(lang)
            unit = ind.supply_unit_zh if lang == "zh" else ind.supply_unit_en
            want = (
                {f"{name}缺口（{unit}）", f"{name}需求量（{unit}）"}
                if lang == "zh"
                else {f"{name}: shortfall ({unit})", f"{name}: need ({unit})"}
            )
            assert unit and want <= heads, (lang, key)
    assert "老年人日间照料中心缺口（平方米）" in {c.value for c in ledgers["zh"]["小区台账"][1]}
