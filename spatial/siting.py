"""Candidate land for closing service gaps (存量用地挖潜): which parcel hosts which facilities
(its programme), chosen for all categories together, and whom they would reach.

Follows spopt's pattern: the inputs go to the constructor, :meth:`SiteSelector.solve` computes
and sets the result attributes documented on the class; :func:`sites_summary` reads them (and
raises a clear error before ``solve()``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from .config import CoverageConfig, SitingConfig
from .coverage import Access
from .errors import ConfigError
from .network import StreetNetwork
from .programmes import (
    OBJECTIVES,
    Instance,
    Need,
    Plan,
    Rules,
    exact_plan,
    greedy_plan,
    load_rules,
    needs,
    rank_within_key,
)
from .reach import network_reach, straight_reach
from .standards import Standards

REASONS = {  # why a parcel hosts nothing: code → (zh, en)
    "unavailable": ("地块不可用", "not available"),
    "outside": ("位于研究范围外（超出所有服务半径）", "outside the study area"),
    "kind_not_allowed": ("用地类型不允许", "kind not allowed"),
    "too_small": ("面积不足", "too small"),
    "not_needed": ("周边无缺口或已由其他地块覆盖", "not needed"),
}
SITE_COLUMNS = [
    "pid",
    "name",
    "kind",
    "area_m2",
    "category",
    "category_name",
    "rank",
    "new_households",
    "new_communities",
    "covered_ids",
    "land_used_m2",
    "floor_used_m2",
    "method",
    "geometry",
]
PROGRAMME_COLUMNS = [
    "pid",
    "name",
    "kind",
    "status",
    "reason",
    "reason_code",
    "facilities",
    "n_facilities",
    "land_m2",
    "land_used_m2",
    "floor_m2",
    "floor_used_m2",
    "new_households",
    "new_full_households",
    "too_small_for",
    "kind_not_allowed_for",
    "geometry",
]


class NotSolvedError(RuntimeError):
    """A result of :class:`SiteSelector` was read before ``solve()``."""


class SiteSelector:
    """Parcel programmes over all categories (maximal covering with parcel capacities).

    Parameters
    ----------
    communities : GeoDataFrame
        With ``cid``, ``name``, ``households``, ``subdistrict`` (optional) and the coverage
        columns ``<category>_ok``.
    parcels : GeoDataFrame
        Candidate land: ``pid``, ``name``, ``kind``, ``area_m2``, ``max_floor_area``,
        ``available``.
    standards : Standards
    cfg : SitingConfig
        ``max_sites``, ``min_area``, ``kinds``, ``objective``, ``exact_max_parcels``,
        ``exact_time_limit_s``.
    coverage : CoverageConfig
    network : StreetNetwork, optional
        Without it, reach is the straight distance × ``detour_factor``.
    access : Access, optional
        The communities' access points when already computed for coverage.
    rules : Rules, optional
        Co-location rules (default ``data/standards/colocation.toml``).

    Attributes (set by :meth:`solve`)
    ---------------------------------
    sites : GeoDataFrame
        One row per parcel and facility (``pid``, ``category``, ``rank`` within the category,
        ``kind``, ``new_households``, …).
    programmes : GeoDataFrame
        One row per input parcel: its facilities and land/floor used against capacity, or the
        reason it hosts none.
    reach : DataFrame
        ``pid``, ``cid``, ``distance_m`` for every candidate parcel (walking distance within the
        largest radius).
    plan, greedy, exact : Plan or None
        The plan used, the greedy plan, the exact plan (None when not attempted).
    per_category : dict
        Per category: household shares before/after, picks, method.
    by_subdistrict : dict
        Per subdistrict: households, full coverage and per-category shares before/after.
    full : dict
        Full-coverage household shares before/after.
    unserved : DataFrame
        Gap communities no pick covers, with the reason and a suggestion.
    notes : list of str
    """

    def __init__(
        self,
        communities: gpd.GeoDataFrame,
        parcels: gpd.GeoDataFrame,
        standards: Standards,
        cfg: SitingConfig,
        coverage: CoverageConfig,
        network: StreetNetwork | None = None,
        access: Access | None = None,
        rules: Rules | None = None,
    ) -> None:
        objective = getattr(cfg, "objective", "full_coverage")
        if objective not in OBJECTIVES:
            raise ConfigError(
                "err_cfg_choice",
                label="[siting] objective",
                value=objective,
                allowed=", ".join(OBJECTIVES),
            )
        self.communities, self.parcels, self.standards = communities, parcels, standards
        self.cfg, self.coverage, self.network, self.access = cfg, coverage, network, access
        self.objective = objective
        self.rules = rules or load_rules()
        self._solved = False

    # -- results ---------------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name in (
            "sites",
            "programmes",
            "reach",
            "plan",
            "greedy",
            "exact",
            "per_category",
            "by_subdistrict",
            "full",
            "unserved",
            "notes",
        ):
            raise NotSolvedError(f"SiteSelector.{name} is set by solve(); call .solve() first")
        raise AttributeError(name)

    def solve(self) -> SiteSelector:
        """Choose the programmes and set the result attributes; returns ``self``."""
        comm = self.communities
        self.notes: list[str] = []
        self.weights = "households" if comm["households"].notna().any() else "communities"
        if self.weights == "households":
            hh = comm["households"].fillna(0).to_numpy(float)
        else:  # no household counts at all: every community weighs 1 (shares of communities)
            hh = np.ones(len(comm))
            self.notes.append(
                "no household counts: sites chosen by communities covered (each "
                "community weighs 1); see full_coverage_communities_*"
            )
        gaps = {k: ~comm[f"{k}_ok"].to_numpy(bool) for k in self.standards.categories}
        reason = self._screen()
        usable = np.flatnonzero(reason == "")
        pairs = self._reach(usable)
        self.reach = pd.DataFrame(
            {
                "pid": self.parcels["pid"].to_numpy()[pairs["parcel"].to_numpy()],
                "cid": comm["cid"].to_numpy()[pairs["community"].to_numpy()],
                "distance_m": pairs["distance_m"].to_numpy(float),
            }
        )
        need = needs(self.standards, self.cfg, self.rules)
        for key, n in need.items():
            if n is None and gaps[key].any():
                self.notes.append(
                    f"{key}: no minimum size known (standards table or "
                    "[siting] min_area): not sited"
                )
        inst, blocked = self._instance(pairs, gaps, hh, need)
        self._choose(inst)
        self._outputs(inst, reason, blocked, pairs, gaps, hh)
        self._solved = True
        return self

    # -- steps -----------------------------------------------------------------------------
    def _screen(self) -> np.ndarray:
        """Per parcel: '' when it is a candidate, else the reason code."""
        p = self.parcels
        reason = np.full(len(p), "", dtype=object)
        if len(p) == 0:
            return reason
        radius = max((c.radius_m for c in self.standards.categories.values()), default=0)
        near = shapely.STRtree(self.communities.geometry.values).query(
            p.geometry.values, predicate="dwithin", distance=radius
        )[0]
        far = ~np.isin(np.arange(len(p)), near)
        reason[far] = "outside"
        if self.cfg.kinds:
            reason[~p["kind"].astype(str).isin(self.cfg.kinds).to_numpy()] = "kind_not_allowed"
        reason[~p["available"].astype(bool).to_numpy()] = "unavailable"
        for code, text in (
            ("outside", "parcels lie outside the study area (beyond every radius): not used"),
            ("unavailable", "parcels marked unavailable"),
        ):
            if (reason == code).any():
                self.notes.append(f"{int((reason == code).sum())} {text}")
        return reason

    def _reach(self, usable: np.ndarray) -> pd.DataFrame:
        if not len(usable):
            return pd.DataFrame(
                {
                    "parcel": np.zeros(0, int),
                    "community": np.zeros(0, int),
                    "distance_m": np.zeros(0),
                }
            )
        radius = max(c.radius_m for c in self.standards.categories.values())
        polys_p = self.parcels.geometry.values[usable]
        polys_c = self.communities.geometry.values
        if self.network is not None:
            pairs = network_reach(
                self.network, polys_p, polys_c, radius, self.coverage, self.access
            )
        else:
            pairs = straight_reach(polys_p, polys_c, radius, self.coverage.detour_factor)
        pairs = pairs.assign(parcel=usable[pairs["parcel"].to_numpy(int)])
        return pairs.sort_values(["parcel", "community"]).reset_index(drop=True)

    def _capacity(self) -> tuple[np.ndarray, np.ndarray]:
        land = self.parcels["area_m2"].to_numpy(float)
        given = self.parcels["max_floor_area"].to_numpy(float)
        return land, np.where(np.isfinite(given), given, land * self.rules.default_far)

    def _instance(self, pairs, gaps, hh, need: dict[str, Need | None]):
        """The options (parcel, category fitting alone, with gaps in reach) and, per parcel,
        why it has none: 'kind_not_allowed' or 'too_small' (else nothing within reach)."""
        land, floor = self._capacity()
        building = self.parcels["kind"].astype(str).isin(self.rules.building_kinds).to_numpy()
        n_p = len(self.parcels)
        keys = [k for k, n in need.items() if n is not None]
        # per reason, per parcel: the categories with gaps within reach it cannot host
        blocked: dict[str, list[list[str]]] = {
            "kind_not_allowed": [[] for _ in range(n_p)],
            "too_small": [[] for _ in range(n_p)],
        }
        opt_p, opt_k, rows, cols = [], [], [], []
        parcel = pairs["parcel"].to_numpy(int)
        community = pairs["community"].to_numpy(int)
        dist = pairs["distance_m"].to_numpy(float)
        for i, key in enumerate(keys):
            n, cat = need[key], self.standards.categories[key]
            near = (dist <= cat.radius_m) & gaps[key][community]
            here = np.unique(parcel[near])
            if not len(here):
                continue
            kind_ok = ~(building[here] & (n.land > 0))
            size_ok = (land[here] + 1e-6 >= n.land) & (floor[here] + 1e-6 >= n.floor)
            for q in here[~kind_ok].tolist():
                blocked["kind_not_allowed"][q].append(cat.name_zh)
            for q in here[kind_ok & ~size_ok].tolist():
                blocked["too_small"][q].append(cat.name_zh)
            ok = here[kind_ok & size_ok]
            sel = near & np.isin(parcel, ok)
            o_index = {p: len(opt_p) + j for j, p in enumerate(ok.tolist())}
            opt_p += ok.tolist()
            opt_k += [i] * len(ok)
            rows += [o_index[p] for p in parcel[sel].tolist()]
            cols += community[sel].tolist()
        cover = sparse.csr_matrix(
            (np.ones(len(rows), bool), (np.array(rows, int), np.array(cols, int))),
            shape=(len(opt_p), len(hh)),
        )
        cover.sum_duplicates()
        basket = [k for k in self.standards.basket if k in gaps]
        gap = np.column_stack([gaps[k] for k in keys]) if keys else np.zeros((len(hh), 0), bool)
        inst = Instance(
            keys=keys,
            hh=hh,
            gap=gap,
            basket_gaps=np.sum([gaps[k] for k in basket], axis=0).astype(int)
            if basket
            else np.zeros(len(hh), int),
            in_basket=np.array([k in basket for k in keys], bool),
            weight=np.ones(len(keys)),
            opt_parcel=np.array(opt_p, int),
            opt_key=np.array(opt_k, int),
            cover=cover,
            land=land,
            floor=floor,
            need_land=np.array([need[k].land for k in keys], float),
            need_floor=np.array([need[k].floor for k in keys], float),
            own=np.array([need[k].own for k in keys], bool),
            max_sites=int(self.cfg.max_sites),
        )
        return inst, blocked

    def _choose(self, inst: Instance) -> None:
        """Greedy always; the exact MILP when the candidates are few enough; the better is used."""
        self.greedy = greedy_plan(inst, self.objective)
        self.exact = None
        n_cand = len(np.unique(inst.opt_parcel))
        if inst.n_options and n_cand <= self.cfg.exact_max_parcels:
            self.exact = exact_plan(inst, self.objective, self.cfg.exact_time_limit_s)
        elif inst.n_options:
            self.notes.append(
                f"{n_cand} candidate parcels > exact_max_parcels "
                f"({self.cfg.exact_max_parcels}): greedy plan only"
            )
        plan = self.greedy
        exact = self.exact
        if (
            exact is not None
            and exact.status != "no_solution"
            and exact.value.score(self.objective) >= self.greedy.value.score(self.objective)
        ):
            plan = exact
        self.plan: Plan = plan

    def _outputs(self, inst, reason, blocked, pairs, gaps, hh) -> None:
        chosen = self.plan.chosen
        ranks = rank_within_key(inst, chosen)
        self.sites = self._sites_frame(inst, ranks)
        new = np.zeros((len(hh), len(self.standards.categories)), bool)
        cat_keys = list(self.standards.categories)
        for o in chosen:
            new[ranks[int(o)][2], cat_keys.index(inst.keys[inst.opt_key[o]])] = True
        after_ok = {k: ~gaps[k] | new[:, j] for j, k in enumerate(cat_keys)}
        self._coverage_blocks(gaps, after_ok, hh)
        self.programmes = self._programme_frame(inst, ranks, reason, blocked, gaps, after_ok, hh)
        self._unserved(gaps, after_ok, pairs)

    def _sites_frame(self, inst: Instance, ranks: dict) -> gpd.GeoDataFrame:
        crs = self.communities.crs
        if not ranks:
            return gpd.GeoDataFrame(columns=SITE_COLUMNS, geometry="geometry", crs=crs)
        cid = self.communities["cid"].to_numpy()
        rows = []
        for o, (rank, gain, members) in ranks.items():
            key = inst.keys[inst.opt_key[o]]
            rows.append(
                {
                    "parcel": int(inst.opt_parcel[o]),
                    "category": key,
                    "rank": rank,
                    "new_households": int(round(gain)),
                    "new_communities": len(members),
                    "covered_ids": ",".join(map(str, cid[np.sort(members)])),
                    "land_used_m2": float(inst.need_land[inst.opt_key[o]]),
                    "floor_used_m2": float(inst.need_floor[inst.opt_key[o]]),
                }
            )
        frame = pd.DataFrame(rows)
        order = {k: i for i, k in enumerate(self.standards.categories)}
        frame = frame.sort_values(
            ["category", "rank"], key=lambda s: s.map(order) if s.name == "category" else s
        )
        src = self.parcels.iloc[frame["parcel"].to_numpy()]
        out = gpd.GeoDataFrame(
            {
                "pid": src["pid"].to_numpy(),
                "name": src["name"].to_numpy(),
                "kind": src["kind"].to_numpy(),
                "area_m2": np.round(src["area_m2"].to_numpy(float), 1),
                "category": frame["category"].to_numpy(),
                "category_name": [self.standards.categories[k].name_zh for k in frame["category"]],
                "rank": frame["rank"].to_numpy(),
                "new_households": frame["new_households"].to_numpy(),
                "new_communities": frame["new_communities"].to_numpy(),
                "covered_ids": frame["covered_ids"].to_numpy(),
                "land_used_m2": frame["land_used_m2"].to_numpy(),
                "floor_used_m2": frame["floor_used_m2"].to_numpy(),
                "method": self.plan.method,
            },
            geometry=src.geometry.values,
            crs=crs,
        )
        return out[SITE_COLUMNS].reset_index(drop=True)

    def _programme_frame(self, inst, ranks, reason, blocked, gaps, after_ok, hh):
        land, floor = self._capacity()
        p = self.parcels
        n_p = len(p)
        fac = [[] for _ in range(n_p)]
        used_land, used_floor, new_hh = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p)
        new_full = np.zeros(n_p)
        basket = [k for k in self.standards.basket if k in gaps]
        full_before = np.all([~gaps[k] for k in basket], axis=0)
        full_after = np.all([after_ok[k] for k in basket], axis=0)
        newly_full = full_after & ~full_before
        for o, (_, gain, _members) in ranks.items():
            q, k = int(inst.opt_parcel[o]), int(inst.opt_key[o])
            fac[q].append(self.standards.categories[inst.keys[k]].name_zh)
            used_land[q] += inst.need_land[k]
            used_floor[q] += inst.need_floor[k]
            new_hh[q] += gain
        # households newly fully covered thanks to the parcel: those it newly covers for a basket
        # category and that are fully covered after the plan
        for q in np.unique(inst.opt_parcel[self.plan.chosen]) if len(self.plan.chosen) else []:
            members = [ranks[int(o)][2] for o in self.plan.chosen if inst.opt_parcel[o] == q]
            touched = np.unique(np.concatenate(members)) if members else np.zeros(0, int)
            new_full[q] = hh[touched[newly_full[touched]]].sum()
        code = reason.copy()
        picked = np.array([len(f) > 0 for f in fac], bool)
        has_option = np.isin(np.arange(n_p), inst.opt_parcel)
        code[(code == "") & has_option & ~picked] = "not_needed"  # fits, but others do better
        for c in ("too_small", "kind_not_allowed"):  # fits no category with gaps within reach
            code[(code == "") & np.array([len(b) > 0 for b in blocked[c]], bool)] = c
        code[(code == "") & ~picked] = "not_needed"  # no gap within reach
        code[picked] = ""
        frame = gpd.GeoDataFrame(
            {
                "pid": p["pid"].to_numpy(),
                "name": p["name"].to_numpy(),
                "kind": p["kind"].to_numpy(),
                "status": np.where(picked, "picked", "not picked"),
                "reason": [REASONS[c][0] if c else "" for c in code],
                "reason_code": code.astype(str),
                "facilities": ["、".join(f) for f in fac],
                "n_facilities": [len(f) for f in fac],
                "land_m2": np.round(land, 1),
                "land_used_m2": used_land,
                "floor_m2": np.round(floor, 1),
                "floor_used_m2": used_floor,
                "new_households": np.round(new_hh).astype(int),
                "new_full_households": np.round(new_full).astype(int),
                "too_small_for": ["、".join(b) for b in blocked["too_small"]],
                "kind_not_allowed_for": ["、".join(b) for b in blocked["kind_not_allowed"]],
            },
            geometry=p.geometry.values,
            crs=self.communities.crs,
        )
        return frame[PROGRAMME_COLUMNS]

    def _coverage_blocks(self, gaps, after_ok, hh) -> None:
        total = hh.sum() or 1.0
        picks = self.sites["category"].value_counts().to_dict() if len(self.sites) else {}
        self.per_category = {}
        for key in self.standards.categories:
            before = float(hh[~gaps[key]].sum() / total)
            after = float(hh[after_ok[key]].sum() / total)
            method = "no gaps" if not gaps[key].any() else self.plan.method
            self.per_category[key] = {
                "households_before": before,
                "households_after": after,
                "picks": int(picks.get(key, 0)),
                "method": method,
            }
        basket = [k for k in self.standards.basket if k in gaps]
        before = np.all([~gaps[k] for k in basket], axis=0)
        after = np.all([after_ok[k] for k in basket], axis=0)
        self.full = {
            "households_before": float(hh[before].sum() / total),
            "households_after": float(hh[after].sum() / total),
            "communities_before": float(before.mean()) if len(before) else 0.0,
            "communities_after": float(after.mean()) if len(after) else 0.0,
        }
        sub = (
            self.communities["subdistrict"].fillna("").astype(str).to_numpy()
            if "subdistrict" in self.communities
            else np.full(len(hh), "")
        )
        self.by_subdistrict = {}
        for name in sorted(set(sub.tolist())):
            m = sub == name
            t = hh[m].sum() or 1.0
            self.by_subdistrict[name] = {
                "households": int(hh[m].sum()),
                "full_coverage_households_before": round(float(hh[m & before].sum() / t), 4),
                "full_coverage_households_after": round(float(hh[m & after].sum() / t), 4),
                "categories": {
                    k: {
                        "before": round(float(hh[m & ~gaps[k]].sum() / t), 4),
                        "after": round(float(hh[m & after_ok[k]].sum() / t), 4),
                    }
                    for k in self.standards.categories
                },
            }

    def _unserved(self, gaps, after_ok, pairs) -> None:
        comm, frames = self.communities, []
        cid, name = comm["cid"].to_numpy(), comm["name"].to_numpy()
        community, dist = pairs["community"].to_numpy(int), pairs["distance_m"].to_numpy(float)
        for key in self.standards.basket:
            if key not in gaps:
                continue
            left = np.flatnonzero(~after_ok[key])
            reachable = np.zeros(len(comm), bool)
            reachable[community[dist <= self.standards.categories[key].radius_m]] = True
            why = np.where(reachable[left], "周边无足够面积的候选用地", "服务半径内无候选用地")
            frames.append(
                pd.DataFrame(
                    {
                        "cid": cid[left],
                        "name": name[left],
                        "category": key,
                        "reason": why,
                        "suggestion": "租用或共享用房、邻近设施共享、或放宽服务半径",
                    }
                )
            )
        cols = ["cid", "name", "category", "reason", "suggestion"]
        self.unserved = (
            pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
        )


def _plan_record(plan: Plan | None, objective: str) -> dict | None:
    if plan is None:
        return None
    return {
        "method": plan.method,
        "status": plan.status,
        "optimal": plan.status == "optimal",
        "seconds": round(plan.seconds, 3),
        "sites": int(len(plan.chosen)),
        "objective_value": round(plan.value.score(objective)[0], 1),
        "households_newly_covered": round(plan.value.households, 1),
        "households_newly_fully_covered": round(plan.value.full_coverage, 1),
        "bound": None if plan.bound is None else round(plan.bound, 1),
        "gap": None if plan.gap is None else round(plan.gap, 6),
    }


def sites_summary(sel: SiteSelector) -> dict:
    """The ``sites`` block of ``summary.json`` (raises :class:`NotSolvedError` before solve())."""
    if not sel._solved:
        raise NotSolvedError("sites_summary needs a solved SiteSelector; call .solve() first")
    blocks = {
        k: {kk: (round(v, 4) if isinstance(v, float) else v) for kk, v in b.items()}
        for k, b in sel.per_category.items()
    }
    g, e = sel.greedy, sel.exact
    gap = None
    if e is not None and e.status != "no_solution":
        eg, ee = g.value.score(sel.objective)[0], e.value.score(sel.objective)[0]
        gap = round((ee - eg) / ee, 4) if ee else 0.0
    progs = sel.programmes
    # the used plan against the best bound known (the exact solve's), when it ran
    bound = e.bound if e is not None else None
    used = sel.plan.value.score(sel.objective)[0]
    return {
        "count": len(sel.sites),
        "weights": sel.weights,
        "parcels_used": int((progs["status"] == "picked").sum()),
        "objective": sel.objective,
        "method": sel.plan.method,
        "status": sel.plan.status,
        "optimal": sel.plan.status == "optimal",
        "bound": None if bound is None else round(bound, 1),
        "gap": None if bound is None else round((bound - used) / bound, 6) if bound > 0 else 0.0,
        "greedy": _plan_record(g, sel.objective),
        "exact": _plan_record(e, sel.objective),
        "greedy_vs_exact_gap": gap,
        "by_category": blocks,
        "full_coverage_households_before": round(sel.full["households_before"], 4),
        "full_coverage_households_after": round(sel.full["households_after"], 4),
        "full_coverage_communities_before": round(sel.full["communities_before"], 4),
        "full_coverage_communities_after": round(sel.full["communities_after"], 4),
        "by_subdistrict": sel.by_subdistrict,
        "parcels_not_picked": progs.loc[progs["status"] != "picked", "reason_code"]
        .value_counts()
        .to_dict(),
        "needs_other_measures": int(sel.unserved["cid"].nunique()),
        "needs_other_measures_by_category": sel.unserved.groupby("category").size().to_dict()
        if len(sel.unserved)
        else {},
        "notes": list(sel.notes) + [n for n in (e.notes if e else ()) if n],
    }
