"""A deterministic synthetic old-town district in Linyi (Lanshan), for demos and tests.

Everything is drawn from one seeded generator: a walking street grid (arterials every 800 m,
branch roads every 200-400 m, lanes every 100 m with gaps), community compounds between the
streets, facilities with realistic gaps, and candidate parcels. Nothing here is real data.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

ORIGIN_LONLAT = (118.318, 35.040)  # south-west corner, Lanshan district, Linyi
METRIC_EPSG = 4548  # CGCS2000 3-degree GK zone, central meridian 117°E
SIZE_M = 2400
CELL_M = 100
STEP_M = 25
SUBDISTRICTS = ["兰山街道", "金雀山街道", "银雀山街道", "柳青街道"]
_PREFIX = list("兰金银沂蒙滨和平建胜红东西南北水卧书花园春秋文化新华人民解放友谊光明幸福")
_SUFFIX = ["小区", "宿舍", "新村", "花园", "家属院", "公寓", "小区"]
_STREETS = [
    "解放路",
    "人民大街",
    "沂蒙路",
    "金雀山路",
    "银雀山路",
    "兰山路",
    "北园路",
    "考棚街",
    "涑河街",
    "砚池街",
    "洗砚池街",
    "启阳路",
    "颐高路",
    "平安路",
    "书院街",
    "红旗路",
]
#: facilities per category in the district: sparse where the plans report gaps.
FACILITY_COUNTS = {
    "elderly_daycare": 18,
    "nursing_home": 3,
    "nursery": 14,
    "kindergarten": 20,
    "health_station": 20,
    "health_center": 4,
    "market": 12,
    "convenience": 70,
    "community_service": 14,
    "fitness": 18,
    "culture": 5,
    "primary_school": 6,
    "middle_school": 3,
}
_FACILITY_LABELS = {
    "elderly_daycare": ["日间照料中心", "托老所", "社区养老服务站"],
    "nursing_home": ["养老院", "敬老院"],
    "nursery": ["托育机构", "托儿所"],
    "kindergarten": ["幼儿园"],
    "health_station": ["社区卫生服务站", "卫生室"],
    "health_center": ["社区卫生服务中心"],
    "market": ["农贸市场", "生鲜超市", "菜市场"],
    "convenience": ["便利店", "便民超市"],
    "community_service": ["社区服务站", "党群服务中心"],
    "fitness": ["健身广场", "室外综合健身场地"],
    "culture": ["文化活动站"],
    "primary_school": ["小学"],
    "middle_school": ["初中"],
}
PARCEL_KINDS = ["闲置用地", "低效用地", "旧厂区", "棚户区", "空置房屋", "拆违腾退"]


def _road_class(i: int, vertical: bool) -> str:
    if i % 8 == 0:
        return "secondary" if vertical else "primary"
    if i % 4 == 0:
        return "tertiary"
    if i % 2 == 0:
        return "residential"
    return "footway"


_INSET = {"primary": 22, "secondary": 22, "tertiary": 12, "residential": 9, "footway": 6}


class Warp:
    """Local metres → EPSG:4548, with a gentle bend and rotation so the grid looks unplanned."""

    def __init__(self) -> None:
        to_metric = Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)
        self.x0, self.y0 = to_metric.transform(*ORIGIN_LONLAT)
        self.angle = math.radians(9)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        x = x + 18 * np.sin(y / 420)
        y = y + 14 * np.sin(x / 510)
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.column_stack([self.x0 + c * x - s * y, self.y0 + s * x + c * y])


def _streets(rng: np.random.Generator) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """Street ways as (highway, name, [grid points in STEP units])."""
    n_lines = SIZE_M // CELL_M + 1
    per_cell = CELL_M // STEP_M
    ways = []
    for vertical in (False, True):
        for i in range(n_lines):
            hw = _road_class(i, vertical)
            name = _STREETS[(i + 7 * vertical) % len(_STREETS)] if hw != "footway" else ""
            run: list[tuple[int, int]] = []
            for cell in range(n_lines - 1):
                if hw == "footway" and rng.random() < 0.3:  # lanes have gaps
                    if len(run) > 1:
                        ways.append((hw, name, run))
                    run = []
                    continue
                pts = [(i * per_cell, cell * per_cell + k) for k in range(per_cell + 1)]
                pts = [(b, a) for a, b in pts] if not vertical else pts
                run = run + pts[1:] if run and run[-1] == pts[0] else pts
            if len(run) > 1:
                ways.append((hw, name, run))
    return ways


#: A block of the grid: (x, y, width, height) in cells.
_Rect = tuple[int, int, int, int]


def _rects(rng: np.random.Generator) -> list[_Rect]:
    """Tile each 800 m super-block's 100 m cells with random 1-3 × 1-2 cell rectangles."""
    n = SIZE_M // CELL_M
    taken = np.zeros((n, n), bool)
    rects = []
    for cy in range(n):
        for cx in range(n):
            if taken[cy, cx]:
                continue
            w, h = int(rng.integers(1, 4)), int(rng.integers(1, 3))
            w = min(w, 8 - cx % 8)
            h = min(h, 8 - cy % 8)
            while w > 1 and taken[cy, cx : cx + w].any():
                w -= 1
            taken[cy : cy + h, cx : cx + w] = True
            rects.append((cx, cy, w, h))
    return rects


