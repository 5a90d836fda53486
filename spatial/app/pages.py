"""The pages of the planner's path before the run: data (new project, demo, open), check
(with the column choices) and settings. Each calls what the command line calls."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from spatial.app import projectfile, uploads
from spatial.app.view import fail, page, project_of, settings_of
from spatial.core.errors import InputError, LifecircleError

#: the layers whose columns the check page lets the planner choose
COLUMN_LAYERS = ("communities", "facilities", "parcels", "subdistricts")


async def home(request: Request) -> Response:
    """Step 1: the workspace's projects, the demo, and a new project from uploaded files."""
    return page(request, "home.html", **_home(request))


def _home(request: Request) -> dict[str, Any]:
    app = settings_of(request)
    return {
        "projects": [p.name for p in uploads.project_folders(app.workspace)],
        "layers": uploads.UPLOAD_LAYERS,
        "limit_mb": app.limits.upload_mb,
        "step": "data",
    }


async def demo(request: Request) -> Response:
    """A new project holding the demo district (``lifecircle demo``'s writer)."""
    from spatial.workflow.demo_files import write_demo

    app = settings_of(request)
    app.workspace.mkdir(parents=True, exist_ok=True)
    folder = uploads.folder_name("demo", app.workspace)
    folder.mkdir()
    await run_in_threadpool(write_demo, folder)
    return RedirectResponse(f"/p/{folder.name}/check", status_code=303)


async def new_project(request: Request) -> Response:
    """A new project folder from the uploaded layers and its ``project.toml``."""
    app = settings_of(request)
    form = await request.form()
    name = str(form.get("name") or "").strip() or "project"
    files = {
        layer: [(f.filename, f.file) for f in form.getlist(layer) if getattr(f, "filename", "")]
        for layer in uploads.UPLOAD_LAYERS
    }
    try:
        if not files["communities"]:
            raise InputError("err_app_communities_missing")
        folder = await run_in_threadpool(_create, app, name, files, request.state.lang)
    except LifecircleError as exc:
        return fail(request, "home.html", exc, **_home(request))
    return RedirectResponse(f"/p/{folder.name}/check", status_code=303)


def _create(app: Any, name: str, files: dict[str, list], lang: str) -> Path:
    for items in files.values():  # names first: nothing is written for a bad one
        for filename, _ in items:
            uploads.safe_name(filename)
    app.workspace.mkdir(parents=True, exist_ok=True)
    folder = uploads.folder_name(name, app.workspace)
    folder.mkdir()
    try:
        paths = {
            layer: uploads.save_layer(items, folder, layer, app.limits)
            for layer, items in files.items()
            if items
        }
        projectfile.new_project_file(folder, name, lang, paths)
    except BaseException:
        shutil.rmtree(folder)  # the folder made here: a refused upload leaves nothing behind
        raise
    return folder


async def check(request: Request) -> Response:
    """Step 2: what ``lifecircle check`` reports, with a drop-down per detected column."""
    folder = project_of(request)
    try:
        report, choices = await run_in_threadpool(_check, folder, request.state.lang)
    except LifecircleError as exc:
        return fail(request, "check.html", exc, report=None, step="check")
    return page(request, "check.html", report=report, choices=choices, step="check")


def _check(folder: Path, lang: str) -> tuple[dict, list[dict]]:
    from spatial.config.project import load_project
    from spatial.config.standards import load_column_aliases
    from spatial.inputs.files import read_any
    from spatial.workflow.pipeline import load_inputs
    from spatial.workflow.report import check_report

    project = load_project(folder / "project.toml")
    report = check_report(load_inputs(project), lang)
    aliases = load_column_aliases()
    choices = []
    for layer in report["layers"]:
        section = layer["key"]
        cfg = getattr(project, section, None)
        if section not in COLUMN_LAYERS or not cfg.path or cfg.path.strip().lower() == "osm":
            continue
        frame = read_any(project.resolve(cfg.path), cfg, aliases.get(section, {}))
        columns = [str(c) for c in frame.columns if c != "geometry"]
        roles = [
            {
                "role": role,
                "detected": layer["columns"].get(role, ""),
                "chosen": cfg.columns.get(role, ""),
            }
            for role in aliases.get(section, {})
        ]
        choices.append(
            {"section": section, "name": layer["name"], "columns": columns, "roles": roles}
        )
    return report, choices


async def columns(request: Request) -> Response:
    """The column choices of the check page into ``project.toml``, then check again."""
    folder = project_of(request)
    form = await request.form()
    changes: dict[str, dict[str, Any]] = {}
    for key, value in form.multi_items():
        parts = key.split(":")
        if len(parts) == 3 and parts[0] == "col" and parts[1] in COLUMN_LAYERS:
            changes.setdefault(parts[1], {})[parts[2]] = str(value) or None
    try:
        await run_in_threadpool(projectfile.edit, folder / "project.toml", changes)
    except LifecircleError as exc:
        return fail(request, "check.html", exc, report=None, step="check")
    return RedirectResponse(f"/p/{folder.name}/check", status_code=303)
