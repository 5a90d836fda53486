"""A planner's own data, as bureaus hand it out (issue 22): here the road-centreline layer — a GBK
Shapefile without ``.cpg``, one line per street (not split where streets cross), a ``道路等级``
class column, a ``桥梁`` column with a bridge over a street, and two CAD undershoots.

Coordinates are local metres (``at``) placed near Jinan in EPSG:4548, so every distance on the
network is known by hand::

    y=700 ┬───────┬───────┬───────┬───────┬        verticals x = 0, 250, 500, 750, 1000
    y=600 ┼───────┼───────┼──────[╪]──────┼───     H4 解放路: ground to x=700, a bridge
    y=400 ┼───┬───┼───┬───┼───────┼───────┼───       700–800 over 燕子山路 (x=750), ground on
          │   甲  │   乙  ║       │       │         y=400 文化东路; spurs 甲巷 (x=125) and 乙巷
    y=200 ┼───────┼───────╫───────┼───────┼───       (x=375) run north from 1.5 m / 5 m short
    y=0   ┼───────┼───────╫───────┼───────┼───       of y=200 经十路 (次干路) to 文化东路
         x=0     250     500 千佛山路 (主干路)        y=0 泉城路

Without noding a GIS would have split it first: :func:`write_road_layer` with ``presplit=True``
writes the same streets cut at every crossing and T-junction (not at the bridge, not at the
undershoots), as a GIS "split lines at intersections" gives them.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from tests.conftest import JINAN, to_4548

ORIGIN = to_4548(*JINAN)
CRS = 4548
SPUR_A_GAP = 1.5  # 甲巷 stops this short of 经十路: joined with the default snap_m = 2
SPUR_B_GAP = 5.0  # 乙巷 stops this short: not joined

#: name, class, bridge, start, end (local metres), where a GIS splits it (positions along x or y)
STREETS: list[tuple[str, str, str, tuple[float, float], tuple[float, float], list[float]]] = [
    ("历山路", "支路", "否", (0, -100), (0, 700), [0, 200, 400, 600]),
    ("山大路", "支路", "否", (250, -100), (250, 700), [0, 200, 400, 600]),
    ("千佛山路", "主干路", "否", (500, -100), (500, 700), [0, 200, 400, 600]),
    ("燕子山路", "支路", "否", (750, -100), (750, 700), [0, 200, 400]),  # under the bridge
    ("二环东路", "支路", "否", (1000, -100), (1000, 700), [0, 200, 400, 600]),
    ("泉城路", "支路", "否", (-100, 0), (1100, 0), [0, 250, 500, 750, 1000]),
    ("经十路", "次干路", "否", (-100, 200), (1100, 200), [0, 250, 500, 750, 1000]),
    ("文化东路", "支路", "否", (-100, 400), (1100, 400), [0, 125, 250, 375, 500, 750, 1000]),
    ("解放路", "支路", "否", (-100, 600), (700, 600), [0, 250, 500]),
    ("解放路高架桥", "支路", "是", (700, 600), (800, 600), []),
    ("解放路", "支路", "否", (800, 600), (1100, 600), [1000]),
    ("甲巷", "街巷", "否", (125, 200 + SPUR_A_GAP), (125, 400), []),
    ("乙巷", "街巷", "否", (375, 200 + SPUR_B_GAP), (375, 400), []),
]


def at(x: float, y: float) -> tuple[float, float]:
    """Local metres → EPSG:4548 coordinates."""
    return ORIGIN[0] + x, ORIGIN[1] + y


def _pieces(start, end, cuts) -> list[shapely.LineString]:
    """The street from ``start`` to ``end`` cut at ``cuts`` (x for an east-west street, else y)."""
    axis = 0 if start[1] == end[1] else 1
    stops = [start[axis], *sorted(c for c in cuts if start[axis] < c < end[axis]), end[axis]]
    points = [tuple(s if k == axis else start[k] for k in (0, 1)) for s in stops]
    return [shapely.LineString([at(*a), at(*b)]) for a, b in zip(points, points[1:], strict=False)]


def road_layer(presplit: bool = False) -> gpd.GeoDataFrame:
    """The road layer (``道路名称``, ``道路等级``, ``桥梁``), one line per street or cut at the
    crossings a GIS would split (``presplit``)."""
    rows = []
    for name, kind, bridge, start, end, cuts in STREETS:
        lines = _pieces(start, end, cuts) if presplit else _pieces(start, end, [])
        rows += [{"道路名称": name, "道路等级": kind, "桥梁": bridge, "geometry": g} for g in lines]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def write_road_layer(
    folder: Path, name: str = "roads", presplit: bool = False, cpg: bool = False
) -> Path:
    """Write the road layer as a GBK Shapefile, without ``.cpg`` unless ``cpg`` (then the
    ``.cpg`` says GBK), as a planning bureau hands it out.

    Parameters
    ----------
    folder : Path
    name : str
        The Shapefile's stem.
    presplit : bool
        Cut at the crossings as a GIS would (see :func:`road_layer`).
    cpg : bool
        Keep a ``.cpg`` naming the encoding.

    Returns
    -------
    Path
        The ``.shp``.
    """
    path = folder / f"{name}.shp"
    road_layer(presplit).to_file(path, engine="pyogrio", encoding="gbk")
    sidecar = path.with_suffix(".cpg")
    if cpg:
        sidecar.write_text("GBK", encoding="ascii")
    else:
        sidecar.unlink(missing_ok=True)
    return path
