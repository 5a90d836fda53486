"""What the command line prints: catalogue messages as rich markup (fields always text, through
:mod:`spatial.text.terminal`), the ``check`` report, a run's headline and its data problems. Only
:mod:`spatial.cli.main` calls it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spatial.core.messages import labels, render, text
from spatial.text.terminal import markup, terminal_text

if TYPE_CHECKING:
    from spatial.analysis.result import RunResult


def new_console() -> Console:
    """The terminal: no emoji codes or wrapping inside data text (``:x:`` stays ``:x:``)."""
    return Console(emoji=False, soft_wrap=True)


def say(console: Console, lang: str, key: str, **fields: object) -> None:
    """Print catalogue message ``key`` (see :func:`markup`).

    Parameters
    ----------
    console : rich.console.Console
    lang : str
    key : str
    **fields
    """
    console.print(markup(lang, key, **fields))


def _layer_name(lang: str, layer: str) -> str:
    """A layer's name in ``lang`` (``layer_<name>`` in the catalogue), else its key."""
    return labels(lang).get(f"layer_{layer}", layer)


def _print_warnings(console: Console, lang: str, records: list[dict]) -> None:
    """The data problems of a run or a check, one line each (``summary["warnings"]`` records)."""
    if not records:
        return
    say(console, lang, "cli_warnings", count=len(records))
    for r in records:
        say(
            console,
            lang,
            "cli_warning",
            layer=_layer_name(lang, str(r.get("layer", ""))),
            message=r.get("message", r.get("code", "")),
        )


def print_check(console: Console, lang: str, result: RunResult) -> None:
    """What ``lifecircle check`` read: per layer the rows read, kept, repaired and dropped, its
    columns and notes; the analysis CRS, the network and the data problems (the records of
    :func:`spatial.workflow.report.check_report`, which the app's check page shows too).

    Parameters
    ----------
    console : rich.console.Console
    lang : str
        ``zh`` or ``en``.
    result : RunResult
        ``pipeline.load_inputs``'s result (the layers and the network).
    """
    from spatial.workflow.report import CHECK_COLUMNS, check_report

    report = check_report(result, lang)
    table = Table(title=markup(lang, "cli_check_title", name=report["name"]))
    for col in CHECK_COLUMNS:
        table.add_column(text(lang, f"cli_col_{col}"), overflow="fold")
    for cells in report["rows"]:
        table.add_row(*(Text(terminal_text(c)) for c in cells))
    console.print(table)
    for layer in report["layers"]:
        say(console, lang, "cli_layer", layer=layer["name"], path=layer["path"])
        columns = ", ".join(f"{k} ← {v}" for k, v in layer["columns"].items()) or "-"
        say(console, lang, "cli_columns", columns=columns)
        for note in layer["notes"]:
            say(console, lang, "cli_note", note=note)
    say(console, lang, "cli_analysis_crs", crs=report["crs"])
    if report["network"] is not None:
        say(console, lang, "cli_network", **report["network"])
    else:
        say(console, lang, "cli_no_network")
    _print_warnings(console, lang, report["warnings"])


def print_summary(
    console: Console, lang: str, s: dict, name: str, names: dict[str, str] | None = None
) -> None:
    """The headline of a run: counts, coverage now and after the sites, how the sites were sized,
    bundles, problems.

    Parameters
    ----------
    console : rich.console.Console
    lang : str
        ``zh`` or ``en``.
    s : dict
        The run's ``summary.json`` (localised: its warnings are records with a message).
    name : str
        The project's name.
    names : dict of str to str, optional
        Category key → label in ``lang``.
    """
    households = s.get("households")
    old = s.get("old_communities", 0)
    if households:
        say(
            console,
            lang,
            "cli_summary",
            name=name,
            communities=s["communities"],
            old=old,
            households=households,
        )
    else:
        say(
            console,
            lang,
            "cli_summary_no_households",
            name=name,
            communities=s["communities"],
            old=old,
        )
    for note in s.get("headline_notes", []):  # e.g. basket categories with no facility in the data
        say(console, lang, "cli_headline_note", note=note)
    if "coverage" in s:
        cov = s["coverage"]
        lab = labels(lang)
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        key = "cli_coverage" if households else "cli_coverage_communities"
        share = cov["full_coverage_households" if households else "full_coverage_communities"]
        say(
            console,
            lang,
            key,
            basket=len(cov.get("basket", ())),
            mode=mode,
            share=share,
            target=cov["national_target"],
        )
        from spatial.analysis.coverage.basis import pace_text, threshold_text  # not for --help

        console.print(
            Text(terminal_text(threshold_text(cov, lambda k: (names or {}).get(k, k), lang)))
        )
        pace = pace_text(cov, lambda k: (names or {}).get(k, k), lang, _pace_source(cov))
        if pace:
            console.print(Text(terminal_text(pace)))
        _print_basis(console, lang, cov.get("access_basis") or {}, names or {}, households)
    if "sites" in s and (households or s["sites"].get("weights") == "communities"):
        sites = s["sites"]
        key = "cli_coverage_after" if households else "cli_coverage_after_communities"
        unit = "households" if households else "communities"
        say(
            console,
            lang,
            key,
            count=sites["count"],
            after=sites[f"full_coverage_{unit}_after"],
            before=sites[f"full_coverage_{unit}_before"],
            other=sites.get("needs_other_measures", 0),
        )
    if "sites" in s:
        _print_sizing(console, lang, s["sites"], names or {})
    if "bundles" in s:
        say(
            console,
            lang,
            "cli_bundles",
            count=s["bundles"]["count"],
            communities=s["bundles"]["communities"],
        )
    if "plan" in s:
        from spatial.cli.plan_lines import print_plan  # not for --help

        print_plan(console, lang, s["plan"], say)
    _print_warnings(console, lang, s.get("warnings", []))
    if "print_map" in s:
        say(console, lang, "cli_print_map_skipped", reason=s["print_map"])


