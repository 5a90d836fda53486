"""Text from the data on the print pack is inert and fits its place: control and bidi characters
are drawn as escapes (no missing glyphs, no reordered ids), a newline never splits a table row,
and long names, descriptions and English headlines stay inside the page."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pytest
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.text import Text

from spatial.outputs.printing import pack as printmap
from spatial.outputs.printing import pdf as printpdf
from spatial.outputs.printing import sheets as printpack
from spatial.text import printing as printtext

LONG = "长" * 1500 + "x" * 1500  # a 3,000-character community name


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(("coverage", "bundle", "sites"), own_frames=True)  # hostile() edits names


@pytest.fixture
def hostile(demo):
    """The demo with a right-to-left override and an ESC in the project name, and bundle B06's
    members named with an ESC, a newline and 3,000 characters (restored afterwards)."""
    comm = demo.communities
    rows = comm.index[comm["bundle_id"] == "B06"]
    names, project_name = comm["name"].copy(), demo.project.name
    comm.loc[rows[0], "name"] = "旧\x1b[31m小区"
    comm.loc[rows[1], "name"] = "第一行\n第二行"
    comm.loc[rows[2], "name"] = LONG
    demo.project.name = "\u202e演示\x1b项目"
    bundles = demo.bundling.bundles
    yield demo, bundles.loc[bundles["bundle_id"] == "B06"].iloc[0]
    comm["name"] = names
    demo.project.name = project_name


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _outside(fig) -> list[str]:
    """The texts whose drawn extent leaves the figure (after drawing it)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    out = []
    for t in _texts(fig):
        box = t.get_window_extent(renderer)
        if (
            box.x0 < page.x0 - 1
            or box.x1 > page.x1 + 1
            or box.y0 < page.y0 - 1
            or box.y1 > page.y1 + 1
        ):
            out.append(t.get_text()[:60])
    return out


def test_shown_escapes_control_bidi_and_newline_as_the_terminal():
    assert printtext.shown("a\x1b[31mb\u202ec\nd") == "a\\x1b[31mb\\u202ec\\nd"
    family = printmap.cjk_font()
    short = printtext.cut("某" * 30, 100, 10, family=family)  # 100 pt: ten characters at 10 pt
    assert short.endswith("…") and short.startswith("某" * 8) and len(short) <= 10
    assert printtext.extent(short, 10, family=family) <= 100
    assert printtext.cut("某" * 10, 100, 10, family=family) == "某" * 10
    wrapped = printtext.wrap("某" * 100, 20, 3).split("\n")
    assert len(wrapped) == 3 and wrapped[-1].endswith("…")


def _sheet(demo, bundle, lang: str) -> printpdf.Sheets:
    """One bundle sheet drawn on a new document; its ``texts`` are the page's texts."""
    doc = printpdf.Sheets(printtext.font_file(printmap.cjk_font()))
    return printpack.bundle_page(printpack._Context(demo), bundle, lang, doc)


def test_hostile_names_draw_no_missing_glyph_and_keep_ids_in_order(hostile, tmp_path):
    demo, b06 = hostile
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = _sheet(demo, b06, "en")
        doc.save(tmp_path / "sheet.pdf")
        with (
            plt.rc_context(printmap.print_style(printmap.cjk_font())),
            PdfPages(tmp_path / "overview.pdf") as pdf,
        ):
            overview = printmap._overview(printmap.MapBase(demo), "zh")
            overview.canvas.draw()
            pdf.savefig(overview)
            plt.close(overview)
    missing = [str(w.message) for w in caught if "missing" in str(w.message).lower()]
    assert missing == []
    from pypdf import PdfReader

    pages = [PdfReader(tmp_path / f).pages[0].extract_text() for f in ("sheet.pdf", "overview.pdf")]
    assert "B06" in pages[0] and "60B" not in pages[0]
    assert "\\u202e" in pages[0] and "\\x1b" in pages[0] and "\\u202e" in pages[1]
    assert "\u202e" not in "".join(pages) and "\x1b" not in "".join(pages)


