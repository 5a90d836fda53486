"""Which communities are old communities (老旧小区) under the city's policy, and in which tier."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.config.project import PolicyConfig
from spatial.core.messages import Msg, msg

TIERS = ("priority", "standard", "not_eligible", "unknown")


def last_full_year(cutoff: dt.date) -> int:
    """The last build year certainly on or before ``cutoff`` (2005-12-31 → 2005, 2005-06-30 → 2004).

    Parameters
    ----------
    cutoff : datetime.date

    Returns
    -------
    int
    """
    return cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1


def _excluded(communities: gpd.GeoDataFrame, policy: PolicyConfig) -> np.ndarray:
    if not policy.exclude_column:
        return np.zeros(len(communities), bool)
    column = policy.exclude_column
    if column not in communities.columns:
        from spatial.core.errors import ConfigError

        raise ConfigError(
            "err_exclude_column",
            column=column,
            columns=", ".join(c for c in communities.columns if c != "geometry"),
        )
    values = {str(v).strip() for v in policy.exclude_values}
    return communities[column].astype("string").str.strip().isin(values).fillna(False).to_numpy()


def assess_eligibility(communities: gpd.GeoDataFrame, policy: PolicyConfig) -> gpd.GeoDataFrame:
    """Add ``eligible``, ``tier`` (priority / standard / not_eligible / unknown) and
    ``eligibility_reason`` (one line, a :class:`~spatial.core.messages.Msg` put in the output's
    language where it is written) to each community.

    Old: built on or before ``policy.old_cutoff``; priority: on or before ``priority_cutoff``.
    A build year that is unknown, or a decade that straddles a cut-off, is ``unknown`` and never
    silently eligible. Rows matching ``exclude_column`` / ``exclude_values`` (expropriation,
    demolition and rebuild) are not eligible.

    Parameters
    ----------
    communities : GeoDataFrame
        With ``built_year_min``, ``built_year_max``, ``built_raw`` (``load.load_layers``).
    policy : PolicyConfig
        The project's ``[policy]`` cut-offs and exclusions.

    Returns
    -------
    GeoDataFrame
        A copy with ``eligible``, ``tier`` and ``eligibility_reason``.
    """
    old_year = last_full_year(policy.old_cutoff)
    prio_year = last_full_year(policy.priority_cutoff)
    lo = communities["built_year_min"].to_numpy(float)
    hi = communities["built_year_max"].to_numpy(float)
    raw = communities["built_raw"].astype("string").fillna("").to_numpy()
    excluded = _excluded(communities, policy)
    tiers, reasons = [], []
    for i in range(len(communities)):
        tier, reason = _classify(lo[i], hi[i], raw[i], old_year, prio_year, policy)
        if excluded[i]:
            tier = "not_eligible"
            value = communities[policy.exclude_column].iloc[i]
            reason = msg("elig_excluded", column=policy.exclude_column, value=value)
        tiers.append(tier)
        reasons.append(reason)
    out = communities.copy()
    out["tier"] = pd.Categorical(tiers, categories=TIERS)
    out["eligible"] = out["tier"].isin(["priority", "standard"]).to_numpy()
    out["eligibility_reason"] = reasons
    will = out["willingness"].to_numpy(float)
    out["willingness_ok"] = np.where(np.isnan(will), pd.NA, will >= policy.min_willingness)
    return out


def _classify(
    lo: float, hi: float, raw: str, old_year: int, prio_year: int, policy: PolicyConfig
) -> tuple[str, Msg]:
    """The tier of one community from its build years (``lo``–``hi``) and the reason."""
    dates = {"old": policy.old_cutoff.isoformat(), "prio": policy.priority_cutoff.isoformat()}
    if np.isnan(hi):
        return "unknown", msg("elig_unknown_year")
    if lo > old_year:
        return "not_eligible", msg("elig_after_old", raw=raw, **dates)
    if hi > old_year:
        return "unknown", msg("elig_straddles", raw=raw, **dates)
    if hi <= prio_year:
        return "priority", msg("elig_priority", raw=raw, **dates)
    if lo <= prio_year:
        return "standard", msg("elig_standard_unsure", raw=raw, **dates)
    return "standard", msg("elig_standard", raw=raw, **dates)


def eligibility_summary(communities: gpd.GeoDataFrame) -> dict:
    """The ``eligibility`` block of ``summary.json``.

    Parameters
    ----------
    communities : GeoDataFrame
        After :func:`assess_eligibility`.

    Returns
    -------
    dict
        Communities and households ``by_tier``, ``eligible``, ``unknown_build_year`` (ids) and
        ``below_willingness``.
    """
    hh = communities["households"].fillna(0)
    counts = communities["tier"].value_counts()
    return {
        "by_tier": {t: int(counts.get(t, 0)) for t in TIERS},
        "households_by_tier": {t: int(hh[communities["tier"] == t].sum()) for t in TIERS},
        "eligible": int(communities["eligible"].sum()),
        "unknown_build_year": communities.loc[communities["tier"] == "unknown", "cid"]
        .astype(str)
        .tolist(),
        "below_willingness": int((communities["willingness_ok"] == False).sum()),  # noqa: E712
    }
