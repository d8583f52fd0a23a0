"""One error model for every 4xx and 5xx answer of the API: a stable ``code`` a program can
branch on, a ``message`` in Chinese a person can act on, and the ``field`` at fault when
there is one. The handlers here turn every exception the API may meet (our own
HTTPExceptions, FastAPI's validation errors, Starlette's 404/405, anything unexpected)
into that shape, and ``responses()`` documents it per route in the OpenAPI document."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from intake.dossiers import DossierPurgedError

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ErrorBody(BaseModel):
    """What every error answer carries."""

    code: str = Field(description="Stable machine-readable reason, e.g. not_found, invalid")
    message: str = Field(description="What went wrong and what to do, in Chinese")
    field: str | None = Field(
        default=None, description="The parameter or body field at fault (dotted path)"
    )
    detail: str = Field(description="Same as message (kept for clients written against 0.1)")


# The code of each status when the raiser names none.
CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_logged_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "not_ready",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}
# A message for a status when the raiser gave none (Starlette's own 404/405).
MESSAGES: dict[int, str] = {
    400: "请求格式不正确",
    404: "请求的地址不存在",
    405: "该地址不支持这种请求方法",
    500: "服务内部错误，请稍后重试；如多次出现请联系管理员",
}


class ApiError(HTTPException):
    """An HTTPException with its own code and field (else the status's code is used)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code or CODES.get(status_code, "error")
        self.field = field


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = ErrorBody(
        code=code or CODES.get(status, "error"), message=message, field=field, detail=message
    )
    return JSONResponse(
        status_code=status, content=body.model_dump() | extra, headers=headers or None
    )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's error answers (always JSON, whatever the
    route answers when it succeeds: HTML, PDF or a picture)."""
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {
        status: {
            "content": {"application/json": {"schema": schema}},
            "description": _DESCRIPTIONS.get(status, "Error"),
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "A body that cannot be read (not UTF-8, broken multipart)",
    401: "Not logged in (no or an unknown token or session)",
    403: "The account's role may not do this, or a browser request without its CSRF token",
    404: "No such dossier (or not one this account may see), file, page or version",
    405: "Method not allowed",
    408: "The request body stopped arriving",
    409: "The dossier's report is not built yet (files still being processed), or the "
    "dossier was purged (code purged: its report is history and cannot change)",
    410: "Gone for good: the dossier's originals were purged (code purged)",
    413: "Upload over a size or count limit; nothing was stored",
    422: "A parameter or body field that cannot be used",
    429: "Too many requests; retry after the Retry-After header's seconds",
    503: "A service the API needs (database, queue) is unavailable; retry later",
}


def _field(loc: tuple | list) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


# What people call the fields the API takes, for the messages.
LABELS = {
    "rule_pack": "规则包",
    "name": "名称",
    "district": "区县",
    "comment": "理由",
    "value": "更正值",
    "old": "原读取值",
    "field": "字段",
    "criterion": "检查项",
    "reviewer": "评审专家账号",
    "files": "上传文件",
    "file": "文件",
    "page": "页码",
    "version": "报告版本",
    "round": "申报批次",
    "box": "框选区域",
}


def _validation_message(error: dict) -> str:
    kind = error.get("type", "")
    field = _field(error.get("loc", ()))
    where = LABELS.get((field or "").rsplit(".", 1)[-1], field) or "请求"
    given = error.get("input")
    if kind == "missing":
        return f"缺少必填项：{where}"
    if kind == "string_pattern_mismatch" and _CONTROL.search(str(given or "")):
        return f"{where}含有不可见的控制字符，请删除后重试"
    if kind == "string_pattern_mismatch" and isinstance(given, str) and not given.strip():
        return f"请填写{where}"
    if kind in ("literal_error", "enum"):
        expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"未知的{where}“{given}”，可选：{expected.replace(' or ', ', ')}"
    if kind.startswith(("int_", "float_")) or kind in ("greater_than_equal", "less_than_equal"):
        return f"{where}的数值不正确或超出范围"
    if kind == "extra_forbidden":
        return f"请求中有未定义的字段“{field}”，请检查拼写"
    if kind.startswith("string_"):
        return f"{where}的内容或长度不符合要求"
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        return "请求体不是正确的 JSON 对象"
    return f"{where}的内容不正确"


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the one model, and put the model in its OpenAPI
    document's components (the routes refer to it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["ErrorBody"] = ErrorBody.model_json_schema()
        return app.openapi_schema

    app.openapi = openapi

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        message = detail if detail and not detail.isascii() else None
        message = message or MESSAGES.get(exc.status_code) or detail or "请求无法处理"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        # A domain error re-raised as an HTTPException (``raise HTTPException(…) from
        # exc``) keeps its own stable code and field (intake.reviews.ReviewError).
        cause = exc.__cause__
        return error_response(
            exc.status_code,
            message,
            code=getattr(exc, "code", None) or _cause_code(cause),
            field=getattr(exc, "field", None) or getattr(cause, "field", None),
            headers=headers,
        )

    @app.exception_handler(DossierPurgedError)
    async def purged(_: Request, exc: DossierPurgedError) -> JSONResponse:
        # A purged dossier is read-only history: what needs its originals is refused.
        return error_response(409, exc.message, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("loc", ("",))[0] == "path":  # an id of the wrong shape names nothing
            return error_response(404, "请求的对象不存在，请检查编号", field=_field(first["loc"]))
        return error_response(
            422, _validation_message(first), code="invalid", field=_field(first.get("loc", ()))
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, MESSAGES[500])


def _cause_code(cause: BaseException | None) -> str | None:
    code = getattr(cause, "code", None)
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{2,32}", code) else None


# A dossier's state in words (the 409 of a report not built yet says which).
STATE_NAMES = {
    "queued": "材料排队等待处理",
    "processing": "材料正在处理",
    "done": "材料已处理完",
}


def not_ready(state: str) -> str:
    """The 409's message: the report is not built yet, and why, in Chinese."""
    return f"报告尚未生成：{STATE_NAMES.get(str(state), '材料正在处理')}，请稍后再试"


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette's own 405 names only those of
    the first route that matched the path): each method tried against the app's routes."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed
