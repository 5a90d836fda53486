"""What a planner reads in the meeting (issue 30): palettes a colour-blind reader and a greyscale
print keep apart, plural words, the ledger's cells and print setup, the print pack's bookmarks,
the help and the category list in Chinese, the map's words in a browser."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from spatial.config.project import load_project
from spatial.core.messages import labels, text
from spatial.outputs.html.overlays import CAPACITY_CLASSES
from spatial.outputs.style import CATEGORY_COLOURS, GAP_COLOURS, category_colour, year_colours
from spatial.workflow.pipeline import ALL_STAGES, analyse, in_language, load_inputs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def lightness(colour: str) -> float:
    """CIE L* of an sRGB colour (what a greyscale print keeps)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y


def test_gap_colours_darken_with_every_gap():
    steps = [lightness(c) for c in GAP_COLOURS]
    assert all(a - b >= 10 for a, b in itertools.pairwise(steps)), steps


def test_categories_of_one_group_differ_in_lightness():
    """The two clinics (once orange and brown), and every other group's categories, stay apart
    in greyscale: at least 15 L* between any two colours drawn on the same group map."""
    project = load_project(None)
    from spatial.config.standards import load_standards

    std = load_standards(project)
    index = {k: i for i, k in enumerate(std.categories)}
    groups: dict[str, list[str]] = {}
    for key, cat in std.categories.items():
        groups.setdefault(cat.group, []).append(key)
    checked = 0
    for group, keys in groups.items():
        if group == "other":
            continue
        for a, b in itertools.combinations(keys, 2):
            la, lb = lightness(category_colour(index[a])), lightness(category_colour(index[b]))
            assert abs(la - lb) >= 15, (group, a, b, la, lb)
            checked += 1
    assert checked >= 4
    assert len(set(CATEGORY_COLOURS)) == len(CATEGORY_COLOURS)


def test_capacity_classes_differ_in_lightness():
    shades = [lightness(c) for _, c, _ in CAPACITY_CLASSES]
    assert all(abs(a - b) >= 10 for a, b in itertools.combinations(shades, 2)), shades


def test_programme_years_lighten_year_by_year():
    """The print page and the HTML layers of the programme by year: up to seven years at least
    10 L* apart, earliest darkest; a longer programme still lighter every year."""
    for count in range(1, 8):
        steps = [lightness(c) for c in year_colours(count)]
        assert all(b - a >= 10 for a, b in itertools.pairwise(steps)), (count, steps)
    for count in (8, 12, 30):
        steps = [lightness(c) for c in year_colours(count)]
        assert len(set(year_colours(count))) == count
        assert all(b > a for a, b in itertools.pairwise(steps)), (count, steps)


def test_english_plurals_follow_the_number():
    one = text("en", "cli_bundles", count=1, communities=1)
    many = text("en", "cli_bundles", count=2, communities=7)
    assert "(1 community)" in one and "(7 communities)" in many
    assert text("zh", "cli_bundles", count=1, communities=1) == "成片改造片区：1个，含小区1个"
    sites = text("en", "sites_on_parcels", sites=53, parcels=34)
    assert sites == "53 facilities on 34 parcels"
    assert text("en", "sites_on_parcels", sites=1, parcels=1) == "1 facility on 1 parcel"


def test_one_term_for_partner_parcels():
    for lang in ("zh", "en"):
        lab = labels(lang)
        assert "print_partners" not in lab and "partner_parcels" not in lab["ledger"]["columns"]
    assert labels("zh")["partner_parcels"] == "统筹平衡地块"
    assert labels("zh")["partner_layer"].endswith("统筹平衡地块")


def test_help_is_chinese_by_default_and_english_with_lang_en(capsys):
    from spatial.cli.main import main

    with pytest.raises(SystemExit):
        main(["--help"])
    zh = capsys.readouterr().out
    assert (
        zh.startswith("用法：lifecircle") and "显示本帮助并退出" in zh and "只读取和检查数据" in zh
    )
    with pytest.raises(SystemExit):
        main(["run", "--lang", "en", "--help"])
    en = capsys.readouterr().out
    assert en.startswith("usage: lifecircle run") and "output folder" in en
    assert "用法" not in en
    for command in ("batch", "serve"):  # every command's help, not only the project commands
        with pytest.raises(SystemExit):
            main([command, "--help"])
        zh = capsys.readouterr().out
        assert zh.startswith(f"用法：lifecircle {command}") and "选项" in zh
        assert not re.search(r"\(default: |running Dask|web app", zh), zh
        with pytest.raises(SystemExit):
            main([command, "--lang", "en", "--help"])
        en = capsys.readouterr().out
        assert en.startswith(f"usage: lifecircle {command}") and "options" in en
        assert not re.search(r"[\u4e00-\u9fff]", en), en


def test_unknown_category_lists_the_categories_in_the_run_language(tmp_path, run_cli):
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "x"\n[communities]\npath = "c.shp"\n'
        '[coverage]\nbasket = ["幼儿园", "火锅店"]\n',
        encoding="utf-8",
    )
    code, _, err = run_cli("check", "--config", tmp_path / "project.toml")
    assert code == 2 and "'火锅店'" in err and "养老院（nursing_home）、托儿所（nursery）" in err
    code, _, err = run_cli("check", "--config", tmp_path / "project.toml", "--lang", "en")
    assert code == 2 and "kindergarten (Kindergarten), " in err and "幼儿园（" not in err


@pytest.fixture(scope="module")
def demo():
    project = load_project(None)
    project.render.basemap = "none"
    return analyse(load_inputs(project), ALL_STAGES)


@pytest.fixture(scope="module")
def books(demo, tmp_path_factory) -> dict:
    from spatial.outputs.ledger.write import write_ledger

    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"wording_{lang}")
        out[lang] = load_workbook(write_ledger(in_language(demo, lang), folder, lang))
    return out


def _column(sheet, head: str) -> list:
    heads = [c.value for c in sheet[1]]
    k = heads.index(head)
    return [row[k] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_ledger_says_no_rather_than_blank(books, demo):
    sheet = books["zh"]["小区台账"]
    full = _column(sheet, "全覆盖")
    assert set(full) == {"是", "否"}
    assert full.count("否") == int((~demo.communities["full_coverage"].astype(bool)).sum())
    eligible = _column(sheet, "纳入改造")
    assert eligible.count("否") == int((~demo.communities["eligible"].astype(bool)).sum()) > 0


def test_ledger_names_newly_covered_communities(books, demo):
    sheet = books["zh"]["推荐选址"]
    ids, named = _column(sheet, "新覆盖小区"), _column(sheet, "新覆盖小区（编号 名称）")
    names = dict(zip(demo.communities["cid"], demo.communities["name"], strict=True))
    first = ids[0].split(",")[0]
    assert named[0].startswith(f"{first} {names[first]}、")
    assert len(named[0].split("、")) == len(ids[0].split(","))


def test_ledger_has_no_english_description_column_in_chinese(books):
    for lang, book in books.items():
        for sheet in book:
            heads = [c.value for c in sheet[1]]
            assert "Description (EN)" not in heads, (lang, sheet.title)


def test_ledger_freezes_id_and_name_and_prints_wide_sheets_on_a3(books):
    sheet = books["zh"]["小区台账"]
    assert sheet.freeze_panes == "C2"  # id and name stay in view
    assert sheet.max_column > 80 and sheet.page_setup.paperSize == 8  # A3, not shrunk to A4
    assert sheet.print_title_cols == "$A:$B" and sheet.print_title_rows == "$1:$1"
    assert books["zh"]["汇总"].page_setup.paperSize == 9  # two columns: A4 fit to width


def test_ledger_numbers_have_thousands_separators_and_years_are_numbers(books, demo):
    sheet = books["zh"]["小区台账"]
    heads = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(heads, sheet[2], strict=True)}
    assert row["户数"].number_format == "#,##0"
    assert row["常住人口（推算）"].number_format == "#,##0.0"  # the capacity stage's amounts: 0.1
    assert row["托儿所供需比"].number_format == "0.0%"
    assert row["建成年份（推算）"].number_format == "General"  # 1975, not 1,975
    raw = _column(sheet, "建成年代（原值）")
    plain = [v for v in demo.communities["built_raw"] if str(v).isdigit() and len(str(v)) == 4]
    assert plain and sum(isinstance(v, int) for v in raw) == len(plain)
    assert "1975-02" in raw  # other texts stay as written
    programmes = books["zh"]["地块方案"]
    area = programmes.cell(2, [c.value for c in programmes[1]].index("用地容量(㎡)") + 1)
    assert area.number_format == "#,##0"  # 1,478 beside 8,098: areas in whole m²


def test_ledger_counts_children_by_age_band(books):
    heads = [c.value for c in books["zh"]["小区台账"][1]]
    assert "0–2岁儿童（推算）" in heads and "3–5岁儿童（推算）" in heads
    heads = [c.value for c in books["en"]["Communities"][1]]
    assert "Children aged 0–2 (estimated)" in heads


def test_capacity_sheet_says_verified_and_caveats_in_the_ledger_language(books, demo):
    for lang, sheet_name, yes in (("zh", "缺口测算", "否"), ("en", None, "no")):
        book = books[lang]
        sheet = book[sheet_name or text(lang, "cap_sheet")]
        cats = _column(sheet, text(lang, "cap_category"))
        verified = _column(sheet, text(lang, "cap_verified"))
        caveat = _column(sheet, text(lang, "cap_caveat"))
        source = _column(sheet, text(lang, "cap_source"))
        kg = demo.standards.categories["kindergarten"].label(lang)
        row = cats.index(kg)
        home = cats.index(demo.standards.categories["nursing_home"].label(lang))
        assert verified[home] == yes
        assert ("入园率" if lang == "zh" else "enrolment-rate") in caveat[row]
        if lang == "en":
            assert source[row].startswith("14th Five-Year Plan outline")
            assert all(s and not any("\u4e00" <= ch <= "\u9fff" for ch in s[:12]) for s in source)


def test_assumed_capacity_is_said_as_building_area_over_a_rule_of_thumb(demo):
    from spatial.core.messages import render

    said = [(w["code"], render(w["message"], "zh")) for w in demo.summary["warnings"]]
    warnings = dict(said)
    homes = [m for _, m in said if "养老院" in m]
    assert any("7,000–17,500 平方米的中值，除以每单位 35 平方米" in m for m in homes), homes
    assert "capacity_assumed_area" in warnings  # day care: the area itself, no division
    assert "除以" not in warnings["capacity_assumed_area"]


def test_terminal_leaves_out_rows_of_zeros():
    from rich.console import Console

    from spatial.cli.terminal import _print_sizing

    console = Console(record=True, width=200, emoji=False)
    sites = {
        "count": 3,
        "sizing": {
            "sites_from_shortfall": 1,
            "categories_sized": ["nursery", "nursing_home"],
            "by_category": {
                "nursery": {"shortfall": 12.0, "closed": 12.0, "left": 0.0, "unit": "个托位"},
                "nursing_home": {"shortfall": 0.0, "closed": 0.0, "left": 0.0, "unit": "张床位"},
            },
        },
    }
    _print_sizing(console, "zh", sites, {"nursery": "托儿所", "nursing_home": "养老院"})
    shown = console.export_text()
    assert "托儿所：服务小区缺口12个托位" in shown and "养老院" not in shown


@pytest.fixture(scope="module")
def pack(demo, tmp_path_factory) -> Path:
    """The demo's print pack in Chinese: ``overview.pdf``."""
    from spatial.outputs.printing.pack import write_print_maps

    files = write_print_maps(in_language(demo, "zh"), tmp_path_factory.mktemp("pack"), "zh")
    return next(f for f in files if f.suffix == ".pdf")


def test_pack_has_a_title_and_bookmarks(demo, pack):
    from pypdf import PdfReader

    reader = PdfReader(pack)
    assert reader.metadata.title == demo.project.name
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [t.title for t in top[:2]] == ["总图", "养老"]
    sheets = next(item for item in reader.outline if isinstance(item, list))
    bundles = demo.bundling.bundles["bundle_id"].tolist()
    assert [s.title for s in sheets] == [f"{b}片区图则" for b in bundles]
    for item, bundle in zip(sheets, bundles, strict=True):  # each bookmark opens its own sheet
        page = reader.pages[reader.get_destination_page_number(item)]
        assert f"{bundle}片区图则" in page.extract_text()


def _words(line: str) -> str:
    return " ".join(line.split())


def test_pack_headline_copies_in_reading_order(demo, pack):
    """Copying the overview's headline gave its figures after its words (全覆盖户数占比 → … then
    6.9% 47.6% 85% on lines of their own): the print maps' text was in Type 3 fonts, split into
    256-glyph subsets. In TrueType (Type 42) fonts a line is one run with its Unicode map."""
    import subprocess

    from pypdf import PdfReader

    from spatial.outputs.printing.pack import _headline

    reader = PdfReader(pack)
    for page in reader.pages[:2]:  # the overview and a group map
        fonts = page["/Resources"]["/Font"]
        kinds = {str(f.get_object()["/Subtype"]) for f in fonts.values()}
        assert kinds == {"/Type0"}, kinds  # CID-keyed TrueType, never Type 3
    lines = _headline(demo, "zh")
    assert "6.9% → 47.6%" in lines[0] and "85%" in lines[0]
    extracted = [_words(x) for x in reader.pages[0].extract_text().splitlines()]
    at = [extracted.index(_words(x)) for x in lines]  # each line whole (pypdf)
    assert at == sorted(at)
    if shutil.which("pdftotext") is None:  # poppler: what Linux PDF readers copy
        pytest.skip("pdftotext (poppler-utils) is not installed")
    copied = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pack), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    shown = [_words(x) for x in copied.splitlines()]
    for line in lines:  # each headline line whole, figures in place
        assert _words(line) in shown, copied[:600]


def test_bundle_sheet_member_table_copies_row_by_row(demo, pack):
    """The member table was written column by column: a copied row gave every name, then every
    build year. Each member's name, build year and households now follow one another."""
    from pypdf import PdfReader

    page = next(p for p in PdfReader(pack).pages if "B01片区图则" in p.extract_text())
    lines = [_words(x) for x in page.extract_text().splitlines()]
    comm = demo.communities
    members = comm.loc[comm["bundle_id"] == "B01"]
    assert len(members) > 2
    rows = zip(members["name"], members["built_raw"], members["households"], strict=True)
    for name, built, hh in rows:
        row = f"{name} {built} {int(hh):,} "
        assert any(x.startswith(row) for x in lines), (row, lines)


# ---- the map's words, in a browser


