"""What the command line prints: catalogue messages as rich markup (fields always text, through
:mod:`spatial.text.terminal`), the ``check`` report, a run's headline and its data problems. Only
:mod:`spatial.cli.main` calls it."""

from __future__ import annotations

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
    columns and notes; the analysis CRS, the network and the data problems.

    Parameters
    ----------
    console : rich.console.Console
    lang : str
        ``zh`` or ``en``.
    result : RunResult
        ``pipeline.load_inputs``'s result (the layers and the network).
    """
    from spatial.core import crs as crsmod

    project = result.project
    layers = result.layers
    table = Table(title=markup(lang, "cli_check_title", name=project.name))
    for col in ("layer", "rows", "kept", "crs", "repaired", "dropped"):
        table.add_column(text(lang, f"cli_col_{col}"), overflow="fold")
    for r in layers.reports:
        epsg = r.crs.split(" ")[0]
        dropped = "; ".join(f"{text(lang, f'drop_{k}')}: {v}" for k, v in r.dropped.items()) or "-"
        cells = (_layer_name(lang, r.layer), r.rows_read, r.rows_kept, epsg, r.repaired, dropped)
        table.add_row(*(Text(terminal_text(c)) for c in cells))
    console.print(table)
    for r in layers.reports:
        say(console, lang, "cli_layer", layer=_layer_name(lang, r.layer), path=r.path)
        say(
            console,
            lang,
            "cli_columns",
            columns=", ".join(f"{k} ← {v}" for k, v in r.columns.items()) or "-",
        )
        for note in r.notes:
            say(console, lang, "cli_note", note=note.render(lang))
    say(console, lang, "cli_analysis_crs", crs=crsmod.describe(layers.crs))
    net = result.network
    if net is not None:
        say(
            console,
            lang,
            "cli_network",
            nodes=net.n_nodes,
            edges=len(net.edges),
            dropped=net.dropped_nodes,
            share=f"{net.largest_share:.1%}",
            source=net.source,
        )
    else:
        say(console, lang, "cli_no_network")
    _print_warnings(console, lang, [p.record(lang) for p in getattr(layers, "problems", [])])


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
