"""The HTTP API: ``create_app()`` builds it; nothing is created at import time."""

from __future__ import annotations

import logging
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from intake import logs, metrics
from intake.api import errors
from intake.api.headers import BodyIdleTimeout, SecurityHeaders
from intake.api.hygiene import Hygiene
from intake.api.limits import RequestSizeLimit
from intake.db import migrate
from intake.settings import Settings, get_settings
from validators.packs import UnknownRulePackError

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    from intake import web
    from intake.api import dossiers, platforms, rounds

    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    app = FastAPI(
        title="申报材料智能预审服务",
        description="西安市中小企业公共服务示范平台认定申报材料的上传、识别、核查与报告。",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.include_router(dossiers.router)
    app.include_router(rounds.router)
    app.include_router(platforms.router)
    web.install(app)
    _install_docs(app)
    errors.install(app)
    app.add_middleware(Hygiene)
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(BodyIdleTimeout, seconds=settings.body_idle_timeout)
    app.add_middleware(SecurityHeaders)  # also on the 408, 413 and 422 above
    metrics.install(app, settings)  # GET /metrics; times every request, the above's answers too
    app.add_middleware(logs.RequestContext)  # outermost: each request's id, in every log line

    @app.exception_handler(UnknownRulePackError)
    async def unknown_pack(_: Request, exc: UnknownRulePackError) -> JSONResponse:
        return errors.error_response(422, str(exc), code="unknown_rule_pack", field="rule_pack")

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        # The database unreachable for a moment (restarting, failing over): say so, and let
        # the client try again; the next request opens a fresh connection.
        log.warning("database unavailable: %s", exc.orig if hasattr(exc, "orig") else exc)
        return errors.error_response(
            503, "服务暂时不可用（数据库连接中断），请稍后重试", headers={"Retry-After": "5"}
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI, in the wheel
HERE = Path(__file__).parent


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, served from installed packages (it loads offline, and under the
    pages' Content-Security-Policy: no inline script)."""
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    app.mount("/docs-init", StaticFiles(directory=HERE / "static"), name="docs-init")
    page = (HERE / "static" / "docs.html").read_text(encoding="utf-8")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)
