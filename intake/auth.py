"""Accounts: users with a role, argon2 password hashes, API tokens and browser sessions.

Secrets are random (``secrets``); the database keeps only their SHA-256, so a copy of the
tables opens no account and no session."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.models import ApiToken, Role, User, WebSession, aware, utcnow

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
NAME = re.compile(r"[\w.@\-]{1,64}")
MIN_PASSWORD = 8
TOKEN_PREFIX = "itk_"
TOKEN_USE_RESOLUTION = timedelta(minutes=5)
# A hash to verify against when the name is unknown, so a wrong name and a wrong password
# take the same time (no probing for account names).
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class AccountError(ValueError):
    """An account that cannot be made as asked; the message (Chinese) says why."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(session: Session, name: str, role: str, password: str) -> User:
    if not NAME.fullmatch(name):
        raise AccountError("用户名只能包含字母、数字、汉字和 . @ - _，最长 64 个字符")
    try:
        role = Role(role)
    except ValueError as exc:
        roles = "、".join(r.value for r in Role)
        raise AccountError(f"角色“{role}”不存在，可选：{roles}") from exc
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError(f"用户“{name}”已存在")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    user.password_hash = _HASHER.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


MAX_FAILURES = 5  # wrong passwords in a row before the account is locked for a while
LOCKOUT = timedelta(minutes=15)


class LockedOut(Exception):
    """Too many wrong passwords: the account is locked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None (same time either way).
    ``MAX_FAILURES`` wrong passwords in a row lock the account for ``LOCKOUT``
    (LockedOut), so a password cannot be guessed at the speed of the server; the caller
    commits, the count is kept either way."""
    user = session.scalar(select(User).where(User.name == name))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        right = True
    except (VerificationError, InvalidHashError):
        right = False
    if user is None:
        return None
    now = utcnow()
    if user.locked_until is not None and aware(user.locked_until) > now:
        raise LockedOut(aware(user.locked_until))
    if not right:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
        return None
    user.failed_logins, user.locked_until = 0, None
    if not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions and revokes its tokens."""
    user.active = active
    user.failed_logins, user.locked_until = 0, None
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def issue_token(session: Session, user: User) -> str:
    """A new API token for the user (printed once; only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if found is None:
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    # When a token was last used is for people ("still in use?"): a write every few minutes
    # is enough, not one per request of a script polling the API.
    if found.last_used_at is None or now - aware(found.last_used_at) > TOKEN_USE_RESOLUTION:
        found.last_used_at = now
    return user


def start_session(session: Session, user: User, hours: float) -> tuple[str, WebSession]:
    """A new browser session: (cookie value, session row with its CSRF token)."""
    cookie = secrets.token_urlsafe(32)
    row = WebSession(
        id=_digest(cookie),
        user_id=user.id,
        csrf=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(row)
    # Expired sessions of anyone are swept at each login: the table stays small.
    session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    session.flush()
    return cookie, row


def session_for_cookie(session: Session, cookie: str) -> tuple[User, WebSession] | None:
    row = session.get(WebSession, _digest(cookie))
    if row is None:
        return None
    if aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def end_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(cookie)))


def same_secret(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


def new_secret() -> str:
    return secrets.token_urlsafe(32)
