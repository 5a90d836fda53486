"""Drawing primitives of the print maps (matplotlib): whole layers as single collections (one
artist path per layer and colour, not one per feature), the page frame of a map, its scale bar and
north arrow — the extent, the bar and the arrow as :mod:`spatial.outputs.printing.layout` computes
them (the same rules as the bundle sheets' :mod:`spatial.outputs.printing.pdf`).

Knows nothing about the project's data: it takes geometries, colours and axes. Never sets a
matplotlib backend: the caller's figure is drawn by the canvas it was made with.
"""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Polygon, Rectangle
from matplotlib.path import Path

from spatial.outputs.printing import layout


def figure(size: tuple[float, float], dpi: float | None = None) -> Figure:
    """A figure of ``size`` inches drawn by Agg, made without pyplot: no global figure manager,
    no matplotlib backend set for the caller (a notebook keeps its own)."""
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _compound(geoms, closed: bool) -> Path | None:
    """All rings or lines of ``geoms`` as ONE matplotlib path (MOVETO at each start): one PDF
    path and one Agg draw for a whole layer, however many features it holds."""
    coords, owner = shapely.get_coordinates(np.asarray(geoms), return_index=True)
    if len(coords) == 0:
        return None
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    codes[starts] = Path.MOVETO
    if closed:
        ends = np.r_[starts[1:] - 1, len(coords) - 1]
        codes[ends] = Path.CLOSEPOLY
    return Path(coords, codes)


def lines(ax, geoms, colour, width: float, zorder: float = 1, **kw) -> PathPatch | None:
    """Many lines (or polygon outlines, holes included) drawn as one path; None when empty."""
    geoms = np.asarray(geoms)
    if not len(geoms):
        return None
    if shapely.get_type_id(geoms).max() in (3, 6):  # polygons: draw their rings
        geoms = shapely.boundary(geoms)
    if np.isin(shapely.get_type_id(geoms), (4, 5, 6, 7)).any():  # multi-part: a path per part
        geoms = shapely.get_parts(geoms)
    path = _compound(geoms, closed=False)
    if path is None:
        return None
    patch = PathPatch(
        path,
        fill=False,
        edgecolor=colour,
        linewidth=width,
        zorder=zorder,
        capstyle="round",
        joinstyle="round",
        **kw,
    )
    ax.add_artist(patch)  # not add_patch: the limits are set by frame(), no need to scan the path
    return patch


def polygons(
    ax, geoms, facecolors, edgecolor="#333333", width: float = 0.3, zorder: float = 2, **kw
) -> list[PathPatch]:
    """Polygons filled and outlined, one path per fill colour (holes are outlined, not cut).

    ``facecolors`` is one colour or one colour per geometry."""
    geoms = np.asarray(geoms)
    if not len(geoms):
        return []
    colours = np.array([facecolors] * len(geoms) if isinstance(facecolors, str) else facecolors)
    patches = []
    for colour in dict.fromkeys(colours.tolist()):
        parts = shapely.get_parts(geoms[colours == colour])
        parts = shapely.normalize(parts[shapely.get_type_id(parts) == 3])  # one ring direction
        path = _compound(shapely.get_exterior_ring(parts), closed=True)
        if path is None:
            continue
        patch = PathPatch(
            path, facecolor=colour, edgecolor=edgecolor, linewidth=width, zorder=zorder, **kw
        )
        ax.add_artist(
            patch
        )  # not add_patch: the limits are set by frame(), no need to scan the path
        patches.append(patch)
    return patches


def frame(ax, bounds, margin: float = 0.04) -> tuple[float, float, float, float]:
    """Set the axes to ``bounds`` (minx, miny, maxx, maxy) fitted to the axes box
    (:func:`spatial.outputs.printing.layout.fit_extent`: one metre the same length across and
    up); returns the extent as (xmin, xmax, ymin, ymax)."""
    fig = ax.figure
    pos = ax.get_position()
    box_w = pos.width * fig.get_figwidth()
    box_h = pos.height * fig.get_figheight()
    x0, y0, x1, y1 = layout.fit_extent(bounds, box_w, box_h, margin)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    return x0, x1, y0, y1


def _extent(ax) -> layout.Extent:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return x0, y0, x1, y1


def scale_bar(ax, fontsize: float = 11) -> None:
    """The map's scale bar (:func:`spatial.outputs.printing.layout.scale_bar`; axes in metres):
    its label just above it, ``0`` just under its left end."""
    bar = layout.scale_bar(_extent(ax))
    for left, width, black in bar.parts:
        ax.add_patch(
            Rectangle(
                (left, bar.y),
                width,
                bar.height,
                lw=0.8,
                ec="black",
                fc="black" if black else "white",
                zorder=10,
            )
        )
    ax.text(
        bar.x + bar.length / 2,
        bar.y + bar.height * 1.8,
        bar.label,
        ha="center",
        va="bottom",
        fontsize=fontsize,
        zorder=10,
    )
    ax.text(
        bar.x,
        bar.y - bar.height * 0.6,
        "0",
        ha="center",
        va="top",
        fontsize=fontsize - 2,
        zorder=10,
    )


def north_arrow(ax, fontsize: float = 16) -> None:
    """The map's north arrow (:func:`spatial.outputs.printing.layout.north_arrow`) with an ``N``
    just above its tip."""
    arrow = layout.north_arrow(_extent(ax))
    outline = np.array([*arrow.outline, arrow.tip])  # closed on its tip
    ax.add_patch(Polygon(outline, closed=True, color="black", zorder=10))
    ax.text(
        arrow.tip[0],
        arrow.base + arrow.length * 1.08,
        "N",
        ha="center",
        va="bottom",
        fontsize=fontsize,
        weight="bold",
        zorder=10,
    )
