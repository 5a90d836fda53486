"""Candidate land for closing service gaps (存量用地挖潜): which parcel, for which facility, covers whom.

Build from data, ``.solve()``, then read ``sites`` (ranked picks), ``per_category`` (coverage
before → after) and ``unserved`` (communities no parcel can serve), in the spirit of spopt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import CoverageConfig, SitingConfig
from .coverage import Access
from .network import StreetNetwork
from .reach import network_reach, straight_reach
from .standards import Category, Standards

DEFAULT_FAR = 1.5  # floor-area ratio assumed when a parcel gives no maximum floor area


def need_m2(cat: Category, cfg: SitingConfig) -> tuple[float, str]:
    """Smallest size a parcel must offer for ``cat``: (m², 'land' or 'floor')."""
    if cat.key in cfg.min_area:
        return float(cfg.min_area[cat.key]), "land"
    if cat.land_m2:
        return float(cat.land_m2[0]), "land"
    if cat.building_m2:
        return float(cat.building_m2[0]), "floor"
    return 0.0, "land"


def greedy_cover(
    sets: dict[int, np.ndarray], weights: np.ndarray, k: int
) -> list[tuple[int, float]]:
    """Greedy maximal covering: each pick adds the most newly covered weight (ties: lower id)."""
    covered = np.zeros(len(weights), bool)
    picks: list[tuple[int, float]] = []
    left = dict(sets)
    while left and len(picks) < k:
        gains = {p: float(weights[s[~covered[s]]].sum()) for p, s in left.items()}
        best = min(gains, key=lambda p: (-gains[p], p))
        if gains[best] <= 0:
            break
        picks.append((best, gains[best]))
        covered[left.pop(best)] = True
    return picks


def exact_cover(sets: dict[int, np.ndarray], weights: np.ndarray, k: int, time_limit: float):
    """Optimal maximal covering location (MCLP) by integer programming (PuLP/CBC).

    Returns the chosen parcel ids, or None when the solver does not prove optimality in time.
    """
    import warnings

    import pulp

    with warnings.catch_warnings():  # PuLP 3 announces API changes for 4.0; pinned below 4
        warnings.simplefilter("ignore", DeprecationWarning)
        return _solve_mclp(pulp, sets, weights, k, time_limit)


def _solve_mclp(pulp, sets, weights, k, time_limit):
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = {p: pulp.LpVariable(f"x{p}", cat="Binary") for p in sets}
    who: dict[int, list[int]] = {}
    for p, s in sets.items():
        for c in s.tolist():
            who.setdefault(c, []).append(p)
    y = {c: pulp.LpVariable(f"y{c}", lowBound=0, upBound=1) for c in who}
    prob += pulp.lpSum(float(weights[c]) * y[c] for c in who)
    for c, ps in who.items():
        prob += y[c] <= pulp.lpSum(x[p] for p in ps)
    prob += pulp.lpSum(x.values()) <= k
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    if pulp.LpStatus[status] != "Optimal":
        return None
    return sorted(p for p, var in x.items() if var.value() and var.value() > 0.5)


def order_by_gain(chosen: list[int], sets: dict[int, np.ndarray], weights: np.ndarray):
    """Rank a chosen set by marginal gain, as the greedy would present it."""
    return greedy_cover({p: sets[p] for p in chosen}, weights, len(chosen))


@dataclass
class SiteSelector:
    communities: gpd.GeoDataFrame  # with coverage columns
    parcels: gpd.GeoDataFrame
    standards: Standards
    cfg: SitingConfig
    coverage: CoverageConfig
    network: StreetNetwork | None = None
    access: Access | None = None  # the communities' access points, as computed for coverage
    sites: gpd.GeoDataFrame | None = None
    per_category: dict = field(default_factory=dict)
    unserved: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def _usable_parcels(self) -> gpd.GeoDataFrame:
        p = self.parcels
        if len(p) == 0:
            return p
        ok = p["available"].astype(bool).to_numpy()
        if self.cfg.kinds:
            ok &= p["kind"].astype(str).isin(self.cfg.kinds).to_numpy()
        far_away = p.geometry.distance(self.communities.geometry.union_all()).to_numpy() > max(
            (c.radius_m for c in self.standards.categories.values()), default=0
        )
        if far_away.any():
            self.notes.append(
                f"{int(far_away.sum())} parcels lie outside the study area (beyond every radius): not used"
            )
        if (~p["available"].astype(bool)).any():
            self.notes.append(
                f"{int((~p['available'].astype(bool)).sum())} parcels marked unavailable"
            )
        return p.loc[ok & ~far_away]

    def _capacity(self, parcels: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        land = parcels["area_m2"].to_numpy(float)
        given = parcels["max_floor_area"].to_numpy(float)
        floor = np.where(np.isfinite(given), given, land * DEFAULT_FAR)
        return land.copy(), floor.copy()

    def solve(self) -> SiteSelector:
        comm = self.communities
        parcels = self._usable_parcels()
        hh = comm["households"].fillna(0).to_numpy(float)
        land_left, floor_left = self._capacity(parcels)
        gaps = {k: ~comm[f"{k}_ok"].to_numpy(bool) for k in self.standards.categories}
        order = sorted(self.standards.basket, key=lambda k: -hh[gaps[k]].sum())
        order += [k for k in self.standards.categories if k not in order]
        reach = self._reach(parcels) if len(parcels) else None
        rows, newly = [], {}
        for key in order:
            cat = self.standards.categories[key]
            block, picked = self._category(
                key, cat, parcels, reach, gaps[key], hh, land_left, floor_left
            )
            self.per_category[key] = block
            newly[key] = picked
            rows += block.pop("_rows")
        self.sites = self._frame(rows, parcels)
        self._full_coverage(gaps, newly, hh)
        self._unserved(gaps, newly, reach)
        return self

    def _reach(self, parcels: gpd.GeoDataFrame) -> pd.DataFrame:
        radius = max(c.radius_m for c in self.standards.categories.values())
        polys_p, polys_c = parcels.geometry.values, self.communities.geometry.values
        if self.network is not None:
            return network_reach(self.network, polys_p, polys_c, radius, self.coverage, self.access)
        return straight_reach(polys_p, polys_c, radius, self.coverage.detour_factor)

    def _category(self, key, cat, parcels, reach, gap, hh, land_left, floor_left):
        before = float(hh[~gap].sum() / hh.sum()) if hh.sum() else 0.0
        block = {"households_before": before, "households_after": before, "picks": 0,
                 "method": "", "greedy_vs_exact_gap": None, "_rows": []}  # fmt: skip
        if not gap.any():
            block["method"] = "no gaps"
            return block, np.zeros(len(gap), bool)
        need, kind = need_m2(cat, self.cfg)
        room = land_left if kind == "land" else floor_left
        sets = {}
        if reach is not None:
            near = reach.loc[reach["distance_m"] <= cat.radius_m]
            near = near.loc[gap[near["community"].to_numpy()]]
            for p, grp in near.groupby("parcel"):
                if room[p] >= need:
                    sets[int(p)] = np.unique(grp["community"].to_numpy())
        greedy = greedy_cover(sets, hh, self.cfg.max_sites)
        picks, block["method"] = greedy, "greedy"
        if sets and len(sets) <= self.cfg.exact_max_parcels:
            start = time.perf_counter()
            chosen = exact_cover(sets, hh, self.cfg.max_sites, self.cfg.exact_time_limit_s)
            if chosen is not None:
                exact = order_by_gain(chosen, sets, hh)
                g, e = sum(v for _, v in greedy), sum(v for _, v in exact)
                block["greedy_vs_exact_gap"] = round((e - g) / e, 4) if e else 0.0
                block["exact_seconds"] = round(time.perf_counter() - start, 2)
                if e > g:
                    picks, block["method"] = exact, "exact (MCLP)"
                else:
                    block["method"] = "greedy (= exact optimum)"
        covered = np.zeros(len(gap), bool)
        for rank, (p, gain) in enumerate(picks, start=1):
            members = sets[p][~covered[sets[p]]]
            covered[sets[p]] = True
            room[p] -= need
            block["_rows"].append({"parcel": p, "category": key, "rank": rank,
                                   "new_households": int(gain), "new_communities": len(members),
                                   "covered_ids": ",".join(map(str, self.communities["cid"].iloc[members]))})  # fmt: skip
        block["picks"] = len(picks)
        block["households_after"] = float(hh[~gap | covered].sum() / hh.sum()) if hh.sum() else 0.0
        return block, covered

    def _frame(self, rows, parcels) -> gpd.GeoDataFrame:
        cols = ["pid", "name", "kind", "area_m2", "category", "category_name", "rank",
                "new_households", "new_communities", "covered_ids", "geometry"]  # fmt: skip
        if not rows:
            return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=self.communities.crs)
        frame = pd.DataFrame(rows)
        src = parcels.iloc[frame["parcel"].to_numpy()]
        out = gpd.GeoDataFrame({
            "pid": src["pid"].to_numpy(), "name": src["name"].to_numpy(), "kind": src["kind"].to_numpy(),
            "area_m2": np.round(src["area_m2"].to_numpy(float), 1), "category": frame["category"],
            "category_name": [self.standards.categories[k].name_zh for k in frame["category"]],
            "rank": frame["rank"], "new_households": frame["new_households"],
            "new_communities": frame["new_communities"], "covered_ids": frame["covered_ids"],
        }, geometry=src.geometry.values, crs=self.communities.crs)  # fmt: skip
        return out[cols]

    def _full_coverage(self, gaps, newly, hh) -> None:
        basket = self.standards.basket
        before = np.all([~gaps[k] for k in basket], axis=0)
        after = np.all([~gaps[k] | newly[k] for k in basket], axis=0)
        total = hh.sum() or 1.0
        self.full = {"households_before": float(hh[before].sum() / total),
                     "households_after": float(hh[after].sum() / total)}  # fmt: skip

    def _unserved(self, gaps, newly, reach) -> None:
        rows = []
        for key in self.standards.basket:
            left = np.flatnonzero(gaps[key] & ~newly[key])
            reachable = set()
            if reach is not None:
                r = self.standards.categories[key].radius_m
                reachable = set(reach.loc[reach["distance_m"] <= r, "community"].tolist())
            for c in left:
                why = "周边无足够面积的候选用地" if c in reachable else "服务半径内无候选用地"
                rows.append({"cid": self.communities["cid"].iloc[c], "name": self.communities["name"].iloc[c],
                             "category": key, "reason": why,
                             "suggestion": "租用或共享用房、邻近设施共享、或放宽服务半径"})  # fmt: skip
        self.unserved = pd.DataFrame(
            rows, columns=["cid", "name", "category", "reason", "suggestion"]
        )


def sites_summary(sel: SiteSelector) -> dict:
    blocks = {k: {kk: (round(v, 4) if isinstance(v, float) else v) for kk, v in b.items()}
              for k, b in sel.per_category.items()}  # fmt: skip
    return {
        "count": len(sel.sites),
        "by_category": blocks,
        "full_coverage_households_before": round(sel.full["households_before"], 4),
        "full_coverage_households_after": round(sel.full["households_after"], 4),
        "needs_other_measures": int(sel.unserved["cid"].nunique())
        if sel.unserved is not None
        else 0,
        "needs_other_measures_by_category": sel.unserved.groupby("category").size().to_dict()
        if sel.unserved is not None and len(sel.unserved)
        else {},
        "notes": sel.notes,
    }
