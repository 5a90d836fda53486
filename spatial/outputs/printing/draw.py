"""Drawing primitives of the print pack: whole layers as single matplotlib collections (one artist
path per layer and colour, not one per feature), the page frame of a map (an extent filling the axes box at equal
scale), a metric scale bar and a north arrow.

Knows nothing about the project's data: it takes geometries, colours and axes.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.patches import FancyArrow, PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path  # noqa: E402

SCALE_LENGTHS_M = (20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)


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
    """Set the axes to ``bounds`` (minx, miny, maxx, maxy) plus a margin, widened to the axes
    box's shape so one metre is the same length across and up; returns the extent."""
    fig = ax.figure
    pos = ax.get_position()
    box_w = pos.width * fig.get_figwidth()
    box_h = pos.height * fig.get_figheight()
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    if w / h < box_w / box_h:
        w = h * box_w / box_h
    else:
        h = w * box_h / box_w
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    extent = (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    return extent


def scale_bar(ax, fontsize: float = 11) -> None:
    """A metric scale bar of a round length in the lower right (axes in metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    length = max(v for v in SCALE_LENGTHS_M if v <= max(target, SCALE_LENGTHS_M[0]))
    bx, by = x1 - (x1 - x0) * 0.04 - length, y0 + (y1 - y0) * 0.04
    h = (y1 - y0) * 0.008
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 4, by),
                length / 4,
                h,
                lw=0.8,
                ec="black",
                fc="black" if k % 2 == 0 else "white",
                zorder=10,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(
        bx + length / 2, by + h * 1.8, label, ha="center", va="bottom", fontsize=fontsize, zorder=10
    )
    ax.text(bx, by - h * 0.6, "0", ha="center", va="top", fontsize=fontsize - 2, zorder=10)


def north_arrow(ax, fontsize: float = 16) -> None:
    """A north arrow in the upper right (the analysis CRS has north up)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.14
    dy = (y1 - y0) * 0.07
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            dy,
            width=(x1 - x0) * 0.006,
            head_width=(x1 - x0) * 0.02,
            head_length=dy * 0.4,
            length_includes_head=True,
            color="black",
            zorder=10,
        )
    )
    ax.text(
        x, y + dy * 1.08, "N", ha="center", va="bottom", fontsize=fontsize, weight="bold", zorder=10
    )
