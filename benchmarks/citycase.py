"""City-sized synthetic cases shared by the benchmarks: 5,000 communities, 2,000 facilities over
the 8 core categories, 2,000 candidate parcels, on one of two street networks (:data:`CASES`):

- ``grid`` (the first case): a dense street grid (40 m spacing, nodes jittered by ±6 m) whose
  facilities are dense enough that the 1000 m service areas cover nearly everything — a few
  simple polygons;
- ``patchy``: what a real district looks like — ~90,000 street nodes at ~90 m spacing with
  irregular node positions (±30 m), the 2,000 facilities spread over ~27 km, so the 1000 m
  service areas are patchy, with holes and ragged edges (~250,000 vertices per category).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from spatial.network.graph import StreetNetwork

CORE = ["elderly_daycare", "nursing_home", "nursery", "kindergarten",
        "health_station", "health_center", "market", "convenience"]  # fmt: skip
X0, Y0 = 500_000.0, 4_000_000.0  # EPSG:4548 (CGCS2000 GK 117°E), around Jinan


@dataclass(frozen=True)
class Case:
    """A benchmark city: a ``side``×``side`` street grid at ``spacing`` metres whose nodes are
    jittered by up to ``jitter`` metres each way."""

    side: int
    spacing: float
    jitter: float

    @property
    def extent(self) -> float:
        """Metres the communities, facilities and parcels are spread over (the grid's width)."""
        return (self.side - 1) * self.spacing

    def network(self) -> StreetNetwork:
        return street_grid(self.side, self.spacing, jitter=self.jitter)


CASES = {"grid": Case(300, 40.0, 6.0), "patchy": Case(300, 90.0, 30.0)}


def street_grid(
    side: int = 450, spacing: float = 40.0, seed: int = 0, jitter: float = 6.0
) -> StreetNetwork:
    """A side×side street grid with jittered nodes; every 20th line is a primary road."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side))
    xy = np.column_stack([ii.ravel() * spacing, jj.ravel() * spacing]).astype(float)
    xy += rng.uniform(-jitter, jitter, xy.shape)
    xy += [X0, Y0]
    k = np.arange(side * side).reshape(side, side)
    u = np.r_[k[:, :-1].ravel(), k[:-1, :].ravel()]
    v = np.r_[k[:, 1:].ravel(), k[1:, :].ravel()]
    keep = rng.random(len(u)) > 0.08  # a few missing links
    u, v = u[keep], v[keep]
    row_u, col_u = np.divmod(u, side)
    row_v, _ = np.divmod(v, side)
    horizontal = row_u == row_v
    primary = np.where(horizontal, row_u % 20 == 0, col_u % 20 == 0)
    highway = np.where(primary, "primary", "residential")
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    edges = gpd.GeoDataFrame({"u": u, "v": v, "highway": highway}, geometry=geoms, crs=4548)
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "synthetic city grid")


def communities(n: int = 5000, extent: float = 17_800.0, seed: int = 1,
                fill: tuple[float, float] = (0.45, 0.98)) -> gpd.GeoDataFrame:  # fmt: skip
    """Compounds filling ``fill`` of their ~250 m grid cell (denser fill: more adjacency)."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n)))
    cell = extent / cols
    idx = np.arange(n)
    cx = X0 + (idx % cols + 0.5) * cell
    cy = Y0 + (idx // cols + 0.5) * cell
    w = rng.uniform(*fill, n) * cell
    h = rng.uniform(*fill, n) * cell
    geoms = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    year = np.where(rng.random(n) < 0.75, rng.integers(1975, 2006, n), rng.integers(2006, 2020, n))
    return gpd.GeoDataFrame(
        {"cid": [f"C{i:05d}" for i in idx], "name": [f"小区{i}" for i in idx],
         "subdistrict": [f"街道{int(i // (n / 20))}" for i in idx],
         "built_raw": year.astype(str), "built_year": year.astype(float),
         "built_year_min": year.astype(float), "built_year_max": year.astype(float),
         "built_approx": False, "households": rng.integers(80, 900, n).astype(float),
         "floor_area": rng.uniform(8_000, 80_000, n), "willingness": rng.uniform(0.4, 1, n),
         "infrastructure_deficit": rng.integers(1, 6, n).astype(float), "funding_share": np.nan},
        geometry=geoms, crs=4548,
    )  # fmt: skip


def facilities(n: int = 2000, extent: float = 17_800.0, seed: int = 2) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, (n, 2)) + [X0, Y0]
    cats = np.array(CORE)[np.arange(n) % len(CORE)]
    return gpd.GeoDataFrame(
        {"facility_id": [f"F{i}" for i in range(n)], "category": cats, "category_raw": cats,
         "name": [f"设施{i}" for i in range(n)]},
        geometry=shapely.points(xy), crs=4548,
    )  # fmt: skip


def parcels(n: int = 2000, extent: float = 17_800.0, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, (n, 2)) + [X0, Y0]
    size = rng.uniform(15, 90, (n, 2))
    geoms = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size[:, 0], xy[:, 1] + size[:, 1])
    kinds = np.array(["闲置用地", "低效用地", "旧厂区", "棚户区", "空置房屋"])[
        rng.integers(0, 5, n)
    ]
    frame = gpd.GeoDataFrame(
        {"pid": [f"P{i}" for i in range(n)], "name": [f"地块{i}" for i in range(n)], "kind": kinds,
         "area_given": np.nan, "max_floor_area": np.nan, "available": True},
        geometry=geoms, crs=4548,
    )  # fmt: skip
    frame["area_m2"] = frame.geometry.area
    return frame


def core_project(name: str = "基准城市"):
    """A project whose active categories are the 8 core ones, and its standards."""
    from spatial.config.project import Project
    from spatial.config.standards import load_standards

    project = Project(name=name)
    project.coverage.drop = [k for k in load_standards(project).categories if k not in CORE]
    return project, load_standards(project)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_project(folder, comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, network: str) -> None:
    """Write the case's communities and facilities as a planner's files (Chinese headers) and a
    ``project.toml`` with the core categories and ``network`` as its ``[network] path``."""
    comm.drop(columns=["built_year_min", "built_year_max", "built_approx", "built_year"]).rename(
        columns={"built_raw": "建成年代", "households": "户数", "name": "小区名称", "cid": "编号",
                 "subdistrict": "街道"}).to_file(folder / "communities.gpkg")  # fmt: skip
    fac[["name", "category", "geometry"]].to_file(folder / "facilities.gpkg")
    drop = ", ".join(
        f'"{k}"'
        for k in ("community_service", "fitness", "culture", "primary_school", "middle_school")
    )
    (folder / "project.toml").write_text(
        '[project]\nname = "bench"\n[communities]\npath = "communities.gpkg"\n'
        f'[facilities]\npath = "facilities.gpkg"\n[network]\npath = "{network}"\n'
        f"[coverage]\ndrop = [{drop}]\n", encoding="utf-8")  # fmt: skip
