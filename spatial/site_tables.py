"""The siting's result tables: layers ``sites`` and ``programmes``, coverage before/after, the
communities no pick serves, and the ``sites`` block of ``summary.json``, all read from a solved
:class:`spatial.siting.SiteSelector`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .messages import Joined, Named, msg, text
from .programmes import Instance, Plan
from .sizing import BASES

SiteSelector = Any  # a solved spatial.siting.SiteSelector (siting imports this module, not back)

#: Why a parcel hosts nothing (``programmes``) or a gap stays open (``unserved``): the codes of
#: the ``reason_code`` columns; the text is ``site_reason_<code>`` in the message catalogue. The
#: frames carry the Chinese text (the GeoPackage's language); the ledger shows the run's.
REASONS = (
    "unavailable",
    "outside",
    "kind_not_allowed",
    "too_small",
    "not_needed",
    "no_room",
    "no_parcel",
)


def reason_text(lang: str, code: str) -> str:
    """The text of a ``reason_code`` in ``lang`` ('' for no reason)."""
    return text(lang, f"site_reason_{code}") if code else ""


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
    "size_basis",
    "supply_unit",
    "shortfall_units",
    "size_units",
    "shortfall_closed",
    "shortfall_left",
    "method",
    "geometry",
]
_SIZE_COLUMNS = SITE_COLUMNS[SITE_COLUMNS.index("land_used_m2") : SITE_COLUMNS.index("method")]
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
    "sized_from_shortfall",
    "shortfall_closed",
    "shortfall_left",
    "too_small_for",
    "kind_not_allowed_for",
    "geometry",
]


def _named(category) -> Named:
    """A category's name in both languages (shown in the output's)."""
    return Named(category.name_zh, category.name_en)


def sites_frame(sel: SiteSelector, inst: Instance, ranks: dict) -> gpd.GeoDataFrame:
    """Layer ``sites``: one row per chosen facility (parcel, category, rank, reach, size)."""
    crs = sel.communities.crs
    if not ranks:
        return gpd.GeoDataFrame(columns=SITE_COLUMNS, geometry="geometry", crs=crs)
    cid = sel.communities["cid"].to_numpy()
    pos, size = sel.site_sizes
    rows = []
    for o, (rank, gain, members) in ranks.items():
        key = inst.keys[inst.opt_key[o]]
        j = pos[int(o)]
        rule = sel.size_rules.get(key)
        rows.append(
            {
                "parcel": int(inst.opt_parcel[o]),
                "category": key,
                "rank": rank,
                "new_households": int(round(gain)),
                "new_communities": len(members),
                "covered_ids": ",".join(map(str, cid[np.sort(members)])),
                "land_used_m2": round(float(size.land[j]), 1),
                "floor_used_m2": round(float(size.floor[j]), 1),
                "size_basis": size.basis[j],
                "supply_unit": Named(rule.unit_zh, rule.unit_en) if rule else "",
                "shortfall_units": round(float(size.short[j]), 1),
                "size_units": round(float(size.units[j]), 1),
                "shortfall_closed": round(float(size.closed[j]), 1),
                "shortfall_left": round(float(size.left[j]), 1),
            }
        )
    frame = pd.DataFrame(rows)
    order = {k: i for i, k in enumerate(sel.standards.categories)}
    frame = frame.sort_values(
        ["category", "rank"], key=lambda s: s.map(order) if s.name == "category" else s
    )
    src = sel.parcels.iloc[frame["parcel"].to_numpy()]
    out = gpd.GeoDataFrame(
        {
            "pid": src["pid"].to_numpy(),
            "name": src["name"].to_numpy(),
            "kind": src["kind"].to_numpy(),
            "area_m2": np.round(src["area_m2"].to_numpy(float), 1),
            "category": frame["category"].to_numpy(),
            "category_name": [_named(sel.standards.categories[k]) for k in frame["category"]],
            "rank": frame["rank"].to_numpy(),
            "new_households": frame["new_households"].to_numpy(),
            "new_communities": frame["new_communities"].to_numpy(),
            "covered_ids": frame["covered_ids"].to_numpy(),
            **{c: frame[c].to_numpy() for c in _SIZE_COLUMNS},
            "method": sel.plan.method,
        },
        geometry=src.geometry.values,
        crs=crs,
    )
    return out[SITE_COLUMNS].reset_index(drop=True)


def programme_frame(
    sel: SiteSelector, inst: Instance, ranks: dict, reason, blocked, gaps, after_ok, hh
) -> gpd.GeoDataFrame:
    """Layer ``programmes``: one row per input parcel, its facilities and sizes against its
    capacity, or the reason it hosts none."""
    land, floor = sel.parcel_capacity()
    p = sel.parcels
    n_p = len(p)
    fac = [[] for _ in range(n_p)]
    used_land, used_floor, new_hh = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p)
    new_full = np.zeros(n_p)
    basket = [k for k in sel.standards.basket if k in gaps]
    full_before = np.all([~gaps[k] for k in basket], axis=0)
    full_after = np.all([after_ok[k] for k in basket], axis=0)
    newly_full = full_after & ~full_before
    pos, size = sel.site_sizes
    sized, closed, left = ([[] for _ in range(n_p)] for _ in range(3))
    for o, (_, gain, _members) in ranks.items():
        q, k, j = int(inst.opt_parcel[o]), int(inst.opt_key[o]), pos[int(o)]
        name = _named(sel.standards.categories[inst.keys[k]])
        fac[q].append(name)
        used_land[q] += size.land[j]
        used_floor[q] += size.floor[j]
        new_hh[q] += gain
        rule = sel.size_rules.get(inst.keys[k])
        if rule is not None:
            unit = Named(rule.unit_zh, rule.unit_en)
            if size.basis[j] != "standard_min":
                sized[q].append(name)
            amount = {"name": name, "unit": unit}
            if size.closed[j] > 0:
                closed[q].append(msg("site_amount", amount=size.closed[j], **amount))
            if size.left[j] >= 0.5:
                left[q].append(msg("site_amount", amount=size.left[j], **amount))
    # households newly fully covered thanks to the parcel: those it newly covers for a basket
    # category and that are fully covered after the plan
    for q in np.unique(inst.opt_parcel[sel.plan.chosen]) if len(sel.plan.chosen) else []:
        members = [ranks[int(o)][2] for o in sel.plan.chosen if inst.opt_parcel[o] == q]
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
            "reason": [reason_text("zh", c) for c in code],
            "reason_code": code.astype(str),
            "facilities": [Joined(tuple(f)) for f in fac],
            "n_facilities": [len(f) for f in fac],
            "land_m2": np.round(land, 1),
            "land_used_m2": np.round(used_land, 1),
            "floor_m2": np.round(floor, 1),
            "floor_used_m2": np.round(used_floor, 1),
            "new_households": np.round(new_hh).astype(int),
            "new_full_households": np.round(new_full).astype(int),
            "sized_from_shortfall": [Joined(tuple(x)) for x in sized],
            "shortfall_closed": [Joined(tuple(x)) for x in closed],
            "shortfall_left": [Joined(tuple(x)) for x in left],
            "too_small_for": [Joined(tuple(b)) for b in blocked["too_small"]],
            "kind_not_allowed_for": [Joined(tuple(b)) for b in blocked["kind_not_allowed"]],
        },
        geometry=p.geometry.values,
        crs=sel.communities.crs,
    )
    return frame[PROGRAMME_COLUMNS]


def coverage_blocks(sel: SiteSelector, gaps, after_ok, hh) -> tuple[dict, dict, dict]:
    """Household shares before/after the plan: per category, full coverage, per subdistrict."""
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


def unserved_frame(sel: SiteSelector, gaps, after_ok, pairs) -> pd.DataFrame:
    """Gap communities of the basket that no pick serves, with the reason and a suggestion."""
    comm, frames = sel.communities, []
    cid, name = comm["cid"].to_numpy(), comm["name"].to_numpy()
    community, dist = pairs["community"].to_numpy(int), pairs["distance_m"].to_numpy(float)
    for key in sel.standards.basket:
        if key not in gaps:
            continue
        left = np.flatnonzero(~after_ok[key])
        reachable = np.zeros(len(comm), bool)
        reachable[community[dist <= sel.standards.categories[key].radius_m]] = True
        why = np.where(reachable[left], "no_room", "no_parcel")
        frames.append(
            pd.DataFrame(
                {
                    "cid": cid[left],
                    "name": name[left],
                    "category": key,
                    "reason": [reason_text("zh", c) for c in why],
                    "reason_code": why,
                    "suggestion": text("zh", "site_suggestion_other_measures"),
                }
            )
        )
    cols = ["cid", "name", "category", "reason", "reason_code", "suggestion"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


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
    minimum, per category, with the shortfall (supply units) the sites are sized for, close and
    leave."""
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
            "shortfall": round(float(rows["shortfall_units"].sum()), 1),
            "closed": round(float(rows["shortfall_closed"].sum()), 1),
            "left": round(float(rows["shortfall_left"].sum()), 1),
            "floor_m2": round(float(rows["floor_used_m2"].sum()), 1),
            "land_m2": round(float(rows["land_used_m2"].sum()), 1),
            "m2_per_unit": rule.floor_per_unit,
            "land_m2_per_unit": rule.land_per_unit,
            "size_source": ind[key].size_source if key in ind else "",
            "size_verified": ind[key].size_verified if key in ind else False,
        }
    return out


def summary_block(sel: SiteSelector) -> dict:
    """The ``sites`` block of ``summary.json`` from a solved selector."""
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
