"""The runs of a project: each run started in the app writes into a folder of its own,
``runs/<id>/`` in the project folder (the id is the local start time, ``20261207-143005``), and
leaves a record beside it, ``runs/<id>.json`` (when, language, how it ended, the stage it
stopped at, its headline figure). The command line's default output folder (``maps/``, written
by ``cd <folder> && lifecircle run --config .``) is listed too, as a run made in a terminal.

Why folders, not one output folder and a log: a run's outputs are written all or nothing
(:class:`spatial.outputs.staging.Staging`) into a folder no earlier run uses, so a run that fails
or is cancelled leaves every earlier run's files exactly as they were, and each earlier run stays
whole (its map, ledger and zip match its own summary) without copying anything. The record is
written when the run starts and again when it ends, so a run the app did not see end (the app
was stopped) is listed as interrupted, not lost.

The guard: a run is named by its id only — from a URL or a record's file name, never from a
record's content — and an id must be a time stamp (``RUN_ID``) or ``maps``; the folder it names,
links followed, must lie inside the project folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spatial.core import settings
from spatial.core.errors import InputError, OutputError
from spatial.outputs import staging

#: the folder of the app's runs, inside the project folder
RUNS = "runs"
#: the command line's default output folder, listed as a run made in a terminal
CLI = str(settings.DEFAULT_OUT)
#: a run's id: its local start time, and a counter when two start in one second
RUN_ID = re.compile(r"\d{8}-\d{6}(?:-\d{1,3})?")


@dataclass
class Record:
    """One run of a project as listed.

    Attributes
    ----------
    id : str
        ``20261207-143005`` (or ``maps``: the command line's folder).
    started : str
        Local start time, ISO (``2026-12-07T14:30:05``).
    lang : str
        The outputs' language (``zh``, ``en``; empty when not known).
    state : str
        ``running``, ``done``, ``failed``, ``cancelled``; listed as ``interrupted`` when it
        says ``running`` but this app runs no such run.
    stage : str
        The last stage the run began (a failed or cancelled run stopped there).
    seconds : float
    message : dict of str to str
        A failure's one line, by language.
    headline : dict or None
        ``{"share": 0.53, "of": "households"}``: the full-coverage share (:func:`headline`).
    """

    id: str
    started: str
    lang: str = ""
    state: str = "running"
    stage: str = ""
    seconds: float = 0.0
    message: dict[str, str] = field(default_factory=dict)
    headline: dict | None = None

    @property
    def shown_time(self) -> str:
        """The start time as a planner reads it (``2026-12-07 14:30:05``)."""
        return self.started.replace("T", " ")

    def has_outputs(self, project: Path) -> bool:
        """Whether the run's folder holds its outputs (a ``summary.json``; never a folder
        outside ``project``)."""
        try:
            folder = out_folder(project, self.id)
        except InputError:
            return False
        return self.state == "done" and (folder / "summary.json").is_file()


def claim(project: Path, lang: str) -> Record:
    """A new run of ``project``: its id (a record file created, never replaced) and its record,
    saved as ``running``.

    Raises
    ------
    OutputError
        The project folder cannot be written.
    """
    now = dt.datetime.now()
    base = now.strftime("%Y%m%d-%H%M%S")
    runs = project / RUNS
    try:
        runs.mkdir(exist_ok=True)
        for k in range(1000):
            run_id = base if k == 0 else f"{base}-{k}"
            try:
                os.close(os.open(runs / f"{run_id}.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            record = Record(run_id, now.isoformat(timespec="seconds"), lang)
            save(project, record)
            return record
    except OSError as exc:
        raise OutputError("err_cannot_write", path=runs, reason=exc.strerror or exc) from None
    raise OutputError("err_cannot_write", path=runs, reason=base)


def save(project: Path, record: Record) -> None:
    """Write ``record`` to ``runs/<id>.json`` atomically."""
    staging.write_json(project / RUNS / f"{record.id}.json", asdict(record))


def records(project: Path, live: str = "") -> list[Record]:
    """The runs of ``project``, newest first: the app's records (``running`` ones other than
    ``live``, the run this app is running, listed as ``interrupted``) and the command line's
    folder when it holds a ``summary.json``."""
    found = []
    runs = project / RUNS
    for path in runs.glob("*.json") if runs.is_dir() else []:
        if RUN_ID.fullmatch(path.stem) and (record := _read(path)) is not None:
            if record.state == "running" and record.id != live:
                record.state = "interrupted"
            found.append(record)
    summary = outputs(project / CLI)[0] if _inside(project, project / CLI) else None
    if summary is not None:
        started = str(summary.get("generated", ""))
        found.append(Record(CLI, started, "", "done", headline=headline(summary)))
    return sorted(found, key=lambda r: (r.started, len(r.id), r.id), reverse=True)


def _read(path: Path) -> Record | None:
    """A record file's record (its id the file's name), or None when it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    message = data.get("message")
    share = data.get("headline")
    return Record(
        id=path.stem,  # never the content's: a record names no other folder
        started=str(data.get("started", "")),
        lang=str(data.get("lang", "")),
        state=str(data.get("state", "")),
        stage=str(data.get("stage", "")),
        seconds=float(data.get("seconds") or 0.0),
        message={str(k): str(v) for k, v in message.items()} if isinstance(message, dict) else {},
        headline=share
        if isinstance(share, dict)
        and _number(share.get("share"))
        and share.get("of") in ("households", "communities")
        else None,
    )


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def out_folder(project: Path, run_id: str) -> Path:
    """The output folder of run ``run_id`` of ``project``; ``InputError`` (``err_app_no_run``)
    for a name that is not a run's id or a folder that lies outside the project folder."""
    if run_id == CLI:
        path = project / CLI
    elif RUN_ID.fullmatch(run_id):
        path = project / RUNS / run_id
    else:
        raise InputError("err_app_no_run", run=run_id)
    if not _inside(project, path):
        raise InputError("err_app_no_run", run=run_id)
    return path


def _inside(project: Path, path: Path) -> bool:
    """Whether ``path``, links followed, lies inside ``project``."""
    try:
        return path.resolve().is_relative_to(project.resolve())
    except (OSError, RuntimeError):  # a link loop
        return False


def outputs(out: Path) -> tuple[dict | None, list[str]]:
    """A run's ``summary.json`` in ``out`` and the outputs it lists that are there (plain names
    only: a hand-edited ``summary.json`` names nothing outside ``out``)."""
    try:
        summary = json.loads((out / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(summary, dict):
        return None, []
    names = [
        n
        for n in summary.get("outputs", [])
        if isinstance(n, str) and Path(n).name == n and not n.startswith(".")
        if (out / n).is_file()
    ]
    return summary, names


def headline(summary: dict) -> dict | None:
    """The run's headline figure: the share of households (of communities, without household
    counts) the whole basket covers now — the terminal's first coverage line."""
    coverage = summary.get("coverage")
    if not isinstance(coverage, dict):
        return None
    of = "households" if summary.get("households") else "communities"
    share = coverage.get(f"full_coverage_{of}")
    return {"share": share, "of": of} if _number(share) else None


def latest(project: Path, listed: list[Record]) -> str:
    """The id of the newest run with outputs (the results page's default), or ``""``."""
    return next((r.id for r in listed if r.has_outputs(project)), "")
