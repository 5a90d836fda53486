"""Enough, not only near: facility capacity against the demand within walking reach (2SFCA).

Supply is each facility's capacity (floor area, places or beds from the facilities layer; else the
GB 50180-2018 typical size, flagged as ASSUMED). Demand is each community's households, residents
or age group (community columns when given; else households × persons per household × the census
shares, overridable per project and subdistrict). Indicators are data
(``data/standards/capacity.toml``). The two-step floating catchment (Luo & Wang 2003), with an
optional Gaussian or linear distance decay (enhanced 2SFCA), runs on the coverage's walking
distances with the category's radius as the catchment:

    R_j = S_j / Σ_i W(d_ij) D_i        A_i = Σ_j W(d_ij) R_j

``A_i`` is supply per unit of demand reaching community ``i``; × ``per`` it is in the indicator's
unit and / target the ratio ``<cat>_ratio``; ``<cat>_short`` is the shortfall in supply units.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.analysis.capacity.demand import community_demand, default_demand
from spatial.analysis.capacity.tables import capacity_summary
from spatial.config.indicators import Capacity, load_capacity
from spatial.config.project import DEMOGRAPHIC_KEYS, Project
from spatial.config.standards import Standards
from spatial.core.problems import Problem, problem
from spatial.network.access_points import Access
from spatial.network.catchment import COLUMNS, NetworkCatchments, straight_pairs
from spatial.network.graph import StreetNetwork


def facility_supply(
    facilities: gpd.GeoDataFrame, standards: Standards, capacity: Capacity
) -> tuple[np.ndarray, np.ndarray]:
    """Capacity per facility in its indicator's supply unit, and whether it was assumed (the
    data had none: the midpoint of the standard's typical building area / ``m2_per_unit``).

    Parameters
    ----------
    facilities : GeoDataFrame
        With ``category`` and, where given, the supply columns (``floor_area``, ``places``,
        ``beds``).
    standards : Standards
    capacity : Capacity

    Returns
    -------
    supply : (n,) float array
        0 for categories without an indicator.
    assumed : (n,) bool array
    """
    n = len(facilities)
    supply, assumed = np.zeros(n), np.zeros(n, bool)
    category = facilities["category"].to_numpy()
    for key, ind in capacity.indicators.items():
        rows = category == key
        if ind.supply == "count":
            supply[rows] = 1.0
            continue
        given = (
            facilities[ind.supply].to_numpy(float)
            if ind.supply in facilities
            else np.full(n, np.nan)
        )
        have = rows & np.isfinite(given) & (given > 0)
        supply[have] = given[have]
        size = standards.categories[key].building_m2
        typical = (sum(size) / 2 / ind.m2_per_unit) if size else 0.0
        supply[rows & ~have] = typical
        assumed[rows & ~have] = True
    return supply, assumed


def decay_weights(distance: np.ndarray, radius: float, decay: str) -> np.ndarray:
    """Distance weights within the catchment: 1 (``none``), Gaussian with σ = radius / 2, or
    linear from 1 at the facility to 0 at the radius.

    Parameters
    ----------
    distance : (k,) float array
        Metres.
    radius : float
        The catchment, metres.
    decay : str
        ``none``, ``gaussian`` or ``linear``.

    Returns
    -------
    (k,) float array
    """
    if decay == "gaussian":
        sigma = radius / 2
        return np.exp(-distance * distance / (2 * sigma**2))
    if decay == "linear":
        return np.clip(1 - distance / radius, 0, None)
    return np.ones(len(distance))


def two_step(
    pairs: pd.DataFrame,
    supply: np.ndarray,
    demand: np.ndarray,
    n_comm: int,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """2SFCA: supply per unit of demand reaching each community (0 where none reaches it).

    ``pairs``: facility (index into ``supply``), community (index into ``demand``); ``weight``
    per pair (default 1). Unknown demand (NaN) counts as 0; a facility whose catchment holds no
    demand passes nothing on.

    Parameters
    ----------
    pairs : DataFrame
        Columns ``facility`` and ``community`` (positions).
    supply : (m,) float array
    demand : (n,) float array
    n_comm : int
    weight : (k,) float array, optional

    Returns
    -------
    (n_comm,) float array
        ``A_i``: supply per unit of demand reaching each community.
    """
    fac = pairs["facility"].to_numpy(np.int64)
    comm = pairs["community"].to_numpy(np.int64)
    w = np.ones(len(fac)) if weight is None else weight
    d = np.nan_to_num(demand, nan=0.0)
    load = np.bincount(fac, weights=w * d[comm], minlength=len(supply))
    ratio = np.divide(supply, load, out=np.zeros(len(supply)), where=load > 0)
    return np.bincount(comm, weights=w * ratio[fac], minlength=n_comm)


def all_pairs(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    capacity: Capacity,
    detour: float,
    max_snap: float,
    net: StreetNetwork | None = None,
    access: Access | None = None,
) -> dict[str, pd.DataFrame]:
    """Per category with an indicator: (facility, community, distance_m) within its radius.

    Parameters
    ----------
    communities, facilities : GeoDataFrame
        In the metric CRS.
    standards : Standards
        The radii.
    capacity : Capacity
        Its indicators choose the categories.
    detour : float
        Straight distance × ``detour`` without a network.
    max_snap : float
        Facilities farther from every street are not placed on the network.
    net : StreetNetwork, optional
        Walking distances; ``None``: straight lines.
    access : Access, optional
        The communities' access points (``access.polygon_access``), required with ``net``.

    Returns
    -------
    dict of str to DataFrame
        Columns ``facility``, ``community`` (positions), ``distance_m``.
    """
    points = shapely.get_coordinates(facilities.geometry.values)
    category = facilities["category"].to_numpy()
    polygons = communities.geometry.values
    catch = NetworkCatchments(net, points, access, max_snap) if net is not None else None
    out = {}
    for key in capacity.indicators:
        rows = np.flatnonzero(category == key)
        radius = standards.categories[key].radius_m
        if len(rows) == 0:
            out[key] = pd.DataFrame({c: [] for c in COLUMNS})
        elif catch is not None:
            out[key] = catch.pairs(rows, radius)
        else:
            out[key] = straight_pairs(polygons, points, rows, radius, detour)
    return out


def compute_capacity(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    capacity: Capacity,
    pairs: dict[str, pd.DataFrame],
) -> tuple[gpd.GeoDataFrame, list[Problem], dict]:
    """Per community and category: ``<cat>_need``, ``<cat>_supply``, ``<cat>_ratio``,
    ``<cat>_short``, ``<cat>_state``, ``<cat>_assumed``; plus the problems (assumed capacity) and per-category facility totals.

    ``<cat>_ratio`` is the 2SFCA supply per demand over the target (old eligible communities use
    the existing-area target where the indicator has one); NaN where the demand is unknown or 0.
    ``<cat>_need`` is the supply the target asks for the community's demand and ``<cat>_supply``
    the 2SFCA supply reaching it (A_i × D_i), both in supply units; ``<cat>_short`` the shortfall in supply units (m², places, beds). ``<cat>_state`` is
    ``covered`` / ``served_short`` (within the radius, but not enough) / ``gap`` (none within
    the radius). ``<cat>_assumed``: some of the supply reaching it has an assumed capacity.

    The figures keep their full precision: a total (``summary.json``, the ledger, a bundle's or a
    subdistrict's) is the sum of the unrounded values, rounded once where it is shown (three
    communities reached by a third of 100 m² each total 100.0 m², not 99.9).

    Parameters
    ----------
    communities, facilities : GeoDataFrame
    standards : Standards
    capacity : Capacity
    pairs : dict of str to DataFrame
        :func:`all_pairs`.

    Returns
    -------
    communities : GeoDataFrame
        A copy with the columns above and ``demand_*``.
    problems : list of Problem
        ``capacity_assumed`` per category with assumed supply.
    totals : dict
        Per category: facilities, assumed facilities, supply and assumed supply.
    """
    supply, assumed = facility_supply(facilities, standards, capacity)
    demand = community_demand(communities, capacity)
    n = len(communities)
    old = communities["eligible"].to_numpy(bool) if "eligible" in communities else np.zeros(n, bool)
    columns: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    totals: dict[str, dict] = {}
    category = facilities["category"].to_numpy()
    names = facilities["name"].astype(str).to_numpy()
    for key, ind in capacity.indicators.items():
        p = pairs[key]
        radius = standards.categories[key].radius_m
        w = decay_weights(p["distance_m"].to_numpy(float), radius, capacity.decay)
        base = demand[ind.demand]
        per_unit = two_step(p, supply, base, n, w)
        from_assumed = two_step(p, np.where(assumed, supply, 0.0), base, n, w)
        target = np.full(n, ind.target)
        if ind.target_existing is not None:
            target[old] = ind.target_existing
        known = np.isfinite(base) & (base > 0)
        value = per_unit * ind.per
        ratio = np.where(known, value / target, np.nan)
        short = np.where(known, np.clip((target / ind.per - per_unit) * base, 0, None), np.nan)
        reached = np.zeros(n, bool)
        reached[p["community"].to_numpy(np.int64)] = True
        columns[f"{key}_need"] = np.where(known, target / ind.per * base, np.nan)
        columns[f"{key}_supply"] = np.where(known, per_unit * base, np.nan)
        columns[f"{key}_ratio"] = ratio
        columns[f"{key}_short"] = short
        columns[f"{key}_state"] = np.where(
            ~reached, "gap", np.where(ratio < 1, "served_short", "covered")
        )
        columns[f"{key}_assumed"] = from_assumed > 0
        rows = category == key
        totals[key] = {
            "facilities": int(rows.sum()),
            "facilities_assumed": int((rows & assumed).sum()),
            "supply": float(supply[rows].sum()),
            "supply_assumed": float(supply[rows & assumed].sum()),
        }
        if (rows & assumed).any():
            cat = standards.categories[key]
            building = "–".join(f"{v:,.0f}" for v in (cat.building_m2 or ()))
            problems.append(
                problem(
                    "capacity_assumed" if ind.m2_per_unit != 1 else "capacity_assumed_area",
                    "facilities",
                    names[rows & assumed],
                    category=cat.name_zh,
                    category_en=cat.name_en,
                    column_zh=ind.supply_unit_zh,
                    column_en=ind.supply_unit_en,
                    value=f"{float(supply[rows & assumed][0]):,.0f}",  # whole places, beds, m²
                    building=building,  # the standard's building area range (m²)
                    m2=f"{ind.m2_per_unit:g}",  # floor m² per place or bed (rule of thumb)
                )
            )
    defaulted = default_demand(communities, capacity)
    if defaulted is not None:
        problems.append(defaulted)
    for name in ("population", *DEMOGRAPHIC_KEYS[1:]):
        columns[f"demand_{name}"] = demand[name]
    kept = communities.drop(columns=[c for c in columns if c in communities.columns])
    out = pd.concat([kept, pd.DataFrame(columns, index=communities.index)], axis=1)
    return (
        gpd.GeoDataFrame(out, geometry=communities.geometry.name, crs=communities.crs),
        problems,
        totals,
    )


def run_capacity(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    project: Project,
    net: StreetNetwork | None = None,
    access: Access | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem], dict, Capacity]:
    """The capacity stage on covered communities: columns, problems, the summary block, settings.

    Parameters
    ----------
    communities, facilities : GeoDataFrame
    standards : Standards
    project : Project
        ``[capacity]`` and ``[coverage]`` (``detour_factor``, ``max_snap_m``).
    net : StreetNetwork, optional
    access : Access, optional
        The communities' access points, computed once for coverage.

    Returns
    -------
    communities : GeoDataFrame
    problems : list of Problem
    summary : dict
        The ``capacity`` block of ``summary.json``.
    capacity : Capacity
        The indicators and settings used.
    """
    capacity = load_capacity(project, standards)
    cov = project.coverage
    pairs = all_pairs(
        communities, facilities, standards, capacity, cov.detour_factor, cov.max_snap_m, net, access
    )
    comm, problems, totals = compute_capacity(communities, facilities, standards, capacity, pairs)
    return comm, problems, capacity_summary(comm, capacity, totals, standards), capacity
