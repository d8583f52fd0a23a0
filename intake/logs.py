"""Log lines that say what they concern: the request, user, dossier, file and job.

Each request (``RequestContext``, an ASGI middleware) and each rq job (``job_context``)
opens a context: a small dict held in a context variable. Code that learns who or what a
request is about adds to it (:func:`bind`); a ``logging.Filter`` copies it onto every record
logged in that request or job, whatever the logger (ours, rq's, uvicorn's). The dict is
shared, not copied, so a value bound in a threadpool thread (where FastAPI runs sync
dependencies, and a context variable set there would not come back) is seen by the
middleware's own lines too.

``INTAKE_LOG_FORMAT=json`` writes one JSON object a line (for Loki, Elasticsearch, journald);
``text`` (the default) plain lines for a terminal. Neither ever carries a password, token,
cookie or document text: nothing here logs a request's headers or body, and
:func:`redact` blanks what looks like an API token or session cookie in every line as a last
line of defence."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELDS = ("request_id", "user", "dossier_id", "file_id", "job_id")
REQUEST_ID_HEADER = "X-Request-ID"
# A client's own request id is kept when it is short and plain (a proxy's, a load
# balancer's); anything else is replaced, so a header cannot write into the logs.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# API tokens (intake.auth: "itk_…"), and a session cookie or bearer credential written out.
_SECRETS = re.compile(
    r"(itk_[A-Za-z0-9_\-]{8,})|((?:intake_session|Bearer)[=: ]+)[A-Za-z0-9_\-.~+/]{8,}",
    re.IGNORECASE,
)

_context: ContextVar[dict[str, Any] | None] = ContextVar("intake_log_context", default=None)

access_log = logging.getLogger("intake.access")


def current() -> dict[str, Any]:
    """The ids of the request or job this code runs in (empty outside one)."""
    return {k: v for k, v in (_context.get() or {}).items() if not k.startswith("_")}


def bind(**values: Any) -> None:
    """Add ids (``user=``, ``dossier_id=``…) to the current request's or job's context;
    outside one (a command, a test calling code directly) nothing: ids bound there would
    stick to every later line of the thread."""
    context = _context.get()
    if context is None:
        return
    context.update({k: v for k, v in values.items() if v is not None})


@contextmanager
def job_context(**values: Any) -> Iterator[dict[str, Any]]:
    """A fresh context for the duration of one job (a worker runs many in one process)."""
    token = _context.set({k: v for k, v in values.items() if v is not None})
    try:
        yield _context.get()
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current context's ids onto each record (``record.request_id``…, None
    where they do not apply); a dossier id is also read from the route's path parameters
    once the request is routed."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get() or {}
        scope = context.get("_scope")
        params = (scope or {}).get("path_params") or {}
        for field in FIELDS:
            if getattr(record, field, None) is None:
                setattr(record, field, context.get(field) or params.get(field))
        return True


def redact(text: str) -> str:
    """``text`` with API tokens and session cookies blanked: every formatted line passes
    through here (message, extra fields, traceback), so that a careless
    ``log.info("%s", headers)`` cannot leak one."""
    return _SECRETS.sub(_redact, text)


def _redact(match: re.Match[str]) -> str:
    return "itk_[已隐去]" if match.group(1) else f"{match.group(2)}[已隐去]"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context's
    ids that apply, any extra fields given with ``extra=`` that serialise, and the
    exception's type and traceback."""

    _STANDARD = frozenset(
        logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
        | {"message", "asctime", "taskName", "color_message", *FIELDS}  # uvicorn's colours
    )

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message [request=… file=…]``: the ids that apply, after the line."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        ids = [
            f"{field.removesuffix('_id')}={getattr(record, field)}"
            for field in FIELDS
            if getattr(record, field, None) is not None
        ]
        if not ids:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{' '.join(ids)}]{newline}{rest}"


def make_handler(fmt: str = "text", stream=None) -> logging.Handler:
    """A handler writing ``fmt`` (``json`` or ``text``) lines to ``stream`` (stderr), with
    the context's ids and secrets redacted; a ValueError in Chinese for another format."""
    if fmt not in ("json", "text"):
        raise ValueError(f"无法识别的日志格式：{fmt}（可选：json、text）")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def setup_logging(fmt: str = "text", level: int = logging.WARNING, stream=None) -> None:
    """The process's logging (``intake`` commands call it once, first): ``fmt`` lines to
    stderr (or ``stream``) at ``level``, replacing the root logger's handlers. In JSON the
    access log (``intake.access``, one line a request) is at INFO whatever the level: it
    replaces uvicorn's, which writes the query string and the client's address in text."""
    handler = make_handler(fmt, stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    access_log.setLevel(logging.INFO if fmt == "json" else logging.WARNING)


class RequestContext:
    """ASGI middleware: a request id for each HTTP request (the client's ``X-Request-ID``
    when it is plain, else a new one), returned in the ``X-Request-ID`` header and set in
    the log context with the request itself (for its route's dossier id); after the
    response, one access line (method, route template, status, milliseconds), never the
    query string, headers or body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = _header(scope, b"x-request-id")
        request_id = sent if sent and _CLIENT_ID.match(sent) else uuid.uuid4().hex
        token = _context.set({"request_id": request_id, "_scope": scope})
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID_HEADER.lower().encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                route_template(scope),
                status,
                extra={
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            _context.reset(token)


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (``/api/dossiers/{dossier_id}``), the
    mount's prefix for static files, or ``unmatched``: never the raw path, whose ids would
    make a metric series (and a log field) per dossier."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
