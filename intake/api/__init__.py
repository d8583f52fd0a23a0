"""The HTTP API: ``create_app()`` builds it; nothing is created at import time."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from intake.api.limits import RequestSizeLimit
from intake.db import migrate
from intake.settings import Settings, get_settings
from validators.packs import UnknownRulePackError

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    from intake import web
    from intake.api import dossiers

    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    app = FastAPI(
        title="申报材料智能预审服务",
        description="西安市中小企业公共服务示范平台认定申报材料的上传、识别、核查与报告。",
        version="0.1.0",
    )
    app.state.settings = settings
    app.include_router(dossiers.router)
    web.install(app)
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)

    @app.exception_handler(UnknownRulePackError)
    async def unknown_pack(_: Request, exc: UnknownRulePackError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        # The database unreachable for a moment (restarting, failing over): say so, and let
        # the client try again; the next request opens a fresh connection.
        log.warning("database unavailable: %s", exc.orig if hasattr(exc, "orig") else exc)
        return JSONResponse(
            status_code=503,
            content={"detail": "服务暂时不可用（数据库连接中断），请稍后重试"},
            headers={"Retry-After": "5"},
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
