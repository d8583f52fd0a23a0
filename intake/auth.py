"""Accounts: users with a role, argon2 password hashes, API tokens and browser sessions.

Secrets are random (``secrets``); the database keeps only their SHA-256, so a copy of the
tables opens no account and no session."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.models import ApiToken, Role, User, WebSession, aware, utcnow

if TYPE_CHECKING:
    from intake.ratelimit import Verdict
    from intake.settings import Settings

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


LOGIN = "login"  # the rate limiter's namespace for login attempts


def admit_login(settings: Settings, client: str, name: str) -> Verdict:
    """Count one login attempt before its password is checked, and say whether it may go on.

    The counts are hit atomically in the rate limiter (Redis), so attempts sent at once
    cannot slip past one another. They are keyed by the name as typed, whether or not such
    an account exists, so an unknown name and a real one are answered alike. Three windows:
    this client and this name (the tight one; a right password clears it), this client
    (one address trying many names), and this name from anywhere (many addresses guessing
    one account; large, so a stranger cannot lock out the owner from another address)."""
    limiter = settings.limiter()
    account = _digest(name)  # a fixed-length key, and no account names in Redis
    windows = (
        (settings.login_rate_per_client_account, ("client-account", client, account)),
        (settings.login_rate_per_client, ("client", client)),
        (settings.login_rate_per_account, ("account", account)),
    )
    for rate, identifiers in windows:
        verdict = limiter.hit(rate, LOGIN, *identifiers)
        if not verdict.allowed:  # the later windows are not counted
            return verdict
    return verdict


def forget_login_attempts(settings: Settings, name: str, client: str | None = None) -> None:
    """After a right password: this client's count for the name starts again. Without a
    client (an operator enabling the account): the name's count from anywhere."""
    account = _digest(name)
    if client is None:
        settings.limiter().clear(settings.login_rate_per_account, LOGIN, "account", account)
    else:
        settings.limiter().clear(
            settings.login_rate_per_client_account, LOGIN, "client-account", client, account
        )


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None (same time and the same steps
    either way: an unknown name is verified against a dummy hash and its failure counted
    by an UPDATE that matches no row). How often one may try is ``admit_login``'s business;
    ``users.failed_logins`` only records failed logins in a row, counted in the database
    (one UPDATE, so attempts at once lose none). The caller commits."""
    user = session.scalar(select(User).where(User.name == name))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        right = user is not None and user.active
    except (VerificationError, InvalidHashError):
        right = False
    if not right:
        session.execute(
            update(User)
            .where(User.name == name)
            .values(failed_logins=User.failed_logins + 1)
            .execution_options(synchronize_session=False)
        )
        return None
    # locked_until is no longer set (a lockout per account let anyone lock anyone out);
    # a value left from before is cleared here and by set_active.
    user.failed_logins, user.locked_until = 0, None
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
