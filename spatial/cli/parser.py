"""The command line's arguments: every command, option and its help text in the run's language
(:func:`parser`); :mod:`spatial.cli.main` runs what they ask for."""

from __future__ import annotations

import argparse
import tomllib
from functools import partial
from pathlib import Path

from spatial.core import settings
from spatial.core.messages import LANGS, text

COMMANDS = ("run", "check", "coverage", "bundle", "sites", "map", "plan")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with its own words ("usage:") in the run's language."""

    lang = "zh"

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        if prefix is None:
            prefix = text(self.lang, "cli_help_usage")
        super().add_usage(usage, actions, groups, prefix)


def help_lang(argv: list[str]) -> str:
    """The language of ``--help``: ``--lang en`` (or ``--lang=en``) anywhere, else Chinese."""
    for k, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else None
        if arg == "--lang" and k + 1 < len(argv):
            value = argv[k + 1]
        if value in LANGS:
            return value
    return "zh"


def parser(lang: str = "zh") -> argparse.ArgumentParser:
    """The command line's parser, its help in ``lang`` (``cli_help_*`` in the catalogue)."""

    def h(key: str) -> str:
        return text(lang, f"cli_help_{key}").replace("%", "%%")

    formatter = type("_Formatter", (HelpFormatter,), {"lang": lang})

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
    for name in COMMANDS:
        p = new(sub.add_parser, name, help=h(name), description=h(name))
        p.add_argument("--config", type=project_file, help=h("config"))
        p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help=h("out"))
        p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
        p.add_argument("--place", default="", help=h("place"))
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        if name in ("run", "map"):
            p.add_argument("--basemap", choices=basemap_names(), help=h("basemap"))
            p.add_argument("--tianditu-key", default="", help=h("tianditu"))
    for name in ("init", "demo"):
        p = new(sub.add_parser, name, help=h(name), description=h(name))
        p.add_argument("dir", type=Path, help=h("dir"))
        if name == "demo":
            p.add_argument("--seed", type=int, default=20201, help=h("seed"))
        p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    _batch_parser(sub, new, h, lang)
    _serve_parser(sub, new, h)
    return parser


def _batch_parser(sub, new, h, lang: str) -> None:
    """``lifecircle batch``: several projects as tasks on Dask (``new`` makes a localised parser,
    ``h`` gives a help text of the catalogue)."""
    p = new(sub.add_parser, "batch", help=h("batch"), description=h("batch"))
    p.add_argument("projects", type=Path, nargs="+", help=h("projects"))
    p.add_argument("--out", type=Path, default=settings.DEFAULT_OUT, help=h("out"))
    p.add_argument("--scheduler", default="", help=h("scheduler"))
    p.add_argument("--workers", type=partial(_workers, lang), help=h("workers"))
    p.add_argument("--name", default="", help=h("name"))
    p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)


def _serve_parser(sub, new, h) -> None:
    """``lifecircle serve``: the local web app."""
    p = new(sub.add_parser, "serve", help=h("serve"), description=h("serve"))
    p.add_argument("--port", type=int, default=8765, help=h("port"))
    p.add_argument("--no-browser", action="store_true", help=h("no_browser"))
    p.add_argument(
        "--workspace", type=Path, default=Path("~/lifecircle-projects"), help=h("workspace")
    )
    p.add_argument("--max-upload-mb", type=float, default=500.0, help=h("max_upload"))
    p.add_argument("--lang", choices=["zh", "en"], help=h("lang"))
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)


def basemap_names() -> list[str]:
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


def project_file(value: str) -> Path:
    """``--config``: a project file, or a folder holding ``project.toml``."""
    path = Path(value)
    try:
        return path / "project.toml" if path.is_dir() else path
    except OSError:  # e.g. a name too long: load_project names it in one line
        return path