def _pace_source(cov: dict) -> str:
    """The cited source of the slower groups' walking speed (``walk_speeds.toml``)."""
    from spatial.config.standards import load_walk_speeds

    groups = {v["group"] for v in (cov.get("pace") or {}).values()}
    return "; ".join(load_walk_speeds()[g].get("source", "") for g in sorted(groups))


def _print_basis(
    console: Console, lang: str, block: dict, names: dict[str, str], households: bool
) -> None:
    """With gates: how many communities were measured from gates and from outlines, and per
    category what measuring from the gates took away (``summary["coverage"]["access_basis"]``)."""
    if not block.get("gates"):
        return
    inner = text(lang, f"inner_{block.get('inner_walk') or 'none'}")
    say(
        console,
        lang,
        "cli_access_basis",
        gates=block["gates"],
        outline=block["outline"],
        inner=inner,
    )
    sources = block.get("gate_sources") or {}
    if "osm_crossing" in sources:  # [gates] path = "osm": nodes and footway crossings
        say(
            console,
            lang,
            "cli_gate_sources",
            nodes=sources["osm_node"],
            crossings=sources["osm_crossing"],
        )
    full = block.get("full_coverage") or {}
    if full.get("lost_communities"):
        say(
            console,
            lang,
            "cli_gates_full_lost" if households else "cli_gates_full_lost_communities",
            communities=full["lost_communities"],
            households=full["lost_households"] or 0,
        )
    key = "cli_gates_lost" if households else "cli_gates_lost_communities"
    for cat, change in (block.get("categories") or {}).items():
        if change["lost_communities"]:
            say(
                console,
                lang,
                key,
                name=names.get(cat, cat),
                communities=change["lost_communities"],
                households=change["lost_households"] or 0,
            )


def _print_sizing(console: Console, lang: str, sites: dict, names: dict[str, str]) -> None:
    """How many facilities the capacity shortfall sized, and per category the shortfall of the
    communities the sites serve, closed and left (``summary["sites"]["sizing"]``)."""
    sizing = sites.get("sizing") or {}
    if not sizing.get("by_category"):
        return
    say(console, lang, "cli_sizing", sized=sizing["sites_from_shortfall"], count=sites["count"])
    sized = set(sizing.get("categories_sized") or sizing["by_category"])
    for key, block in sizing["by_category"].items():
        if key not in sized or not (block["shortfall"] or block["closed"] or block["left"]):
            continue  # not sized from a shortfall, or nothing to say: no row of zeros
        say(
            console,
            lang,
            "cli_sizing_category",
            name=names.get(key, key),
            shortfall=block["shortfall"],
            closed=block["closed"],
            left=block["left"],
            unit=render(block["unit"], lang),
        )


@contextmanager
def batch_progress(console: Console, lang: str, total: int) -> Iterator[Callable[[dict], None]]:
    """A progress bar over the projects of a batch; yields the callback that marks one project
    (a record of :func:`spatial.workflow.batch.run_project`) as finished."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(markup(lang, "cli_batch_running"), total=total)

        def done(record: dict) -> None:
            bar.advance(task)
            key = "cli_batch_ok" if record["status"] == "ok" else "cli_batch_failed"
            bar.console.print(Text(f"{terminal_text(record['name'])}: {text(lang, key)}"))

        yield done


def print_batch(console: Console, lang: str, region: str, records: list[dict]) -> None:
    """The final table of a batch: each project, done or failed, its communities, its headline
    share now and after the sites, and its seconds; then each failure's one-line message."""
    from spatial.outputs.style import share_text
    from spatial.workflow.region import after_sites, headline

    ok = sum(r["status"] == "ok" for r in records)
    console.print(markup(lang, "cli_batch_title", region=region, ok=ok, failed=len(records) - ok))
    table = Table(show_lines=False)
    for key in ("project", "status", "communities", "coverage", "seconds"):
        table.add_column(text(lang, f"cli_batch_col_{key}"))
    for r in records:
        figures = ["", ""]
        if r["status"] == "ok":
            s = r["summary"]
            shares = f"{share_text(headline(s))} → {share_text(after_sites(s))}"
            figures = [str(s.get("communities", "")), shares]
            status = Text(text(lang, "cli_batch_ok"), style="green")
        else:
            status = Text(text(lang, "cli_batch_failed"), style="red")
        seconds = f"{r.get('seconds', 0):.1f}"
        table.add_row(
            Text(terminal_text(r["name"])), status, *(Text(v) for v in figures), Text(seconds)
        )
    console.print(table)
    for r in records:  # each failure's one line, unwrapped
        if r["status"] != "ok":
            say(console, lang, "cli_batch_failure", name=r["name"], message=r["message"])
