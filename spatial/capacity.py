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

import tomllib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from .access import Access
from .catchment import COLUMNS, NetworkCatchments, straight_pairs
from .config import DEMOGRAPHIC_KEYS, CapacityConfig, Project
from .errors import ConfigError
from .messages import Named
from .network import StreetNetwork
from .problems import Problem, problem
from .standards import Standards

STATES = ("covered", "served_short", "gap")


@dataclass(frozen=True)
class Indicator:
    """One category's supply-per-demand indicator (``[indicators.<key>]`` of capacity.toml)."""

    key: str
    supply: str  # facility column role: floor_area, places, beds; or "count"
    demand: str  # households, population, older, infants, preschoolers
    per: float
    target: float
    target_existing: float | None
    unit_zh: str
    unit_en: str
    supply_unit_zh: str
    supply_unit_en: str
    m2_per_unit: float
    source: str
    source_existing: str
    verified: bool
    land_m2_per_unit: float | None = None  # land m² per supply unit (sizing own-land facilities)
    size_source: str = ""
    size_verified: bool = False


@dataclass
class Capacity:
    """The indicators of the active categories and the demographic settings in force."""

    indicators: dict[str, Indicator]
    demographics: dict[str, float]
    demographics_source: str
    decay: str
    subdistricts: dict[str, dict[str, float]]


