"""Step 3: the main settings as a form (basket, radii, cut-offs, basemap), written into
``project.toml`` and checked by the command line's rules and messages."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from spatial.app import projectfile
from spatial.app.view import fail, page, project_of
from spatial.core import settings
from spatial.core.errors import LifecircleError


async def show(request: Request) -> Response:
    """The settings form, filled from the project file."""
    folder = project_of(request)
    try:
        form = await run_in_threadpool(_form, folder, request.state.lang)
    except LifecircleError as exc:
        return fail(request, "settings.html", exc, form=None, step="settings", saved="")
    saved = request.query_params.get("saved", "")
    return page(
        request, "settings.html", form=form, step="settings", saved=saved and "project.toml"
    )


def _form(folder: Path, lang: str) -> dict[str, Any]:
    from spatial.config.project import load_project
    from spatial.config.standards import load_standards

    project = load_project(folder / "project.toml")
    standards = load_standards(project)
    defaults = load_standards()
    coverage = projectfile.table(folder / "project.toml", "coverage")
    radius = coverage.get("radius", {})
    return {
        "categories": [
            {
                "key": key,
                "label": cat.label(lang),
                "in_basket": key in standards.basket,
                "radius": radius.get(key, ""),
                "standard": f"{defaults.categories[key].radius_m:g}"
                if key in defaults.categories
                else "",
            }
            for key, cat in standards.categories.items()
        ],
        "old_cutoff": project.policy.old_cutoff.isoformat(),
        "priority_cutoff": project.policy.priority_cutoff.isoformat(),
        "basemap": project.render.basemap,
        "basemaps": list(tomllib.loads((settings.DATA_DIR / "basemaps.toml").read_text("utf-8"))),
    }


async def save(request: Request) -> Response:
    """The form into ``project.toml``; a value the command line refuses is shown as its line."""
    folder = project_of(request)
    form = await request.form()
    try:
        current = await run_in_threadpool(_form, folder, request.state.lang)
        changes = _changes(form, current)
        await run_in_threadpool(projectfile.edit, folder / "project.toml", changes)
    except LifecircleError as exc:
        current = await run_in_threadpool(_form, folder, request.state.lang)
        return fail(request, "settings.html", exc, form=current, step="settings", saved="")
    return RedirectResponse(f"/p/{folder.name}/settings?saved=1", status_code=303)


def _number(value: str) -> float | int | str:
    """A form's number as TOML wants it; text that is no number is kept, for the command line's
    own message about it."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _changes(form: Any, current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = [c["key"] for c in current["categories"]]
    basket = [k for k in form.getlist("basket") if k in keys]
    radius = {
        k: _number(str(form.get(f"radius_{k}", "")).strip())
        for k in keys
        if str(form.get(f"radius_{k}", "")).strip()
    }
    was = [c["key"] for c in current["categories"] if c["in_basket"]]
    coverage: dict[str, Any] = {"radius": radius or None}
    if basket != was:
        coverage["basket"] = basket
    return {
        "coverage": coverage,
        "policy": {
            "old_cutoff": str(form.get("old_cutoff", "")).strip(),
            "priority_cutoff": str(form.get("priority_cutoff", "")).strip(),
        },
        "render": {"basemap": str(form.get("basemap", "")).strip()},
    }
