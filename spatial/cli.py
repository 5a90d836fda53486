"""Command line: ``lifecircle run | check | init | coverage | bundle | sites | map | demo``."""

from __future__ import annotations

import argparse
import sys
import traceback
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import settings
from .config import load_project
from .errors import InputError, LifecircleError

STAGES = {
    "run": ("coverage", "bundle", "sites", "map"),
    "coverage": ("coverage",),
    "bundle": ("coverage", "bundle"),
    "sites": ("coverage", "sites"),
    "map": ("coverage", "bundle", "sites", "map"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifecircle",
        description="Old-community renovation planning: 15-minute life-circle coverage, "
        "bundling of adjacent old communities, candidate land, maps and ledgers.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {
        "run": "every stage on the project (default: the embedded demo district)",
        "check": "load and validate only; print what was read, repaired and dropped",
        "coverage": "15-minute life-circle coverage along the walking network",
        "bundle": "eligibility, adjacency and renovation bundles with a priority list",
        "sites": "rank candidate land that would close coverage gaps",
        "map": "write the HTML maps, print maps and the ledger spreadsheet",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--config", type=Path, help="project TOML file (default: the demo)")
        p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help="output folder")
        p.add_argument("--lang", choices=["zh", "en"], help="language of labels")
        p.add_argument("--place", default="", help="download this place's walking network (online)")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        if name in ("run", "map"):
            p.add_argument("--basemap", choices=["osm", "cartodb", "tianditu", "gaode", "none"])
    p = sub.add_parser("init", help="write a commented template project file into DIR")
    p.add_argument("dir", type=Path)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    p = sub.add_parser("demo", help="regenerate the synthetic demo district into DIR")
    p.add_argument("dir", type=Path)
    p.add_argument("--seed", type=int, default=20201)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    return parser


def _init(folder: Path, console: Console) -> int:
    target = folder / "project.toml"
    if target.exists():
        raise InputError(
            "already exists; not overwritten (delete it or choose another folder)", path=target
        )
    from . import io

    text = resources.files("spatial").joinpath("template.toml").read_text("utf-8")
    io.write_text(target, text)
    console.print(
        f"wrote {target}: edit the paths and column names, then `lifecircle check --config {target}`"
    )
    return 0


def _check(args, console: Console) -> int:
    from . import crs as crsmod
    from .pipeline import load

    project = load_project(args.config)
    with console.status("loading…"):
        result = load(project, place=args.place)
    table = Table(title=f"{project.name}: inputs")
    for col in ("layer", "rows read", "kept", "CRS", "repaired", "dropped"):
        table.add_column(col, overflow="fold")
    for r in result.layers.reports:
        epsg = r.crs.split(" ")[0]
        dropped = "; ".join(f"{k}: {v}" for k, v in r.dropped.items()) or "-"
        table.add_row(r.layer, str(r.rows_read), str(r.rows_kept), epsg, str(r.repaired), dropped)
    console.print(table)
    for r in result.layers.reports:
        console.print(f"[bold]{r.layer}[/] ({r.path})")
        console.print(
            "  columns: " + (", ".join(f"{k} ← {v}" for k, v in r.columns.items()) or "-")
        )
        for note in r.notes:
            console.print(f"  note: {note}")
    console.print(f"analysis CRS: {crsmod.describe(result.layers.crs)}")
    net = result.network
    if net is not None:
        console.print(f"walking network: {net.n_nodes} nodes, {len(net.edges)} edges "
                      f"({net.dropped_nodes} disconnected nodes dropped) from {net.source}")  # fmt: skip
    else:
        console.print("walking network: none — straight-line distance × detour factor")
    return 0


def _run(args, console: Console) -> int:
    from .pipeline import run

    project = load_project(args.config)
    if getattr(args, "basemap", None):
        project.render.basemap = args.basemap
    stages = STAGES[args.command]
    with console.status("…") as status:
        result = run(
            project, args.out, stages, args.lang, lambda s: status.update(f"{s}…"), args.place,
            strict_print=args.command == "map",
        )  # fmt: skip
    s = result.summary
    hh = f", {s['households']:,} households" if s["households"] is not None else ""
    console.print(f"[bold]{project.name}[/]: {s['communities']} communities, "
                  f"{s['old_communities']} old{hh}")  # fmt: skip
    if "coverage" in s:
        cov = s["coverage"]
        share, unit = cov["full_coverage_households"], "households"
        if share is None:
            share, unit = cov["full_coverage_communities"], "communities"
        console.print(f"coverage ({cov['distance_mode']}): {share:.1%} of "
                      f"{unit} fully covered (target {cov['national_target']:.0%})")  # fmt: skip
    if "bundles" in s:
        console.print(
            f"bundles: {s['bundles']['count']} ({s['bundles']['communities']} communities)"
        )
    if "sites" in s:
        console.print(f"recommended sites: {s['sites']['count']}")
    if "print_map" in s:
        console.print(f"[yellow]warning[/]: print map {s['print_map']}")
    console.print("wrote: " + ", ".join(str(args.out / p.name) for p in result.files))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=False)
    try:
        if args.command == "init":
            return _init(args.dir, console)
        if args.command == "demo":
            from .demo import write_demo

            paths = write_demo(args.dir, args.seed)
            console.print("wrote " + ", ".join(str(p) for p in paths.values()))
            return 0
        if args.command == "check":
            return _check(args, console)
        return _run(args, console)
    except LifecircleError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
