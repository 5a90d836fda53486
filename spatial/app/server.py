"""``lifecircle serve``: the app's routes behind the guard, served on 127.0.0.1 only."""

from __future__ import annotations

import secrets
import socket
import threading
import webbrowser
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from spatial.app import pages, results, settings_page
from spatial.app.guard import LANG_COOKIE, Guard, lang_of
from spatial.app.uploads import Limits
from spatial.app.view import AppSettings, page
from spatial.core.errors import InputError, LifecircleError

HOST = "127.0.0.1"


async def _css(request: Request) -> Response:
    body = resources.files("spatial.app").joinpath("static/app.css").read_bytes()
    return Response(body, media_type="text/css")


async def _not_found(request: Request, exc: Exception) -> Response:
    """A URL naming no project of the workspace: its one line, 404."""
    request.path_params.pop("name", None)
    error = exc.message(request.state.lang) if isinstance(exc, LifecircleError) else ""
    return page(request, "error.html", 404, error=error, step="")


async def _lang(request: Request) -> Response:
    code = request.path_params["code"]
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # only a page of this app
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, "en" if code == "en" else "zh", samesite="strict")
    return response


class _Lang:
    """Puts the page language (the cookie's) on ``request.state.lang``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            from starlette.datastructures import Headers

            scope.setdefault("state", {})["lang"] = lang_of(Headers(scope=scope))
        await self.app(scope, receive, send)


def build_app(settings: AppSettings, token: str) -> Any:
    """The app: its routes, the page language, and the guard in front (token, Host, Origin,
    body size).

    Parameters
    ----------
    settings : AppSettings
    token : str
        This start's token.

    Returns
    -------
    ASGI app
    """
    p = "/p/{name}"
    routes = [
        Route("/", pages.home),
        Route("/static/app.css", _css),
        Route("/lang/{code}", _lang),
        Route("/demo", pages.demo, methods=["POST"]),
        Route("/new", pages.new_project, methods=["POST"]),
        Route(f"{p}/check", pages.check),
        Route(f"{p}/columns", pages.columns, methods=["POST"]),
        Route(f"{p}/settings", settings_page.show),
        Route(f"{p}/settings", settings_page.save, methods=["POST"]),
        Route(f"{p}/run", results.show_run),
        Route(f"{p}/run", results.start_run, methods=["POST"]),
        Route(f"{p}/cancel", results.cancel_run, methods=["POST"]),
        Route(f"{p}/results", results.show_results),
        Route(f"{p}/out/{{file}}", results.output_file),  # the latest run's
        Route(f"{p}/zip", results.output_zip),
        Route(f"{p}/runs/{{run}}/out/{{file}}", results.output_file),
        Route(f"{p}/runs/{{run}}/zip", results.output_zip),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Lang)],
        exception_handlers={LifecircleError: _not_found},
    )
    app.state.settings = settings
    max_body = int(settings.limits.upload_mb * 1e6)
    return Guard(app, token, settings.port, max_body, settings.limits.upload_mb)


def serve(workspace: Path, port: int, browser: bool, limits: Limits, say: Any) -> None:
    """Serve the app on ``127.0.0.1:port`` until Ctrl-C; print its URL (with the token) and
    open it in the browser unless ``browser`` is false.

    Parameters
    ----------
    workspace : Path
    port : int
    browser : bool
    limits : Limits
    say : callable
        ``say(key, **fields)`` prints a catalogue message (the command line's).
    """
    import uvicorn

    check_port(port)
    token = secrets.token_urlsafe(32)
    settings = AppSettings(workspace=workspace.expanduser().resolve(), port=port, limits=limits)
    app = build_app(settings, token)
    url = f"http://{HOST}:{port}/?token={token}"
    say("app_serve_url", url=url)
    say("app_serve_workspace", path=settings.workspace)
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    if browser:  # once the server is likely listening
        threading.Timer(0.8, webbrowser.open, [url]).start()
    server.run()


def check_port(port: int) -> None:
    """``InputError`` (``err_app_port``) when ``127.0.0.1:port`` cannot be listened on."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise InputError("err_app_port", port=port, reason=exc.strerror or exc) from None
