"""Rendering a page: the Jinja2 templates of ``spatial/app/templates`` (autoescape on: every
value, the data's text included, is escaped) with the page's language and catalogue texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from spatial.app.jobs import Runs
from spatial.app.uploads import Limits, project_folder
from spatial.core.errors import LifecircleError
from spatial.core.messages import labels, text

#: the app's own pages load nothing from elsewhere (the overview map, a written output shown in a
#: frame, is another document with its own rules)
CSP = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'self'; form-action 'self'"


@dataclass
class AppSettings:
    """The settings of one ``lifecircle serve``.

    Attributes
    ----------
    workspace : Path
        The folder holding the app's project folders.
    port : int
    limits : Limits
        Upload bounds.
    """

    workspace: Path
    port: int = 8765
    limits: Limits = field(default_factory=Limits)
    runs: Runs = field(default_factory=Runs)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("spatial.app", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def settings_of(request: Request) -> AppSettings:
    """The app's settings."""
    return request.app.state.settings


def project_of(request: Request) -> Path:
    """The project folder the URL names (a folder of the workspace holding ``project.toml``)."""
    return project_folder(settings_of(request).workspace, request.path_params["name"])


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the page's language (``t``: catalogue text, ``stage``: a stage's
    name)."""
    lang = request.state.lang
    name = request.path_params.get("name")
    body = (
        _environment()
        .get_template(template)
        .render(
            t=partial(text, lang),
            stage=lambda key: labels(lang).get(f"stage_{key}", key),
            layer=lambda key: labels(lang).get(f"layer_{key}", key),
            role=lambda key: labels(lang).get(f"app_role_{key}", key),
            lang=lang,
            project=name,
            path=request.url.path,
            error=context.pop("error", ""),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status, headers={"content-security-policy": CSP})


def fail(request: Request, template: str, exc: LifecircleError, **context: Any) -> HTMLResponse:
    """``template`` with the error's one line (the command line's text) at its top (400)."""
    return page(request, template, 400, error=exc.message(request.state.lang), **context)
