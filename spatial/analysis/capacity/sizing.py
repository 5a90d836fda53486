"""Facility sizes from the capacity shortfall: how large a facility sited on a parcel must be.

For a category with a capacity indicator (``data/standards/capacity.toml``), a facility sited on a
candidate parcel is sized for the shortfall of the gap communities it newly serves, in the
indicator's supply unit (m² floor, places, beds) — the ``<cat>_short`` columns of the capacity
stage, never a second method — converted to m² by the indicator's ``m2_per_unit`` (floor) and
``land_m2_per_unit`` (land, facilities on their own land):

    size = max(standard minimum, min(shortfall, standard maximum, what the parcel holds) × m²/unit)

A facility whose shortfall does not fit its parcel is sited at the size that fits (at least the
standard's minimum, or it is no option at all) and the rest is reported as ``left``: old
neighbourhoods rarely offer the ideal plot, and a smaller facility within walking distance closes
part of the gap where refusing it closes none. Sizes are fixed per option before the solve so the
programme model stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatial.config.colocation import Need
from spatial.config.indicators import Capacity
from spatial.config.standards import Standards

BASES = ("standard_min", "shortfall", "parcel_limit", "standard_max")
"""Why a facility has its size: the standard's minimum covers the shortfall (or the category has
no indicator), the shortfall, the parcel's capacity (shortfall left), the standard's maximum
(shortfall left)."""


@dataclass(frozen=True)
class SizeRule:
    """One category's sizing: the standard's range and the m² per supply unit (0 = not scaled).

    Attributes
    ----------
    key : str
    floor_min, floor_max, land_min, land_max : float
        The standard's range, m².
    floor_per_unit, land_per_unit : float
        m² per supply unit (0: not scaled).
    unit_zh, unit_en : str
        The supply unit's name.
    """

    key: str
    floor_min: float
    floor_max: float
    land_min: float
    land_max: float
    floor_per_unit: float
    land_per_unit: float
    unit_zh: str
    unit_en: str


@dataclass(frozen=True)
class Sizes:
    """Per option (or per site): land and floor m², the shortfall it is sized for (``short``,
    supply units; NaN without an indicator), the capacity offered as sized (``units``), the part
    of the shortfall it closes and the part left, and the size's ``basis`` (one of BASES).

    Attributes
    ----------
    land, floor : (k,) float arrays
        m².
    short, units, closed, left : (k,) float arrays
        Supply units: the shortfall sized for, the capacity offered, the part closed, the part left.
    basis : (k,) object array
        ``standard_min``, ``shortfall``, ``parcel_limit`` or ``standard_max``.
    """

    land: np.ndarray
    floor: np.ndarray
    short: np.ndarray
    units: np.ndarray
    closed: np.ndarray
    left: np.ndarray
    basis: np.ndarray


def size_rules(
    standards: Standards, need: dict[str, Need | None], capacity: Capacity | None
) -> dict[str, SizeRule]:
    """The categories that are sized from their shortfall: siteable (a known minimum) and with an
    indicator whose supply is measured in m², places or beds (not a count).

    Parameters
    ----------
    standards : Standards
    need : dict of str to Need or None
        :func:`spatial.config.colocation.needs`.
    capacity : Capacity or None
        The indicators; ``None``: no category is sized from a shortfall.

    Returns
    -------
    dict of str to SizeRule
    """
    if capacity is None:
        return {}
    out = {}
    for key, ind in capacity.indicators.items():
        n = need.get(key)
        if n is None or ind.supply == "count":
            continue
        cat = standards.categories[key]
        f = float(ind.m2_per_unit) if n.floor > 0 else 0.0
        g = float(ind.land_m2_per_unit or 0.0) if n.land > 0 else 0.0
        if f <= 0 and g <= 0:
            continue
        floor_max = float(cat.building_m2[1]) if f > 0 and cat.building_m2 else np.inf
        land_max = float(cat.land_m2[1]) if g > 0 and cat.land_m2 else np.inf
        out[key] = SizeRule(
            key=key,
            floor_min=n.floor,
            floor_max=max(floor_max, n.floor),
            land_min=n.land,
            land_max=max(land_max, n.land),
            floor_per_unit=f,
            land_per_unit=g,
            unit_zh=ind.supply_unit_zh,
            unit_en=ind.supply_unit_en,
        )
    return out


def _per(cap: np.ndarray | float, per_unit: float) -> np.ndarray | float:
    """Supply units that ``cap`` m² holds at ``per_unit`` m² each (unbounded when not scaled)."""
    return cap / per_unit if per_unit > 0 else np.inf


def size_facilities(
    rule: SizeRule, short: np.ndarray, land_cap: np.ndarray, floor_cap: np.ndarray
) -> Sizes:
    """Sizes of facilities of one category for the shortfalls ``short`` (supply units, NaN = 0)
    on parcels offering ``land_cap`` / ``floor_cap`` m² (each must already hold the minimum).

    Parameters
    ----------
    rule : SizeRule
    short : (k,) float array
    land_cap, floor_cap : (k,) float arrays

    Returns
    -------
    Sizes
    """
    u = np.clip(np.nan_to_num(np.asarray(short, float)), 0, None)
    f, g = rule.floor_per_unit, rule.land_per_unit
    most = min(_per(rule.floor_max, f), _per(rule.land_max, g))
    fits = np.minimum(_per(np.asarray(floor_cap, float), f), _per(np.asarray(land_cap, float), g))
    sized = np.minimum(u, np.minimum(most, fits))
    floor = np.maximum(rule.floor_min, sized * f) if f > 0 else np.full(len(u), rule.floor_min)
    land = np.maximum(rule.land_min, sized * g) if g > 0 else np.full(len(u), rule.land_min)
    units = np.minimum(_per(floor, f), _per(land, g))  # what both its floor and land hold
    closed = np.minimum(u, units)
    at_min = (u * f <= rule.floor_min + 1e-9) & (u * g <= rule.land_min + 1e-9)
    basis = np.where(
        at_min,
        "standard_min",
        np.where(
            sized >= u - 1e-9,
            "shortfall",
            np.where(fits < np.minimum(u, most), "parcel_limit", "standard_max"),
        ),
    ).astype(object)
    return Sizes(land, floor, u, units, closed, u - closed, basis)


def minimum_sizes(land: np.ndarray, floor: np.ndarray) -> Sizes:
    """The standard's minimum sizes, for categories not sized from a shortfall.

    Parameters
    ----------
    land, floor : (k,) float arrays
        The minimum per facility.

    Returns
    -------
    Sizes
        ``basis`` ``standard_min``, no shortfall.
    """
    nan = np.full(len(land), np.nan)
    basis = np.full(len(land), "standard_min", dtype=object)
    return Sizes(np.asarray(land, float), np.asarray(floor, float), nan, nan, nan, nan, basis)


def option_sizes(
    rules: dict[str, SizeRule],
    keys: list[str],
    opt_key: np.ndarray,
    short: np.ndarray,
    need_land: np.ndarray,
    need_floor: np.ndarray,
    land_cap: np.ndarray,
    floor_cap: np.ndarray,
) -> Sizes:
    """Sizes per option: ``short`` (supply units) and the parcel capacities are per option; options
    of categories without a rule take the standard's minimum (``need_land`` / ``need_floor`` per
    key).

    Parameters
    ----------
    rules : dict of str to SizeRule
    keys : list of str
        The instance's categories; ``opt_key`` indexes them.
    opt_key, short, land_cap, floor_cap : (k,) arrays
        Per option.
    need_land, need_floor : (n_keys,) float arrays
        The standard's minimum per category.

    Returns
    -------
    Sizes
    """
    out = minimum_sizes(need_land[opt_key], need_floor[opt_key])
    fields = {name: getattr(out, name).copy() for name in Sizes.__dataclass_fields__}
    for k, key in enumerate(keys):
        rows = np.flatnonzero(opt_key == k)
        if key not in rules or not len(rows):
            continue
        got = size_facilities(rules[key], short[rows], land_cap[rows], floor_cap[rows])
        for name in fields:
            fields[name][rows] = getattr(got, name)
    return Sizes(**fields)
