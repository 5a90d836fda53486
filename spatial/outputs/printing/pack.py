"""Print pack for meeting packs: the overview, the programme by year (when the run has one:
:mod:`spatial.outputs.printing.plan_page`) and one map per planner group as A3 landscape PNGs
(300 dpi), and all of them plus one sheet per bundle (片区图则, :mod:`spatial.outputs.printing.sheets`) in one
multi-page PDF (``overview.pdf``), with a CJK font, legend, metric scale bar, north arrow and title.

Each layer is drawn as one matplotlib collection; a large street network is drawn once into an
image shared by every map page (:class:`spatial.outputs.printing.page.MapBase`).

Text from the data (project name, category labels, bundle ids) enters through
:func:`spatial.text.printing.shown` (control and bidi characters as escapes) and is drawn literally: the figure is
made and saved under :func:`spatial.outputs.printing.page.print_style`, which turns off matplotlib's mathtext (``$…$``) for every
text, title and legend entry; nothing uses TeX.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from spatial.analysis.result import RunResult
from spatial.core import parallel
from spatial.core.messages import labels, text
from spatial.outputs import staging
from spatial.outputs.printing import sheets as printpack
from spatial.outputs.printing.draw import lines, polygons
from spatial.outputs.printing.page import (
    DPI,
    MapBase,
    bundle_labels,
    coverage_definition,
    coverage_rule,
    empty_note,
    finish,
    map_page,
    print_style,
    stamp,
    thinned_note,
)
from spatial.outputs.printing.plan_page import has_plan_page, plan_page, plan_title
from spatial.outputs.printing.raster import write_png
from spatial.outputs.style import (
    BUNDLE_OFFSET_M,
    OLD_OUTLINE,
    OTHER_OUTLINE,
    SITE_COLOUR,
    Outline,
    bundle_colours,
    category_colour,
    gap_colour,
    gap_legend,
    group_shares,
    is_old,
    share_text,
)
from spatial.text.printing import cjk_font, font_file, shown

#: the planner groups that get a print map (as ``maps.CORE_GROUPS`` for the HTML maps)
PRINT_GROUPS = ("elderly", "childcare", "clinics", "markets")


def _headline(result: RunResult, lang: str) -> list[str]:
    lab = labels(lang)
    cov = result.summary.get("coverage")
    if not cov:
        return [stamp(result, lang)]
    if cov["full_coverage_households"] is None:  # no household counts: shares of communities
        share = f"{lab['full_share_communities']} {share_text(cov['full_coverage_communities'])}"
        after = None
    else:
        share = f"{lab['full_share']} {share_text(cov['full_coverage_households'])}"
        after = (result.summary.get("sites") or {}).get("full_coverage_households_after")
    if after is not None:
        share += text(lang, "print_share_after", after=share_text(after))
    share += f"   {lab['target']} {cov['national_target']:.0%}"
    share = empty_note(result, lang, cov.get("basket", [])) + share
    return [share, coverage_definition(result, lang, cov.get("basket", [])), stamp(result, lang)]


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


def _overview(base: MapBase, lang: str):
    result = base.result
    lab = labels(lang)
    comm = result.communities
    fig, ax = map_page(
        base, shown(result.project.name), _headline(result, lang), coverage_rule(result, lang)
    )
    handles = []
    if "gaps" in comm:
        colours = [gap_colour(g) for g in comm["gaps"]]
        handles += [Patch(fc=c, ec="#333", label=t) for c, t in gap_legend(lang)]
    else:
        colours = "#9ecae1"
    polygons(ax, comm.geometry.values, colours, edgecolor="none", width=0)
    handles += _outlines(ax, comm, lang)
    bundles = result.bundling.bundles if result.bundling else None
    if bundles is not None and len(bundles):
        handles.append(_bundles(ax, bundles, f"{lab['bundles']} ({len(bundles)})", lang))
    handles += _facilities(ax, result, lang, set(result.standards.basket))
    handles += _sites(ax, result, lang, set(result.standards.categories))
    finish(ax, handles, lab["gaps_legend"])
    return fig


def _dashes(outline: Outline) -> dict:
    """matplotlib's line style of ``outline`` on the print (its dash lengths in points; matplotlib
    scales a dash pattern by the line's width)."""
    if not outline.dash_pt:
        return {"linestyle": "solid"}
    return {"linestyle": (0, tuple(d / outline.width_pt for d in outline.dash_pt))}


def _outlines(ax, comm, lang: str) -> list:
    """Every community outlined as the HTML map does (:data:`spatial.outputs.style.OLD_OUTLINE`,
    :data:`~spatial.outputs.style.OTHER_OUTLINE`): old ones solid black over the others' thin
    grey dashes, one path each (``gid`` ``outline:old`` / ``outline:other``); returns their two
    legend rows (none when the run has no tiers)."""
    if "tier" not in comm:
        lines(ax, comm.geometry.values, "#333333", 0.3, zorder=2.1)
        return []
    old = is_old(comm)
    lab = labels(lang)
    handles = []
    for rows, outline, key, z in (
        (~old, OTHER_OUTLINE, "new_outline", 2.1),
        (old, OLD_OUTLINE, "eligible_outline", 2.2),
    ):
        patch = lines(
            ax, comm.geometry.values[rows], outline.colour, outline.width_pt, z, **_dashes(outline)
        )
        if patch is not None:
            patch.set_gid(f"outline:{'old' if outline is OLD_OUTLINE else 'other'}")
        handles.append(
            Patch(fc="none", ec=outline.colour, lw=outline.width_pt * 1.5, label=lab[key],
                  **_dashes(outline))
        )  # fmt: skip
    return handles[::-1]  # old first, as in the HTML legend


#: the width of the white line under a bundle's dashed line (pt)
HALO_PT = 3.6


def bundle_offset_m(ax) -> float:
    """How far outside its members a bundle's line runs on the print map ``ax`` (metres): the
    HTML map's :data:`~spatial.outputs.style.BUNDLE_OFFSET_M`, or more at a scale where its
    white halo would still cover the members' outlines (the halo's half width and the old
    outline's, in metres on the page)."""
    x0, x1 = ax.get_xlim()
    metres_per_pt = (x1 - x0) / (ax.get_position().width * ax.figure.get_figwidth() * 72)
    clear_pt = HALO_PT / 2 + OLD_OUTLINE.width_pt
    return max(BUNDLE_OFFSET_M, clear_pt * metres_per_pt)


def _bundles(ax, bundles, label: str, lang: str) -> tuple:
    """Each bundle outlined (dashed, :func:`bundle_offset_m` outside its members, whose own
    outlines stay seen) and labelled in its own colour, the HTML map's colouring
    (:func:`spatial.outputs.style.bundle_colours`: bundles within 50 m of each other always differ), one
    path per colour (``gid`` ``bundles:<colour>``); returns the legend entry, one swatch per
    colour used."""
    colours = np.array(bundle_colours(bundles))
    geoms = shapely.buffer(bundles.geometry.values, bundle_offset_m(ax))
    lines(ax, geoms, "white", HALO_PT, zorder=4)  # a halo: the lines stand out on any colour
    for colour in dict.fromkeys(colours.tolist()):
        patch = lines(ax, geoms[colours == colour], colour, 2.2, zorder=4.1, linestyle="--")
        if patch is not None:
            patch.set_gid(f"bundles:{colour}")
    drawn = bundle_labels(ax, bundles, 9, colours=colours.tolist())
    thinned_note(ax, drawn, len(bundles), lang)  # a footnote: which ids are left off
    swatches = tuple(Patch(fc="none", ec=c, ls="--", lw=2.0) for c in dict.fromkeys(colours))
    return swatches, label


