"""Command line: ``lifecircle run | check | init | coverage | bundle | sites | map | demo``."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
import traceback
from importlib import resources
from numbers import Number
from pathlib import Path
from string import Formatter

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import settings
from .config import load_project
from .errors import InputError, InterruptedAfterWrite, LifecircleError, OutputError
from .messages import LANGS, labels, text


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
    for name, blurb in helps.items():
        p = sub.add_parser(name, help=blurb, description=blurb)
        p.add_argument(
            "--config",
            type=_project_file,
            help="project TOML file, or a folder with project.toml (default: the demo)",
        )
        p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help="output folder")
        p.add_argument("--lang", choices=["zh", "en"], help="language of labels")
        p.add_argument("--place", default="", help="download this place's walking network (online)")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        if name in ("run", "map"):
            p.add_argument(
                "--basemap", choices=["osm", "cartodb", "tianditu", "tianditu_img", "gaode", "none"]
            )
            p.add_argument(
                "--tianditu-key",
                default="",
                help="天地图 key (default: TIANDITU_KEY, then [render] tianditu_key)",
            )
    p = sub.add_parser("init", help="write a commented template project file into DIR")
    p.add_argument("dir", type=Path)
    p.add_argument("--lang", choices=["zh", "en"], help="language of messages")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    p = sub.add_parser(
        "demo", help="write the synthetic demo district and its project.toml into DIR"
    )
    p.add_argument("dir", type=Path)
    p.add_argument("--seed", type=int, default=20201)
    p.add_argument("--lang", choices=["zh", "en"], help="language of messages")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    return parser


def _project_file(value: str) -> Path:
    """``--config``: a project file, or a folder holding ``project.toml``."""
    path = Path(value)
    return path / "project.toml" if path.is_dir() else path


def _console() -> Console:
    """The terminal: no emoji codes or wrapping inside data text (``:x:`` stays ``:x:``)."""
    return Console(emoji=False, soft_wrap=True)


def _markup(lang: str, key: str, **fields: object) -> str:
    """Catalogue message ``key`` as rich markup: the template may hold markup, the fields never do.

    Numbers are formatted by the template; any other field is escaped text. Rich reads a backslash
    only before ``[``, so a field's trailing backslashes are doubled just where the template goes
    on with ``[`` (``rich.markup.escape`` alone cannot know what follows).
    """
    template = labels(lang).get(key) or labels("en")[key]
    parts = list(Formatter().parse(template))
    out = []
    for k, (literal, name, spec, _) in enumerate(parts):
        out.append(literal)
        if name is None:
            continue
        value = fields[name]
        if isinstance(value, Number):
            out.append(format(value, spec or ""))
            continue
        value = str(value)
        body = value.rstrip("\\")
        tail = value[len(body) :]
        follows = parts[k + 1][0] if k + 1 < len(parts) else ""
        out.append(escape(body) + (tail * 2 if follows.startswith("[") else tail))
    return "".join(out)


def _say(console: Console, lang: str, key: str, **fields: object) -> None:
    """Print catalogue message ``key`` (see :func:`_markup`)."""
    console.print(_markup(lang, key, **fields))


def _lang(args: argparse.Namespace, project=None) -> str:
    """``--lang``, else the project's language, else the project file's, else Chinese."""
    if getattr(args, "lang", None):
        return args.lang
    if project is not None:
        return project.lang
    try:
        path = getattr(args, "config", None) or settings.DEMO_PROJECT
        lang = tomllib.loads(Path(path).read_text("utf-8")).get("project", {}).get("lang", "zh")
    except (OSError, ValueError, AttributeError):
        return "zh"
    return lang if lang in LANGS else "zh"


def _layer_name(lang: str, layer: str) -> str:
    return labels(lang).get(f"layer_{layer}", layer)


def _print_warnings(console: Console, lang: str, records: list[dict]) -> None:
    """The data problems of a run or a check, one line each (``summary["warnings"]`` records)."""
    if not records:
        return
    _say(console, lang, "cli_warnings", count=len(records))
    for r in records:
        _say(
            console,
            lang,
            "cli_warning",
            layer=_layer_name(lang, str(r.get("layer", ""))),
            message=r.get("message", r.get("code", "")),
        )


def _init(folder: Path, console: Console, lang: str = "zh") -> int:
    if folder.exists() and not folder.is_dir():
        raise InputError("err_not_folder", path=folder)
    target = folder / "project.toml"
    if target.exists():
        raise InputError("err_exists", path=folder, paths=target.name)
    from . import io

    template = resources.files("spatial").joinpath("template.toml").read_text("utf-8")
    try:
        io.write_text(target, template)
    except OSError as exc:
        raise OutputError("err_cannot_write", path=target, reason=exc.strerror or exc) from None
    _say(console, lang, "cli_init_done", path=target, folder=folder)
    return 0


def _demo(args: argparse.Namespace, console: Console) -> int:
    from .demo import demo_paths, write_demo

    lang = _lang(args)
    if args.dir.exists() and not args.dir.is_dir():
        raise InputError("err_not_folder", path=args.dir)
    taken = [p for p in demo_paths(args.dir).values() if p.exists() or p.is_symlink()]
    if taken:
        raise InputError("err_exists", path=args.dir, paths=", ".join(p.name for p in taken))
    paths = write_demo(args.dir, args.seed)
    _say(
        console,
        lang,
        "cli_demo_done",
        files=", ".join(str(p) for p in paths.values()),
        folder=args.dir,
    )
    return 0


def _check(args, console: Console) -> int:
    from . import crs as crsmod
    from .pipeline import load_inputs

    project = load_project(args.config)
    lang = _lang(args, project)
    with console.status(text(lang, "cli_working")):
        result = load_inputs(project, place=args.place)
    layers = result.layers
    table = Table(title=_markup(lang, "cli_check_title", name=project.name))
    for col in ("layer", "rows", "kept", "crs", "repaired", "dropped"):
        table.add_column(text(lang, f"cli_col_{col}"), overflow="fold")
    for r in layers.reports:
        epsg = r.crs.split(" ")[0]
        dropped = "; ".join(f"{text(lang, f'drop_{k}')}: {v}" for k, v in r.dropped.items()) or "-"
        cells = (_layer_name(lang, r.layer), r.rows_read, r.rows_kept, epsg, r.repaired, dropped)
        table.add_row(*(Text(str(c)) for c in cells))
    console.print(table)
    for r in layers.reports:
        _say(console, lang, "cli_layer", layer=_layer_name(lang, r.layer), path=r.path)
        _say(
            console,
            lang,
            "cli_columns",
            columns=", ".join(f"{k} ← {v}" for k, v in r.columns.items()) or "-",
        )
        for note in r.notes:
            _say(console, lang, "cli_note", note=note.render(lang))
    _say(console, lang, "cli_analysis_crs", crs=crsmod.describe(layers.crs))
    net = result.network
    if net is not None:
        _say(
            console,
            lang,
            "cli_network",
            nodes=net.n_nodes,
            edges=len(net.edges),
            dropped=net.dropped_nodes,
            source=net.source,
        )
    else:
        _say(console, lang, "cli_no_network")
    _print_warnings(console, lang, [p.record(lang) for p in getattr(layers, "problems", [])])
    return 0


def _run(args, console: Console) -> int:
    from .pipeline import run

    project = load_project(args.config)
    lang = _lang(args, project)
    if getattr(args, "basemap", None):
        project.render.basemap = args.basemap
    if hasattr(args, "tianditu_key"):
        key = args.tianditu_key or os.environ.get("TIANDITU_KEY", "")
        project.render.tianditu_key = key or project.render.tianditu_key
    stages = settings.COMMAND_STAGES[args.command]

    def progress(stage: str) -> None:
        name = labels(lang).get(f"stage_{stage}", stage)
        status.update(_markup(lang, "cli_stage", stage=name))

    with console.status(text(lang, "cli_working")) as status:
        result = run(
            project,
            args.out,
            stages,
            args.lang,
            progress,
            args.place,
            strict_print=args.command == "map",
        )
    names = {k: c.label(lang) for k, c in result.standards.categories.items()}
    _print_summary(console, lang, result.summary, project.name, names)
    _say(console, lang, "cli_wrote", files=", ".join(str(args.out / p.name) for p in result.files))
    return 0


def _print_summary(
    console: Console, lang: str, s: dict, name: str, names: dict[str, str] | None = None
) -> None:
    """The headline of a run: counts, coverage now and after the sites, how the sites were sized,
    bundles, problems. ``names``: category key → label in ``lang``."""
    households = s.get("households")
    old = s.get("old_communities", 0)
    if households:
        _say(
            console,
            lang,
            "cli_summary",
            name=name,
            communities=s["communities"],
            old=old,
            households=households,
        )
    else:
        _say(
            console,
            lang,
            "cli_summary_no_households",
            name=name,
            communities=s["communities"],
            old=old,
        )
    if "coverage" in s:
        cov = s["coverage"]
        lab = labels(lang)
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        key = "cli_coverage" if households else "cli_coverage_communities"
        share = cov["full_coverage_households" if households else "full_coverage_communities"]
        _say(
            console,
            lang,
            key,
            basket=len(cov.get("basket", ())),
            mode=mode,
            share=share,
            target=cov["national_target"],
        )
    if "sites" in s and (households or s["sites"].get("weights") == "communities"):
        sites = s["sites"]
        key = "cli_coverage_after" if households else "cli_coverage_after_communities"
        unit = "households" if households else "communities"
        _say(
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
        _say(
            console,
            lang,
            "cli_bundles",
            count=s["bundles"]["count"],
            communities=s["bundles"]["communities"],
        )
    _print_warnings(console, lang, s.get("warnings", []))
    if "print_map" in s:
        _say(console, lang, "cli_print_map_skipped", reason=s["print_map"])


def _print_sizing(console: Console, lang: str, sites: dict, names: dict[str, str]) -> None:
    """How many facilities the capacity shortfall sized, and per category the shortfall of the
    communities the sites serve, closed and left (``summary["sites"]["sizing"]``)."""
    sizing = sites.get("sizing") or {}
    if not sizing.get("by_category"):
        return
    _say(console, lang, "cli_sizing", sized=sizing["sites_from_shortfall"], count=sites["count"])
    for key, block in sizing["by_category"].items():
        _say(
            console,
            lang,
            "cli_sizing_category",
            name=names.get(key, key),
            shortfall=block["shortfall"],
            closed=block["closed"],
            left=block["left"],
            unit=block["unit"] if lang == "zh" else block["unit_en"],
        )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    0 done; 2 a problem the planner can fix (one line naming the file, row, key or folder);
    3 an internal error (a bug: one line, ``--debug`` for the traceback); 130 interrupted.
    """
    args = _parser().parse_args(argv)
    console = _console()
    try:
        return _dispatch(args, console)
    except LifecircleError as exc:
        return _fail(args, text(_lang(args), "cli_error", message=exc.message(_lang(args))), 2)
    except KeyboardInterrupt as exc:
        return _fail(args, _interrupted(args, exc), 130)
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with --debug
        first = next(iter(str(exc).splitlines()), "")
        return _fail(
            args, text(_lang(args), "cli_internal", kind=type(exc).__name__, first=first), 3
        )


def _dispatch(args, console: Console) -> int:
    if args.command == "init":
        return _init(args.dir, console, _lang(args))
    if args.command == "demo":
        return _demo(args, console)
    if args.command == "check":
        return _check(args, console)
    return _run(args, console)


def _fail(args, message: str, code: int) -> int:
    """The one error frame: plain text on stderr, one line (no markup is interpreted)."""
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(" ".join(message.split()), file=sys.stderr)
    return code


def _interrupted(args, exc: KeyboardInterrupt) -> str:
    out, lang = getattr(args, "out", None), _lang(args)
    if isinstance(exc, InterruptedAfterWrite):
        return text(lang, "cli_interrupted_after", out=out)
    if out is not None:
        return text(lang, "cli_interrupted_unchanged", out=out)
    return text(lang, "cli_interrupted")


if __name__ == "__main__":
    raise SystemExit(main())