def _rect_polygon(rect: _Rect, rng: np.random.Generator) -> shapely.Polygon:
    cx, cy, w, h = rect
    left = _INSET[_road_class(cx, True)]
    right = _INSET[_road_class(cx + w, True)]
    bottom = _INSET[_road_class(cy, False)]
    top = _INSET[_road_class(cy + h, False)]
    x0, y0 = cx * CELL_M + left, cy * CELL_M + bottom
    x1, y1 = (cx + w) * CELL_M - right, (cy + h) * CELL_M - top
    poly = shapely.box(x0, y0, x1, y1)
    if rng.random() < 0.35:  # cut a corner: compounds are rarely perfect rectangles
        cut = rng.uniform(15, 35)
        corner = shapely.Polygon([(x1 - cut, y1), (x1, y1), (x1, y1 - cut)])
        poly = poly.difference(corner)
    return poly


def _built_year(rng: np.random.Generator) -> tuple[str, int | None]:
    year = int(rng.integers(1975, 2006)) if rng.random() < 0.82 else int(rng.integers(2006, 2017))
    style = rng.random()
    if style < 0.04:
        return "", None
    if style < 0.14 and year < 2000:
        return f"{str(year)[2]}0年代", year
    if style < 0.3:
        return f"{year}年", year
    if style < 0.42:
        return f"{year}-{int(rng.integers(1, 13)):02d}", year
    if style < 0.5:
        return f"{year}.{int(rng.integers(1, 10))}", year
    return str(year), year


def _unique_name(rng: np.random.Generator, used: set[str]) -> str:
    for _ in range(100):
        name = "".join(rng.choice(_PREFIX, 2, replace=False)) + str(rng.choice(_SUFFIX))
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("name space exhausted")


def generate(seed: int = 20201) -> dict[str, gpd.GeoDataFrame | list]:
    """Build the demo district in memory (EPSG:4548 for all layers).

    Parameters
    ----------
    seed : int

    Returns
    -------
    dict
        ``communities``, ``facilities``, ``parcels`` (GeoDataFrames) and ``ways`` (the streets).
    """
    rng = np.random.default_rng(seed)
    warp = Warp()
    ways = _streets(rng)
    rects = _rects(rng)
    order = rng.permutation(len(rects))
    communities, spare, used = [], [], set()
    for k in order:
        rect = rects[k]
        if rng.random() < 0.5 and len(communities) < 150:
            communities.append(rect)
        else:
            spare.append(rect)
    rows, years = [], []
    for i, rect in enumerate(sorted(communities)):
        poly = shapely.transform(_rect_polygon(rect, rng), warp)
        raw, _year = _built_year(rng)
        years.append(_year)
        far = rng.uniform(1.1, 2.3)
        floor = round(poly.area * far, -1)
        cx, cy = rect[0] * CELL_M, rect[1] * CELL_M
        sub = SUBDISTRICTS[(cx >= SIZE_M / 2) + 2 * (cy >= SIZE_M / 2)]
        rows.append(
            {
                "小区编号": f"LS{i + 1:03d}",
                "小区名称": _unique_name(rng, used),
                "建成年代": raw,
                "户数": int(floor / rng.uniform(70, 95)),
                "建筑面积": floor,
                "所属街道": sub,
                "改造意愿": round(float(rng.uniform(0.45, 0.98)), 2),
                "基础设施欠账": int(rng.integers(1, 6)),
                "拟征收": "是" if rng.random() < 0.03 else "否",
                "geometry": poly,
            }
        )
    comm = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_EPSG)
    comm = _with_statuses(comm, years, seed)
    facilities = _facilities(rng, spare, warp)
    parcels = _parcels(rng, spare, warp)
    return {"communities": comm, "facilities": facilities, "parcels": parcels, "ways": ways}


