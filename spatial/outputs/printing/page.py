"""The page every print map shares (matplotlib, A3 landscape): the map box and its extent, the
streets under it, the title and headline lines above it, the rule sentence under it, the legend,
scale bar and north arrow beside and on it, and the bundle ids placed where they do not overlap.

The overview and the group maps (:mod:`spatial.outputs.printing.pack`) and the programme by year
(:mod:`spatial.outputs.printing.plan_page`) draw their layers on this page. Text from the data
enters through :func:`spatial.text.printing.shown` and is drawn literally: a figure is made and
saved under :func:`print_style`, which turns off matplotlib's mathtext (``$…$``) for every text,
title and legend entry; nothing uses TeX.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from matplotlib.legend_handler import HandlerTuple

from spatial.analysis.coverage.basis import distance_unit, rule_line
from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.outputs.printing.draw import figure, frame, north_arrow, scale_bar
from spatial.outputs.printing.raster import STREET_IMAGE_EDGES, Raster, draw_streets, street_image
from spatial.outputs.style import BUNDLE_COLOUR
from spatial.text.printing import cjk_font, cut, fit, shown, wrap

A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
DPI = 300
MAP_BOX = (0.03, 0.04, 0.76, 0.83)  # left, bottom, width, height of the map on the A3 page
TITLE_PT, TITLE_MIN_PT = 26, 12
LINE_PT = 0.94 * A3_LANDSCAPE_IN[0] * 72  # a title or headline line's room across the page (pt)
LEGEND_PT = 190  # a legend line's room beside the map (pt)


def print_style(family: str) -> dict[str, object]:
    """matplotlib settings of the print map: the CJK ``family``, every text literal (no mathtext,
    no TeX), a hyphen for minus (CJK fonts lack the minus sign), and the PDF's text in TrueType
    (Type 42) fonts: a line is then one run in one font with its Unicode map, so a PDF reader
    copies it in reading order (in matplotlib's default Type 3 fonts, split into 256-glyph
    subsets, poppler-based readers copied the headline's figures after its words)."""
    return {
        "font.family": family,
        "axes.unicode_minus": False,
        "text.parse_math": False,
        "text.usetex": False,
        "pdf.fonttype": 42,
    }


class MapBase:
    """What every map page shares: the extent and, for a large network, the streets image."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.bounds = result.communities.total_bounds
        self.extent = frame(figure(A3_LANDSCAPE_IN).add_axes(MAP_BOX), self.bounds)
        net = result.network
        large = net is not None and len(net.edges) > STREET_IMAGE_EDGES
        size = (A3_LANDSCAPE_IN[0] * MAP_BOX[2], A3_LANDSCAPE_IN[1] * MAP_BOX[3])
        self.image = street_image(result, self.extent, size, DPI) if large else None
        # the PDF's copy, one array for every page: matplotlib's PDF writer stores an image
        # object once per array, so the map pages share one embedded streets image
        self.half = self.image[::2, ::2] if large else None

    def streets(self, ax) -> None:
        """The streets under the page: vectors for a small network, else the prepared image."""
        if self.image is not None:
            ax.add_artist(Raster(self.image, ax, self.half))
        elif self.result.network is not None:
            draw_streets(ax, self.result, scale=1.0)


def fitted_title(title: str) -> tuple[str, float]:
    """The page title and its size: smaller for a long title, cut with "…" when even the smallest
    size would run off the page (:func:`spatial.text.printing.fit`)."""
    return fit(title, TITLE_PT, TITLE_MIN_PT, LINE_PT, "bold", cjk_font())


def map_page(base: MapBase, title: str, lines_: list[str], footer: str = ""):
    """A new page: the title, the headline ``lines_`` (the first larger), the map box over the
    streets and the ``footer`` under it; returns the figure and the map's axes."""
    fig = figure(A3_LANDSCAPE_IN, DPI)
    ax = fig.add_axes(MAP_BOX)
    frame(ax, base.bounds)
    base.streets(ax)
    shown_, size = fitted_title(title)
    fig.text(0.03, 0.965, shown_, fontsize=size, weight="bold", ha="left", va="top")
    for k, line in enumerate(lines_):  # one line each, as wide as the title: smaller, then cut
        pt = 13 if k == 0 else 11
        line, pt = fit(line, pt, 8, LINE_PT)
        fig.text(0.03, 0.925 - 0.022 * k, line, fontsize=pt, ha="left", va="top")
    if footer:  # the coverage rule and access basis, under the map
        line, pt = fit(footer, 10, 7, LINE_PT)
        fig.text(0.03, 0.033, line, fontsize=pt, ha="left", va="top")
    return fig, ax


def coverage_rule(result: RunResult, lang: str) -> str:
    """The coverage rule and access basis in one line (:func:`basis.rule_line`)."""
    cats = result.standards.categories
    name_of = lambda k: shown(cats[k].label(lang) if k in cats else k)  # noqa: E731
    return rule_line(result.summary.get("coverage"), name_of, lang)


def finish(ax, handles, legend_title: str, fontsize: float = 11) -> None:
    """The scale bar, the north arrow and the legend beside the map. An entry is a handle, or
    (handles, label): several swatches on one row (the bundle colours); each line of a label is
    cut to the legend's room."""
    scale_bar(ax)
    north_arrow(ax)
    names = [h[1] if isinstance(h, tuple) else h.get_label() for h in handles]
    ax.legend(
        handles=[h[0] if isinstance(h, tuple) else h for h in handles],
        labels=["\n".join(cut(part, LEGEND_PT, fontsize) for part in n.split("\n")) for n in names],
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=fontsize,
        title=wrap(legend_title, 34),  # the legend's width beside the map (about 230 pt)
        title_fontsize=12,
        frameon=False,
    )


def coverage_definition(result: RunResult, lang: str, keys) -> str:
    """Full coverage in words: the categories and radii, and the distance mode."""
    lab = labels(lang)
    cov = result.summary.get("coverage") or {}
    mode = lab["mode_network"] if cov.get("distance_mode") == "network" else lab["mode_straight"]
    sep = lab["sep_list"]
    cats = result.standards.categories
    unit = distance_unit(cov, lang)  # flat-equivalent metres with hills
    items = sep.join(
        f"{shown(cats[k].label(lang))} {cats[k].radius_m:g} {unit}" for k in keys if k in cats
    )
    return text(lang, "print_definition", count=len(keys), mode=mode, items=items)


def empty_note(result: RunResult, lang: str, keys: list[str]) -> str:
    """Said before a share: the categories of ``keys`` with no facility in the data (``""``)."""
    cov = result.summary.get("coverage") or {}
    empty = [k for k in keys if k in cov.get("basket_without_facilities", [])]
    if not empty:
        return ""
    cats = result.standards.categories
    names = text(lang, "sep_list").join(shown(cats[k].label(lang)) for k in empty if k in cats)
    return text(lang, "print_empty_note", names=names, count=len(empty), basket=len(keys))


def stamp(result: RunResult, lang: str) -> str:
    """The date the page was drawn and the analysis CRS."""
    lab = labels(lang)
    return (
        f"{lab['generated']}: {dt.date.today().isoformat()}   CRS: {result.summary.get('crs', '')}"
    )


#: up to this many bundles every id is labelled on the print overview; beyond, the ids are
#: placed in priority order where they do not overlap one already placed (as on the HTML map)
LABEL_ALL_UP_TO = 100


def _label_points(bundles) -> np.ndarray:
    """Each bundle's label point: its centroid, or a point inside when that falls outside."""
    geoms = bundles.geometry.values
    centres = shapely.centroid(geoms)
    inside = shapely.contains(geoms, centres)
    points = np.where(inside, centres, shapely.point_on_surface(geoms))
    return shapely.get_coordinates(points)


def _unhidden(ax, points: np.ndarray, ids: list[str], fontsize: float) -> np.ndarray:
    """Which labels to draw: in the given (priority) order, each whose box (on the page) does
    not overlap a box already placed."""
    at = ax.transData.transform(points)  # pixels
    scale = ax.figure.dpi / 72
    half_w = np.array([len(i) * 0.33 * fontsize + 2 for i in ids]) * scale
    half_h = np.full(len(ids), 0.8 * fontsize * scale)
    keep = np.zeros(len(ids), bool)
    for k in range(len(ids)):
        placed = np.flatnonzero(keep[:k])
        clear_x = np.abs(at[placed, 0] - at[k, 0]) >= half_w[placed] + half_w[k]
        clear_y = np.abs(at[placed, 1] - at[k, 1]) >= half_h[placed] + half_h[k]
        keep[k] = bool(np.all(clear_x | clear_y))
    return keep


def bundle_labels(ax, bundles, fontsize: float, colours: list[str] | None = None) -> int:
    """Each bundle's id at its centre, framed in the bundle's colour when ``colours`` is given
    (pale colours stay legible); beyond :data:`LABEL_ALL_UP_TO` bundles only the ids that do not
    overlap one placed before (``bundles`` in priority order). Returns how many are drawn."""
    colours = colours or [BUNDLE_COLOUR] * len(bundles)
    ids = [shown(b) for b in bundles["bundle_id"]]
    points = _label_points(bundles)
    keep = np.ones(len(ids), bool)
    if len(ids) > LABEL_ALL_UP_TO:
        keep = _unhidden(ax, points, ids, fontsize)
    for k in np.flatnonzero(keep):
        ax.text(
            points[k, 0],
            points[k, 1],
            ids[k],
            fontsize=fontsize,
            weight="bold",
            color=BUNDLE_COLOUR,
            ha="center",
            va="center",
            zorder=6,
            bbox={"fc": "white", "ec": colours[k], "lw": 1.5, "alpha": 0.85, "pad": 0.5},
        )
    return int(keep.sum())


def thinned_note(ax, drawn: int, total: int, lang: str) -> None:
    """Under the map, when fewer than ``total`` bundle ids were drawn: which are left off."""
    if drawn < total:
        note = text(lang, "print_labels_thinned", shown=drawn, hidden=total - drawn)
        ax.figure.text(0.03, 0.012, note, fontsize=9, ha="left", va="bottom")
