"""Runs in the background: one thread per run, one run per project at a time, its progress by
stage (the pipeline's ``Progress`` callback, the stages the terminal prints) and its end as a
one-line message, never a traceback."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from spatial.core import settings
from spatial.core.errors import InputError, LifecircleError
from spatial.core.messages import text

#: the output folder of a project run from the app, inside the project folder (the command
#: line's default ``--out``, so ``cd <folder> && lifecircle run --config .`` writes the same)
OUT_NAME = str(settings.DEFAULT_OUT)


@dataclass
class Job:
    """One run: ``state`` is ``running``, ``done`` or ``failed``."""

    state: str = "running"
    stage: str = ""
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    error: LifecircleError | None = None
    internal: str = ""

    def message(self, lang: str) -> str:
        """The run's failure as the command line's one line, in ``lang``."""
        if self.error is not None:
            return self.error.message(lang)
        return self.internal


class Runs:
    """The runs of this app, by project folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Path, Job] = {}

    def get(self, folder: Path) -> Job | None:
        """The last run of ``folder`` (None when none was started since the app started)."""
        return self._jobs.get(folder)

    def start(self, folder: Path, lang: str) -> Job:
        """Start the run of the project in ``folder``; ``InputError`` (``app_run_busy``) when
        one is running."""
        with self._lock:
            job = self._jobs.get(folder)
            if job is not None and job.state == "running":
                raise InputError("err_app_run_busy", path=folder.name)
            job = self._jobs[folder] = Job()
        threading.Thread(target=_run, args=(folder, job, lang), daemon=True).start()
        return job


def _run(folder: Path, job: Job, lang: str) -> None:
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import run

    def progress(stage: str) -> None:
        job.stage = stage

    try:
        project = load_project(folder / "project.toml")
        # as `lifecircle run` does: the 天地图 key of the environment before the project file's
        project.render.tianditu_key = (
            os.environ.get("TIANDITU_KEY", "") or project.render.tianditu_key
        )
        run(project, folder / OUT_NAME, settings.COMMAND_STAGES["run"], None, progress)
    except LifecircleError as exc:
        job.error, job.state = exc, "failed"
    except Exception as exc:  # noqa: BLE001 - a bug: the command line's one line
        first = next(iter(str(exc).splitlines()), "")
        job.internal = text(lang, "cli_internal", kind=type(exc).__name__, first=first)
        job.state = "failed"
    else:
        job.state = "done"
    job.seconds = time.monotonic() - job.started