def _name_column(doc) -> list[str]:
    """The member table's name column: the texts one, two, … rows below its header."""
    x = printpack.PAGE_W * 0.60
    head = next(t for t in doc.texts if t.x == x and t.text in ("名称", "Name"))
    at = {round((t.y - head.y) / printpack.ROW_PT, 6): t.text for t in doc.texts if t.x == x}
    names = []
    while float(len(names) + 1) in at:
        names.append(at[float(len(names) + 1)])
    return names


def test_a_newline_in_a_name_keeps_the_table_rows(hostile):
    demo, b06 = hostile
    names = _name_column(_sheet(demo, b06, "zh"))
    members = (demo.communities["bundle_id"] == "B06").sum()
    assert "第一行\\n第二行" in names and len(names) == min(members, printpack.MAX_ROWS)


def test_a_3000_character_name_is_cut_and_nothing_runs_off_or_over_the_map(hostile):
    demo, b06 = hostile
    b06 = b06.copy()
    b06["description"] = f"B06片区：{LONG}"  # as a description naming the long-named member
    doc = _sheet(demo, b06, "zh")
    width, height = printpdf.A3_LANDSCAPE_PT
    outside = [
        t.text[:40]
        for t in doc.texts
        if t.x < 0 or t.y < 0 or t.x + t.width > width + 0.5 or t.y + t.height > height + 0.5
    ]
    assert outside == []
    # the page's texts (title, description, table, facts) stay off the map box
    mx, my, mw, mh = printpack.MAP_BOX
    on_map = [mx <= t.x <= mx + mw and my <= t.y <= my + mh for t in doc.texts]
    over = [t.text[:40] for t, inside in zip(doc.texts, on_map, strict=True)
            if not inside and t.overlaps(printpack.MAP_BOX)]  # fmt: skip
    shown = "\n".join(t.text for t in doc.texts)
    title = doc.texts[0]
    description = [t.text for t in doc.texts if t.x == title.x and title.y < t.y < my]
    assert description[0].startswith("B06片区：长长")
    assert len(description) == 3 and description[-1].endswith("…")  # its box: three lines
    assert over == []
    assert LONG not in shown and "长长长…" in shown and len(shown) < 3000


def test_english_overview_and_group_maps_stay_inside_the_page(demo):
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        base = printmap.MapBase(demo)
        fig = printmap._overview(base, "en")
        assert _outside(fig) == []
        plt.close(fig)
        group, keys = printmap._groups(demo)[0]
        fig = printmap._group(base, "en", group, keys)
        assert _outside(fig) == []
        plt.close(fig)


def test_an_emoji_in_a_name_is_an_escape_on_the_maps_too_never_a_missing_glyph(demo, tmp_path):
    name = demo.project.name
    demo.project.name = "演示😀项目"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with plt.rc_context(printmap.print_style(printmap.cjk_font())):
                fig = printmap._overview(printmap.MapBase(demo), "zh")
                fig.canvas.draw()
                title = fig.texts[0].get_text()
                plt.close(fig)
    finally:
        demo.project.name = name
    assert title == "演示\\U0001f600项目"
    assert [str(w.message) for w in caught if "missing" in str(w.message).lower()] == []


def test_a_3000_character_parcel_id_is_cut_on_the_sheet(demo):
    sites = demo.siting.sites
    pids = sites["pid"].copy()
    bundles = demo.bundling.bundles
    b01 = bundles.loc[bundles["bundle_id"] == "B01"].iloc[0]
    near = printpack._Context(demo).sites_near(b01.geometry, {"LS005"})
    long = "地" * 3000
    sites.loc[sites["pid"] == near["pid"].iloc[0], "pid"] = long
    try:
        doc = _sheet(demo, b01, "zh")
    finally:
        sites["pid"] = pids
    texts = [t for t in doc.texts if "地地" in t.text]
    assert texts and all(long not in t.text and t.text.rstrip().count("地") < 30 for t in texts)
    assert all(t.width < 400 for t in texts)
