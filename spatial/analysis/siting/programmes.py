"""Parcel programmes: which facilities each candidate parcel hosts, chosen for all categories
together as one maximal-covering problem with parcel capacities (greedy and exact MILP).

The numeric core of siting, free of geometry: an :class:`Instance` lists the options (a parcel and
a category that would fit on it alone) and the gap communities each option would reach;
:func:`greedy_plan` (and :func:`spatial.analysis.siting.milp.exact_plan`) return a :class:`Plan` (the chosen options) whose
value :func:`evaluate` computes from the instance, never from a solver's own report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from spatial.core.messages import Msg

OBJECTIVES = ("households", "full_coverage")


@dataclass
class Instance:
    """One siting problem.

    Attributes
    ----------
    keys : list of str
        Categories that have at least one option.
    hh : ndarray (n_communities,)
        Households per community.
    gap : ndarray of bool (n_communities, n_keys)
        The community lacks the category now.
    basket_gaps : ndarray of int (n_communities,)
        Basket categories the community lacks now (also those no option can give).
    in_basket : ndarray of bool (n_keys,)
    weight : ndarray (n_keys,)
        Weight of a newly covered household per category.
    opt_parcel, opt_key : ndarray of int (n_options,)
        Each option: a parcel index and a key index.
    cover : scipy.sparse.csr_matrix of bool (n_options, n_communities)
        Gap communities the option reaches within its category's radius.
    land, floor : ndarray (n_parcels,)
        Parcel capacities.
    need_land, need_floor : ndarray (n_keys,)
        The standard's minimum size per category.
    own : ndarray of bool (n_keys,)
    max_sites : int
    opt_land, opt_floor : ndarray (n_options,), optional
        Each option's own size, fixed before the solve (e.g. sized from the capacity shortfall
        of the communities it reaches); default: its category's ``need_land`` / ``need_floor``.
    """

    keys: list[str]
    hh: np.ndarray
    gap: np.ndarray
    basket_gaps: np.ndarray
    in_basket: np.ndarray
    weight: np.ndarray
    opt_parcel: np.ndarray
    opt_key: np.ndarray
    cover: sparse.csr_matrix
    land: np.ndarray
    floor: np.ndarray
    need_land: np.ndarray
    need_floor: np.ndarray
    own: np.ndarray
    max_sites: int
    opt_land: np.ndarray | None = None
    opt_floor: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.opt_land is None:
            self.opt_land = np.asarray(self.need_land, float)[self.opt_key]
        if self.opt_floor is None:
            self.opt_floor = np.asarray(self.need_floor, float)[self.opt_key]

    @property
    def n_options(self) -> int:
        return len(self.opt_parcel)


@dataclass(frozen=True)
class Value:
    """What a plan achieves: households newly covered (weighted sum over categories and per
    category) and households newly fully covered (every basket category).

    Attributes
    ----------
    households : float
        Households newly covered, summed over categories.
    full_coverage : float
        Households newly covered by every basket category.
    per_key : dict of str to float
        Households newly covered per category.
    """

    households: float
    full_coverage: float
    per_key: dict[str, float]

    def score(self, objective: str) -> tuple[float, float]:
        """(primary, tie-break) for the objective."""
        if objective == "full_coverage":
            return self.full_coverage, self.households
        return self.households, self.full_coverage


@dataclass(frozen=True)
class Plan:
    """Chosen options and how they were found.

    ``status``: ``optimal`` (the solver proved it, gap ≤ 1e-4), ``time_limit`` (stopped at
    the time limit: ``bound`` and ``gap`` say how far from optimal it may be), ``greedy``,
    ``no_solution`` (the solver found none in time).

    Attributes
    ----------
    chosen : (k,) int array
        Option indices.
    method : str
        ``greedy`` or ``exact``.
    status : str
    value : Value
    seconds : float
        Solve time.
    bound, gap : float or None
        The solver's bound and relative gap (exact plans).
    notes : tuple of Msg
    """

    chosen: np.ndarray
    method: str
    status: str
    value: Value
    seconds: float
    bound: float | None = None
    gap: float | None = None
    notes: tuple[Msg, ...] = field(default_factory=tuple)


def covered_matrix(inst: Instance, chosen: np.ndarray) -> np.ndarray:
    """(n_communities, n_keys) bool: gap communities the chosen options newly cover.

    Parameters
    ----------
    inst : Instance
    chosen : (k,) int array
        Option indices.

    Returns
    -------
    (n_communities, n_keys) bool array
    """
    out = np.zeros(inst.gap.shape, bool)
    for k in range(len(inst.keys)):
        rows = chosen[inst.opt_key[chosen] == k]
        if len(rows):
            hit = np.asarray(inst.cover[rows].sum(axis=0)).ravel() > 0
            out[:, k] = hit & inst.gap[:, k]
    return out


def evaluate(inst: Instance, chosen: np.ndarray) -> Value:
    """The value of a set of options, computed from the instance.

    Parameters
    ----------
    inst : Instance
    chosen : (k,) int array
        Option indices.

    Returns
    -------
    Value
    """
    new = covered_matrix(inst, np.asarray(chosen, int))
    per_key = {k: float(inst.hh[new[:, i]].sum()) for i, k in enumerate(inst.keys)}
    weighted = float(sum(inst.weight[i] * v for i, v in enumerate(per_key.values())))
    fixed = new[:, inst.in_basket].sum(axis=1)
    full = (inst.basket_gaps > 0) & (fixed == inst.basket_gaps)
    return Value(weighted, float(inst.hh[full].sum()), per_key)


def feasible(inst: Instance, chosen: np.ndarray) -> bool:
    """Whether a set of options respects capacities, exclusivity and ``max_sites``.

    Parameters
    ----------
    inst : Instance
    chosen : (k,) int array

    Returns
    -------
    bool
    """
    chosen = np.asarray(chosen, int)
    if len(np.unique(chosen)) != len(chosen):
        return False
    if np.bincount(inst.opt_key[chosen], minlength=len(inst.keys)).max(initial=0) > inst.max_sites:
        return False
    for p in np.unique(inst.opt_parcel[chosen]):
        here = chosen[inst.opt_parcel[chosen] == p]
        if inst.own[inst.opt_key[here]].any() and len(here) > 1:
            return False
        if inst.opt_land[here].sum() > inst.land[p] + 1e-6:
            return False
        if inst.opt_floor[here].sum() > inst.floor[p] + 1e-6:
            return False
    return True


def greedy_plan(inst: Instance, objective: str = "households") -> Plan:
    """Greedy programmes: repeatedly add the option with the largest gain in the objective (the
    other as tie-break, then the lower option index) that still fits its parcel.

    For ``full_coverage`` the gain of closing one gap of a community that can still become
    fully covered is its households divided by the gaps it has left (so closing the last gap
    earns them all); the plan's value is then computed exactly by :func:`evaluate`.

    Parameters
    ----------
    inst : Instance
    objective : str
        ``households`` or ``full_coverage``.

    Returns
    -------
    Plan
        ``method`` and ``status`` ``greedy``.
    """
    start = time.perf_counter()
    n_keys = len(inst.keys)
    cov = np.zeros(inst.gap.shape, bool)
    left = inst.basket_gaps.astype(int).copy()
    land, floor = inst.land.astype(float).copy(), inst.floor.astype(float).copy()
    hosts = np.zeros(len(land), int)
    has_own = np.zeros(len(land), bool)
    sites = np.zeros(n_keys, int)
    taken = np.zeros(inst.n_options, bool)
    chosen: list[int] = []
    by_key = [np.flatnonzero(inst.opt_key == k) for k in range(n_keys)]
    # communities that can become fully covered: every basket gap reachable by some option
    fixable = np.zeros(len(inst.hh), int)
    for k in np.flatnonzero(inst.in_basket):
        reach_k = np.asarray(inst.cover[inst.opt_key == k].sum(axis=0)).ravel() > 0
        fixable += inst.gap[:, k] & reach_k
    fixable = (inst.basket_gaps > 0) & (fixable == inst.basket_gaps)
    while True:
        gain_hh = np.zeros(inst.n_options)
        gain_full = np.zeros(inst.n_options)
        for k, rows in enumerate(by_key):
            if not len(rows) or sites[k] >= inst.max_sites:
                continue
            open_ = inst.gap[:, k] & ~cov[:, k]
            sub = inst.cover[rows]
            gain_hh[rows] = inst.weight[k] * (sub @ (inst.hh * open_))
            if inst.in_basket[k]:
                # each closed gap earns its share of the household: hh / gaps left
                share = np.where(open_ & fixable, inst.hh / np.maximum(left, 1), 0.0)
                gain_full[rows] = sub @ share
        p, k = inst.opt_parcel, inst.opt_key
        fits = np.where(
            inst.own[k],
            hosts[p] == 0,
            ~has_own[p] & (land[p] + 1e-6 >= inst.opt_land) & (floor[p] + 1e-6 >= inst.opt_floor),
        )
        ok = fits & ~taken & (sites[k] < inst.max_sites) & ((gain_hh > 0) | (gain_full > 0))
        if not ok.any():
            break
        first, second = (
            (gain_full, gain_hh) if objective == "full_coverage" else (gain_hh, gain_full)
        )
        idx = np.flatnonzero(ok)
        best = idx[np.lexsort((idx, -second[idx], -first[idx]))[0]]
        taken[best] = True
        chosen.append(int(best))
        bp, bk = p[best], k[best]
        sites[bk] += 1
        hosts[bp] += 1
        has_own[bp] |= bool(inst.own[bk])
        land[bp] -= inst.opt_land[best]
        floor[bp] -= inst.opt_floor[best]
        hit = (np.asarray(inst.cover[best].todense()).ravel() > 0) & inst.gap[:, bk] & ~cov[:, bk]
        cov[hit, bk] = True
        if inst.in_basket[bk]:
            left[hit] -= 1
    arr = np.array(sorted(chosen), int)
    return Plan(arr, "greedy", "greedy", evaluate(inst, arr), time.perf_counter() - start)


def single_category(sets: dict[int, np.ndarray], weights: np.ndarray, k: int) -> Instance:
    """A classic maximal-covering instance (one category, no capacities): option ``p`` covers
    the communities ``sets[p]``; at most ``k`` options. For comparisons with peers (spopt).

    Parameters
    ----------
    sets : dict of int to int array
        Option → the communities it covers.
    weights : (n,) float array
        Per community.
    k : int
        Options allowed.

    Returns
    -------
    Instance
    """
    opts = sorted(sets)
    rows = np.concatenate([np.full(len(sets[p]), i) for i, p in enumerate(opts)]) if opts else []
    cols = np.concatenate([np.asarray(sets[p], int) for p in opts]) if opts else []
    n = len(weights)
    cover = sparse.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(len(opts), n))
    return Instance(
        keys=["k"],
        hh=np.asarray(weights, float),
        gap=np.ones((n, 1), bool),
        basket_gaps=np.ones(n, int),
        in_basket=np.ones(1, bool),
        weight=np.ones(1),
        opt_parcel=np.arange(len(opts)),
        opt_key=np.zeros(len(opts), int),
        cover=cover,
        land=np.full(len(opts), np.inf),
        floor=np.full(len(opts), np.inf),
        need_land=np.zeros(1),
        need_floor=np.zeros(1),
        own=np.zeros(1, bool),
        max_sites=int(k),
    )


def rank_within_key(inst: Instance, chosen: np.ndarray) -> dict[int, tuple[int, float, np.ndarray]]:
    """Per chosen option: (rank within its category by marginal gain, newly covered households,
    communities it newly covers), as a greedy would present the chosen set.

    Parameters
    ----------
    inst : Instance
    chosen : (k,) int array

    Returns
    -------
    dict of int to (int, float, int array)
    """
    out: dict[int, tuple[int, float, np.ndarray]] = {}
    for k in range(len(inst.keys)):
        rows = [int(o) for o in chosen if inst.opt_key[o] == k]
        covered = ~inst.gap[:, k].copy()
        rank = 0
        while rows:
            sets = {o: inst.cover[o].indices for o in rows}
            gains = {o: float(inst.hh[s[~covered[s]]].sum()) for o, s in sets.items()}
            best = min(gains, key=lambda o: (-gains[o], o))
            rank += 1
            members = sets[best][~covered[sets[best]]]
            out[best] = (rank, gains[best], members)
            covered[sets[best]] = True
            rows.remove(best)
    return out
