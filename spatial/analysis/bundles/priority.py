"""The priority list for the annual plan: a transparent score for each eligible community and bundle."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.config.project import PolicyConfig, PriorityConfig
from spatial.core.messages import Joined, date_msg, msg

PARTS = ("tier", "gaps", "willingness", "infrastructure", "funding", "shortfall")


def _scaled(values: np.ndarray) -> np.ndarray:
    """0-1 by the largest value (0 where all are missing or zero)."""
    top = np.nanmax(values) if np.isfinite(values).any() else 0
    return np.where(np.isfinite(values), values / top, 0.0) if top > 0 else np.zeros(len(values))


def score(frame: pd.DataFrame, weights: PriorityConfig, policy: PolicyConfig) -> pd.DataFrame:
    """Score rows with ``priority_share`` (0-1), ``gap_households`` (households × missing basket
    categories), ``willingness``, ``infrastructure_deficit``, ``funding_share``.

    Each part is scaled to 0-1 and multiplied by its weight; parts whose column is absent or empty
    score 0 and say so. Returns the parts, ``score``, ``rank`` and a ``reasons`` line (put in the output's language where it is
    written).

    Parameters
    ----------
    frame : DataFrame
        Communities or bundles with the part columns above.
    weights : PriorityConfig
        The ``[priority]`` weights.
    policy : PolicyConfig
        Names the cut-offs in the reasons.

    Returns
    -------
    DataFrame
        ``score_<part>`` per part, ``score``, ``rank`` (1 = first), ``reasons`` (a ``Joined``
        of messages) and ``willingness_flag``.
    """
    n = len(frame)
    parts = {
        "tier": frame["priority_share"].to_numpy(float) * 1.0,
        "gaps": _scaled(frame["gap_households"].to_numpy(float)),
        "willingness": np.nan_to_num(frame["willingness"].to_numpy(float), nan=0.0),
        "infrastructure": _scaled(frame["infrastructure_deficit"].to_numpy(float)),
        "funding": np.nan_to_num(frame["funding_share"].to_numpy(float), nan=0.0),
        "shortfall": _scaled(frame["shortfall"].to_numpy(float))
        if "shortfall" in frame
        else np.zeros(n),
    }
    out = pd.DataFrame(index=frame.index)
    total = np.zeros(n)
    for name in PARTS:
        weighted = np.round(parts[name] * getattr(weights, name), 2)
        out[f"score_{name}"] = weighted
        total += weighted
    out["score"] = np.round(total, 2)
    out["rank"] = out["score"].rank(ascending=False, method="first").astype(int)
    will = frame["willingness"].to_numpy(float)
    low = msg("flag_willingness_low", min=_share_text(policy.min_willingness))
    unknown = msg("flag_willingness_unknown")
    out["willingness_flag"] = [
        unknown if np.isnan(w) else low if w < policy.min_willingness else "" for w in will
    ]
    cols = {c: frame[c].to_numpy() for c in frame.columns}  # rows as dicts: no Series per row
    mine = {c: out[c].to_numpy() for c in ("willingness_flag", "score")}
    out["reasons"] = [
        _reasons({c: v[k] for c, v in cols.items()}, {c: v[k] for c, v in mine.items()}, policy)
        for k in range(n)
    ]
    return out


def shortfall_share(frame: pd.DataFrame) -> np.ndarray:
    """Per row: Σ over capacity categories of shortfall / need (``<cat>_short``, ``<cat>_need``
    from spatial.analysis.capacity.twostep); 0 where none is known.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    (n,) float array
    """
    total = np.zeros(len(frame))
    for col in frame.columns:
        if col.endswith("_short") and f"{col[:-6]}_need" in frame:
            need = frame[f"{col[:-6]}_need"].to_numpy(float)
            short = frame[col].to_numpy(float)
            total += np.nan_to_num(np.divide(short, need, out=np.zeros(len(need)), where=need > 0))
    return total


def _share_text(share: float) -> str:
    """A willingness threshold as policy documents write it: 2/3, else a percentage."""
    return "2/3" if abs(share - 2 / 3) < 1e-9 else f"{share:.0%}"


def _reasons(row, parts, policy: PolicyConfig) -> Joined:
    """The reasons line of one row, put in a language where it is written (the cut-off named
    from ``policy``)."""
    years = {"priority_by": date_msg(policy.priority_cutoff)}
    bits: list = []
    if row["priority_share"] >= 1:
        bits.append(msg("reason_priority", **years))
    elif row["priority_share"] > 0:
        bits.append(msg("reason_priority_share", share=row["priority_share"], **years))
    if row["gap_households"] > 0:
        bits.append(msg("reason_gap_households", n=row["gap_households"]))
    if pd.notna(row["willingness"]):
        bits.append(msg("reason_willingness", share=row["willingness"]))
    if pd.notna(row["infrastructure_deficit"]):
        bits.append(msg("reason_infrastructure", n=row["infrastructure_deficit"]))
    if pd.notna(row["funding_share"]):
        bits.append(msg("reason_funding", share=row["funding_share"]))
    if parts["willingness_flag"]:
        bits.append(parts["willingness_flag"])
    bits.append(msg("reason_score", score=parts["score"]))
    return Joined(tuple(bits), "sep_reasons")


def community_priorities(
    comm: gpd.GeoDataFrame, weights: PriorityConfig, policy: PolicyConfig
) -> gpd.GeoDataFrame:
    """Eligible communities ordered by score, with the parts and reasons.

    Parameters
    ----------
    comm : GeoDataFrame
        Communities after eligibility (``eligible``, ``tier``), optionally with coverage
        (``gaps``), capacity and ``bundle_id`` columns.
    weights : PriorityConfig
        The ``[priority]`` weights (a weight of 0 leaves its part out).
    policy : PolicyConfig
        Names the priority cut-off in the reasons.

    Returns
    -------
    GeoDataFrame
        One row per eligible community: ``score_<part>`` columns, ``score``, ``rank`` (1 = first)
        and ``reasons``, sorted by rank.
    """
    eligible = comm.loc[comm["eligible"]].copy()
    gaps = eligible.get("gaps", 0)
    frame = pd.DataFrame(
        {
            "priority_share": (eligible["tier"] == "priority").astype(float),
            "gap_households": eligible["households"].fillna(0) * gaps,
            "willingness": eligible["willingness"],
            "infrastructure_deficit": eligible["infrastructure_deficit"],
            "funding_share": eligible["funding_share"],
            "shortfall": shortfall_share(eligible),
        },
        index=eligible.index,
    )
    scored = score(frame, weights, policy)
    keep = ["cid", "name", "subdistrict", "built_raw", "tier", "households", "bundle_id", "gaps"]
    base = eligible[[c for c in keep if c in eligible] + ["geometry"]]
    out = gpd.GeoDataFrame(
        pd.concat([base, frame[["gap_households"]], scored], axis=1),
        geometry="geometry",
        crs=comm.crs,
    )
    return out.sort_values("rank").reset_index(drop=True)


def bundle_priorities(
    bundles: gpd.GeoDataFrame, comm: gpd.GeoDataFrame, weights: PriorityConfig, policy: PolicyConfig
) -> pd.DataFrame:
    """Bundles scored from their members: household-weighted shares and means.

    Parameters
    ----------
    bundles : GeoDataFrame
        From ``bundle_tables.bundle_frame``.
    comm : GeoDataFrame
        The communities with ``bundle_id``, ``tier``, ``households`` and the scored columns.
    weights, policy : PriorityConfig, PolicyConfig
        As in :func:`community_priorities`.

    Returns
    -------
    DataFrame
        One row per bundle with its parts, ``score``, ``rank`` and ``reasons``, sorted by rank.
    """
    if len(bundles) == 0:
        return pd.DataFrame(columns=["bundle_id", "score", "rank", "reasons"])
    rows = []
    ids = comm["bundle_id"]
    at = pd.Series(np.arange(len(comm))).groupby(ids.to_numpy(), sort=False).agg(list)
    shortfall = shortfall_share(comm)  # per row, so per member the same as on the whole frame
    facts = ("households", "tier", "gaps", "willingness", "infrastructure_deficit", "funding_share")
    narrow = pd.DataFrame(comm[[c for c in facts if c in comm]])  # one take per bundle below
    for bid in bundles["bundle_id"]:
        rows_of = at.get(bid, [])
        m = narrow.iloc[rows_of]  # its members in row order, as comm["bundle_id"] == bid
        hh = m["households"].fillna(0).to_numpy(float)
        weight = hh if hh.sum() > 0 else np.ones(len(m))
        rows.append(
            {
                "priority_share": float(np.average(m["tier"] == "priority", weights=weight)),
                "gap_households": float((hh * m.get("gaps", 0)).sum()),
                "willingness": _wmean(m["willingness"], weight),
                "infrastructure_deficit": _wmean(m["infrastructure_deficit"], weight),
                "funding_share": _wmean(m["funding_share"], weight),
                "shortfall": _wmean(pd.Series(shortfall[rows_of]), weight),
            }
        )
    frame = pd.DataFrame(rows, index=bundles.index)
    scored = score(frame, weights, policy)
    out = pd.concat(
        [bundles[["bundle_id", "members", "households", "description"]], frame, scored], axis=1
    )
    return out.sort_values("rank").reset_index(drop=True)


def _wmean(values: pd.Series, weight: np.ndarray) -> float:
    v = values.to_numpy(float)
    ok = np.isfinite(v)
    return (
        float(np.average(v[ok], weights=weight[ok]))
        if ok.any() and weight[ok].sum() > 0
        else np.nan
    )
