"""Many projects at once (``lifecircle batch``): each project is one task on a Dask cluster — a
``LocalCluster`` of worker processes sized to the machine, or an existing cluster — and runs the
one pipeline (:func:`spatial.workflow.pipeline.run`) into its own folder under ``--out``, with the
same guarantees as a single run (all or nothing, inputs never written).

A project's bad input fails that project only: its task returns the one-line message instead of
raising, and the others go on. A Dask worker process is daemonic and may not start processes of
its own, so a project's stages run in that worker's process
(:func:`spatial.core.parallel.can_fork` is False there); the batch's parallelism is the projects.

Dask is imported only here, when a batch runs (``lifecircle --help`` does not pay for it).
"""

from __future__ import annotations

import os
import resource
import sys
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spatial.core import settings
from spatial.core.errors import ConfigError, DependencyError, InputError, LifecircleError
from spatial.core.logs import quiet_libraries
from spatial.core.messages import text

PROJECT_FILE = "project.toml"


@dataclass(frozen=True)
class BatchProject:
    """One project of a batch: its name in the region (its folder under ``--out``) and its
    project file."""

    name: str
    config: Path


@dataclass(frozen=True)
class Batch:
    """The projects of a batch, the region's name and (from a batch file) its language."""

    name: str
    projects: tuple[BatchProject, ...]
    lang: str | None = None


def _project_file(path: Path) -> Path:
    return path / PROJECT_FILE if path.is_dir() else path


def _check_names(batch: Batch, where: Path) -> Batch:
    """Refuse a name that is not one plain folder name, or a name given twice."""
    from spatial.workflow.region import REGION_FILES

    seen: set[str] = set()
    for p in batch.projects:
        if not p.name or p.name.startswith(".") or Path(p.name).name != p.name or "\\" in p.name:
            raise InputError("err_batch_name", path=where, name=p.name)
        if p.name in REGION_FILES:  # its folder would stand where the region's file goes
            raise InputError(
                "err_batch_name_taken", path=where, name=p.name, taken=", ".join(REGION_FILES)
            )
        folder = unicodedata.normalize("NFC", p.name).casefold()  # one folder on Windows, macOS
        if folder in seen:
            raise InputError("err_batch_duplicate", path=where, name=p.name)
        seen.add(folder)
    if not batch.projects:
        raise InputError("err_batch_empty", path=where)
    return batch


def _from_file(path: Path) -> Batch:
    """A batch file: ``[batch] name, lang`` and ``[[projects]] name, config`` (a project file or
    folder, relative to the batch file)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("err_cfg_toml", path=path, reason=exc) from None
    head, entries = data.get("batch", {}), data.get("projects", [])
    if not isinstance(head, dict):
        raise ConfigError("err_batch_shape", path=path, key="batch", want="[batch]")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError("err_batch_shape", path=path, key="projects", want="[[projects]]")
    projects = []
    for k, entry in enumerate(entries):
        if not entry.get("config"):
            raise ConfigError("err_batch_entry", path=path, index=k + 1)
        config = _project_file(path.parent / str(entry["config"]))
        projects.append(BatchProject(str(entry.get("name") or config.parent.name), config))
    name = str(head.get("name") or path.parent.absolute().name)
    lang = head.get("lang")
    if lang is not None and lang not in ("zh", "en"):
        raise ConfigError(
            "err_cfg_choice", path=path, label="[batch] lang", value=lang, allowed="zh, en"
        )
    return Batch(name, tuple(projects), lang)


def _is_batch_file(path: Path) -> bool:
    if not (path.is_file() and path.suffix == ".toml"):
        return False
    try:
        return "projects" in tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return False


def read_batch(paths: list[Path], name: str = "") -> Batch:
    """The projects named by the command line.

    Parameters
    ----------
    paths : list of Path
        A batch file (TOML with ``[[projects]]``); or one folder whose sub-folders hold a
        ``project.toml`` each; or project files and project folders (each named by its folder).
    name : str, optional
        The region's name (default: the batch file's; else the folder's, or the folder the
        project folders share; else "region").

    Returns
    -------
    Batch

    Raises
    ------
    InputError
        No project found, a missing path, a name that is not a folder name or given twice.
    """
    if len(paths) == 1 and _is_batch_file(paths[0]):
        batch = _from_file(paths[0])
        return _check_names(Batch(name or batch.name, batch.projects, batch.lang), paths[0])
    if len(paths) == 1 and paths[0].is_dir() and not (paths[0] / PROJECT_FILE).exists():
        folder = paths[0]
        subs = sorted(p for p in folder.iterdir() if (p / PROJECT_FILE).is_file())
        projects = tuple(BatchProject(p.name, p / PROJECT_FILE) for p in subs)
        return _check_names(Batch(name or folder.absolute().name, projects), folder)
    projects = []
    for path in paths:
        if not path.exists():
            raise InputError("err_cfg_not_found", path=path)
        config = _project_file(path)
        label = config.parent.absolute().name if config.name == PROJECT_FILE else config.stem
        projects.append(BatchProject(label, config))
    parents = {p.config.absolute().parent.parent for p in projects}
    region = name or (parents.pop().name if len(parents) == 1 else "") or "region"
    return _check_names(Batch(region, tuple(projects)), paths[0])


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (``ru_maxrss``: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_project(name: str, config: str, out: str, lang: str | None, say_lang: str = "zh") -> dict:
    """One project's task: the whole run into ``out/name``; never raises for the project's own
    problems.

    ``lang`` is the outputs' language (None: the project's own), ``say_lang`` the language of a
    failure's message.

    Returns
    -------
    dict
        :func:`spatial.workflow.region.project_record` for a run that was written; else ``name``,
        ``status`` "failed", ``code`` (2 a problem in its input, 3 an internal error) and the
        one-line ``message``. Both with ``seconds``, ``worker`` (pid) and ``peak_rss_mb`` (the
        worker process's peak so far).
    """
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import run
    from spatial.workflow.region import project_record

    quiet_libraries()  # a worker process does not inherit the command line's logging
    start = time.perf_counter()
    try:
        project = load_project(Path(config))
        result = run(project, Path(out) / name, settings.ALL_STAGES, lang)
        record = project_record(name, result, name)
    except LifecircleError as exc:
        record = failed_record(name, 2, exc.message(say_lang))
    except Exception as exc:  # noqa: BLE001 - a bug in one project: the others go on
        first = next(iter(str(exc).splitlines()), "")
        message = text(say_lang, "cli_internal", kind=type(exc).__name__, first=first)
        record = failed_record(name, 3, message)
    record.update(
        seconds=round(time.perf_counter() - start, 2),
        worker=os.getpid(),
        peak_rss_mb=round(_peak_rss_mb(), 1),
    )
    return record


def failed_record(name: str, code: int, message: str) -> dict:
    return {"name": name, "status": "failed", "code": code, "message": message}


def worker_count(projects: int, workers: int | None = None) -> tuple[int, int]:
    """The LocalCluster's size: (workers, memory limit per worker in bytes). One project per
    worker at a time; at most one worker a CPU and as many as the memory holds
    (:data:`spatial.core.settings.BATCH_BYTES_PER_PROJECT` each), never more than the projects."""
    import psutil

    total = psutil.virtual_memory().total
    fit = max(1, total // settings.BATCH_BYTES_PER_PROJECT)
    n = max(1, min(workers or min(os.cpu_count() or 1, fit), projects))
    return n, int(total // n)


@contextmanager
def dask_client(scheduler: str = "", workers: int | None = None, projects: int = 1) -> Iterator:
    """A Dask client: of the cluster at ``scheduler``, else of a new ``LocalCluster`` of worker
    processes (one thread each, :func:`worker_count`), closed on leaving."""
    try:
        import logging

        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DependencyError("err_batch_needs_dask") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:  # unreachable or malformed
            raise InputError("err_batch_scheduler", address=scheduler, reason=exc) from None
        with client:
            yield client
        return
    n, memory = worker_count(projects, workers)
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    with cluster, Client(cluster) as client:
        client.run(_ignore_interrupt)  # Ctrl-C is this process's: it closes the cluster
        yield client


def _ignore_interrupt() -> None:
    """A local worker ignores Ctrl-C (sent to the terminal's whole process group): the batch
    cancels the projects and closes the cluster, which ends the workers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_batch(
    batch: Batch,
    out: Path,
    client,
    lang: str | None = None,
    done: Callable[[dict], None] | None = None,
    say_lang: str = "zh",
) -> list[dict]:
    """Run every project of ``batch`` as its own task on ``client``; each writes ``out/<name>``.

    Parameters
    ----------
    batch : Batch
    out : Path
        The batch's output folder (made here); the projects' folders go inside.
    client : dask.distributed.Client
    lang : str, optional
        The outputs' language (default: each project's own).
    say_lang : str
        The language of the failures' messages.
    done : callable, optional
        Called with each project's record as it finishes (progress).

    Returns
    -------
    list of dict
        The records (:func:`run_project`) in the batch's order. A task lost with its worker
        (e.g. killed for memory) is a failed record with code 3. On Ctrl-C the tasks not
        finished are cancelled (their folders stay as they were) and ``KeyboardInterrupt``
        propagates.
    """
    from dask.distributed import as_completed

    out.mkdir(parents=True, exist_ok=True)
    where = str(out.absolute())
    futures = {
        client.submit(
            run_project,
            p.name,
            str(p.config.absolute()),
            where,
            lang,
            say_lang,
            key=f"lifecircle-{k}",
        ): p.name
        for k, p in enumerate(batch.projects)
    }
    records: dict[str, dict] = {}
    try:
        for future in as_completed(futures):
            name = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - the task was lost (worker died)
                first = next(iter(str(exc).splitlines()), "")
                kind = type(exc).__name__
                record = failed_record(
                    name, 3, text(say_lang, "cli_internal", kind=kind, first=first)
                )
            records[name] = record
            if done:
                done(record)
    except BaseException:
        client.cancel(list(futures), force=True)
        raise
    return [records[p.name] for p in batch.projects]


def check_region_outputs(batch: Batch, out: Path) -> None:
    """Refuse (``InputError``) a batch whose region files in ``out`` (``summary.json``,
    ``ledger.xlsx``, ``overview.html``) or whose projects' outputs in ``out/<name>`` would
    overwrite an input of one of its projects (another project's too: each run checks only its
    own); a project whose file cannot be read is left to fail in its own task."""
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import check_no_overwrite

    folders = [out] + [out / p.name for p in batch.projects]
    for p in batch.projects:
        try:
            project = load_project(p.config)
        except LifecircleError:
            continue
        for folder in folders:  # the region's files, and every project's outputs
            check_no_overwrite(project, folder)
