"""Who may drive the app: the loopback address's own pages holding this start's token.

Every request needs the random per-start token — in the URL on the first visit (then it is
moved into an HttpOnly, SameSite=Strict cookie and the URL without it), else in that cookie — as
Jupyter does; its Host must be ``127.0.0.1:<port>`` or ``localhost:<port>`` and an Origin, when
sent, the same (a DNS-rebinding page or another site's form is refused); a body over the upload
limit is refused (413) before and while it is read.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spatial.core.messages import text

LANG_COOKIE = "lifecircle-lang"


def lang_of(headers: Headers) -> str:
    """The page language: the language cookie's, else Chinese."""
    cookie = SimpleCookie(headers.get("cookie", ""))
    morsel = cookie.get(LANG_COOKIE)
    return "en" if morsel is not None and morsel.value == "en" else "zh"


class Guard:
    """ASGI middleware in front of the app (see the module's text).

    Parameters
    ----------
    app : ASGI app
    token : str
        This start's token (``secrets.token_urlsafe``).
    port : int
        The port the app listens on (the allowed Host and Origin name it).
    max_body : int
        Bytes a request body may have.
    """

    def __init__(self, app: ASGIApp, token: str, port: int, max_body: int, limit_mb: float):
        self.app, self.token, self.max_body, self.limit_mb = app, token, max_body, limit_mb
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.cookie = f"lifecircle-token-{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets
        headers = Headers(scope=scope)
        lang = lang_of(headers)
        origin = headers.get("origin")
        if headers.get("host") not in self.hosts or (origin and origin not in self.origins):
            await _refuse(403, text(lang, "app_forbidden"), scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        given = dict(query).get("token")
        if given is not None and secrets.compare_digest(given, self.token):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            target = scope["path"] + (f"?{rest}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        morsel = SimpleCookie(headers.get("cookie", "")).get(self.cookie)
        if morsel is None or not secrets.compare_digest(morsel.value, self.token):
            await _refuse(403, text(lang, "app_forbidden"), scope, receive, send)
            return
        await self._bounded(scope, receive, send, headers, lang)

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, lang: str
    ) -> None:
        too_large = text(lang, "err_app_upload_too_large", limit=self.limit_mb)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await _refuse(413, too_large, scope, receive, send)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:  # the app's exception handler answers 413
                raise HTTPException(413, too_large)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            message = _with_headers(message)
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except HTTPException:
            if started:
                raise
            await _refuse(413, too_large, scope, receive, send)


#: headers on every response: no page of another site frames the app, no URL leaks in a
#: Referer to another site (same-origin: a form's Origin stays the page's, not "null"), no content
#: type is guessed
_HEADERS = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]


def _with_headers(message: Message) -> Message:
    if message["type"] == "http.response.start":
        message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
    return message


async def _refuse(status: int, body: str, scope: Scope, receive: Receive, send: Send) -> None:
    async def sending(message: Message) -> None:
        await send(_with_headers(message))

    await PlainTextResponse(body, status_code=status)(scope, receive, sending)
