"""The capacity stage's figures: the ``capacity`` block of ``summary.json`` (per category, per
subdistrict) and the same totals per bundle."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.config.indicators import Capacity
from spatial.config.standards import Standards
from spatial.core.messages import Named


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
    Names and units are :class:`~spatial.core.messages.Named` (put in a language by
    ``pipeline.localise_summary``).

    Parameters
    ----------
    communities : GeoDataFrame
        :func:`compute_capacity`'s frame.
    capacity : Capacity
    totals : dict
        :func:`compute_capacity`'s per-category facility totals.
    standards : Standards

    Returns
    -------
    dict
    """
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
            "source_en": ind.source_en or ind.source,
            "verified": ind.verified,
            "caveat": Named(ind.caveat_zh, ind.caveat_en),
            "caveat_en": ind.caveat_en,
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
    """Per bundle (``bundle_id`` set by the bundle stage): the same totals as per subdistrict.

    Parameters
    ----------
    communities : GeoDataFrame
        With the capacity columns and ``bundle_id``.
    capacity : Capacity

    Returns
    -------
    dict
        Bundle id → category → totals; empty before the bundle stage.
    """
    if "bundle_id" not in communities:
        return {}
    ids = communities["bundle_id"]
    members = communities.loc[ids.notna() & (ids.astype(str) != "")]
    bundle = members["bundle_id"].astype(str).to_numpy()
    out: dict[str, dict] = {b: {} for b in sorted(set(bundle))}
    for key, ind in capacity.indicators.items():  # the sums of _totals, per bundle at once
        demand_col = "households" if ind.demand == "households" else f"demand_{ind.demand}"
        states = members[f"{key}_state"]
        sums = (
            pd.DataFrame(
                {
                    "demand": members[demand_col].to_numpy(float),
                    "need": members[f"{key}_need"].to_numpy(float),
                    "got": members[f"{key}_supply"].to_numpy(float),
                    "short": members[f"{key}_short"].to_numpy(float),
                    "n_short": (states == "served_short").to_numpy(int),
                    "n_gap": (states == "gap").to_numpy(int),
                }
            )
            .groupby(bundle, sort=False)
            .sum()  # NaN skipped, as np.nansum in _totals
        )
        for b, s in zip(sums.index, sums.itertuples(index=False), strict=True):
            out[b][key] = {
                "demand": round(float(s.demand), 1),
                "need": round(float(s.need), 1),
                "supply_reaching": round(float(s.got), 1),
                "ratio": round(float(s.got) / float(s.need), 3) if s.need > 0 else None,
                "shortfall": round(float(s.short), 1),
                "communities_short": int(s.n_short),
                "communities_gap": int(s.n_gap),
            }
    return out
