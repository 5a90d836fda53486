"""The terminal headline of the programme by year (年度计划): the solver's label, one line per
year, the reserve by reason, and — when no programme meets the rules — which deadline or cap
fails and by how much (``summary.json["plan"]``)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from spatial.core.messages import labels, text

Say = Callable[..., None]


def print_plan(console: Console, lang: str, plan: dict, say: Say) -> None:
    """Print the ``plan`` block of a run's summary.

    Parameters
    ----------
    console : rich.console.Console
    lang : str
    plan : dict
        ``summary["plan"]`` (:func:`spatial.analysis.plan.tables.plan_summary`).
    say : callable
        :func:`spatial.cli.terminal.say` (passed in: this module is imported by it).
    """
    say(
        console, lang, "cli_plan_head", start=plan["start"], end=plan["end"],
        method=text(lang, f"plan_method_{plan['method']}"),
        status=text(lang, f"plan_status_{plan['status']}"),
        planned=plan["planned"], reserve=plan["reserve"], done=plan["done"],
        started=plan["started"],
    )  # fmt: skip
    if plan["status"] == "infeasible":
        _print_diagnosis(console, lang, plan, say)
        return
    for y in plan["years"]:
        say(
            console, lang, "cli_plan_year", year=y["year"], compounds=y["compounds"],
            bundles=y["bundles"], households=y["households"] or 0.0,
            area=y["floor_area"] or 0.0, investment=y["investment"] or 0.0,
        )  # fmt: skip
    grows = plan.get("coverage")
    if grows:
        steps = " → ".join(
            text(
                lang, "cli_plan_coverage_step", year=y["year"], share=y["full_coverage_households"]
            )
            for y in grows["by_year"]
        )
        say(console, lang, "cli_plan_coverage", before=grows["before"]["full_coverage_households"],
            steps=steps, outside=grows["sites_outside"])  # fmt: skip
    if plan["status"] == "time_limit" and plan["gap"] is not None:
        say(console, lang, "cli_plan_gap", gap=plan["gap"])
    due = plan["deadlines"]
    short = plan.get("shortfall") or {}
    if short.get("priority"):
        say(console, lang, "cli_plan_shortfall_priority", by=due["priority_by"],
            count=short["priority"])  # fmt: skip
    if short.get("share"):
        say(console, lang, "cli_plan_shortfall_share", by=due["share_by"], count=short["share"])
    reasons = plan["reserve_by_reason"]
    if reasons:
        sep = labels(lang)["ledger"]["sep"] if lang == "zh" else ", "
        listed = sep.join(
            text(lang, "cli_plan_reason", reason=text(lang, f"plan_reason_{k}"), count=n)
            for k, n in reasons.items()
        )
        say(console, lang, "cli_plan_reserve", reasons=listed)
    if plan["priority_in_reserve"] and due["priority_by"]:
        say(console, lang, "cli_plan_priority_reserve", count=plan["priority_in_reserve"])


def _print_diagnosis(console: Console, lang: str, plan: dict, say: Say) -> None:
    """Why no programme meets the rules: the deadlines' shortfall within the caps, the caps the
    deadlines need, the caps the fixed work alone exceeds."""
    say(console, lang, "cli_plan_infeasible")
    found = plan.get("diagnosis") or {}
    due = plan["deadlines"]
    for over in found.get("fixed_over", []):
        say(console, lang, "cli_plan_fixed_over", year=over["year"],
            figure=text(lang, f"plan_figure_{over['figure']}"), excess=over["excess"])  # fmt: skip
    if found.get("priority"):
        say(console, lang, "cli_plan_missed_priority", by=due["priority_by"],
            count=found["priority"])  # fmt: skip
    if found.get("share"):
        say(console, lang, "cli_plan_missed_share", by=due["share_by"], share=due["share"],
            count=found["share"])  # fmt: skip
    for figure, value in (found.get("caps") or {}).items():
        say(console, lang, "cli_plan_cap_needed", figure=text(lang, f"plan_figure_{figure}"),
            value=value, cap=plan["caps"][figure])  # fmt: skip
    if found.get("proved") is False:
        say(console, lang, "cli_plan_diagnosis_unproved")
