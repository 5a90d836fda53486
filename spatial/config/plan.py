"""``[plan]`` (年度计划) checked before anything runs: the years, the caps, the deadlines and
the willingness gate (the ``PlanConfig`` dataclass is in :mod:`spatial.config.schema`)."""

from __future__ import annotations

from pathlib import Path

from spatial.core.errors import ConfigError
from spatial.core.messages import msg

#: the longest programme the planner accepts (years)
MAX_YEARS = 30
METHODS = ("exact", "greedy")

_CAPS = ("max_households", "max_floor_area", "max_compounds", "max_investment", "unit_cost")


def check_plan(plan, policy, where: Path) -> None:
    """Raise a :class:`ConfigError` naming the first ``[plan]`` key out of range.

    Parameters
    ----------
    plan : PlanConfig
    policy : PolicyConfig
        Its ``min_willingness`` is the gate when ``[plan] min_willingness`` is not set.
    where : Path
        The project file.
    """
    if not 1900 < plan.start < 2200:
        raise ConfigError(
            "err_cfg_range", path=where, label="[plan] start", value=plan.start,
            allowed=msg("range_plan_year"),
        )  # fmt: skip
    if not plan.start <= plan.end < plan.start + MAX_YEARS:
        raise ConfigError(
            "err_cfg_range", path=where, label="[plan] end", value=plan.end,
            allowed=msg("range_plan_end", start=plan.start, most=plan.start + MAX_YEARS - 1),
        )  # fmt: skip
    for key in _CAPS:
        value = getattr(plan, key)
        if not value >= 0 or value == float("inf"):
            raise ConfigError(
                "err_cfg_range", path=where, label=f"[plan] {key}", value=value,
                allowed=msg("range_cap"),
            )  # fmt: skip
    if not 0 < plan.time_limit_s < float("inf"):
        raise ConfigError(
            "err_cfg_range", path=where, label="[plan] time_limit_s", value=plan.time_limit_s,
            allowed=msg("range_seconds"),
        )  # fmt: skip
    for key in ("priority_by", "share_by"):
        year = getattr(plan, key)
        if year and not plan.start <= year <= plan.end:  # a later one was taken as ``end``
            raise ConfigError(
                "err_cfg_range", path=where, label=f"[plan] {key}", value=year,
                allowed=msg("range_plan_deadline", start=plan.start, end=plan.end),
            )  # fmt: skip
    gate = plan.min_willingness if plan.min_willingness is not None else policy.min_willingness
    for label, share in (("share", plan.share), ("min_willingness", gate)):
        if not 0 <= share <= 1:
            raise ConfigError(
                "err_cfg_range", path=where, label=f"[plan] {label}", value=share,
                allowed=msg("range_share"),
            )  # fmt: skip
    if bool(plan.share) != bool(plan.share_by):
        raise ConfigError("err_cfg_plan_share", path=where, share=plan.share, by=plan.share_by)
    if plan.unit_cost and plan.cost_column:
        raise ConfigError("err_cfg_plan_cost_twice", path=where)
    if plan.max_investment and not (plan.unit_cost or plan.cost_column):
        raise ConfigError("err_cfg_plan_no_cost", path=where)
    if plan.method not in METHODS:
        raise ConfigError(
            "err_cfg_choice", path=where, label="[plan] method", value=plan.method,
            allowed=", ".join(METHODS),
        )  # fmt: skip
