"""Demand per community for the capacity stage: the people who use each category (households,
residents, the age groups), from the community's own columns or estimated from households with
the demographic settings, and the warning that names the communities estimated with a census
default (``demand_defaults``) — said by ``run`` and by ``check`` alike."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from spatial.config.indicators import Capacity
from spatial.config.project import DEMOGRAPHIC_KEYS
from spatial.core.messages import Joined, msg
from spatial.core.problems import Problem, problem

#: how the warning names a default setting it used (the catalogue's ``demand_default_*``)
_SAID = {
    "persons_per_household": lambda v: msg("demand_default_persons_per_household", value=f"{v:g}"),
    "older": lambda v: msg("demand_default_older", value=f"{v:.1%}"),
    "infants": lambda v: msg("demand_default_infants", value=f"{v:.1%}"),
    "preschoolers": lambda v: msg("demand_default_preschoolers", value=f"{v:.1%}"),
}


def community_demand(communities: gpd.GeoDataFrame, capacity: Capacity) -> dict[str, np.ndarray]:
    """Demand per community for each base (households, population and the age groups): the
    community's own column where given, else households × persons per household × share, with
    the subdistrict's settings over the project's over the census defaults. NaN = unknown.

    Parameters
    ----------
    communities : GeoDataFrame
        With ``households``, ``subdistrict`` and optional ``population``, ``older``,
        ``infants``, ``preschoolers``.
    capacity : Capacity

    Returns
    -------
    dict of str to (n,) float array
        Keys ``households``, ``population`` and the age groups.
    """
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


def default_demand(communities: gpd.GeoDataFrame, capacity: Capacity) -> Problem | None:
    """``demand_defaults``: the communities whose demand an indicator reads (residents or an age
    group) was estimated with a demographic setting left at the census default of
    ``capacity.toml`` (persons per household about 2.6, age shares quoted from the bulletin or
    approximated) — a warning naming them and the defaults used for them (a project that gives
    its residents per community is not told about persons per household), or None when every
    setting used was given.

    Parameters
    ----------
    communities : GeoDataFrame
        With ``subdistrict`` and optional ``population`` and age-group columns.
    capacity : Capacity

    Returns
    -------
    Problem or None
    """
    bases = {ind.demand for ind in capacity.indicators.values()} - {"households"}
    if not bases or not capacity.defaults:
        return None
    n = len(communities)
    subs = communities["subdistrict"].fillna("").astype(str).to_numpy()
    own = {c: communities[c].to_numpy(float) if c in communities else np.full(n, np.nan) for c in
           ("population", *DEMOGRAPHIC_KEYS[1:])}  # fmt: skip
    # residents are estimated (households × persons) where no column gives what a base reads
    needs_population = np.full(n, "population" in bases)
    for base in bases - {"population"}:
        needs_population |= ~np.isfinite(own[base])
    estimated = {"persons_per_household": ~np.isfinite(own["population"]) & needs_population}
    estimated |= {key: ~np.isfinite(own[key]) for key in bases if key != "population"}
    hit, used = np.zeros(n, bool), []
    for key in capacity.defaults:
        if key not in estimated:
            continue  # a share no indicator reads
        rows = estimated[key].copy()
        for sub, table in capacity.subdistricts.items():
            if key in table:  # a subdistrict's own value is not the default
                rows[subs == sub] = False
        if rows.any():
            hit |= rows
            used.append(key)
    if not hit.any():
        return None
    d = capacity.demographics
    settings = tuple(_SAID[key](d[key]) for key in DEMOGRAPHIC_KEYS if key in used)
    return problem(
        "demand_defaults",
        "communities",
        communities["cid"].astype(str).to_numpy()[hit],
        settings=Joined(settings),
    )
