"""The siting's result tables: layers ``sites`` and ``programmes`` and the communities no pick
serves, read from a solved :class:`spatial.analysis.siting.selector.SiteSelector` (its figures: ``site_summary``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.analysis.siting.programmes import Instance
from spatial.core.messages import Joined, Named, msg, text

if TYPE_CHECKING:
    from spatial.config.standards import Category

SiteSelector = Any  # a solved spatial.analysis.siting.selector.SiteSelector (siting imports this module, not back)
#: Per category, a flag per community (a gap; covered after the plan).
Flags = dict[str, np.ndarray]
#: Per reason (``kind_not_allowed``, ``too_small``), per parcel: the categories it cannot host.
Blocked = dict[str, list[list[Named]]]

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


def _named(category: Category) -> Named:
    """A category's name in both languages (shown in the output's)."""
    return Named(category.name_zh, category.name_en)


def sites_frame(sel: SiteSelector, inst: Instance, ranks: dict) -> gpd.GeoDataFrame:
    """Layer ``sites``: one row per chosen facility (parcel, category, rank, reach, size); the
    sizes at full precision (``summary.json`` totals them, then rounds once)."""
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
                "land_used_m2": float(size.land[j]),
                "floor_used_m2": float(size.floor[j]),
                "size_basis": size.basis[j],
                "supply_unit": Named(rule.unit_zh, rule.unit_en) if rule else "",
                "shortfall_units": float(size.short[j]),
                "size_units": float(size.units[j]),
                "shortfall_closed": float(size.closed[j]),
                "shortfall_left": float(size.left[j]),
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
    sel: SiteSelector,
    inst: Instance,
    ranks: dict,
    reason: np.ndarray,
    blocked: Blocked,
    gaps: Flags,
    after_ok: Flags,
    hh: np.ndarray,
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


def unserved_frame(
    sel: SiteSelector, gaps: Flags, after_ok: Flags, pairs: pd.DataFrame
) -> pd.DataFrame:
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
