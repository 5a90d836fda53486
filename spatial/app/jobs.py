"""Runs in the background: one thread per run, one run per project at a time, its progress by
stage (the pipeline's ``Progress`` callback, the stages the terminal prints), its end as a
one-line message, never a traceback, and a Cancel that stops it the way Ctrl-C stops the command
line (:class:`spatial.core.parallel.Cancel`: between stages, and its forked workers at once).
Each run writes into its own folder and leaves its record (:mod:`spatial.app.history`)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from spatial.app import history
from spatial.core import parallel, settings
from spatial.core.errors import InputError, LifecircleError
from spatial.core.messages import text


@dataclass
class Job:
    """One run: ``state`` is ``running``, ``done``, ``failed`` or ``cancelled``; ``stage`` the
    last stage it began; ``record`` its entry in the project's runs."""

    record: history.Record
    state: str = "running"
    stage: str = ""
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    error: LifecircleError | None = None
    internal: dict[str, str] = field(default_factory=dict)
    switch: parallel.Cancel = field(default_factory=parallel.Cancel)

    @property
    def cancelling(self) -> bool:
        """Cancel was pressed and the run has not stopped yet."""
        return self.state == "running" and self.switch.pulled

    def message(self, lang: str) -> str:
        """The run's failure as the command line's one line, in ``lang``."""
        if self.error is not None:
            return self.error.message(lang)
        return self.internal.get(lang, "")


class Runs:
    """The runs of this app, by project folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Path, Job] = {}

    def get(self, folder: Path) -> Job | None:
        """The last run of ``folder`` (None when none was started since the app started)."""
        return self._jobs.get(folder)

    def start(self, folder: Path, lang: str) -> Job:
        """Start the run of the project in ``folder`` with its outputs in ``lang``;
        ``InputError`` (``app_run_busy``) when one is running, ``OutputError`` when the
        project folder cannot be written."""
        with self._lock:
            job = self._jobs.get(folder)
            if job is not None and job.state == "running":
                raise InputError("err_app_run_busy", path=folder.name)
            job = self._jobs[folder] = Job(history.claim(folder, lang))
        threading.Thread(target=_run, args=(folder, job, lang), daemon=True).start()
        return job

    def cancel(self, folder: Path) -> bool:
        """Stop the running run of ``folder`` (at the end of its stage; its forked workers at
        once); False when none runs. Another project's run goes on."""
        job = self._jobs.get(folder)
        if job is None or job.state != "running":
            return False
        job.switch.pull()
        return True


def _run(folder: Path, job: Job, lang: str) -> None:
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import run

    def progress(stage: str) -> None:
        job.switch.check()  # Cancel pressed: the stage does not begin
        job.stage = stage

    state = "failed"
    try:
        job.switch.check()
        project = load_project(folder / "project.toml")
        # as `lifecircle run` does: the 天地图 key of the environment before the project file's
        project.render.tianditu_key = (
            os.environ.get("TIANDITU_KEY", "") or project.render.tianditu_key
        )
        out = history.out_folder(folder, job.record.id)
        with parallel.cancellable(job.switch):
            result = run(project, out, settings.COMMAND_STAGES["run"], lang, progress)
        job.record.headline = history.headline(result.summary)
        state = "done"
    except KeyboardInterrupt:  # Cancelled: here or from a stopped worker
        state = "cancelled"
    except LifecircleError as exc:
        job.error = exc
    except Exception as exc:  # noqa: BLE001 - a bug: the command line's one line
        first = next(iter(str(exc).splitlines()), "")
        kind = type(exc).__name__
        job.internal = {k: text(k, "cli_internal", kind=kind, first=first) for k in ("zh", "en")}
    _ended(folder, job, state)


def _ended(folder: Path, job: Job, state: str) -> None:
    """The run's record as it ended, then its state (a page that sees the end finds it in the
    project's runs)."""
    job.seconds = time.monotonic() - job.started
    record = job.record
    record.state, record.stage, record.seconds = state, job.stage, round(job.seconds, 1)
    if state == "failed":
        record.message = {k: job.message(k) for k in ("zh", "en")}
    with contextlib.suppress(OSError):  # unsaved: the list shows the run as interrupted
        history.save(folder, record)
    job.state = state
