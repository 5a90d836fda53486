"""The print layer both backends draw (:mod:`spatial.outputs.printing.layout`): the map fitted to
its frame, the scale bar's round length and label at known map scales, the north arrow's shape;
and the print maps (matplotlib) and the bundle sheets (fpdf2) drawing exactly that."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Polygon, Rectangle

from spatial.outputs.printing import draw, layout
from spatial.outputs.printing import pdf as printpdf
from spatial.text import printing as printtext

PRINT_MAP_MM = 0.76 * 420  # the print map's frame across an A3 page (page.MAP_BOX): 319.2 mm
SHEET_MAP_MM = 0.54 * 420  # a bundle sheet's map frame across (sheets.MAP_BOX): 226.8 mm


@pytest.mark.parametrize(
    ("frame_mm", "scale", "length", "label"),
    [
        (PRINT_MAP_MM, 10_000, 500, "500 m"),  # 3,192 m across: a fifth is 638 m
        (PRINT_MAP_MM, 50_000, 2500, "2.5 km"),  # 15,960 m: a fifth is 3,192 m
        (SHEET_MAP_MM, 25_000, 1000, "1 km"),  # 5,670 m: a fifth is 1,134 m
        (SHEET_MAP_MM, 2_000, 50, "50 m"),  # 453.6 m: a fifth is 90.7 m
        (SHEET_MAP_MM, 200, 20, "20 m"),  # 45 m: shorter than any round length, the shortest
    ],
)
def test_scale_bar_length_and_label_at_known_map_scales(frame_mm, scale, length, label):
    width_m = frame_mm / 1000 * scale
    bar = layout.scale_bar((0.0, 0.0, width_m, width_m * 0.7))
    assert (bar.length, bar.label) == (length, label)
    # lower right, 4 % of the frame in from the corner, 0.8 % of its height tall
    assert bar.x + bar.length == pytest.approx(width_m * 0.96)
    assert bar.y == pytest.approx(width_m * 0.7 * 0.04)
    assert bar.height == pytest.approx(width_m * 0.7 * 0.008)
    lefts, widths, black = zip(*bar.parts, strict=True)
    assert lefts == pytest.approx([bar.x + k * length / 4 for k in range(4)])
    assert widths == pytest.approx([length / 4] * 4) and black == (True, False, True, False)


def test_fit_extent_widens_to_the_box_and_keeps_the_centre():
    # 1,000 × 500 m with 10 % margins is 1,200 × 600 m; a square box widens it up to 1,200 m
    assert layout.fit_extent((0, 0, 1000, 500), 10, 10, 0.1) == pytest.approx(
        (-100, -350, 1100, 850)
    )
    # a 3:1 box widens it across to 1,800 m
    assert layout.fit_extent((0, 0, 1000, 500), 30, 10, 0.1) == pytest.approx(
        (-400, -50, 1400, 550)
    )
    # a point gets 1 m each way
    assert layout.fit_extent((5, 5, 5, 5), 1, 1, 0.0) == pytest.approx((4.5, 4.5, 5.5, 5.5))


def test_north_arrow_points_up_in_the_upper_right():
    arrow = layout.north_arrow((0.0, 0.0, 1000.0, 500.0))
    pts = np.array(arrow.outline)
    assert arrow.tip == pytest.approx((950.0, 500 - 70 + 35))  # 5 % in, 14 % down, 7 % long
    assert pts[:, 1].max() == arrow.tip[1] and pts[:, 1].min() == pytest.approx(430.0)
    assert pts[:, 0].max() - pts[:, 0].min() == pytest.approx(20.0)  # the head: 2 % wide
    bottom = pts[pts[:, 1] == pts[:, 1].min()]
    assert np.ptp(bottom[:, 0]) == pytest.approx(6.0)  # the shaft: 0.6 % wide
    assert np.allclose(np.sort(pts[:, 0] - 950.0), np.sort(950.0 - pts[:, 0]))  # symmetric


def test_the_print_map_draws_the_layout():
    fig = draw.figure((8.0, 4.0), 50)
    ax = fig.add_axes((0, 0, 1, 1))
    x0, x1, y0, y1 = draw.frame(ax, (0, 0, 3192, 1596), margin=0.0)
    assert (x0, x1, y0, y1) == pytest.approx((0, 3192, 0, 1596))
    draw.scale_bar(ax)
    draw.north_arrow(ax)
    bar = layout.scale_bar((x0, y0, x1, y1))
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    drawn = [(r.get_x(), r.get_width(), r.get_facecolor()[0] == 0) for r in rects]
    assert np.allclose(drawn, bar.parts)
    assert "500 m" in [t.get_text() for t in ax.texts]
    (arrow,) = [p for p in ax.patches if isinstance(p, Polygon)]
    shape = layout.north_arrow((x0, y0, x1, y1))
    assert np.array_equal(arrow.get_xy(), [*shape.outline, shape.tip])  # closed on its tip


def test_the_sheet_draws_the_layout():
    font = printtext.font_file(printtext.cjk_font())
    doc = printpdf.Sheets(font)
    doc.page()
    view = printpdf.fit_view((0.0, 0.0, 642.9, 321.45), (0, 0, 5670, 2835), margin=0.0)
    doc.scale_bar(view, 9)
    bar = layout.scale_bar(view.extent)
    label = next(t for t in doc.texts if t.text == bar.label)
    centre = view.xy(np.array([[bar.x + bar.length / 2, bar.top]]))[0]
    assert bar.label == "1 km" and label.x + label.width / 2 == pytest.approx(centre[0])
    assert label.y + label.height < centre[1] + 9  # above the bar