def load_capacity(project: Project, standards: Standards) -> Capacity:
    """Read the indicator table and apply the project's ``[capacity]`` overrides.

    Categories in ``targets`` / ``targets_existing`` may be named by key, Chinese name or alias.
    """
    cfg: CapacityConfig = project.capacity
    where = project.resolve(cfg.path) if cfg.path else settings.STANDARDS_DIR / "capacity.toml"
    try:
        raw = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("err_capacity_read", path=where, reason=exc) from None
    demo = raw.get("demographics", {})
    demographics = {k: float(demo.get(k, 0.0)) for k in DEMOGRAPHIC_KEYS}
    if cfg.persons_per_household:
        demographics["persons_per_household"] = cfg.persons_per_household
    demographics.update({k: float(v) for k, v in cfg.shares.items()})
    indicators = {}
    for key, spec in raw.get("indicators", {}).items():
        if key not in standards.categories:
            continue
        try:
            indicators[key] = Indicator(
                key=key,
                supply=spec["supply"],
                demand=spec["demand"],
                per=float(spec["per"]),
                target=float(spec["target"]),
                target_existing=float(spec["target_existing"])
                if "target_existing" in spec
                else None,
                unit_zh=spec.get("unit_zh", ""),
                unit_en=spec.get("unit_en", ""),
                supply_unit_zh=spec.get("supply_unit_zh", ""),
                supply_unit_en=spec.get("supply_unit_en", ""),
                m2_per_unit=float(spec.get("m2_per_unit", 1.0)),
                source=spec.get("source", ""),
                source_existing=spec.get("source_existing", ""),
                verified=bool(spec.get("verified", False)),
                land_m2_per_unit=float(spec["land_m2_per_unit"])
                if "land_m2_per_unit" in spec
                else None,
                size_source=spec.get("size_source", ""),
                size_verified=bool(spec.get("size_verified", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("err_capacity_indicator", path=where, key=key, reason=exc) from None
    for name, table in (("targets", cfg.targets), ("targets_existing", cfg.targets_existing)):
        for given, value in table.items():
            key = standards.match(given)
            if key not in indicators:
                raise ConfigError(
                    "err_capacity_target_unknown",
                    path=project.source,
                    name=name,
                    given=given,
                    known=", ".join(indicators),
                )
            field_ = "target" if name == "targets" else "target_existing"
            indicators[key] = Indicator(**{**indicators[key].__dict__, field_: float(value)})
    return Capacity(
        indicators, demographics, str(demo.get("source", "")), cfg.decay, dict(cfg.subdistricts)
    )


def facility_supply(
    facilities: gpd.GeoDataFrame, standards: Standards, capacity: Capacity
) -> tuple[np.ndarray, np.ndarray]:
    """Capacity per facility in its indicator's supply unit, and whether it was assumed (the
    data had none: the midpoint of the standard's typical building area / ``m2_per_unit``)."""
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


def community_demand(communities: gpd.GeoDataFrame, capacity: Capacity) -> dict[str, np.ndarray]:
    """Demand per community for each base (households, population and the age groups): the
    community's own column where given, else households × persons per household × share, with
    the subdistrict's settings over the project's over the census defaults. NaN = unknown."""
    n = len(communities)
    subs = communities["subdistrict"].fillna("").astype(str).to_numpy()
    setting = {k: np.full(n, v) for k, v in capacity.demographics.items()}
    for sub, table in capacity.subdistricts.items():
        for key, value in table.items():
            setting[key][subs == sub] = float(value)

    def given(column: str) -> np.ndarray:
        return communities[column].to_numpy(float) if column in communities else np.full(n, np.nan)

    households = communities["households"].to_numpy(float)
    population = given("population")
    population = np.where(
        np.isfinite(population), population, households * setting["persons_per_household"]
    )
    demand = {"households": households, "population": population}
    for group in DEMOGRAPHIC_KEYS[1:]:
        own = given(group)
        demand[group] = np.where(np.isfinite(own), own, population * setting[group])
    return demand


def decay_weights(distance: np.ndarray, radius: float, decay: str) -> np.ndarray:
    """Distance weights within the catchment: 1 (``none``), Gaussian with σ = radius / 2, or
    linear from 1 at the facility to 0 at the radius."""
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
    """Per category with an indicator: (facility, community, distance_m) within its radius."""
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
        columns[f"{key}_need"] = np.round(np.where(known, target / ind.per * base, np.nan), 1)
        columns[f"{key}_supply"] = np.round(np.where(known, per_unit * base, np.nan), 1)
        columns[f"{key}_ratio"] = np.round(ratio, 3)
        columns[f"{key}_short"] = np.round(short, 1)
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
            problems.append(
                problem(
                    "capacity_assumed",
                    "facilities",
                    names[rows & assumed],
                    category=cat.name_zh,
                    category_en=cat.name_en,
                    column_zh=ind.supply_unit_zh,
                    column_en=ind.supply_unit_en,
                    value=round(float(supply[rows & assumed][0]), 1),
                )
            )
    for name in ("population", *DEMOGRAPHIC_KEYS[1:]):
        columns[f"demand_{name}"] = np.round(demand[name], 1)
    kept = communities.drop(columns=[c for c in columns if c in communities.columns])
    out = pd.concat([kept, pd.DataFrame(columns, index=communities.index)], axis=1)
    return (
        gpd.GeoDataFrame(out, geometry=communities.geometry.name, crs=communities.crs),
        problems,
        totals,
    )


def _totals(frame: pd.DataFrame, capacity: Capacity) -> dict:
    """Per category over ``frame``: demand, need, supply reaching it, ratio, shortfall, states."""
    out = {}
    for key, ind in capacity.indicators.items():
        need = float(np.nansum(frame[f"{key}_need"]))
        got = float(np.nansum(frame[f"{key}_supply"]))
        demand_col = "households" if ind.demand == "households" else f"demand_{ind.demand}"
        states = frame[f"{key}_state"]
        out[key] = {
            "demand": round(float(np.nansum(frame[demand_col])), 1),
            "need": round(need, 1),
            "supply_reaching": round(got, 1),
            "ratio": round(got / need, 3) if need > 0 else None,
            "shortfall": round(float(np.nansum(frame[f"{key}_short"])), 1),
            "communities_short": int((states == "served_short").sum()),
            "communities_gap": int((states == "gap").sum()),
        }
    return out


def capacity_summary(
    communities: gpd.GeoDataFrame, capacity: Capacity, totals: dict, standards: Standards
) -> dict:
    """The ``capacity`` block of ``summary.json``: per category the indicator, its source, the
    facilities' supply (and the share assumed), the demand, ratio and shortfall; per subdistrict.
    Names and units are :class:`~spatial.messages.Named` (put in a language by
    ``pipeline.localise_summary``)."""
    block: dict = {
        "method": "2SFCA" if capacity.decay == "none" else f"E2SFCA ({capacity.decay} decay)",
        "decay": capacity.decay,
        "demographics": dict(capacity.demographics),
        "demographics_source": capacity.demographics_source,
        "demographics_by_subdistrict": capacity.subdistricts,
        "categories": {},
    }
    overall = _totals(communities, capacity)
    for key, ind in capacity.indicators.items():
        t = totals[key]
        block["categories"][key] = {
            "name": Named(standards.categories[key].name_zh, standards.categories[key].name_en),
            "indicator": Named(ind.unit_zh, ind.unit_en),
            "indicator_en": ind.unit_en,
            "target": ind.target,
            "target_existing": ind.target_existing,
            "source": ind.source,
            "source_existing": ind.source_existing,
            "verified": ind.verified,
            "supply_unit": Named(ind.supply_unit_zh, ind.supply_unit_en),
            "supply_unit_en": ind.supply_unit_en,
            "demand_base": ind.demand,
            "radius_m": standards.categories[key].radius_m,
            "facilities": t["facilities"],
            "facilities_assumed": t["facilities_assumed"],
            "supply_total": round(t["supply"], 1),
            "assumed_share": round(t["supply_assumed"] / t["supply"], 4) if t["supply"] else None,
            **overall[key],
        }
    subs = communities["subdistrict"].fillna("").astype(str)
    block["by_subdistrict"] = {
        (s or "未注明"): _totals(communities.loc[subs == s], capacity)
        for s in sorted(subs.unique())
    }
    return block


def bundle_totals(communities: gpd.GeoDataFrame, capacity: Capacity) -> dict:
    """Per bundle (``bundle_id`` set by the bundle stage): the same totals as per subdistrict."""
    if "bundle_id" not in communities:
        return {}
    ids = communities["bundle_id"]
    members = communities.loc[ids.notna() & (ids.astype(str) != "")]
    parts = dict(iter(pd.DataFrame(members).groupby("bundle_id", sort=False)))
    return {str(b): _totals(parts[b], capacity) for b in sorted(parts, key=str)}


def run_capacity(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    project: Project,
    net: StreetNetwork | None = None,
    access: Access | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem], dict, Capacity]:
    """The capacity stage on covered communities: columns, problems, the summary block, settings."""
    capacity = load_capacity(project, standards)
    cov = project.coverage
    pairs = all_pairs(
        communities, facilities, standards, capacity, cov.detour_factor, cov.max_snap_m, net, access
    )
    comm, problems, totals = compute_capacity(communities, facilities, standards, capacity, pairs)
    return comm, problems, capacity_summary(comm, capacity, totals, standards), capacity
