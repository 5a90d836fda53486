"""Print pack for meeting packs: the overview and one map per planner group as A3 landscape PNGs
(300 dpi), and all of them plus one sheet per bundle (片区图则, :mod:`spatial.outputs.printing.sheets`) in one
multi-page PDF (``overview.pdf``), with a CJK font, legend, metric scale bar, north arrow and title.

Each layer is drawn as one matplotlib collection; a large street network is drawn once into an
image shared by the overview and the group maps.

Text from the data (project name, category labels, bundle ids) enters through
:func:`spatial.text.printing.shown` (control and bidi characters as escapes) and is drawn literally: the figure is
made and saved under :func:`print_style`, which turns off matplotlib's mathtext (``$…$``) for every
text, title and legend entry; nothing uses TeX.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from spatial.analysis.coverage.basis import rule_line
from spatial.analysis.result import RunResult
from spatial.core import parallel
from spatial.core.messages import labels, text
from spatial.outputs import staging
from spatial.outputs.printing import sheets as printpack
from spatial.outputs.printing.draw import figure, frame, lines, north_arrow, polygons, scale_bar
from spatial.outputs.printing.raster import (
    STREET_IMAGE_EDGES,
    Raster,
    draw_streets,
    street_image,
    write_png,
)
from spatial.outputs.style import (
    BUNDLE_COLOUR,
    SITE_COLOUR,
    bundle_colours,
    category_colour,
    gap_colour,
    gap_legend,
    group_shares,
    share_text,
)
from spatial.text.printing import cjk_font, cut, fit, font_file, shown, wrap

A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
DPI = 300


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


#: the planner groups that get a print map (as ``maps.CORE_GROUPS`` for the HTML maps)
PRINT_GROUPS = ("elderly", "childcare", "clinics", "markets")
MAP_BOX = (0.03, 0.04, 0.76, 0.83)  # left, bottom, width, height of the map on the A3 page


class _Base:
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


TITLE_PT, TITLE_MIN_PT = 26, 12
LINE_PT = 0.94 * A3_LANDSCAPE_IN[0] * 72  # a title or headline line's room across the page (pt)


def _fitted_title(title: str) -> tuple[str, float]:
    """The page title and its size: smaller for a long title, cut with "…" when even the smallest
    size would run off the page (:func:`spatial.text.printing.fit`)."""
    return fit(title, TITLE_PT, TITLE_MIN_PT, LINE_PT, "bold", cjk_font())


def _page(base: _Base, title: str, lines_: list[str], footer: str = ""):
    fig = figure(A3_LANDSCAPE_IN, DPI)
    ax = fig.add_axes(MAP_BOX)
    frame(ax, base.bounds)
    base.streets(ax)
    shown, size = _fitted_title(title)
    fig.text(0.03, 0.965, shown, fontsize=size, weight="bold", ha="left", va="top")
    for k, line in enumerate(lines_):  # one line each, as wide as the title: smaller, then cut
        pt = 13 if k == 0 else 11
        line, pt = fit(line, pt, 8, LINE_PT)
        fig.text(0.03, 0.925 - 0.022 * k, line, fontsize=pt, ha="left", va="top")
    if footer:  # the coverage rule and access basis, under the map
        line, pt = fit(footer, 10, 7, LINE_PT)
        fig.text(0.03, 0.033, line, fontsize=pt, ha="left", va="top")
    return fig, ax


def _rule(result: RunResult, lang: str) -> str:
    """The coverage rule and access basis in one line (:func:`basis.rule_line`)."""
    cats = result.standards.categories
    name_of = lambda k: shown(cats[k].label(lang) if k in cats else k)  # noqa: E731
    return rule_line(result.summary.get("coverage"), name_of, lang)


def _finish(ax, handles, legend_title: str) -> None:
    scale_bar(ax)
    north_arrow(ax)
    # an entry is a handle, or (handles, label): several swatches on one row (the bundle colours)
    ax.legend(
        handles=[h[0] if isinstance(h, tuple) else h for h in handles],
        labels=[cut(h[1] if isinstance(h, tuple) else h.get_label(), 190, 11) for h in handles],
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=11,
        title=wrap(legend_title, 34),  # the legend's width beside the map (about 230 pt)
        title_fontsize=12,
        frameon=False,
    )


def _definition(result: RunResult, lang: str, keys) -> str:
    """Full coverage in words: the categories and radii, and the distance mode."""
    lab = labels(lang)
    cov = result.summary.get("coverage") or {}
    mode = lab["mode_network"] if cov.get("distance_mode") == "network" else lab["mode_straight"]
    sep = lab["sep_list"]
    cats = result.standards.categories
    items = sep.join(
        f"{shown(cats[k].label(lang))} {cats[k].radius_m:g} m" for k in keys if k in cats
    )
    return text(lang, "print_definition", count=len(keys), mode=mode, items=items)


def _headline(result: RunResult, lang: str) -> list[str]:
    lab = labels(lang)
    cov = result.summary.get("coverage")
    stamp = (
        f"{lab['generated']}: {dt.date.today().isoformat()}   CRS: {result.summary.get('crs', '')}"
    )
    if not cov:
        return [stamp]
    if cov["full_coverage_households"] is None:  # no household counts: shares of communities
        share = f"{lab['full_share_communities']} {share_text(cov['full_coverage_communities'])}"
        after = None
    else:
        share = f"{lab['full_share']} {share_text(cov['full_coverage_households'])}"
        after = (result.summary.get("sites") or {}).get("full_coverage_households_after")
    if after is not None:
        share += text(lang, "print_share_after", after=share_text(after))
    share += f"   {lab['target']} {cov['national_target']:.0%}"
    share = _empty_note(result, lang, cov.get("basket", [])) + share
    return [share, _definition(result, lang, cov.get("basket", [])), stamp]


def _empty_note(result: RunResult, lang: str, keys: list[str]) -> str:
    """Said before a share: the categories of ``keys`` with no facility in the data (``""``)."""
    cov = result.summary.get("coverage") or {}
    empty = [k for k in keys if k in cov.get("basket_without_facilities", [])]
    if not empty:
        return ""
    cats = result.standards.categories
    names = text(lang, "sep_list").join(shown(cats[k].label(lang)) for k in empty if k in cats)
    return text(lang, "print_empty_note", names=names, count=len(empty), basket=len(keys))


def _facilities(ax, result: RunResult, lang: str, keys, size: float = 14) -> list:
    fac = result.layers.facilities
    handles = []
    for i, (key, cat) in enumerate(result.standards.categories.items()):
        if key not in keys:
            continue
        pts = fac.loc[fac["category"] == key]
        if not len(pts):
            continue
        colour = category_colour(i)
        ax.scatter(
            pts.geometry.x,
            pts.geometry.y,
            s=size,
            c=colour,
            edgecolors="white",
            linewidths=0.4,
            zorder=5,
        )
        handles.append(
            Line2D([], [], marker="o", ls="", color=colour, label=shown(cat.label(lang)))
        )
    return handles


def _sites(ax, result: RunResult, lang: str, keys) -> list:
    sites = result.siting.sites if result.siting else None
    if sites is None or not len(sites):
        return []
    sites = sites.loc[sites["category"].isin(keys)].drop_duplicates("pid")
    if not len(sites):
        return []
    polygons(ax, sites.geometry.values, SITE_COLOUR, SITE_COLOUR, 0.8, zorder=3, alpha=0.6)
    return [Patch(fc=SITE_COLOUR, alpha=0.6, label=labels(lang)["sites"])]


def _overview(base: _Base, lang: str):
    result = base.result
    lab = labels(lang)
    comm = result.communities
    fig, ax = _page(base, shown(result.project.name), _headline(result, lang), _rule(result, lang))
    handles = []
    if "gaps" in comm:
        colours = [gap_colour(g) for g in comm["gaps"]]
        handles += [Patch(fc=c, ec="#333", label=t) for c, t in gap_legend(lang)]
    else:
        colours = "#9ecae1"
    polygons(ax, comm.geometry.values, colours)
    bundles = result.bundling.bundles if result.bundling else None
    if bundles is not None and len(bundles):
        handles.append(_bundles(ax, bundles, f"{lab['bundles']} ({len(bundles)})", lang))
    handles += _facilities(ax, result, lang, set(result.standards.basket))
    handles += _sites(ax, result, lang, set(result.standards.categories))
    _finish(ax, handles, lab["gaps_legend"])
    return fig


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


def _bundles(ax, bundles, label: str, lang: str) -> tuple:
    """Each bundle outlined (dashed) and labelled in its own colour, the HTML map's colouring
    (:func:`spatial.outputs.style.bundle_colours`: bundles within 50 m of each other always differ), one
    path per colour (``gid`` ``bundles:<colour>``); returns the legend entry, one swatch per
    colour used."""
    colours = np.array(bundle_colours(bundles))
    geoms = bundles.geometry.values
    lines(ax, geoms, "white", 3.6, zorder=4)  # a halo: the outlines stand out on any gap colour
    for colour in dict.fromkeys(colours.tolist()):
        patch = lines(ax, geoms[colours == colour], colour, 2.2, zorder=4.1, linestyle="--")
        if patch is not None:
            patch.set_gid(f"bundles:{colour}")
    drawn = bundle_labels(ax, bundles, 9, colours=colours.tolist())
    if drawn < len(bundles):  # a footnote under the map says which ids are left off
        note = text(lang, "print_labels_thinned", shown=drawn, hidden=len(bundles) - drawn)
        ax.figure.text(0.03, 0.012, note, fontsize=9, ha="left", va="bottom")
    swatches = tuple(Patch(fc="none", ec=c, ls="--", lw=2.0) for c in dict.fromkeys(colours))
    return swatches, label


def _group(base: _Base, lang: str, group: str, keys: list[str]):
    result = base.result
    lab = labels(lang)
    comm = result.communities
    std = result.standards
    gname = shown(std.groups.get(group, {}).get("name_zh" if lang == "zh" else "name_en", group))
    ok = comm[[f"{k}_ok" for k in keys]].to_numpy(bool)
    gaps = (~ok).sum(axis=1)
    sites = result.siting.sites if result.siting else None
    sites = sites.loc[sites["category"].isin(keys)] if sites is not None else None
    known = result.summary.get("households") is not None
    before, after = group_shares(comm, known, keys, sites)
    share = _empty_note(result, lang, list(keys))
    share += f"{text(lang, 'print_group_share', group=gname)} {share_text(before)}"
    if "sites" in result.summary:  # before → after the recommended sites for this group
        share += text(lang, "print_share_after", after=share_text(after))
    head = [
        share,
        _definition(result, lang, keys),
    ] + _headline(result, lang)[-1:]
    fig, ax = _page(base, f"{shown(result.project.name)} — {gname}", head, _rule(result, lang))
    n = len(keys)
    polygons(ax, comm.geometry.values, [gap_colour(np.ceil(g * 4 / n)) for g in gaps])
    handles = [
        Patch(fc=gap_colour(np.ceil(i * 4 / n)), ec="#333", label=f"{lab['gaps']} {i}")
        for i in range(n + 1)
    ]
    handles += _facilities(ax, result, lang, set(keys), size=22)
    handles += _sites(ax, result, lang, set(keys))
    _finish(ax, handles, text(lang, "print_group_gaps", group=gname))
    return fig


def _groups(result: RunResult) -> list[tuple[str, list[str]]]:
    if "gaps" not in result.communities:
        return []
    cats = result.standards.categories
    found = [(g, [k for k, c in cats.items() if c.group == g]) for g in PRINT_GROUPS]
    return [(g, keys) for g, keys in found if keys]


def print_names(result: RunResult) -> list[str]:
    """The PNG files of the print pack: ``overview.png`` and ``<group>.png`` per planner group."""
    return ["overview.png"] + [f"{g}.png" for g, _ in _groups(result)]


def draw_overview(result: RunResult, lang: str):
    """The overview print map as a matplotlib figure (communities by gaps, bundles, facilities, sites)."""
    with matplotlib.rc_context(print_style(cjk_font())):
        return _overview(_Base(result), lang)


def write_map_pages(result: RunResult, out: Path, lang: str, pdf_path: Path) -> list[Path]:
    """The print maps: ``overview.png`` and one PNG per planner group (A3 landscape, 300 dpi),
    each written atomically into ``out``, and the same pages as the PDF ``pdf_path`` (the start
    of ``overview.pdf``, :func:`join_pack`)."""
    # a page's PNG is encoded in a thread (Pillow releases the GIL) while the next is drawn;
    # in this thread when the process has one core (spatial.core.parallel)
    with matplotlib.rc_context(print_style(cjk_font())), parallel.threads(1) as pool:
        base = _Base(result)
        pages = [("overview", lambda: _overview(base, lang))]
        pages += [(g, lambda g=g, k=k: _group(base, lang, g, k)) for g, k in _groups(result)]
        pngs = []
        with PdfPages(pdf_path) as pdf:
            for name, draw in pages:
                fig = draw()
                fig.canvas.draw()
                rgba = np.array(fig.canvas.buffer_rgba())  # a plain copy: RGB in the thread
                pngs.append(pool.submit(write_png, rgba, DPI, out / f"{name}.png"))
                pdf.savefig(fig)
        return [f.result() for f in pngs]


def join_pack(
    out: Path, maps_pdf: Path, sheets: list[Path], result: RunResult | None = None, lang: str = "zh"
) -> Path:
    """``overview.pdf`` in ``out`` (written atomically): the print maps' pages, then the bundle
    sheets' PDFs in order; with ``result`` its title and bookmarks in ``lang``
    (:func:`spatial.outputs.printing.sheets.pack_outline`)."""
    outline = None
    if result is not None:
        outline = printpack.pack_outline(result, lang, map_titles(result, lang))
    with staging.atomic_path(out / "overview.pdf") as target:
        printpack.merge_pdfs(maps_pdf, sheets, target, outline)
    return out / "overview.pdf"


def map_titles(result: RunResult, lang: str) -> list[str]:
    """The bookmark of each map page of the pack, in order: the overview, then each group."""
    groups = result.standards.groups
    names = [
        shown(groups.get(g, {}).get("name_zh" if lang == "zh" else "name_en", g))
        for g, _ in _groups(result)
    ]
    return [text(lang, "print_outline_overview"), *names]


def write_print_maps(result: RunResult, out: Path, lang: str) -> list[Path]:
    """The print pack in this process: the PNGs of :func:`write_map_pages` and ``overview.pdf``
    holding the overview, the group maps and one sheet per bundle (片区图则), in that order.
    (A large run draws the parts side by side: :mod:`spatial.workflow.write`.)"""
    font = font_file(cjk_font())
    maps_pdf, sheets_pdf = out / f".maps-{os.getpid()}.pdf", out / f".sheets-{os.getpid()}.pdf"
    try:
        pngs = write_map_pages(result, out, lang, maps_pdf)
        printpack.write_bundle_pages(sheets_pdf, result, lang, font)
        return [*pngs, join_pack(out, maps_pdf, [sheets_pdf], result, lang)]
    finally:
        maps_pdf.unlink(missing_ok=True)
        sheets_pdf.unlink(missing_ok=True)
