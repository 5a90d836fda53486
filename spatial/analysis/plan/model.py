"""The programme as a MILP solved by HiGHS (``scipy.optimize.milp``, as the site programme in
:mod:`spatial.analysis.siting.milp`), the greedy fallback, and the diagnosis of an infeasible
programme: which deadline cannot be met, by how many compounds, and how far the caps fall short.

Variables ``x[i, k]`` (item ``i`` in year ``k``, binary); the reserve is ``1 - Σ_k x[i, k]``.
Rows: each item at most once; per capped figure and year, the items' total within the room
left after the fixed work; each item holding priority-tier compounds placed by the priority
deadline; the compounds placed by the share deadline at least what the share asks. Objective:
maximise Σ value[i] × (T - k) x[i, k] — every item placed if it fits, the higher its
household-weighted priority the earlier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from spatial.analysis.plan.items import Items
from spatial.analysis.siting.milp import OPTIMAL_GAP, solver_status


@dataclass
class Rules:
    """The limits of one programme.

    Attributes
    ----------
    years : int
        Number of years T.
    room : dict of str to ndarray
        Per capped figure, the room left in each year (cap − fixed work), shape (T,).
    caps : dict of str to float
        The caps as set.
    priority_cut : int
        Years 0..priority_cut-1 are by the priority deadline (0: no deadline).
    share_cut : int
        Years 0..share_cut-1 are by the share deadline (0: no deadline).
    share_need : float
        Compounds the share deadline still asks to place (after the fixed work).
    """

    years: int
    room: dict[str, np.ndarray] = field(default_factory=dict)
    caps: dict[str, float] = field(default_factory=dict)
    priority_cut: int = 0
    share_cut: int = 0
    share_need: float = 0.0


@dataclass
class Solution:
    """An assignment with the solver's label.

    Attributes
    ----------
    year : ndarray of int
        Per item its year index, -1 for the reserve.
    method : str
        ``exact`` or ``greedy``.
    status : str
        ``optimal``, ``time_limit``, ``stopped``, ``infeasible``, ``heuristic``.
    objective : float
    bound : float or None
    gap : float or None
    seconds : float
    """

    year: np.ndarray
    method: str
    status: str
    objective: float
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0


def objective(items: Items, year: np.ndarray, t: int) -> float:
    """The programme's value: Σ value × (T − year index) over the placed items."""
    placed = year >= 0
    return float((items.value[placed] * (t - year[placed])).sum())


def _rows(items: Items, rules: Rules, slack: str = "") -> tuple:
    """The constraint matrix, bounds and the number of slack columns (``slack``: ``deadline``
    adds one per priority item and one for the share; ``caps`` one per capped figure)."""
    m, t = len(items), rules.years
    n = m * t
    rows, cols, vals, lo, hi = [], [], [], [], []

    def add(c, v, low, high):
        rows.append(np.full(len(c), len(lo)))
        cols.append(np.asarray(c, int))
        vals.append(np.asarray(v, float))
        lo.append(low)
        hi.append(high)

    extra = 0
    prio = np.flatnonzero(items.priority > 0) if rules.priority_cut else np.zeros(0, int)
    for i in range(m):
        add(i * t + np.arange(t), np.ones(t), 0, 1)
    for name, room in rules.room.items():
        w = items.weight[name]
        scale = slack == "caps"
        for k in range(t):
            c, v = np.arange(m) * t + k, w
            if scale:  # Σ w x − cap × δ ≤ room
                c, v = np.r_[c, n + extra], np.r_[v, -rules.caps[name]]
            add(c, v, -np.inf, room[k])
        extra += scale
    for j, i in enumerate(prio):
        c, v = i * t + np.arange(rules.priority_cut), np.ones(rules.priority_cut)
        if slack == "deadline":
            c, v = np.r_[c, n + extra + j], np.r_[v, 1.0]
        add(c, v, 1, 1)
    extra += len(prio) if slack == "deadline" else 0
    if rules.share_cut:
        c = (np.arange(m)[:, None] * t + np.arange(rules.share_cut)).ravel()
        v = np.repeat(items.compounds, rules.share_cut)
        if slack == "deadline":
            c, v = np.r_[c, n + extra], np.r_[v, 1.0]
            extra += 1
        add(c, v, rules.share_need, np.inf)
    shape = (len(lo), n + extra)
    a = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape
    )
    return a, np.array(lo, float), np.array(hi, float), extra, prio


def _milp(c, a, lo, hi, integrality, upper, time_limit):
    # imported here: scipy.optimize costs ~0.15 s to import
    from scipy.optimize import Bounds, LinearConstraint, milp

    return milp(
        c,
        constraints=LinearConstraint(a, lo, hi),
        integrality=integrality,
        bounds=Bounds(0, upper),
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": OPTIMAL_GAP},
    )


