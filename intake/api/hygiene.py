"""Input hygiene at the edge: control characters (NUL above all: PostgreSQL cannot store it
and the driver raises) are refused with 422 before a request reaches any endpoint or page.

One rule, ``control_character``, used twice: by the typed parameters of the JSON API
(``Line`` / ``Text``, whose pattern the OpenAPI document shows) and by ``Hygiene``, a
middleware that reads every path, query string and JSON or form body, so a page form or
an undeclared parameter cannot slip one through either. Tab, line feed and carriage
return are allowed in bodies (a comment may have lines), never in a path or a query."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import StringConstraints
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.api.errors import error_response

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# The same, with at least one character that is not a space (a reason, a value).
FILLED_LINE_PATTERN = r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
FILLED_TEXT_PATTERN = r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# A one-line value (a name, an id, a district); a text that may have lines (a comment);
# a reason that must be given (a comment, a corrected value).
Line = Annotated[str, StringConstraints(pattern=LINE_PATTERN, max_length=1024)]
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN, max_length=10_000)]
FilledLine = Annotated[str, StringConstraints(pattern=FILLED_LINE_PATTERN, max_length=1024)]
Reason = Annotated[str, StringConstraints(pattern=FILLED_TEXT_PATTERN, max_length=10_000)]
# Integers the API stores or looks up: within a signed 32-bit column.
MAX_INT = 2**31 - 1

MESSAGE = "{where}含有不可见的控制字符（如 NUL），请删除后重试"
BODY_LIMIT = 1 << 20  # JSON and form bodies are small; larger ones are not read whole here


def control_character(text: str, multiline: bool = False) -> bool:
    """Does ``text`` hold a control character (tab and line breaks allowed if multiline)?"""
    return bool((_CONTROL_IN_TEXT if multiline else _ANY_CONTROL).search(text))


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}" if path else str(i))


class Hygiene:
    """ASGI middleware: 422 for a control character in the path, the query or a JSON or
    form (urlencoded) body; multipart uploads are left to the upload code (file names are
    cleaned there, contents are binary)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if control_character(scope.get("path", "")):
            await self._refuse(scope, receive, send, "地址", None)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8"):
            if control_character(name) or control_character(value):
                await self._refuse(scope, receive, send, f"参数 {name} ", name)
                return
        kind = _content_type(scope)
        if kind not in ("application/json", "application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        if not more:
            field = _body_fault(body, kind)
            if field is not None:
                await self._refuse(scope, receive, send, f"{field or '请求内容'} ", field or None)
                return
        await self.app(scope, _replay(body, more, receive), send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, where: str, field) -> None:
        response = error_response(
            422, MESSAGE.format(where=where), code="control_character", field=field
        )
        await response(scope, receive, send)


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers") or []:
        if key == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The body, up to BODY_LIMIT; ``more`` if there is more than that (left unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), False
        if size > BODY_LIMIT:
            return b"".join(chunks), True


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed


def _body_fault(body: bytes, kind: str) -> str | None:
    """The field holding a control character ("" for the body as a whole), or None."""
    text = body.decode("utf-8", errors="replace")
    if kind == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(text, keep_blank_values=True):
            if control_character(name) or control_character(value, multiline=True):
                return name
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return "" if "\x00" in text else None  # not JSON: the endpoint says so
    for path, string in _strings(value):
        if control_character(string, multiline=True):
            return path
    return None
