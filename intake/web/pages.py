"""What every page shares: templates (per app), the user behind a page or a form (with
its CSRF token checked), Chinese error pages, flash messages and access checks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from intake import access, auth
from intake.access import ROLE_NAMES, Action
from intake.api.deps import SessionDep, identify
from intake.dossiers import DISTRICTS, current_report
from intake.models import Dossier, Role, User, aware
from intake.overview import STATE_NAMES, VERDICT_NAMES
from intake.reports.html import NAMES

HERE = Path(__file__).parent
STATIC = HERE / "static"


def templates_for(timezone: str) -> Jinja2Templates:
    """The pages' templates for one app (its time zone in the ``when`` filter)."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        NAMES,
        ROLE_NAMES={r.value: n for r, n in ROLE_NAMES.items()},
        STATE_NAMES=STATE_NAMES,
        VERDICT_NAMES=VERDICT_NAMES,
        DISTRICTS=DISTRICTS,
    )
    tz = ZoneInfo(timezone)
    templates.env.filters["when"] = lambda value: local_time(value, tz)
    return templates


LOGIN_CSRF_COOKIE = "intake_login_csrf"
FLASH_COOKIE = "intake_flash"
HOMES = {Role.APPLICANT: "/applicant", Role.REVIEWER: "/reviewer", Role.BUREAU: "/bureau"}


class LoginRequired(Exception):
    def __init__(self, next_url: str = "/") -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown to this user: rendered as a Chinese error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def page_user(request: Request, session: SessionDep) -> User:
    user = identify(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


async def form_user(request: Request, session: SessionDep) -> User:
    """The user behind a form post, after its CSRF token is checked."""
    form = await request.form()
    user = await run_in_threadpool(identify, request, session)
    if user is None:
        raise LoginRequired("/")
    csrf = getattr(request.state, "csrf", None)
    if csrf is not None and not auth.same_secret(str(form.get("csrf_token", "")), csrf):
        raise PageError(403, "页面已过期（安全校验失败），请返回后刷新页面再提交")
    return user


PageUser = Depends(page_user)
FormUser = Depends(form_user)


def render(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    flash = request.cookies.get(FLASH_COOKIE)
    response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "role": user.role if user else None,
            "csrf": getattr(request.state, "csrf", None),
            "flash": unflash(flash) if flash else None,
            **context,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None, error: bool = False) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        value = ("!" if error else "") + flash
        response.set_cookie(
            FLASH_COOKIE, quote(value), max_age=60, httponly=True, samesite="lax", path="/"
        )
    return response


def unflash(value: str) -> dict[str, Any]:
    text = unquote(value)[:500]
    return {"error": text.startswith("!"), "text": text.lstrip("!")}


def visible_dossier(session: Session, user: User, dossier_id: str, action: Action) -> Dossier:
    try:
        return access.check(user, session.get(Dossier, dossier_id), action)
    except access.AccessError as exc:
        raise PageError(exc.status, exc.message) from exc


def reviewable(session: Session, user: User, dossier_id: str) -> Dossier:
    """A dossier the user may review now: its report is built and current (as the API's
    409 says, no correction lands on a report that is being rebuilt)."""
    dossier = visible_dossier(session, user, dossier_id, Action.REVIEW)
    if current_report(session, dossier) is None:
        raise PageError(409, "材料仍在处理中，报告生成后才能更正或确认，请稍后刷新页面再试")
    return dossier


def require_role(user: User, roles, what: str) -> None:
    try:
        access.check_role(user, roles, what)
    except access.AccessError as exc:
        raise PageError(exc.status, exc.message) from exc


def local_time(value: Any, tz: ZoneInfo) -> str:
    """A stored time (UTC, ISO text or datetime) as local "YYYY-MM-DD HH:MM"."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return aware(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): an open redirect is a phishing aid."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