def solve_exact(items: Items, rules: Rules, time_limit: float) -> Solution:
    """The optimal programme (or the best HiGHS found within ``time_limit`` seconds, with its
    gap); ``status`` ``infeasible`` when no programme meets every cap and deadline.

    Parameters
    ----------
    items : Items
    rules : Rules
    time_limit : float

    Returns
    -------
    Solution
    """
    start = time.perf_counter()
    m, t = len(items), rules.years
    if m == 0:
        return Solution(np.zeros(0, int), "exact", "optimal", 0.0, 0.0, 0.0)
    a, lo, hi, _, _ = _rows(items, rules)
    c = -(items.value[:, None] * (t - np.arange(t))[None, :]).ravel()
    res = _milp(c, a, lo, hi, np.ones(m * t), 1, time_limit)
    seconds = time.perf_counter() - start
    if res.status == 2:
        return Solution(np.full(m, -1), "exact", "infeasible", 0.0, seconds=seconds)
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else None
    if res.x is None:
        return Solution(np.full(m, -1), "exact", "no_solution", 0.0, bound, None, seconds)
    year = _years_of(res.x[: m * t], m, t)
    value = objective(items, year, t)
    gap = max((bound - value) / bound, 0.0) if bound else 0.0
    return Solution(year, "exact", solver_status(res), value, bound, gap, seconds)


def _years_of(x: np.ndarray, m: int, t: int) -> np.ndarray:
    grid = x.reshape(m, t) > 0.5
    return np.where(grid.any(axis=1), grid.argmax(axis=1), -1)


def solve_greedy(items: Items, rules: Rules) -> Solution:
    """Items by deadline (priority-tier first), then value, each in the earliest year with room;
    the deadlines are not guaranteed (:func:`shortfalls` says what they miss).

    Parameters
    ----------
    items : Items
    rules : Rules

    Returns
    -------
    Solution
        ``method`` ``greedy``, ``status`` ``heuristic``.
    """
    start = time.perf_counter()
    m, t = len(items), rules.years
    room = {k: v.astype(float).copy() for k, v in rules.room.items()}
    year = np.full(m, -1)
    urgent = (items.priority > 0) & bool(rules.priority_cut)
    for i in np.lexsort((np.arange(m), -items.value, ~urgent)):
        for k in range(t):
            if all(items.weight[n][i] <= room[n][k] + 1e-9 for n in room):
                for n in room:
                    room[n][k] -= items.weight[n][i]
                year[i] = k
                break
    seconds = time.perf_counter() - start
    return Solution(year, "greedy", "heuristic", objective(items, year, t), seconds=seconds)


def shortfalls(items: Items, rules: Rules, year: np.ndarray) -> dict[str, float]:
    """What a programme misses of the deadlines: priority-tier compounds not placed by the
    priority deadline and compounds short of the share deadline (0 when met).

    Parameters
    ----------
    items : Items
    rules : Rules
    year : ndarray of int

    Returns
    -------
    dict
        ``priority`` and ``share``: compounds missing.
    """
    placed = year >= 0
    late = ~placed | (year >= rules.priority_cut)
    prio = float(items.priority[late].sum()) if rules.priority_cut else 0.0
    by = placed & (year < rules.share_cut)
    share = (
        max(rules.share_need - float(items.compounds[by].sum()), 0.0) if rules.share_cut else 0.0
    )
    return {"priority": prio, "share": share}


def diagnose(items: Items, rules: Rules, time_limit: float) -> dict:
    """Why no programme meets every rule, by how much: the least each deadline must give way
    with the caps held (compounds), and the least common rise of every cap (as a share) with
    the deadlines held.

    Parameters
    ----------
    items : Items
    rules : Rules
    time_limit : float
        Seconds per relaxation.

    Returns
    -------
    dict
        ``priority`` and ``share`` (compounds missing with the caps held); ``caps``: per
        capped figure, the cap that would do (None when the caps cannot make it feasible, or
        no cap is set); ``proved``: both relaxations solved to optimality (else, stopped at the
        time limit, the figures are what the best relaxation found: an upper bound).
    """
    m, t = len(items), rules.years
    n = m * t
    a, lo, hi, extra, prio = _rows(items, rules, "deadline")
    c = np.r_[np.zeros(n), items.priority[prio], np.ones(extra - len(prio))]
    # the lexicographic objective: shortfall first, then the usual value as a small tie-break
    value = (items.value[:, None] * (t - np.arange(t))[None, :]).ravel()
    c[:n] = -value / (value.sum() + 1.0)
    upper = np.r_[np.ones(n), np.ones(len(prio)), np.full(extra - len(prio), np.inf)]
    res = _milp(c, a, lo, hi, np.r_[np.ones(n + len(prio)), np.zeros(extra - len(prio))],
                upper, time_limit)  # fmt: skip
    out: dict = {"priority": None, "share": None, "caps": {}, "proved": res.status == 0}
    if res.x is not None:
        year = _years_of(res.x[:n], m, t)
        out.update(shortfalls(items, rules, year))
    if rules.room:
        a, lo, hi, extra, _ = _rows(items, rules, "caps")
        c = np.r_[np.zeros(n), np.ones(extra)]
        res = _milp(c, a, lo, hi, np.r_[np.ones(n), np.zeros(extra)],
                    np.r_[np.ones(n), np.full(extra, np.inf)], time_limit)  # fmt: skip
        out["proved"] = out["proved"] and res.status == 0
        if res.x is not None:
            rise = res.x[n:]
            out["caps"] = {
                name: float(np.ceil(rules.caps[name] * (1 + d) - 1e-6))
                for name, d in zip(rules.room, rise, strict=True)
                if d > 1e-9
            }
        else:
            out["caps"] = None
    return out
