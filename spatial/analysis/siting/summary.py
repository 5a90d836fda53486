"""The siting's figures: household and community shares before and after the plan (per category,
full coverage, per subdistrict) and the ``sites`` block of ``summary.json``, read from a solved
:class:`spatial.analysis.siting.selector.SiteSelector`."""

from __future__ import annotations

import numpy as np

from spatial.analysis.capacity.sizing import BASES
from spatial.analysis.siting.programmes import Plan
from spatial.analysis.siting.tables import Flags, SiteSelector
from spatial.core.messages import Named


def coverage_blocks(
    sel: SiteSelector, gaps: Flags, after_ok: Flags, hh: np.ndarray
) -> tuple[dict, dict, dict]:
    """Household shares before/after the plan: per category, full coverage, per subdistrict.

    Parameters
    ----------
    sel : SiteSelector
        Solved up to its plan and sites.
    gaps, after_ok : dict of str to bool array
        Per category: the community lacks it now; it has it after the plan.
    hh : (n,) float array
        The weight per community (households, or 1 each).

    Returns
    -------
    per_category, full, by_subdistrict : dict
    """
    total = hh.sum() or 1.0
    picks = sel.sites["category"].value_counts().to_dict() if len(sel.sites) else {}
    per_category = {}
    for key in sel.standards.categories:
        before = float(hh[~gaps[key]].sum() / total)
        after = float(hh[after_ok[key]].sum() / total)
        method = "no gaps" if not gaps[key].any() else sel.plan.method
        per_category[key] = {
            "households_before": before,
            "households_after": after,
            "picks": int(picks.get(key, 0)),
            "method": method,
        }
    basket = [k for k in sel.standards.basket if k in gaps]
    before = np.all([~gaps[k] for k in basket], axis=0)
    after = np.all([after_ok[k] for k in basket], axis=0)
    full = {
        "households_before": float(hh[before].sum() / total),
        "households_after": float(hh[after].sum() / total),
        "communities_before": float(before.mean()) if len(before) else 0.0,
        "communities_after": float(after.mean()) if len(after) else 0.0,
    }
    sub = (
        sel.communities["subdistrict"].fillna("").astype(str).to_numpy()
        if "subdistrict" in sel.communities
        else np.full(len(hh), "")
    )
    by_subdistrict = {}
    for name in sorted(set(sub.tolist())):
        m = sub == name
        t = hh[m].sum() or 1.0
        by_subdistrict[name] = {
            "households": int(hh[m].sum()),
            "full_coverage_households_before": round(float(hh[m & before].sum() / t), 4),
            "full_coverage_households_after": round(float(hh[m & after].sum() / t), 4),
            "categories": {
                k: {
                    "before": round(float(hh[m & ~gaps[k]].sum() / t), 4),
                    "after": round(float(hh[m & after_ok[k]].sum() / t), 4),
                }
                for k in sel.standards.categories
            },
        }
    return per_category, full, by_subdistrict


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


def _sizing_record(sel: SiteSelector) -> dict:
    """Which facility sizes came from the capacity shortfall and which from the standard's
    minimum, per category, with the shortfall the sites are sized for, close and leave: the sum
    of the sites' unrounded values rounded once to whole supply units (m², places, beds), as the
    terminal and the ledger show them (rounded to 0.1 first, 571.48 places read 571.5 here and
    572 there)."""
    sites = sel.sites
    out: dict = {
        "size_from_shortfall": bool(getattr(sel.cfg, "size_from_shortfall", True)),
        "categories_sized": list(sel.size_rules),
        "sites_from_shortfall": int((sites["size_basis"] != "standard_min").sum()),
        "sites_standard_min": int((sites["size_basis"] == "standard_min").sum()),
        "by_category": {},
    }
    ind = sel.capacity.indicators if sel.capacity is not None else {}
    for key, rule in sel.size_rules.items():
        rows = sites.loc[sites["category"] == key]
        out["by_category"][key] = {
            "unit": Named(rule.unit_zh, rule.unit_en),
            "unit_en": rule.unit_en,
            "sites": len(rows),
            "basis": {b: int((rows["size_basis"] == b).sum()) for b in BASES},
            "shortfall": round(float(rows["shortfall_units"].sum())),
            "closed": round(float(rows["shortfall_closed"].sum())),
            "left": round(float(rows["shortfall_left"].sum())),
            "floor_m2": round(float(rows["floor_used_m2"].sum()), 1),
            "land_m2": round(float(rows["land_used_m2"].sum()), 1),
            "m2_per_unit": rule.floor_per_unit,
            "land_m2_per_unit": rule.land_per_unit,
            "size_source": ind[key].size_source if key in ind else "",
            "size_verified": ind[key].size_verified if key in ind else False,
        }
    return out


def summary_block(sel: SiteSelector) -> dict:
    """The ``sites`` block of ``summary.json`` from a solved selector.

    Parameters
    ----------
    sel : SiteSelector
        Solved.

    Returns
    -------
    dict
    """
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
        "sizing": _sizing_record(sel),
    }
