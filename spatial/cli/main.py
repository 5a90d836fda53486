"""Command line: ``lifecircle run | check | init | coverage | bundle | sites | map | plan | demo |
batch``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tomllib
import traceback
import warnings
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TextIO

from rich.console import Console

from spatial.cli.terminal import markup, new_console, print_check, print_summary, say
from spatial.config.project import Project, load_project
from spatial.core import settings
from spatial.core.errors import (
    ConfigError,
    DependencyError,
    InputError,
    InterruptedAfterWrite,
    LifecircleError,
    OutputError,
)
from spatial.core.logs import quiet_libraries
from spatial.core.messages import LANGS, labels, text, visible

_COMMANDS = ("run", "check", "coverage", "bundle", "sites", "map", "plan")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help with its own words ("usage:") in the run's language."""

    lang = "zh"

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        if prefix is None:
            prefix = text(self.lang, "cli_help_usage")
        super().add_usage(usage, actions, groups, prefix)


def _help_lang(argv: list[str]) -> str:
    """The language of ``--help``: ``--lang en`` (or ``--lang=en``) anywhere, else Chinese."""
    for k, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else None
        if arg == "--lang" and k + 1 < len(argv):
            value = argv[k + 1]
        if value in LANGS:
            return value
    return "zh"


def _parser(lang: str = "zh") -> argparse.ArgumentParser:
    """The command line's parser, its help in ``lang`` (``cli_help_*`` in the catalogue)."""

    def h(key: str) -> str:
        return text(lang, f"cli_help_{key}").replace("%", "%%")

    formatter = type("_Formatter", (_HelpFormatter,), {"lang": lang})

    def new(maker, *args, **kwargs) -> argparse.ArgumentParser:
        p = maker(*args, formatter_class=formatter, add_help=False, **kwargs)
        p._positionals.title = text(lang, "cli_help_arguments")
        p._optionals.title = text(lang, "cli_help_options")
        p.add_argument("-h", "--help", action="help", help=h("help"))
        return p

    parser = new(argparse.ArgumentParser, prog="lifecircle", description=h("description"))
    parser.add_argument("--debug", action="store_true", help=h("debug"))
    sub = parser.add_subparsers(
        dest="command", required=True, title=text(lang, "cli_help_commands")
    )
    for name in _COMMANDS:
        p = new(sub.add_parser, name, help=h(name), description=h(name))
        p.add_argument("--config", type=_project_file, help=h("config"))
        p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help=h("out"))
        p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
        p.add_argument("--place", default="", help=h("place"))
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        if name in ("run", "map"):
            p.add_argument("--basemap", choices=_basemap_names(), help=h("basemap"))
            p.add_argument("--tianditu-key", default="", help=h("tianditu"))
    for name in ("init", "demo"):
        p = new(sub.add_parser, name, help=h(name), description=h(name))
        p.add_argument("dir", type=Path, help=h("dir"))
        if name == "demo":
            p.add_argument("--seed", type=int, default=20201, help=h("seed"))
        p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    _batch_parser(sub, lang)
    _serve_parser(sub)
    return parser


def _batch_parser(sub, lang: str = "zh") -> None:
    """``lifecircle batch``: several projects as tasks on Dask."""
    blurb = "run several projects at once on Dask, with the region's ledger, map and summary"
    p = sub.add_parser("batch", help=blurb, description=blurb)
    p.add_argument(
        "projects",
        type=Path,
        nargs="+",
        help="a folder of project folders, project files or folders, or a batch TOML",
    )
    p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help="output folder")
    p.add_argument("--scheduler", default="", help="address of a running Dask scheduler")
    p.add_argument(
        "--workers",
        type=partial(_workers, lang),
        help="LocalCluster workers (default: by cores, memory)",
    )
    p.add_argument("--name", default="", help="the region's name (default: the batch's)")
    p.add_argument("--lang", choices=["zh", "en"], help="language of labels")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="the local web app in the browser (127.0.0.1 only, a token per start)"
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--no-browser", action="store_true", help="print the URL only")
    p.add_argument(
        "--workspace",
        type=Path,
        default=Path("~/lifecircle-projects"),
        help="folder of the app's project folders (default: ~/lifecircle-projects)",
    )
    p.add_argument("--max-upload-mb", type=float, default=500.0, help="largest upload (MB)")
    p.add_argument("--lang", choices=["zh", "en"], help="language of messages")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)


