"""Signing in and out, and each role's way in."""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake import auth
from intake.api.deps import SESSION_COOKIE, SessionDep, SettingsDep
from intake.models import Role, User
from intake.web.pages import (
    HOMES,
    LOGIN_CSRF_COOKIE,
    FormUser,
    PageUser,
    local_time,
    redirect,
    render,
    safe_next,
)

router = APIRouter(include_in_schema=False)

# --- signing in ---------------------------------------------------------------------------


def _login_form(request: Request, target: str, status_code: int = 200, **shown) -> HTMLResponse:
    """The login page, with a fresh login CSRF token in a form field and a cookie."""
    token = auth.new_secret()
    response = render(
        request, "login.html", None, status_code, next=target, login_csrf=token, **shown
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _login_form(request, safe_next(next))


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not auth.same_secret(str(form.get("csrf_token", "")), expected):
        return redirect(f"/login?next={quote(target)}", "页面已过期，请重新登录", error=True)

    presented = request.cookies.get(SESSION_COOKIE)

    def sign_in() -> str | None:
        try:
            user = auth.authenticate(session, name, password)
        finally:
            session.commit()  # the wrong-password count, whatever happened
        if user is None:
            return None
        if presented:  # a new login never continues an earlier session (no fixation)
            auth.end_session(session, presented)
        cookie, _ = auth.start_session(session, user, settings.session_hours)
        session.commit()
        return cookie

    minutes = int(auth.LOCKOUT.total_seconds() // 60)
    try:
        cookie = await run_in_threadpool(sign_in)
        error = f"用户名或密码不正确（连续输错 {auth.MAX_FAILURES} 次，账号将锁定 {minutes} 分钟）"
    except auth.LockedOut as locked:
        cookie = None
        until = local_time(locked.until, ZoneInfo(settings.timezone))[11:]
        error = f"该账号因多次输错密码已暂时锁定，请于 {until} 后再试，或联系主管部门"
    if cookie is None:
        return _login_form(request, target, 401, error=error, typed_name=name)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: User = FormUser) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.end_session(session, cookie)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(user: User = PageUser) -> RedirectResponse:
    return RedirectResponse(HOMES[Role(user.role)], status_code=303)