@pytest.fixture(scope="module")
def maps(demo, tmp_path_factory) -> dict[str, Path]:
    from spatial.outputs.html.write import write_maps

    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"maps_{lang}")
        write_maps(in_language(demo, lang), folder, lang)
        out[lang] = folder
    return out


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser, path: Path):
    """The page with every request but files blocked (no tiles load)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_timeout(500)
    return page, errors


def test_map_says_when_tiles_fail_and_drops_their_credit(browser, demo, tmp_path):
    from spatial.outputs.html.write import write_maps

    demo.project.render.basemap = "cartodb"
    try:
        write_maps(in_language(demo, "zh"), tmp_path, "zh")
    finally:
        demo.project.render.basemap = "none"
    page, errors = _page(browser, tmp_path / "overview.html")
    page.wait_for_selector(".lc-tiles-failed", timeout=8000)
    assert "底图瓦片未能加载" in page.inner_text(".lc-tiles-failed")
    assert "CARTO" not in page.inner_text(".leaflet-control-attribution")
    assert not errors


def test_site_popup_and_bundle_card_words(browser, maps):
    page, errors = _page(browser, maps["zh"] / "overview.html")
    store = page.evaluate("() => window.LC_STORE")
    card = next(
        c
        for c, k in zip(store["parcels"]["card"], store["parcels"]["kind"], strict=True)
        if k == "site"
    )
    assert "m²<br>" in card and "(#" not in card and "选址排序第" in card
    assert "\u00a0m²" in card  # never broken between number and unit
    assert store["bundles"]["card"]["label"]["bundle"] == "片区"
    panel = page.inner_text(".lc-headline") if page.locator(".lc-headline").count() else ""
    html = page.content()
    assert "处设施，位于" in html  # 53 facilities on 34 parcels, both named
    italic = page.evaluate(
        """() => [...document.querySelectorAll('.lc-note, i, em')]
             .filter(e => getComputedStyle(e).fontStyle !== 'normal').length"""
    )
    assert italic == 0, panel
    assert not errors


def test_english_markers_carry_latin_glyphs(browser, maps):
    page, errors = _page(browser, maps["en"] / "overview.html")
    glyphs = page.evaluate(
        "() => [...document.querySelectorAll('.lc-ico')].map(e => e.textContent)"
    )
    assert glyphs and not any("\u4e00" <= ch <= "\u9fff" for g in glyphs for ch in g), glyphs
    assert not errors


def test_demand_from_census_defaults_is_a_warning_naming_the_communities(demo):
    from dataclasses import replace

    from spatial.analysis.capacity.twostep import default_demand
    from spatial.core.messages import render

    said = {w["code"]: w for w in demo.summary["warnings"]}
    warning = said["demand_defaults"]
    assert warning["count"] == len(demo.communities)  # the demo gives no population columns
    assert "户均 2.6 人" in render(warning["message"], "zh")
    capacity = demo.capacity.settings
    assert default_demand(demo.communities, replace(capacity, defaults=())) is None
    older_only = replace(capacity, defaults=("older",))  # nursing homes read residents 60+
    assert default_demand(demo.communities, older_only).count == len(demo.communities)


def test_bundle_lines_never_take_a_gap_or_site_hue():
    """Gaps are yellow to red fills, sites purple: a bundle's line is blue, green, teal or grey."""
    import colorsys

    from spatial.outputs.style import BUNDLE_COLOURS

    for colour in BUNDLE_COLOURS:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hue, _, saturation = colorsys.rgb_to_hls(r, g, b)
        grey = saturation < 0.1
        assert grey or 0.2 < hue < 0.68, (colour, hue)  # 72°–245°: green through blue


def test_init_writes_the_template_in_the_project_language(tmp_path, run_cli):
    import re
    import tomllib

    optional = re.compile(r"^#\s?(\[[a-z]+\]|[a-z_]+\s*=)")

    def settings(path: Path) -> dict:
        lines = path.read_text("utf-8").splitlines()
        on = (line.lstrip("#").lstrip() if optional.match(line) else line for line in lines)
        return tomllib.loads("\n".join(on))

    assert run_cli("init", tmp_path / "zh")[0] == 0
    assert run_cli("init", tmp_path / "en", "--lang", "en")[0] == 0
    zh, en = (tmp_path / "zh" / "project.toml"), (tmp_path / "en" / "project.toml")
    assert "项目文件" in zh.read_text("utf-8").splitlines()[0]
    assert "project file" in en.read_text("utf-8").splitlines()[0]
    a, b = settings(zh), settings(en)
    assert a["project"]["lang"] == "zh" and b["project"]["lang"] == "en"
    b["project"]["lang"] = "zh"
    assert a == b  # the same keys and defaults, only the comments differ
