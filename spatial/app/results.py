"""Steps 4 and 5: the run (in the background, its stage shown) and its results — the headline
the terminal prints, the overview map in a frame, each output to open or download, all as a zip."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from rich.console import Console
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from spatial.app.jobs import OUT_NAME
from spatial.app.view import fail, page, project_of, settings_of
from spatial.core.errors import LifecircleError


async def show_run(request: Request) -> Response:
    """The run page: start, or the running stage (the page reloads itself), or how it ended."""
    folder = project_of(request)
    job = settings_of(request).runs.get(folder)
    return page(request, "run.html", job=job, step="run", **_where(folder))


def _where(folder: Path) -> dict[str, str]:
    return {"out": OUT_NAME, "command": f'cd "{folder}" && lifecircle run --config .'}


async def start_run(request: Request) -> Response:
    """Start the run; a second start while one runs is refused with its message."""
    folder = project_of(request)
    try:
        settings_of(request).runs.start(folder, request.state.lang)
    except LifecircleError as exc:
        job = settings_of(request).runs.get(folder)
        return fail(request, "run.html", exc, job=job, step="run", **_where(folder))
    return RedirectResponse(f"/p/{folder.name}/run", status_code=303)


def _outputs(folder: Path) -> tuple[dict | None, list[str]]:
    """The last run's ``summary.json`` and the outputs it lists that are there."""
    out = folder / OUT_NAME
    try:
        summary = json.loads((out / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None, []
    names = [  # plain names only: a hand-edited summary.json names nothing outside ``out``
        n
        for n in summary.get("outputs", [])
        if isinstance(n, str) and Path(n).name == n and not n.startswith(".")
        if (out / n).is_file()
    ]
    return summary, names


async def show_results(request: Request) -> Response:
    """The results page."""
    folder = project_of(request)
    summary, names = _outputs(folder)
    headline = await run_in_threadpool(_headline, folder, summary, request.state.lang)
    return page(request, "results.html", names=names, headline=headline, step="results")


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


async def output_file(request: Request) -> Response:
    """One output of the last run (only a name ``summary.json`` lists), to open or download."""
    folder = project_of(request)
    _, names = _outputs(folder)
    name = request.path_params["file"]
    if name not in names:
        return PlainTextResponse("404", status_code=404)
    download = request.query_params.get("download") == "1"
    return FileResponse(
        folder / OUT_NAME / name,
        filename=name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )


async def output_zip(request: Request) -> Response:
    """Every output of the last run in one zip (``<folder>-maps.zip``)."""
    folder = project_of(request)
    _, names = _outputs(folder)
    if not names:
        return PlainTextResponse("404", status_code=404)
    data = await run_in_threadpool(_zip, folder / OUT_NAME, names)
    filename = f"{folder.name}-{OUT_NAME}.zip"
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
