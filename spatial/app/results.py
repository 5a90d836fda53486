"""Steps 4 and 5: the run (in the background, its stage shown, cancellable) and its results —
the project's runs listed (:mod:`spatial.app.history`), and for the run shown (the latest with
outputs unless another is chosen) the headline the terminal prints, the overview map in a
frame, each output to open or download, all as a zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rich.console import Console
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from spatial.app import history
from spatial.app.jobs import Job
from spatial.app.view import fail, page, project_of, settings_of
from spatial.core.errors import LifecircleError


async def show_run(request: Request) -> Response:
    """The run page: start, or the running stage and Cancel (the page reloads itself), or how
    it ended."""
    folder = project_of(request)
    job = settings_of(request).runs.get(folder)
    return page(request, "run.html", job=job, step="run", **_where(folder, job))


def _where(folder: Path, job: Job | None) -> dict[str, str]:
    """Where the run writes and the command that writes the same."""
    if job is None:
        return {"out": f"{history.RUNS}/", "command": f'cd "{folder}" && lifecircle run --config .'}
    out = f"{history.RUNS}/{job.record.id}"
    lang = job.record.lang
    command = f'cd "{folder}" && lifecircle run --config . --out {out} --lang {lang}'
    return {"out": out, "command": command}


async def start_run(request: Request) -> Response:
    """Start the run; a second start while one runs is refused with its message."""
    folder = project_of(request)
    try:
        settings_of(request).runs.start(folder, request.state.lang)
    except LifecircleError as exc:
        job = settings_of(request).runs.get(folder)
        return fail(request, "run.html", exc, job=job, step="run", **_where(folder, job))
    return RedirectResponse(f"/p/{folder.name}/run", status_code=303)


async def cancel_run(request: Request) -> Response:
    """Cancel the project's running run (nothing to do when none runs), back to the run page."""
    folder = project_of(request)
    settings_of(request).runs.cancel(folder)
    return RedirectResponse(f"/p/{folder.name}/run", status_code=303)


async def show_results(request: Request) -> Response:
    """The results page: the project's runs, and the run ``?run=<id>`` (default: the latest
    with outputs)."""
    folder = project_of(request)
    job = settings_of(request).runs.get(folder)
    live = job.record.id if job is not None and job.state == "running" else ""
    listed = await run_in_threadpool(history.records, folder, live)
    shown = request.query_params.get("run") or history.latest(folder, listed)
    summary, names = history.outputs(history.out_folder(folder, shown)) if shown else (None, [])
    headline = await run_in_threadpool(_headline, folder, summary, request.state.lang)
    return page(
        request,
        "results.html",
        names=names,
        headline=headline,
        runs=listed,
        shown=shown,
        base=f"/p/{folder.name}/runs/{shown}",
        has_outputs=lambda record: record.has_outputs(folder),
        step="results",
    )


def _headline(folder: Path, summary: dict | None, lang: str) -> str:
    """The terminal's headline of the run (``print_summary``), as plain text."""
    if summary is None:
        return ""
    from spatial.cli.terminal import print_summary
    from spatial.config.project import load_project
    from spatial.config.standards import load_standards

    try:
        standards = load_standards(load_project(folder / "project.toml"))
        names = {k: c.label(lang) for k, c in standards.categories.items()}
    except LifecircleError:
        names = None
    console = Console(file=io.StringIO(), width=100, color_system=None, emoji=False)
    print_summary(console, lang, summary, str(summary.get("project", "")), names)
    return console.file.getvalue()


def _run_of(request: Request, folder: Path) -> str:
    """The run the URL names (``/runs/<id>/…``), else the latest with outputs."""
    run_id = request.path_params.get("run")
    if run_id is not None:
        return run_id
    return history.latest(folder, history.records(folder))


async def output_file(request: Request) -> Response:
    """One output of a run (only a name its ``summary.json`` lists), to open or download."""
    folder = project_of(request)
    run_id = await run_in_threadpool(_run_of, request, folder)
    out = history.out_folder(folder, run_id) if run_id else None
    names = history.outputs(out)[1] if out is not None else []
    name = request.path_params["file"]
    if name not in names:
        return PlainTextResponse("404", status_code=404)
    download = request.query_params.get("download") == "1"
    return FileResponse(
        out / name,
        filename=name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )


async def output_zip(request: Request) -> Response:
    """Every output of a run in one zip (``<folder>-<run>.zip``)."""
    folder = project_of(request)
    run_id = await run_in_threadpool(_run_of, request, folder)
    out = history.out_folder(folder, run_id) if run_id else None
    names = history.outputs(out)[1] if out is not None else []
    if not names:
        return PlainTextResponse("404", status_code=404)
    data = await run_in_threadpool(_zip, out, names)
    filename = f"{folder.name}-{run_id}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{_quoted(filename)}"},
    )


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _zip(out: Path, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(out / name, name)
    return buffer.getvalue()
