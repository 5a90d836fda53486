"""The renovation programme by year (年度计划) in spopt style: build a :class:`Planner` from the
eligible compounds and the ``[plan]`` settings, call ``.solve()``, read the frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from spatial.analysis.plan.items import MEASURES, build_items, figures, presorted
from spatial.analysis.plan.model import (
    Rules,
    Solution,
    diagnose,
    shortfalls,
    solve_exact,
    solve_greedy,
)
from spatial.config.schema import PlanConfig

#: a compound's place in the programme (the ledger's 改造状态 column)
STATES = ("done", "started", "planned", "reserve", "unplanned")


class Planner:
    """Eligible compounds and bundles assigned to years or to the reserve (储备).

    Parameters
    ----------
    compounds : DataFrame
        One row per eligible compound: ``cid``, ``bundle_id`` (NA alone), ``tier``, ``score``
        (the priority score), ``households``, ``floor_area``, ``investment`` (万元; NaN unknown),
        ``willingness`` (0–1, NaN unknown), ``status`` (``done``, ``started`` or ``""``) and
        ``status_year`` (the year of finished or started work, NaN unknown).
    cfg : PlanConfig
        The ``[plan]`` settings.
    gate : float or None
        The share of households that must agree; None: the data has no willingness column.

    Attributes
    ----------
    Set by :meth:`solve`.

    plan : DataFrame
        ``compounds`` with ``year`` (Int64, NA in the reserve), ``state`` (:data:`STATES`) and
        ``reason`` (why in the reserve, a code; ``""`` otherwise).
    years : DataFrame
        Per year: ``year``, ``compounds``, ``bundles``, ``households``, ``floor_area``,
        ``investment``, ``priority`` (priority-tier compounds), ``cumulative_compounds``.
    solution : Solution
        The solver's assignment and label.
    diagnosis : dict or None
        Why the programme is infeasible and by how much (``model.diagnose`` plus
        ``fixed_over``: caps the fixed work alone exceeds).
    shortfall : dict
        Compounds the programme misses of each deadline (0 when met).
    """

    def __init__(self, compounds: pd.DataFrame, cfg: PlanConfig, gate: float | None) -> None:
        self.compounds = compounds.reset_index(drop=True)
        self.cfg = cfg
        self.gate = gate
        self.year_list = list(range(cfg.start, cfg.end + 1))
        self.caps = {
            name: float(getattr(cfg, key)) for key, name in MEASURES.items() if getattr(cfg, key)
        }

    def solve(self) -> Planner:
        """Sort, place and label; fills the attributes."""
        comp = self.compounds
        state = presorted(comp, self.caps, self.gate).to_numpy(object)
        fixed_year = self._fixed_years(state)
        rules, fixed_over = self._rules(state, fixed_year)
        open_rows = np.flatnonzero(state == "")
        items = build_items(comp, open_rows, self.cfg.split_bundles)
        self.diagnosis = None
        if fixed_over:
            sol = Solution(np.full(len(items), -1), "exact", "infeasible", 0.0)
            self.diagnosis = {"fixed_over": fixed_over}
        elif self.cfg.method == "greedy":
            sol = solve_greedy(items, rules)
        else:
            sol = solve_exact(items, rules, self.cfg.time_limit_s)
            if sol.status == "no_solution":  # the time ran out before any programme was found
                sol = solve_greedy(items, rules)
                sol.status = "fallback"
            elif sol.status == "infeasible":
                self.diagnosis = diagnose(items, rules, self.cfg.time_limit_s)
        self.solution = sol
        self.shortfall = shortfalls(items, rules, sol.year) if sol.status != "infeasible" else {}
        self.plan = self._plan_frame(state, fixed_year, items, sol)
        self.years = self._year_frame()
        return self

    def _fixed_years(self, state: np.ndarray) -> np.ndarray:
        """The year of each finished or started compound (NaN unknown or other rows)."""
        year = self.compounds["status_year"].to_numpy(float).copy()
        year[~np.isin(state, ("done", "started"))] = np.nan
        return year

    def _rules(self, state: np.ndarray, fixed_year: np.ndarray) -> tuple[Rules, list]:
        """The room each cap leaves after the fixed work, the deadlines' years and the share
        still needed; and the caps the fixed work alone exceeds (year, figure, excess)."""
        cfg, t = self.cfg, len(self.year_list)
        figs = figures(self.compounds)
        room, over = {}, []
        for name, cap in self.caps.items():
            used = np.zeros(t)
            for k, year in enumerate(self.year_list):
                used[k] = np.nansum(figs[name][fixed_year == year])
            room[name] = cap - used
            over += [
                {"figure": name, "year": self.year_list[k], "excess": float(used[k] - cap)}
                for k in np.flatnonzero(used > cap + 1e-9)
            ]
        rules = Rules(years=t, room=room, caps=dict(self.caps))
        if cfg.priority_by:
            rules.priority_cut = min(cfg.priority_by, cfg.end) - cfg.start + 1
        if cfg.share_by:
            rules.share_cut = min(cfg.share_by, cfg.end) - cfg.start + 1
            done = (state == "done") | ((state == "started") & (fixed_year <= cfg.share_by))
            need = math.ceil(cfg.share * len(self.compounds) - 1e-9)
            rules.share_need = float(max(need - int(done.sum()), 0))
            self.share_need = need
        return rules, over

    def _plan_frame(self, state, fixed_year, items, sol: Solution) -> pd.DataFrame:
        plan = self.compounds.copy()
        year = pd.array(fixed_year, dtype="Float64").round().astype("Int64")
        out_state = np.where(np.isin(state, ("done", "started")), state, "reserve").astype(object)
        reason = np.where(np.isin(state, ("done", "started")), "", state).astype(object)
        for i, rows in enumerate(items.members):
            k = int(sol.year[i]) if len(sol.year) else -1
            if sol.status == "infeasible":
                out_state[rows], reason[rows] = "unplanned", "infeasible"
            elif k >= 0:
                out_state[rows], reason[rows] = "planned", ""
                year[rows] = self.year_list[k]
            else:
                too_big = any(items.weight[n][i] > c + 1e-9 for n, c in self.caps.items())
                reason[rows] = "over_cap" if too_big else "no_room"
        plan["year"], plan["state"], plan["reason"] = year, out_state, reason
        return plan

    def _year_frame(self) -> pd.DataFrame:
        plan = self.plan
        rows = []
        total = 0
        for year in self.year_list:
            these = plan.loc[(plan["year"] == year).fillna(False).to_numpy(bool)]
            total += len(these)
            rows.append(
                {
                    "year": year,
                    "compounds": len(these),
                    "bundles": int(these["bundle_id"].dropna().nunique()),
                    "households": float(these["households"].sum()),
                    "floor_area": float(these["floor_area"].sum()),
                    "investment": float(these["investment"].sum()),
                    "priority": int((these["tier"].astype(str) == "priority").sum()),
                    "cumulative_compounds": total,
                }
            )
        return pd.DataFrame(rows)
