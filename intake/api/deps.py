"""What every endpoint depends on: settings, a database session, and the user making the
request (an API token in ``Authorization: Bearer``, or a browser session cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from intake import access, auth, logs
from intake.db import session_factory
from intake.models import Dossier, User
from intake.settings import Settings

SESSION_COOKIE = "intake_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STALE_PAGE = "页面已过期（安全校验失败），请刷新页面后重试"


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    session = session_factory(settings.db_url)()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


class NotLoggedIn(HTTPException):
    def __init__(self, detail: str = "请先登录（或在请求头中提供 Authorization: Bearer 令牌）"):
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def identify(request: Request, session: Session) -> User | None:
    """The user of a request, or None. A browser session also leaves its CSRF token in
    ``request.state.csrf`` for the pages to embed.

    The lookup's transaction is ended before returning, so its connection goes back to the
    pool: FastAPI runs this and the endpoint as two threadpool calls, and a connection held
    in between starved the pool under 200 concurrent uploads (every thread holding one and
    waiting for a thread)."""
    try:
        user = _identify(request, session)
    finally:
        session.commit()  # the objects stay loaded (expire_on_commit=False)
    if user is not None:
        logs.bind(user=user.name)  # the request's log lines say whose it is
    return user


def _identify(request: Request, session: Session) -> User | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotLoggedIn("Authorization 请求头格式应为：Bearer <令牌>")
        user = auth.user_for_token(session, token.strip())
        if user is None:
            raise NotLoggedIn("令牌无效或已停用，请向管理员重新申请")
        request.state.csrf = None
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = auth.session_for_cookie(session, cookie)
        if found is not None:
            user, row = found
            request.state.csrf = row.csrf
            return user
    return None


def api_user(request: Request, session: SessionDep) -> User:
    """The JSON API's user. A browser session must send its CSRF token in the
    ``X-CSRF-Token`` header with every request that changes something (a token holder
    need not: another site cannot make a browser send that header)."""
    user = identify(request, session)
    if user is None:
        raise NotLoggedIn()
    csrf = getattr(request.state, "csrf", None)
    if csrf is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not auth.same_secret(sent, csrf):
            raise HTTPException(status_code=403, detail=STALE_PAGE)
    return user


ApiUser = Annotated[User, Depends(api_user)]


def dossier_for(session: Session, user: User, dossier_id: str, action: access.Action) -> Dossier:
    """The dossier if ``user`` may take ``action`` on it: 404 if they may not see it, 403
    if their role may not take the action."""
    try:
        return access.check(user, session.get(Dossier, dossier_id), action)
    except access.AccessError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.message) from exc


def require_role(user: User, roles, what: str) -> None:
    try:
        access.check_role(user, roles, what)
    except access.AccessError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.message) from exc