def _serve(args: argparse.Namespace, console: Console) -> int:
    """``lifecircle serve``: the app's layer sits above this one, so it is imported by name."""
    import importlib

    try:
        server = importlib.import_module("spatial.app.server")
    except ModuleNotFoundError as exc:  # the [app] extra is not installed
        raise DependencyError("err_app_not_installed", module=exc.name) from None
    limits = importlib.import_module("spatial.app.uploads").Limits(upload_mb=args.max_upload_mb)
    lang = _lang(args)
    server.serve(
        args.workspace, args.port, not args.no_browser, limits, partial(say, console, lang)
    )
    return 0


def _basemap_names() -> list[str]:
    """The basemaps ``--basemap`` offers: the tables of ``data/basemaps.toml`` (the one list)."""
    return list(tomllib.loads((settings.DATA_DIR / "basemaps.toml").read_text("utf-8")))


def _workers(lang: str, value: str) -> int:
    """``batch --workers``: a whole number of at least 1 (0 or -1 would silently become 1)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(text(lang, "cli_err_workers", value=value))
    return number


def _project_file(value: str) -> Path:
    """``--config``: a project file, or a folder holding ``project.toml``."""
    path = Path(value)
    try:
        return path / "project.toml" if path.is_dir() else path
    except OSError:  # e.g. a name too long: load_project names it in one line
        return path


def _lang(args: argparse.Namespace, project: Project | None = None) -> str:
    """``--lang``, else the project's language, else the project file's, else Chinese."""
    if getattr(args, "lang", None):
        return args.lang
    if project is not None:
        return project.lang
    from spatial.core.input_guard import check_input

    try:
        path = Path(getattr(args, "config", None) or settings.DEMO_PROJECT)
        if not check_input(path, ""):  # never a FIFO or a device
            return "zh"
        lang = tomllib.loads(path.read_text("utf-8")).get("project", {}).get("lang", "zh")
    except (OSError, ValueError, AttributeError, LifecircleError):
        return "zh"
    return lang if lang in LANGS else "zh"


def project_template(lang: str) -> str:
    """The commented project file ``init`` writes, in ``lang``: ``template_zh.toml`` (Chinese
    comments) or ``template.toml`` (English comments, ``lang = "en"``); the same keys and values."""
    name = "template_zh.toml" if lang == "zh" else "template.toml"
    template = resources.files("spatial.config").joinpath(name).read_text("utf-8")
    return template if lang == "zh" else template.replace('lang = "zh"', 'lang = "en"', 1)


def _init(folder: Path, console: Console, lang: str = "zh") -> int:
    if folder.exists() and not folder.is_dir():
        raise InputError("err_not_folder", path=folder)
    target = folder / "project.toml"
    if target.exists():
        raise InputError("err_exists", path=folder, paths=target.name)
    from spatial.outputs import staging

    template = project_template(lang)
    try:
        staging.write_text(target, template)
    except OSError as exc:
        raise OutputError("err_cannot_write", path=target, reason=exc.strerror or exc) from None
    say(console, lang, "cli_init_done", path=target, folder=folder)
    return 0


def _demo(args: argparse.Namespace, console: Console) -> int:
    from spatial.workflow.demo import demo_paths, write_demo

    lang = _lang(args)
    if args.dir.exists() and not args.dir.is_dir():
        raise InputError("err_not_folder", path=args.dir)
    taken = [p for p in demo_paths(args.dir).values() if p.exists() or p.is_symlink()]
    if taken:
        raise InputError("err_exists", path=args.dir, paths=", ".join(p.name for p in taken))
    paths = write_demo(args.dir, args.seed)
    say(
        console,
        lang,
        "cli_demo_done",
        files=", ".join(str(p) for p in paths.values()),
        folder=args.dir,
    )
    return 0


def _check(args: argparse.Namespace, console: Console) -> int:
    from spatial.workflow.pipeline import load_inputs

    project = load_project(args.config)
    lang = _lang(args, project)
    with console.status(text(lang, "cli_working")):
        result = load_inputs(project, place=args.place)
    print_check(console, lang, result)
    return 0


def _batch(args: argparse.Namespace, console: Console) -> int:
    """Run the batch; exit 0 when every project ran, 2 when one failed on its input, 3 when one
    failed on an internal error."""
    from spatial.cli.terminal import batch_progress, print_batch
    from spatial.outputs import staging
    from spatial.workflow.batch import check_region_outputs, dask_client, read_batch, run_batch
    from spatial.workflow.region import write_region

    batch = read_batch(args.projects, args.name)
    projects_lang = args.lang  # None: each project in its own language
    lang = args.lang or batch.lang or "zh"
    args.lang = lang  # the messages, the failures' and the region's files
    staging.check_output_folder(args.out)
    check_region_outputs(batch, args.out)
    total = len(batch.projects)
    try:
        with contextlib.ExitStack() as stack:
            with console.status(text(lang, "cli_working")):
                client = stack.enter_context(dask_client(args.scheduler, args.workers, total))
            workers = len(client.scheduler_info().get("workers", {}))
            where = args.scheduler or text(lang, "cli_batch_local")
            say(console, lang, "cli_batch_cluster", workers=workers, where=where, projects=total)
            with batch_progress(console, lang, total) as done:
                records = run_batch(batch, args.out, client, projects_lang, done, lang)
    except KeyboardInterrupt:
        if not args.scheduler:  # the local workers are gone: so is what their runs staged
            for project in batch.projects:
                staging.clean_stale(args.out / project.name)
        raise InterruptedBatch() from None
    ok = [r for r in records if r["status"] == "ok"]
    failed = [r for r in records if r["status"] != "ok"]
    print_batch(console, lang, batch.name, records)
    if ok:
        files = write_region(args.out, batch.name, ok, failed, lang)
        say(console, lang, "cli_batch_wrote", files=", ".join(str(f) for f in files))
    else:
        say(console, lang, "cli_batch_no_region")
    return max((r["code"] for r in failed), default=0)


class InterruptedBatch(KeyboardInterrupt):
    """Ctrl-C during a batch: the projects that finished are complete, the others unchanged."""


def _run(args: argparse.Namespace, console: Console) -> int:
    from spatial.workflow.pipeline import run

    project = load_project(args.config)
    lang = _lang(args, project)
    if getattr(args, "basemap", None):
        project.render.basemap = args.basemap
    if hasattr(args, "tianditu_key"):
        key = args.tianditu_key or os.environ.get("TIANDITU_KEY", "")
        project.render.tianditu_key = key or project.render.tianditu_key
    stages = settings.COMMAND_STAGES[args.command]
    if args.command == "plan" and project.plan is None:
        raise ConfigError("err_plan_no_section", path=project.source)

    def progress(stage: str) -> None:
        name = labels(lang).get(f"stage_{stage}", stage)
        status.update(markup(lang, "cli_stage", stage=name))

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
    print_summary(console, lang, result.summary, project.name, names)
    say(console, lang, "cli_wrote", files=", ".join(str(args.out / p.name) for p in result.files))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    0 done; 2 a problem the planner can fix (one line naming the file, row, key or folder);
    3 an internal error (a bug: one line, ``--debug`` for the traceback); 130 interrupted.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = _parser(_help_lang(argv)).parse_args(argv)
    quiet_libraries()
    console = new_console()
    with warnings.catch_warnings():
        warnings.showwarning = partial(_show_warning, warnings.showwarning)
        return _main(args, console)


def console() -> None:
    """The console script (``lifecircle``, ``python -m spatial``): :func:`main`, then end the
    process without tearing the interpreter down object by object. A city's run holds about a
    gigabyte of objects that would take about a second to free one by one just before the
    process ends; every output file is closed and every worker process joined by then, and the
    streams and log handlers are flushed here first."""
    import logging

    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def _show_warning(
    show: Callable[..., None],
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A library's Python warning shown (by ``show``, the handler before) with its control and
    bidi characters as escapes (a warning may quote a name, e.g. a glyph missing from a font)."""
    show(visible(str(message)), category, visible(str(filename)), lineno, file, line)


