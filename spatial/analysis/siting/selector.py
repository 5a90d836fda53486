"""Candidate land for closing service gaps (存量用地挖潜): which parcel hosts which facilities
(its programme), chosen for all categories together, and whom they would reach.

Follows spopt's pattern: the inputs go to the constructor, :meth:`SiteSelector.solve` computes
and sets the result attributes documented on the class; :func:`sites_summary` reads them (and
raises a clear error before ``solve()``).
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.analysis.capacity.sizing import SizeRule, Sizes, option_sizes, size_rules
from spatial.analysis.siting.milp import exact_plan
from spatial.analysis.siting.options import build_options, parcel_capacity
from spatial.analysis.siting.programmes import (
    OBJECTIVES,
    Instance,
    Plan,
    greedy_plan,
    rank_within_key,
)
from spatial.analysis.siting.summary import coverage_blocks, summary_block
from spatial.analysis.siting.tables import (
    Blocked,
    Flags,
    programme_frame,
    sites_frame,
    unserved_frame,
)
from spatial.config.colocation import Need, Rules, load_rules, needs
from spatial.config.indicators import Capacity
from spatial.config.project import CoverageConfig, SitingConfig
from spatial.config.standards import Standards
from spatial.core.errors import ConfigError
from spatial.core.messages import Joined, Msg, Named, msg
from spatial.network.access_points import Access
from spatial.network.graph import StreetNetwork
from spatial.network.reach import network_reach, straight_reach


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
    capacity : Capacity, optional
        The capacity stage's indicators: with ``cfg.size_from_shortfall`` and the communities'
        ``<cat>_short`` columns, facilities of those categories are sized for the shortfall of
        the gap communities they newly serve (:mod:`spatial.analysis.capacity.sizing`); else the standard minimum.

    Attributes (set by :meth:`solve`)
    ---------------------------------
    sites : GeoDataFrame
        One row per parcel and facility (``pid``, ``category``, ``rank`` within the category,
        ``kind``, ``new_households``, land/floor used, ``size_basis`` (one of
        :data:`spatial.analysis.capacity.sizing.BASES`), the shortfall it is sized for, closes and leaves, …).
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
    weights : str
        ``households``, or ``communities`` when no household figure is known (each weighs 1).
    unserved : DataFrame
        Gap communities no pick covers, with the reason and a suggestion.
    size_rules : dict
        The categories sized from the shortfall (:class:`spatial.analysis.capacity.sizing.SizeRule`).
    site_sizes : (dict, Sizes)
        Chosen option → row, and the sizes of the chosen facilities.
    notes : list of Msg
        What the planner should know about the siting (catalogue texts ``note_*``, rendered in
        the run's language where the summary is written).
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
        capacity: Capacity | None = None,
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
        self.capacity = capacity
        self._solved = False

    # -- results ---------------------------------------------------------------------------
    sites: gpd.GeoDataFrame
    programmes: gpd.GeoDataFrame
    reach: pd.DataFrame
    plan: Plan
    greedy: Plan
    exact: Plan | None
    per_category: dict
    by_subdistrict: dict
    full: dict
    unserved: pd.DataFrame
    notes: list[Msg]
    size_rules: dict[str, SizeRule]
    site_sizes: tuple[dict[int, int], Sizes]
    weights: str

    def __getattr__(self, name: str):
        # only called for attributes not set: the results (annotated above) before solve()
        if name in SiteSelector.__annotations__:
            raise NotSolvedError(f"SiteSelector.{name} is set by solve(); call .solve() first")
        raise AttributeError(name)

    def solve(self) -> SiteSelector:
        """Choose the programmes and set the result attributes; returns ``self``."""
        comm = self.communities
        self.notes = []
        self.weights = "households" if comm["households"].notna().any() else "communities"
        if self.weights == "households":
            hh = comm["households"].fillna(0).to_numpy(float)
        else:  # no household counts at all: every community weighs 1 (shares of communities)
            hh = np.ones(len(comm))
            self.notes.append(msg("note_sites_no_households"))
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
                cat = self.standards.categories[key]
                name = Named(cat.name_zh, cat.name_en)
                self.notes.append(msg("note_sites_no_min_size", category=name))
        self.size_rules = self._size_rules(need)
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
        outside, unavailable = (
            int((reason == "outside").sum()),
            int((reason == "unavailable").sum()),
        )
        if outside:
            self.notes.append(msg("note_parcels_outside", count=outside))
        if unavailable:
            self.notes.append(msg("note_parcels_unavailable", count=unavailable))
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

    def _size_rules(self, need: dict[str, Need | None]) -> dict[str, SizeRule]:
        """Categories sized from their shortfall: ``[siting] size_from_shortfall`` on, an
        indicator in the capacity stage and its ``<cat>_short`` column on the communities."""
        if not getattr(self.cfg, "size_from_shortfall", True):
            return {}
        found = size_rules(self.standards, need, self.capacity)
        missing = [k for k in found if f"{k}_short" not in self.communities]
        if missing:
            cats = self.standards.categories
            names = Joined(tuple(Named(cats[k].name_zh, cats[k].name_en) for k in missing))
            self.notes.append(msg("note_sites_no_shortfall", categories=names))
        return {k: r for k, r in found.items() if k not in missing}

    def _shortfall(self, key: str) -> np.ndarray:
        """The capacity stage's shortfall per community (supply units; unknown counts as 0)."""
        return np.nan_to_num(self.communities[f"{key}_short"].to_numpy(float), nan=0.0)

    def _sizes(self, inst: Instance, opts: np.ndarray, members: list | None = None) -> Sizes:
        """Sizes of options ``opts`` on their parcels (:func:`spatial.analysis.capacity.sizing.option_sizes`) for
        the shortfall of the gap communities each reaches, or of ``members`` (per option)."""
        keys = inst.opt_key[opts]
        short = np.zeros(len(opts))
        for k, key in enumerate(inst.keys):
            rows = np.flatnonzero(keys == k)
            if key not in self.size_rules or not len(rows):
                continue
            per_comm = self._shortfall(key)
            if members is None:
                short[rows] = inst.cover[opts[rows]].astype(float) @ per_comm
            else:
                short[rows] = [per_comm[members[j]].sum() for j in rows]
        q = inst.opt_parcel[opts]
        return option_sizes(
            self.size_rules,
            inst.keys,
            keys,
            short,
            inst.need_land,
            inst.need_floor,
            inst.land[q],
            inst.floor[q],
        )

    def parcel_capacity(self) -> tuple[np.ndarray, np.ndarray]:
        """Per parcel: land and floor, m² (:func:`spatial.analysis.siting.options.parcel_capacity`)."""
        return parcel_capacity(self.parcels, self.rules)

    def _instance(
        self, pairs: pd.DataFrame, gaps: Flags, hh: np.ndarray, need: dict[str, Need | None]
    ) -> tuple[Instance, Blocked]:
        """The options (:func:`spatial.analysis.siting.options.build_options`), each sized for the
        shortfall of every gap community it reaches, fixed before the solve (the programme model
        stays linear); per parcel, why it has none."""
        inst, blocked = build_options(
            self.parcels, self.standards, self.rules, pairs, gaps, hh, need, self.cfg.max_sites
        )
        sizes = self._sizes(inst, np.arange(inst.n_options))
        return replace(inst, opt_land=sizes.land, opt_floor=sizes.floor), blocked

    def _choose(self, inst: Instance) -> None:
        """Greedy always; the exact MILP when the candidates are few enough; the better is used."""
        self.greedy = greedy_plan(inst, self.objective)
        self.exact = None
        n_cand = len(np.unique(inst.opt_parcel))
        if inst.n_options and n_cand <= self.cfg.exact_max_parcels:
            self.exact = exact_plan(inst, self.objective, self.cfg.exact_time_limit_s)
        elif inst.n_options:
            self.notes.append(
                msg("note_sites_greedy_only", count=n_cand, limit=self.cfg.exact_max_parcels)
            )
        plan = self.greedy
        exact = self.exact
        if (
            exact is not None
            and exact.status != "no_solution"
            and exact.value.score(self.objective) >= self.greedy.value.score(self.objective)
        ):
            plan = exact
        self.plan = plan

    def _outputs(
        self,
        inst: Instance,
        reason: np.ndarray,
        blocked: Blocked,
        pairs: pd.DataFrame,
        gaps: Flags,
        hh: np.ndarray,
    ) -> None:
        """The result attributes from the chosen plan: sizes, layers, coverage after, unserved."""
        chosen = self.plan.chosen
        ranks = rank_within_key(inst, chosen)
        # the size each chosen facility keeps: for the communities it is credited with (never
        # larger than the size the solve reserved, so every programme still fits)
        opts = np.array(sorted(ranks), int)
        self.site_sizes = (
            {int(o): j for j, o in enumerate(opts)},
            self._sizes(inst, opts, [ranks[int(o)][2] for o in opts]),
        )
        self.sites = sites_frame(self, inst, ranks)
        new = np.zeros((len(hh), len(self.standards.categories)), bool)
        cat_keys = list(self.standards.categories)
        for o in chosen:
            new[ranks[int(o)][2], cat_keys.index(inst.keys[inst.opt_key[o]])] = True
        after_ok = {k: ~gaps[k] | new[:, j] for j, k in enumerate(cat_keys)}
        self.per_category, self.full, self.by_subdistrict = coverage_blocks(
            self, gaps, after_ok, hh
        )
        self.programmes = programme_frame(self, inst, ranks, reason, blocked, gaps, after_ok, hh)
        self.unserved = unserved_frame(self, gaps, after_ok, pairs)


def sites_summary(sel: SiteSelector) -> dict:
    """The ``sites`` block of ``summary.json`` (raises :class:`NotSolvedError` before solve()).

    Parameters
    ----------
    sel : SiteSelector
        Solved.

    Returns
    -------
    dict
    """
    if not sel._solved:
        raise NotSolvedError("sites_summary needs a solved SiteSelector; call .solve() first")
    return summary_block(sel)