def _group(base: MapBase, lang: str, group: str, keys: list[str]):
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
    share = empty_note(result, lang, list(keys))
    share += f"{text(lang, 'print_group_share', group=gname)} {share_text(before)}"
    if "sites" in result.summary:  # before → after the recommended sites for this group
        share += text(lang, "print_share_after", after=share_text(after))
    head = [share, coverage_definition(result, lang, keys), stamp(result, lang)]
    title = f"{shown(result.project.name)} — {gname}"
    fig, ax = map_page(base, title, head, coverage_rule(result, lang))
    n = len(keys)
    fills = [gap_colour(np.ceil(g * 4 / n)) for g in gaps]
    polygons(ax, comm.geometry.values, fills, edgecolor="none", width=0)
    handles = [
        Patch(fc=gap_colour(np.ceil(i * 4 / n)), ec="#333", label=f"{lab['gaps']} {i}")
        for i in range(n + 1)
    ]
    handles += _outlines(ax, comm, lang)
    handles += _facilities(ax, result, lang, set(keys), size=22)
    handles += _sites(ax, result, lang, set(keys))
    finish(ax, handles, text(lang, "print_group_gaps", group=gname))
    return fig


def _groups(result: RunResult) -> list[tuple[str, list[str]]]:
    if "gaps" not in result.communities:
        return []
    cats = result.standards.categories
    found = [(g, [k for k, c in cats.items() if c.group == g]) for g in PRINT_GROUPS]
    return [(g, keys) for g, keys in found if keys]


def _map_pages(result: RunResult, lang: str) -> list[tuple[str, str, Callable]]:
    """The map pages of the pack in order, each as (file name stem, bookmark, draw): the
    overview, the programme by year (when the run has one), then each planner group; ``draw``
    takes the pages' :class:`MapBase` and returns the figure."""
    pages = [("overview", text(lang, "print_outline_overview"), lambda b: _overview(b, lang))]
    if has_plan_page(result):
        pages.append(("plan", plan_title(result, lang), lambda b: plan_page(b, lang)))
    groups = result.standards.groups
    for g, keys in _groups(result):
        name = shown(groups.get(g, {}).get("name_zh" if lang == "zh" else "name_en", g))
        pages.append((g, name, lambda b, g=g, k=keys: _group(b, lang, g, k)))
    return pages


def print_names(result: RunResult) -> list[str]:
    """The PNG files of the print pack: ``overview.png``, ``plan.png`` when the run has a
    programme by year, and ``<group>.png`` per planner group."""
    return [f"{stem}.png" for stem, _, _ in _map_pages(result, "en")]


def draw_overview(result: RunResult, lang: str):
    """The overview print map as a matplotlib figure (communities by gaps, bundles, facilities, sites)."""
    with matplotlib.rc_context(print_style(cjk_font())):
        return _overview(MapBase(result), lang)


def write_map_pages(result: RunResult, out: Path, lang: str, pdf_path: Path) -> list[Path]:
    """The print maps (:func:`print_names`; A3 landscape, 300 dpi), each written atomically
    into ``out``, and the same pages as the PDF ``pdf_path`` (the start of ``overview.pdf``,
    :func:`join_pack`)."""
    # a page's PNG is encoded in a thread (Pillow releases the GIL) while the next is drawn;
    # in this thread when the process has one core (spatial.core.parallel)
    with matplotlib.rc_context(print_style(cjk_font())), parallel.threads(1) as pool:
        base = MapBase(result)
        pngs = []
        with PdfPages(pdf_path) as pdf:
            for name, _, draw in _map_pages(result, lang):
                fig = draw(base)
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
    """The bookmark of each map page of the pack, in order (:func:`print_names`)."""
    return [title for _, title, _ in _map_pages(result, lang)]


def write_print_maps(result: RunResult, out: Path, lang: str) -> list[Path]:
    """The print pack in this process: the PNGs of :func:`write_map_pages` and ``overview.pdf``
    holding the overview, the programme by year, the group maps and one sheet per bundle
    (片区图则), in that order.
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