def _main(args: argparse.Namespace, console: Console) -> int:
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


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    if args.command in ("init", "demo"):
        try:
            if args.command == "init":
                return _init(args.dir, console, _lang(args))
            return _demo(args, console)
        except OSError as exc:  # a link loop, a name too long, permission denied: one line
            from spatial.core.input_guard import shown

            reason = exc.strerror or exc
            raise OutputError("err_cannot_write", path=shown(args.dir), reason=reason) from None
    if args.command == "check":
        return _check(args, console)
    if args.command == "batch":
        return _batch(args, console)
    if args.command == "serve":
        return _serve(args, console)
    return _run(args, console)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """The one error frame: plain text on stderr, one line (no markup is interpreted)."""
    if getattr(args, "debug", False):  # data quoted in an exception is shown, not acted on
        lines = traceback.format_exc().splitlines()
        print("\n".join(visible(line) for line in lines), file=sys.stderr)
    print(visible(" ".join(message.split())), file=sys.stderr)
    return code


def _interrupted(args: argparse.Namespace, exc: KeyboardInterrupt) -> str:
    out, lang = getattr(args, "out", None), _lang(args)
    if isinstance(exc, InterruptedAfterWrite):
        return text(lang, "cli_interrupted_after", out=out)
    if isinstance(exc, InterruptedBatch):
        return text(lang, "cli_batch_interrupted", out=out)
    if out is not None:
        return text(lang, "cli_interrupted_unchanged", out=out)
    return text(lang, "cli_interrupted")


if __name__ == "__main__":
    console()
