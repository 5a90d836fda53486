"""The options of the parcel-programme problem: which candidate parcel could host which category
on its own (kind allowed, land and floor enough) with gaps of that category within reach, the
communities each option reaches, and, per parcel, why it has none (``SiteSelector`` solves it)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from spatial.analysis.siting.programmes import Instance
from spatial.analysis.siting.tables import Blocked, Flags
from spatial.config.colocation import Need, Rules
from spatial.config.standards import Standards
from spatial.core.messages import Named


def parcel_capacity(parcels: gpd.GeoDataFrame, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    """Per parcel: land (its area) and floor (``max_floor_area``, else land × the default
    floor-area ratio of the co-location rules), m².

    Parameters
    ----------
    parcels : GeoDataFrame
        With ``area_m2`` and ``max_floor_area`` (NaN where not given).
    rules : Rules

    Returns
    -------
    (ndarray, ndarray)
        Land and floor per parcel.
    """
    land = parcels["area_m2"].to_numpy(float)
    given = parcels["max_floor_area"].to_numpy(float)
    return land, np.where(np.isfinite(given), given, land * rules.default_far)


def build_options(
    parcels: gpd.GeoDataFrame,
    standards: Standards,
    rules: Rules,
    pairs: pd.DataFrame,
    gaps: Flags,
    hh: np.ndarray,
    need: dict[str, Need | None],
    max_sites: int,
) -> tuple[Instance, Blocked]:
    """The instance's options (parcel, category fitting alone, with gaps in reach), each at the
    category's standard size, and per parcel the categories with gaps in reach it cannot host.

    Parameters
    ----------
    parcels : GeoDataFrame
        ``kind``, ``area_m2``, ``max_floor_area``.
    standards : Standards
    rules : Rules
        Co-location rules (``building_kinds``, ``default_far``).
    pairs : DataFrame
        ``parcel``, ``community`` (positions) and ``distance_m`` of the candidate parcels.
    gaps : dict of str to ndarray of bool
        Per category, the communities without it.
    hh : ndarray
        Weight per community (households, or 1).
    need : dict of str to Need or None
        Per category the land and floor one facility needs (None: no minimum size known).
    max_sites : int

    Returns
    -------
    (Instance, Blocked)
        The instance (options at the standard size) and, per reason (``kind_not_allowed``,
        ``too_small``), per parcel the categories it cannot host.
    """
    land, floor = parcel_capacity(parcels, rules)
    building = parcels["kind"].astype(str).isin(rules.building_kinds).to_numpy()
    n_p = len(parcels)
    keys = [k for k, n in need.items() if n is not None]
    # per reason, per parcel: the categories with gaps within reach it cannot host
    blocked: Blocked = {
        "kind_not_allowed": [[] for _ in range(n_p)],
        "too_small": [[] for _ in range(n_p)],
    }
    opt_p, opt_k, rows, cols = [], [], [], []
    parcel = pairs["parcel"].to_numpy(int)
    community = pairs["community"].to_numpy(int)
    dist = pairs["distance_m"].to_numpy(float)
    for i, key in enumerate(keys):
        n, cat = need[key], standards.categories[key]
        near = (dist <= cat.radius_m) & gaps[key][community]
        here = np.unique(parcel[near])
        if not len(here):
            continue
        kind_ok = ~(building[here] & (n.land > 0))
        size_ok = (land[here] + 1e-6 >= n.land) & (floor[here] + 1e-6 >= n.floor)
        for q in here[~kind_ok].tolist():
            blocked["kind_not_allowed"][q].append(Named(cat.name_zh, cat.name_en))
        for q in here[kind_ok & ~size_ok].tolist():
            blocked["too_small"][q].append(Named(cat.name_zh, cat.name_en))
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
    basket = [k for k in standards.basket if k in gaps]
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
        max_sites=int(max_sites),
    )
    return inst, blocked
