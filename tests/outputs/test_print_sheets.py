"""The bundle sheets' PDF primitives (fpdf2): a map extent fitted to its box at one scale, lines
and polygons at the page coordinates that scale gives, the embedded CJK font's face chosen in a
collection, and sheets that read back as text."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from pypdf import PdfReader

from spatial.outputs.printing import pack as printmap
from spatial.outputs.printing import pdf as printpdf
from spatial.outputs.printing import sheets as printpack
from spatial.text import printing as printtext


def test_fit_view_keeps_one_scale_across_and_up_and_maps_corners():
    view = printpdf.fit_view((100.0, 50.0, 400.0, 200.0), (0, 0, 1000, 1000), margin=0.0)
    # a square extent in a 2:1 box: widened across, one metre the same length both ways
    x0, y0, x1, y1 = view.extent
    assert (y1 - y0) == pytest.approx(1000) and (x1 - x0) == pytest.approx(2000)
    assert view.scale == pytest.approx(0.2)
    corners = view.xy(np.array([[x0, y1], [x1, y0], [500.0, 500.0]]))
    assert corners.ravel().tolist() == pytest.approx([100, 50, 500, 250, 300, 150])


def _content(path) -> str:
    page = PdfReader(path).pages[0]
    return page.get_contents().get_data().decode("latin-1")


@pytest.fixture(scope="module")
def font():
    return printtext.font_file(printmap.cjk_font())


@pytest.mark.slow
def test_lines_and_polygons_land_at_their_page_coordinates(font, tmp_path):
    doc = printpdf.Sheets(font)
    doc.page()
    view = printpdf.fit_view((100.0, 100.0, 100.0, 100.0), (0, 0, 100, 100), margin=0.0)
    straight = shapely.LineString([(0, 0), (100, 100)])  # one segment: a line() each
    bent = shapely.LineString([(0, 100), (50, 50), (100, 100)])  # a polyline
    square = shapely.box(25, 25, 75, 75).difference(shapely.box(40, 40, 60, 60))  # with a hole
    doc.lines(view, [straight, bent], "#ff0000", 1.0)
    doc.polygons(view, [square], ["#00ff00"], "#0000ff", 0.5)
    doc.save(tmp_path / "p.pdf")
    ops = _content(tmp_path / "p.pdf")
    height = printpdf.A3_LANDSCAPE_PT[1]

    def at(x, y):  # page points from the top left as PDF user space (from the bottom)
        return f"{x:.2f} {height - y:.2f}"

    assert f"{at(100, 200)} m {at(200, 100)} l" in re.sub(r"\s+", " ", ops)
    assert all(at(*p) in ops for p in [(100, 100), (150, 150), (200, 100)])  # the bent line
    assert all(at(*p) in ops for p in [(125, 175), (175, 125)])  # the square's corners
    assert all(at(*p) in ops for p in [(140, 160), (160, 140)])  # the hole, outlined


def test_a_collection_font_gives_the_named_face(font):
    path, index = font
    assert path.lower().endswith((".ttf", ".ttc", ".otf", ".otc"))
    if path.lower().endswith(".ttc") and "WenQuanYi" in printmap.cjk_font():
        assert printtext.font_file("WenQuanYi Micro Hei Mono") == (path, 1)


def test_sheets_are_a3_landscape_with_the_font_embedded_and_text_extractable(font, tmp_path):
    doc = printpdf.Sheets(font)
    for title in ("兰山区 — B01片区图则", "Bundle B02"):
        doc.page()
        doc.text(20, 20, title, 20, bold=True)
    doc.save(tmp_path / "s.pdf")
    reader = PdfReader(tmp_path / "s.pdf")
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(printpdf.A3_LANDSCAPE_PT, abs=0.1)
    assert "兰山区 — B01片区图则" in reader.pages[0].extract_text()
    assert "Bundle B02" in reader.pages[1].extract_text()
    raw = (tmp_path / "s.pdf").read_bytes()
    assert b"/FontFile2" in raw or b"/FontFile3" in raw  # embedded, not left to the viewer


def test_cut_measures_with_the_sheet_font(font):
    doc = printpdf.Sheets(font)
    line = printtext.cut("某" * 30, 100, 10, measure=doc.width)
    assert line.endswith("…") and doc.width(line, 10) <= 100 < doc.width(line + "某", 10)
    assert printpack.ROW_PT > 8.5  # a table row holds its 8.5 pt text


def test_a_character_the_font_lacks_is_shown_as_its_escape_not_dropped(font, tmp_path):
    line = printtext.shown("小区😀名")  # the one door for data text onto the print pack
    assert line == "小区\\U0001f600名"
    doc = printpdf.Sheets(font)
    doc.page()
    drawn = doc.text(10, 10, line, 10)
    assert drawn.width == pytest.approx(doc.width(line, 10))
    cut = printtext.cut(printtext.shown("😀" * 20), 60, 10, measure=doc.width)
    assert doc.width(cut, 10) <= 60
    doc.save(tmp_path / "e.pdf")
    assert "小区\\U0001f600名" in PdfReader(tmp_path / "e.pdf").pages[0].extract_text()
