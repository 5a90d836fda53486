"""The programme's inputs from a run (the eligible compounds with their priority score, bundle,
investment, willingness and the ledger's status) and its ``summary.json["plan"]`` block."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from spatial.analysis.plan.planner import Planner
from spatial.config.schema import PlanConfig, PolicyConfig
from spatial.core import settings
from spatial.core.errors import InputError
from spatial.inputs.parse import file_row, header_key, parse_number

#: the ledger's status words (``data/standards/plan.toml``), read once per run
PLAN_TABLE = settings.STANDARDS_DIR / "plan.toml"


def _words() -> dict:
    return tomllib.loads(PLAN_TABLE.read_text("utf-8"))


def _column(comm: pd.DataFrame, named: str, aliases: list[str], key: str, path: Path) -> str:
    """The column ``named`` in ``[plan] key`` (an error when absent), else the first alias found
    among the headers ('' when none)."""
    headers = {header_key(c): c for c in comm.columns if isinstance(c, str)}
    if named:
        if named in comm:
            return named
        if f"orig_{named}" in comm:
            return f"orig_{named}"
        raise InputError(
            "err_plan_column", path=path, key=key, column=named,
            columns=", ".join(str(c) for c in comm.columns if c != "geometry"),
        )  # fmt: skip
    for alias in aliases:
        if header_key(alias) in headers:
            return headers[header_key(alias)]
    return ""


def statuses(comm: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """Each compound's status code (``done``, ``started``; ``""`` to plan again) from the
    ledger's words (``data/standards/plan.toml``).

    Raises
    ------
    InputError
        A value no word list holds (naming the row, the value and the words).
    """
    if not column:
        return np.full(len(comm), "", object)
    codes = {header_key(w): code for code, words in _words()["status"].items() for w in words}
    raw = comm[column].astype("string").fillna("")
    keys = raw.map(header_key)
    unknown = ~keys.isin(list(codes)).to_numpy(bool)
    if unknown.any():
        pos = int(np.flatnonzero(unknown)[0])
        raise InputError(
            "err_plan_status", path=path, row=file_row(raw, pos), column=column,
            value=raw.iloc[pos], count=int(unknown.sum()), words=str(PLAN_TABLE.name),
        )  # fmt: skip
    found = keys.map(codes).to_numpy(object)
    return np.where(np.isin(found, ("done", "started")), found, "")


def plan_compounds(
    comm: pd.DataFrame, priority: pd.DataFrame, cfg: PlanConfig, path: Path
) -> pd.DataFrame:
    """The :class:`Planner`'s input: every eligible compound with its bundle, tier, priority
    score, households, floor area, investment (万元: the cost column, else floor area ×
    ``unit_cost`` / 10,000), willingness and the ledger's status and year.

    Parameters
    ----------
    comm : DataFrame
        The analysed communities (``eligible``, ``tier``, ``bundle_id``; the planner's own
        columns kept as read).
    priority : DataFrame
        ``cid`` and ``score`` of the eligible communities (``community_priorities``).
    cfg : PlanConfig
    path : Path
        The communities file (named in errors).

    Returns
    -------
    DataFrame
    """
    words = _words()["columns"]
    eligible = comm.loc[comm["eligible"].to_numpy(bool)]
    status_col = _column(eligible, cfg.status_column, words["status"], "status_column", path)
    year_col = _column(eligible, cfg.year_column, words["year"], "year_column", path)
    cost_col = (
        _column(eligible, cfg.cost_column, [], "cost_column", path) if cfg.cost_column else ""
    )
    area = eligible["floor_area"].to_numpy(float) if "floor_area" in eligible else np.nan
    if cost_col:
        investment = parse_number(eligible[cost_col], cost_col, path).to_numpy(float)
    elif cfg.unit_cost:
        investment = area * cfg.unit_cost / 10_000
    else:
        investment = np.full(len(eligible), np.nan)
    year = (
        parse_number(eligible[year_col], year_col, path, "年").to_numpy(float)  # 2026年
        if year_col
        else np.full(len(eligible), np.nan)
    )
    score = priority.set_index("cid")["score"] if len(priority) else pd.Series(dtype=float)
    bundle = eligible.get("bundle_id", pd.Series(pd.NA, index=eligible.index))
    return pd.DataFrame(
        {
            "cid": eligible["cid"].astype(str).to_numpy(),
            "name": eligible["name"].astype(str).to_numpy(),
            "bundle_id": pd.array(bundle.to_numpy(object), dtype="string"),
            "tier": eligible["tier"].astype(str).to_numpy(),
            "score": eligible["cid"].map(score).astype(float).to_numpy(),
            "households": eligible["households"].to_numpy(float),
            "floor_area": area,
            "investment": investment,
            "willingness": eligible["willingness"].to_numpy(float),
            "status": statuses(eligible, status_col, path),
            "status_year": year,
        }
    )


def gate_of(comm: pd.DataFrame, cfg: PlanConfig, policy: PolicyConfig) -> float | None:
    """The willingness gate in force: ``[plan] min_willingness``, else ``[policy]``'s; None when
    the data has no willingness figure at all."""
    if "willingness" not in comm or comm["willingness"].isna().all():
        return None
    return cfg.min_willingness if cfg.min_willingness is not None else policy.min_willingness


def plan_summary(planner: Planner) -> dict:
    """The ``plan`` block of ``summary.json``: the solver's label, the years, the reserve by
    reason, the fixed work, the deadlines and (when infeasible) the diagnosis.

    Parameters
    ----------
    planner : Planner
        Solved.

    Returns
    -------
    dict
    """
    sol, plan, cfg = planner.solution, planner.plan, planner.cfg
    reserve = plan.loc[plan["state"].isin(["reserve", "unplanned"])]
    years = planner.years.copy()
    for col in ("households", "floor_area", "investment"):
        years[col] = years[col].round(1)
    return {
        "start": cfg.start,
        "end": cfg.end,
        "method": sol.method,
        "status": sol.status,
        "objective": round(sol.objective, 3),
        "bound": None if sol.bound is None else round(sol.bound, 3),
        "gap": None if sol.gap is None else round(sol.gap, 6),
        "seconds": round(sol.seconds, 3),
        "compounds": len(plan),
        "caps": dict(planner.caps),
        "gate": planner.gate,
        "years": years.to_dict("records"),
        "done": int((plan["state"] == "done").sum()),
        "started": int((plan["state"] == "started").sum()),
        "planned": int((plan["state"] == "planned").sum()),
        "reserve": int(len(reserve)),
        "reserve_households": float(reserve["households"].sum()),
        "reserve_by_reason": {k: int(v) for k, v in reserve["reason"].value_counts().items()},
        "deadlines": {
            "priority_by": cfg.priority_by or None,
            "share": cfg.share or None,
            "share_by": cfg.share_by or None,
            "share_needed": getattr(planner, "share_need", None),
        },
        "shortfall": planner.shortfall,
        "diagnosis": planner.diagnosis,
        "priority_in_reserve": int(
            ((plan["tier"] == "priority") & plan["state"].isin(["reserve", "unplanned"])).sum()
        ),
    }
