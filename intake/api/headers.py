"""Two ASGI middlewares at the edge of the app.

``SecurityHeaders`` gives every answer a Content-Security-Policy without inline script
(no page may be framed: the correction and assignment forms cannot be clickjacked),
``nosniff``, a Referrer-Policy and X-Frame-Options for older browsers. An answer that
sets its own policy (the report page, whose one inline stylesheet keeps the file
self-contained) keeps it; build one with ``content_security_policy``.

``BodyIdleTimeout`` ends a request whose body stops arriving: when the next chunk does not
come within ``seconds``, the client is answered 408 and the connection closed, so a
half-sent upload cannot hold a worker slot and a connection open forever.

The ``server`` header is uvicorn's, added after the app: ``intake serve`` turns it off."""

from __future__ import annotations

from collections.abc import Iterable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.api.errors import ApiError, error_response

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # the report's evidence pictures are data: URLs
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def content_security_policy(style_sources: Iterable[str] = ()) -> str:
    """The service's policy; ``style_sources`` (e.g. a ``'sha256-…'`` of an inline
    stylesheet) are allowed besides the site's own files."""
    policy = dict(_POLICY)
    extra = " ".join(style_sources)
    if extra:
        policy["style-src"] += " " + extra
    return "; ".join(f"{name} {value}" for name, value in policy.items())


HEADERS = (
    (b"content-security-policy", content_security_policy().encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def stalled_message(seconds: float) -> str:
    return f"超过 {seconds:g} 秒未收到上传数据，连接已断开；请检查网络后重新上传"


class _BodyStalled(ApiError):
    """Raised inside the body read: FastAPI answers an HTTPException with its status and
    message (another exception there would become a 400)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, stalled_message(seconds))


class BodyIdleTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.seconds or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        body_done = stalled = started = False

        async def timed() -> Message:
            nonlocal body_done, stalled
            if stalled:
                return {"type": "http.disconnect"}
            if body_done:  # waiting for a disconnect may rightly take as long as it takes
                return await receive()
            with anyio.move_on_after(self.seconds):
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body"):
                    body_done = True
                return message
            stalled = True
            raise _BodyStalled(self.seconds)

        async def closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if stalled:  # the rest of the body will not come: do not wait for it
                    kept = [h for h in message.get("headers") or [] if h[0] != b"connection"]
                    message = {**message, "headers": [*kept, (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, timed, closing)
        except _BodyStalled:
            if not started:  # raised outside FastAPI's handlers (another middleware's read)
                response = error_response(
                    408, stalled_message(self.seconds), headers={"Connection": "close"}
                )
                await response(scope, timed, send)
