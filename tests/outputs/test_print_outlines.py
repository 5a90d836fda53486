"""Old / not old on the print maps (issue 30, three channels): the overview and the group maps
outline every compound as the HTML map does (spatial.outputs.style: old solid black, the others
thin grey dashed) with a legend row for each; the bundle lines run outside their members, so an
old member keeps its black outline. Read on the demo's overview.png."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import shapely
from PIL import Image

from spatial.core.messages import labels
from spatial.outputs import style
from spatial.outputs.printing import pack as printmap
from spatial.outputs.printing.draw import figure, frame
from spatial.outputs.printing.page import A3_LANDSCAPE_IN, DPI, MAP_BOX


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(("coverage", "bundle", "sites"))


def _legend(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def _drawn(fig) -> dict:
    ax = fig.axes[0]
    children = ax.get_children()
    return {str(a.get_gid()): a for a in children if str(a.get_gid()).startswith("outline:")}


def test_overview_and_group_maps_outline_old_and_other_as_the_html_map(demo):
    lab = labels("en")
    old = style.is_old(demo.communities)
    assert 0 < old.sum() < len(old)  # the demo has both
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        base = printmap.MapBase(demo)
        figs = [printmap._overview(base, "en"), printmap._group(base, "en", "elderly",
                ["elderly_daycare", "nursing_home"])]  # fmt: skip
    for fig in figs:
        drawn = _drawn(fig)
        legend = _legend(fig)
        plt.close(fig)
        assert legend.index(lab["eligible_outline"]) + 1 == legend.index(lab["new_outline"])
        solid, dashed = drawn["outline:old"], drawn["outline:other"]
        assert solid.get_edgecolor()[:3] == pytest.approx((17 / 255,) * 3)
        assert solid.get_linestyle() == "solid"
        on, off = dashed.get_linestyle()[1]  # in line widths: 2.4 pt on, 1.6 pt off
        assert (on, off) == pytest.approx(np.array(style.OTHER_OUTLINE.dash_pt) / 0.45)
        assert dashed.get_linewidth() < solid.get_linewidth()
        # one ring per compound in each path: the old ones in the black path only
        assert len(solid.get_path().vertices) == len(
            shapely.get_coordinates(shapely.boundary(demo.communities.geometry.values[old]))
        )


def _page_axes(result):
    fig = figure(A3_LANDSCAPE_IN, DPI)
    ax = fig.add_axes(MAP_BOX)
    frame(ax, result.communities.total_bounds)
    ax.apply_aspect()
    return ax


def _ring_pixels(ax, geom, image: np.ndarray) -> np.ndarray:
    """Along ``geom``'s outline, one sample a pixel: the 3 × 3 pixels (RGB) around it."""
    ring = shapely.get_exterior_ring(geom)
    px_per_m = ax.transData.transform([(1, 0)])[0, 0] - ax.transData.transform([(0, 0)])[0, 0]
    at = np.linspace(0, ring.length, int(ring.length * px_per_m))
    xy = ax.transData.transform(shapely.get_coordinates(shapely.line_interpolate_point(ring, at)))
    cols, rows = np.round(xy[:, 0]).astype(int), image.shape[0] - 1 - np.round(xy[:, 1]).astype(int)
    near = [
        image[r - 1 : r + 2, c - 1 : c + 2].reshape(-1, 3) for r, c in zip(rows, cols, strict=True)
    ]
    return np.array(near).astype(int)


def _share(pixels: np.ndarray, lo: int, hi: int) -> float:
    """The share of samples with a neutral pixel (R, G, B within 15) of level ``lo``..``hi``."""
    neutral = (
        (np.ptp(pixels, axis=2) < 16) & (pixels.min(axis=2) >= lo) & (pixels.max(axis=2) <= hi)
    )
    return float(neutral.any(axis=1).mean())


@pytest.mark.slow  # the demo's whole run
def test_overview_png_outlines_old_black_and_others_grey_dashed(demo_out, demo):
    image = np.asarray(Image.open(demo_out / "overview.png").convert("RGB"))
    assert image.shape[:2] == (3507, 4960)
    ax = _page_axes(demo)
    comm = demo.communities
    old = style.is_old(comm)
    # compounds away from the bundle lines, sites and facilities: the outline alone
    geoms = comm.geometry.values
    busy = [demo.bundling.bundles.geometry.values, demo.siting.sites.geometry.values,
            demo.layers.facilities.geometry.values]  # fmt: skip
    clear = np.ones(len(comm), bool)
    for layer in busy:
        c, _ = shapely.STRtree(layer).query(geoms, predicate="dwithin", distance=40)
        clear[c] = False
    assert (clear & old).any() and (clear & ~old).any()
    for k in np.flatnonzero(clear & old)[:3]:  # a solid black line all round
        black = _share(_ring_pixels(ax, geoms[k], image), 0, 60)
        assert black > 0.95, (comm["name"].iloc[k], black)
    for k in np.flatnonzero(clear & ~old)[:3]:  # grey (#8c8c8c) dashes, 2.4 pt on, 1.6 off
        pixels = _ring_pixels(ax, geoms[k], image)
        grey, black = _share(pixels, 125, 160), _share(pixels, 0, 60)
        assert black == 0 and 0.4 < grey < 0.9, (comm["name"].iloc[k], grey)
