"""Signing in and out, and each role's way in."""

from __future__ import annotations

import math
from urllib.parse import quote

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
    # The address uvicorn gives (behind a proxy: from X-Forwarded-For, when uvicorn is told
    # to trust that proxy); never a header read here.
    client = request.client.host if request.client else "unknown"

    def sign_in() -> str | None:
        try:
            user = auth.authenticate(session, name, password)
        finally:
            session.commit()  # the failed-login count, whatever happened
        if user is None:
            return None
        auth.forget_login_attempts(settings, name, client)
        if presented:  # a new login never continues an earlier session (no fixation)
            auth.end_session(session, presented)
        cookie, _ = auth.start_session(session, user, settings.session_hours)
        session.commit()
        return cookie

    # Counted before the password is checked, alike for names that exist and names that
    # do not, so neither a burst of guesses nor the answer tells anything.
    admitted = await run_in_threadpool(auth.admit_login, settings, client, name)
    if not admitted.allowed:
        minutes = max(1, math.ceil(admitted.retry_after / 60))
        response = _login_form(
            request,
            target,
            429,
            error=f"尝试次数过多，请 {minutes} 分钟后再试。如忘记密码，请联系主管部门重置。",
            typed_name=name,
        )
        response.headers["Retry-After"] = str(admitted.retry_after)
        return response
    cookie = await run_in_threadpool(sign_in)
    if cookie is None:
        return _login_form(request, target, 401, error="用户名或密码不正确", typed_name=name)
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
