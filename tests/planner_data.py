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

Planner-style data sets, as planners receive them (not as the demo is written).

:func:`write_planner_communities_and_pois` writes a GBK Shapefile of communities without ``.cpg``
whose Chinese headers were cut to the 10 bytes of a ``.dbf`` field name, and a Gaode-style POI
export (CSV, GCJ-02) in which many facilities carry a generic type and only their name says what
they are.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.core.crs import wgs84_to_gcj02
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


#: Gaode's generic types (大类;…场所) under which many community facilities are exported
LIFE = "生活服务;生活服务场所;生活服务场所"
MEDICAL = "医疗保健服务;医疗保健服务场所;医疗保健服务场所"
SOCIETY = "政府机构及社会团体;社会团体;社会团体"

#: name, Gaode type, typecode, the category the name says (None: not a basket facility), east
#: and north of the first community's south-west corner (m)
PLANNER_POIS: list[tuple[str, str, str, str | None, float, float]] = [
    ("历下区颐养院", LIFE, "070000", "nursing_home", 40, 40),
    ("泉城老年公寓", LIFE, "070000", "nursing_home", 340, 40),
    ("甸柳社区日间照料中心", LIFE, "070000", "elderly_daycare", 40, 40),
    ("燕子山社区托老所", SOCIETY, "130400", "elderly_daycare", 490, 40),
    ("泉城路街道社区卫生服务中心", MEDICAL, "090000", "health_center", 190, 40),
    ("贝贝托育中心", LIFE, "070000", "nursery", 40, 40),
    ("明湖幼儿园", "科教文化服务;学校;幼儿园", "141204", "kindergarten", 190, 40),
    ("快客便利店", "购物服务;便民商店/便利店;便民商店/便利店", "060200", "convenience", 40, 40),
    # generic types whose names are not a basket facility: listed by name, never counted
    ("历下区老年大学", SOCIETY, "130400", None, 40, 40),
    ("阳光小学生托管中心", LIFE, "070000", None, 40, 40),
    ("老年人书画协会", SOCIETY, "130400", None, 40, 40),
    # a specific type wins over the name: a restaurant called 养老院 is a restaurant
    ("养老院食堂快餐", "餐饮服务;快餐厅;快餐厅", "050300", None, 40, 40),
    ("鲁菜馆", "餐饮服务;中餐厅;中餐厅", "050100", None, 40, 40),
]

#: the headers as the planner typed them; a Shapefile keeps 10 GBK bytes of each
COMMUNITY_HEADERS = {
    "name": "小区名称",
    "households": "总户数（户）",
    "built": "建成年代（年）",
    "subdistrict": "所属街道",
    "older": "60岁及以上人口",
}


def write_planner_communities_and_pois(folder: Path) -> Path:
    """Write communities.shp (GBK, no .cpg), pois.csv (Gaode, GCJ-02) and project.toml.

    Four 80 m square communities in a row, 150 m apart, near Jinan (EPSG:4548); no network
    (straight-line distances). The POIs are :data:`PLANNER_POIS`.

    Parameters
    ----------
    folder : Path

    Returns
    -------
    Path
        The project file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    x0, y0 = to_4548(*JINAN)
    h = COMMUNITY_HEADERS
    rows = [
        {
            h["name"]: f"甸柳{i + 1}区",
            h["households"]: 200 + 50 * i,
            h["built"]: ["1988", "1995年", "90年代", "2001"][i],
            h["subdistrict"]: "甸柳街道" if i < 2 else "泉城路街道",
            h["older"]: 60 + 10 * i,
            "geometry": shapely.box(x0 + 150 * i, y0, x0 + 150 * i + 80, y0 + 80),
        }
        for i in range(4)
    ]
    shp = folder / "communities.shp"
    with warnings.catch_warnings():  # GDAL says it cut the field names (what we test)
        warnings.simplefilter("ignore", RuntimeWarning)
        gpd.GeoDataFrame(rows, crs=4548).to_file(shp, engine="pyogrio", encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    points = gpd.GeoSeries(
        [shapely.Point(x0 + dx, y0 + dy) for *_, dx, dy in PLANNER_POIS], crs=4548
    ).to_crs(4326)
    lon, lat = wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    pois = pd.DataFrame(
        {
            "name": [p[0] for p in PLANNER_POIS],
            "type": [p[1] for p in PLANNER_POIS],
            "typecode": [p[2] for p in PLANNER_POIS],
            "location": [f"{a:.6f},{b:.6f}" for a, b in zip(lon, lat, strict=True)],
            "gcj_lng": np.round(lon, 6),
            "gcj_lat": np.round(lat, 6),
        }
    )
    pois.to_csv(folder / "pois.csv", index=False, encoding="utf-8-sig")
    project = folder / "project.toml"
    project.write_text(
        '[project]\nname = "历下区试算"\n'
        '[communities]\npath = "communities.shp"\n'
        '[facilities]\npath = "pois.csv"\ncoords = "gcj02"\n',
        encoding="utf-8",
    )
    return project