def _with_statuses(comm: gpd.GeoDataFrame, years: list, seed: int) -> gpd.GeoDataFrame:
    """The ledger's 改造状态 and 计划年度 (issue 27), drawn from their own generator so that every
    other figure of the demo stays as it was: among the priority-tier compounds (built by 2000)
    whose residents agree (改造意愿 ≥ 2/3), about 15 % finished in 2024-2026, 10 % started in
    2027 and 15 % listed in the 2027 plan; the rest blank."""
    rng = np.random.default_rng(seed + 27)
    draw = rng.random(len(comm))
    when = rng.integers(2024, 2027, len(comm))
    status, year = [""] * len(comm), [None] * len(comm)
    agree = comm["改造意愿"].to_numpy(float) >= 2 / 3
    for i, built in enumerate(years):
        if built is None or built > 2000 or not agree[i]:
            continue
        if draw[i] < 0.15:
            status[i], year[i] = "已完成", int(when[i])
        elif draw[i] < 0.25:
            status[i], year[i] = "在建", 2027
        elif draw[i] < 0.40:
            status[i], year[i] = "已列入计划", 2027
    out = comm.drop(columns="geometry")
    out["改造状态"] = status
    out["计划年度"] = pd.array(year, dtype="Int64")
    return gpd.GeoDataFrame(out, geometry=comm.geometry.values, crs=comm.crs)


def _spare_point(rng: np.random.Generator, spare: list[_Rect], warp: Warp) -> np.ndarray:
    cx, cy, w, h = spare[int(rng.integers(len(spare)))]
    x = (cx + rng.uniform(0.25, 0.75) * w) * CELL_M
    y = (cy + rng.uniform(0.25, 0.75) * h) * CELL_M
    return warp(np.array([[x, y]]))[0]


def _facilities(rng: np.random.Generator, spare: list[_Rect], warp: Warp) -> gpd.GeoDataFrame:
    rows = []
    for key, count in FACILITY_COUNTS.items():
        for j in range(count):
            if rng.random() < 0.6:
                xy = _spare_point(rng, spare, warp)
            else:
                xy = warp(rng.uniform(50, SIZE_M - 50, size=(1, 2)))[0]
            label = str(rng.choice(_FACILITY_LABELS[key]))
            street = str(rng.choice(_STREETS))
            rows.append({"名称": f"{street}{label}{j + 1}", "类别": label, "x": xy[0], "y": xy[1]})
    for j in range(3):  # categories outside the standard: reported by `check`
        xy = _spare_point(rng, spare, warp)
        rows.append({"名称": f"银行网点{j + 1}", "类别": "银行", "x": xy[0], "y": xy[1]})
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=METRIC_EPSG,
    )


def _parcels(rng: np.random.Generator, spare: list[_Rect], warp: Warp) -> gpd.GeoDataFrame:
    picks = rng.choice(len(spare), size=min(45, len(spare)), replace=False)
    rows = []
    for i, k in enumerate(sorted(picks)):
        cx, cy, w, h = spare[k]
        fw, fh = rng.uniform(0.25, 0.8), rng.uniform(0.25, 0.8)
        x0 = (cx + rng.uniform(0.05, 0.95 - fw) * w) * CELL_M + 8
        y0 = (cy + rng.uniform(0.05, 0.95 - fh) * h) * CELL_M + 8
        box = shapely.box(x0, y0, x0 + fw * w * CELL_M - 16, y0 + fh * h * CELL_M - 16)
        poly = shapely.transform(box, warp)
        kind = str(rng.choice(PARCEL_KINDS))
        area = round(poly.area) if rng.random() < 0.8 else None
        rows.append(
            {"地块编号": f"DK{i + 1:03d}", "用地类型": kind, "面积": area, "geometry": poly}
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_EPSG)
