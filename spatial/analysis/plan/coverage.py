"""How life-circle coverage grows year by year: each recommended site is built in the first year
of the programme in which a compound it newly covers is renovated (the site serves that bundle),
and full coverage (every basket category within reach) is counted after each year."""

from __future__ import annotations

import numpy as np
import pandas as pd


def site_years(sites: pd.DataFrame, plan: pd.DataFrame, start: int) -> np.ndarray:
    """Per site, the year it is built: the earliest programme year of the compounds it newly
    covers (``covered_ids``); finished work before ``start`` counts as ``start``; NaN when none
    of them is in the programme (its compounds wait in the reserve or are not eligible).

    Parameters
    ----------
    sites : DataFrame
        ``covered_ids`` (comma-separated community ids) per site.
    plan : DataFrame
        ``cid`` and ``year`` (NA in the reserve) per eligible compound.
    start : int

    Returns
    -------
    ndarray of float
    """
    year = plan.set_index(plan["cid"].astype(str))["year"].astype("Float64")
    year = year.clip(lower=start).to_numpy(float, na_value=np.nan)
    at = dict(zip(plan["cid"].astype(str), year, strict=True))
    out = np.full(len(sites), np.nan)
    for k, ids in enumerate(sites["covered_ids"].astype(str)):
        found = [at[c] for c in ids.split(",") if c in at and np.isfinite(at[c])]
        out[k] = min(found) if found else np.nan
    return out


def coverage_by_year(
    comm: pd.DataFrame, sites: pd.DataFrame, plan: pd.DataFrame, basket: list[str], years: list
) -> dict:
    """Full coverage of all communities now and after each year of the programme, with the
    recommended sites built in their year (:func:`site_years`).

    Parameters
    ----------
    comm : DataFrame
        All communities: ``cid``, ``households`` and ``<category>_ok``.
    sites : DataFrame
        The recommended sites: ``category`` and ``covered_ids``.
    plan : DataFrame
        The programme (``cid``, ``year``).
    basket : list of str
    years : list of int

    Returns
    -------
    dict
        ``before`` and per year (``by_year``) the shares of households and communities fully
        covered and the sites built that year; ``sites_outside`` (built in no programme year).
    """
    ids = comm["cid"].astype(str).to_numpy()
    pos = {c: i for i, c in enumerate(ids)}
    ok = np.column_stack([comm[f"{k}_ok"].to_numpy(bool) for k in basket])
    hh = comm["households"].fillna(0).to_numpy(float)
    built = site_years(sites, plan, years[0]) if len(sites) else np.zeros(0)
    cats = sites["category"].astype(str).to_numpy() if len(sites) else np.zeros(0, str)

    def shares(flags: np.ndarray) -> dict:
        full = flags.all(axis=1)
        return {
            "full_coverage_households": round(float(hh[full].sum() / (hh.sum() or 1)), 4),
            "full_coverage_communities": round(float(full.mean()) if len(full) else 0.0, 4),
        }

    out = {"before": shares(ok), "by_year": [], "sites_outside": int(np.isnan(built).sum())}
    now = ok.copy()
    for year in years:
        these = np.flatnonzero(built == year)
        for s in these:
            if cats[s] not in basket:
                continue
            col = basket.index(cats[s])
            rows = [pos[c] for c in str(sites["covered_ids"].iloc[s]).split(",") if c in pos]
            now[rows, col] = True
        out["by_year"].append({"year": year, "sites": len(these), **shares(now)})
    return out
