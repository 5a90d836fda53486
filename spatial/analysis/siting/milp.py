"""The exact parcel-programme plan: the maximal-covering MILP over all categories together,
solved by HiGHS (``scipy.optimize.milp``), and the honest label of what the solver proved.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse
from scipy.optimize import OptimizeResult

from spatial.analysis.siting.programmes import Instance, Plan, evaluate
from spatial.core.messages import msg

OPTIMAL_GAP = 1e-4  # HiGHS's default relative MIP gap: "optimal" means proved within this


def exact_plan(inst: Instance, objective: str = "households", time_limit: float = 5.0) -> Plan:
    """The maximal-covering MILP over all categories together, solved by HiGHS
    (``scipy.optimize.milp``) within ``time_limit`` seconds.

    Variables: ``x`` (option chosen, binary), ``y`` (gap community newly covered for a category,
    0–1), ``z`` (community newly fully covered, 0–1). ``y ≤ Σ x`` over the options reaching it;
    ``z ≤ y`` for each basket category it lacks; at most ``max_sites`` options per category;
    per parcel the options' land and floor sizes (fixed per option before the solve, so the
    model stays linear) add up within its capacity, and an own-land option
    excludes every other option on its parcel. Objective: the chosen one plus the other times a
    weight small enough never to outweigh one household (a tie-break).

    Parameters
    ----------
    inst : Instance
        The options with their sizes, the parcels' capacities and the communities' gaps.
    objective : str
        ``households`` or ``full_coverage``.
    time_limit : float
        Seconds for HiGHS.

    Returns
    -------
    Plan
        ``method`` ``exact (MILP, HiGHS)``; ``status`` ``optimal``, ``time_limit`` (with ``bound``
        and ``gap``), ``stopped`` or ``no_solution``.
    """
    start = time.perf_counter()
    n_opt, n_comm = inst.n_options, len(inst.hh)
    # y variables: one per coverable (community, key)
    coo = inst.cover.tocoo()
    pair = inst.opt_key[coo.row].astype(np.int64) * n_comm + coo.col
    ypairs, yinv = np.unique(pair, return_inverse=True)
    y_key, y_comm = ypairs // n_comm, ypairs % n_comm
    n_y = len(ypairs)
    # z variables: communities whose every basket gap is coverable
    coverable = np.zeros(inst.gap.shape, bool)
    coverable[y_comm, y_key] = True
    fixable = coverable[:, inst.in_basket].sum(axis=1)
    z_comm = np.flatnonzero((inst.basket_gaps > 0) & (fixable == inst.basket_gaps))
    n_z = len(z_comm)
    n_var = n_opt + n_y + n_z
    rows, cols, vals, ub = [], [], [], []
    r = 0
    # y - sum x <= 0
    rows += [np.arange(n_y) + r, yinv + r]
    cols += [n_opt + np.arange(n_y), coo.row]
    vals += [np.ones(n_y), -np.ones(len(coo.row))]
    ub.append(np.zeros(n_y))
    r += n_y
    # z - y[c,k] <= 0 for every basket key k
    y_index = {int(v): i for i, v in enumerate(ypairs)}
    zr, zc, zy = [], [], []
    for j, c in enumerate(z_comm):
        for k in np.flatnonzero(inst.gap[c] & inst.in_basket):
            zr.append(len(zr))
            zc.append(j)
            zy.append(y_index[int(k) * n_comm + int(c)])
    nz = len(zr)
    rows += [np.arange(nz) + r, np.arange(nz) + r]
    cols += [n_opt + n_y + np.array(zc, int), n_opt + np.array(zy, int)]
    vals += [np.ones(nz), -np.ones(nz)]
    ub.append(np.zeros(nz))
    r += nz
    # max_sites per key
    rows.append(inst.opt_key + r)
    cols.append(np.arange(n_opt))
    vals.append(np.ones(n_opt))
    ub.append(np.full(len(inst.keys), float(inst.max_sites)))
    r += len(inst.keys)
    # land and floor per parcel
    parcels, p_inv = np.unique(inst.opt_parcel, return_inverse=True)
    for size, cap in ((inst.opt_land, inst.land), (inst.opt_floor, inst.floor)):
        rows.append(p_inv + r)
        cols.append(np.arange(n_opt))
        vals.append(np.asarray(size, float))
        ub.append(cap[parcels].astype(float))
        r += len(parcels)
    # exclusivity: on a parcel with own-land options, each option + the other own options <= 1
    own_opt = inst.own[inst.opt_key]
    for p in np.flatnonzero(np.bincount(p_inv, weights=own_opt, minlength=len(parcels)) > 0):
        here = np.flatnonzero(p_inv == p)
        owns = here[own_opt[here]]
        for j in [*here[~own_opt[here]], owns[0]]:
            members = np.union1d(owns, [j])
            rows.append(np.full(len(members), r))
            cols.append(members)
            vals.append(np.ones(len(members)))
            ub.append(np.ones(1))
            r += 1
    a = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_var)
    )
    hh_y = inst.hh[y_comm] * inst.weight[y_key]
    hh_z = inst.hh[z_comm].astype(float)
    first, second = (hh_z, hh_y) if objective == "full_coverage" else (hh_y, hh_z)
    eps = 1.0 / (float(second.sum()) + 1.0)
    c = np.zeros(n_var)
    primary_slice = (
        slice(n_opt + n_y, n_var) if objective == "full_coverage" else slice(n_opt, n_opt + n_y)
    )
    secondary_slice = (
        slice(n_opt, n_opt + n_y) if objective == "full_coverage" else slice(n_opt + n_y, n_var)
    )
    c[primary_slice] = -first
    c[secondary_slice] = -eps * second
    integrality = np.r_[np.ones(n_opt), np.zeros(n_y + n_z)]
    # imported here: only the siting stage solves, and scipy.optimize costs ~0.15 s to import
    from scipy.optimize import Bounds, LinearConstraint, milp

    res = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, np.concatenate(ub)),
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": OPTIMAL_GAP},
    )
    seconds = time.perf_counter() - start
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else None
    if bound is not None and np.all(first == np.round(first)):
        # the tie-break adds less than 1 and the primary value of any plan is whole: floor it
        bound = float(np.floor(bound + 1e-6))
    if res.x is None:
        empty = np.zeros(0, int)
        return Plan(
            empty,
            "exact (MILP, HiGHS)",
            "no_solution",
            evaluate(inst, empty),
            seconds,
            bound,
            None,
            (msg("note_solver", message=res.message),),
        )
    chosen = np.flatnonzero(res.x[:n_opt] > 0.5)
    value = evaluate(inst, chosen)
    primary = value.score(objective)[0]
    gap = (bound - primary) / bound if bound and bound > 0 else 0.0
    gap = max(gap, 0.0) if gap > -1e-9 else gap
    status = solver_status(res)
    return Plan(
        chosen,
        "exact (MILP, HiGHS)",
        status,
        value,
        seconds,
        bound,
        gap,
        (msg("note_solver", message=res.message),),
    )


def solver_status(res: OptimizeResult) -> str:
    """The label of a ``scipy.optimize.milp`` result: ``optimal`` only when HiGHS proved it
    (status 0 and a relative gap within ``OPTIMAL_GAP``); ``time_limit`` when it stopped at the
    time (or iteration) limit, whatever incumbent it holds; ``stopped`` otherwise.

    Parameters
    ----------
    res : scipy.optimize.OptimizeResult

    Returns
    -------
    str
    """
    gap = getattr(res, "mip_gap", None)
    gap = float(gap) if gap is not None and np.isfinite(gap) else np.inf
    if res.status == 0 and gap <= OPTIMAL_GAP * (1 + 1e-9):
        return "optimal"
    return "time_limit" if res.status == 1 else "stopped"
