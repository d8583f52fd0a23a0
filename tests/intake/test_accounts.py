"""Accounts: making them (and refusing bad ones), passwords, counting failed logins, the
login gate's windows, tokens, disabling; and the command line that does it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake import auth, cli
from intake.db import migrate, session_scope
from intake.models import User
from intake.settings import get_settings


@pytest.fixture
def db(settings):
    migrate(settings.db_url)
    return settings.db_url


@pytest.mark.parametrize(
    ("name", "role", "password", "says"),
    [
        ("a b", "applicant", "long enough", "用户名"),
        ("x" * 65, "applicant", "long enough", "用户名"),
        ("甲", "admin", "long enough", "角色"),
        ("甲", "reviewer", "short", "至少 8"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(db, name, role, password, says):
    with session_scope(db) as session, pytest.raises(auth.AccountError, match=says):
        auth.add_user(session, name, role, password)


def test_a_name_is_taken_once(db):
    with session_scope(db) as session:
        auth.add_user(session, "秦岭科技", "applicant", "password-1")
    with session_scope(db) as session, pytest.raises(auth.AccountError, match="已存在"):
        auth.add_user(session, "秦岭科技", "bureau", "password-2")


def test_failed_logins_are_counted_in_one_update_and_lock_nothing(db):
    with session_scope(db) as session:
        auth.add_user(session, "甲", "applicant", "right password")

    def wrong(_) -> None:
        with session_scope(db) as session:
            assert auth.authenticate(session, "甲", "wrong password") is None
            assert auth.authenticate(session, "无此人", "wrong password") is None

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(wrong, range(16)))
    with session_scope(db) as session:  # none lost between a read and a write
        assert session.scalar(select(User).where(User.name == "甲")).failed_logins == 16
    with session_scope(db) as session:  # no lockout in the database: throttling is the gate's
        assert auth.authenticate(session, "甲", "right password").name == "甲"
    with session_scope(db) as session:
        assert session.scalar(select(User).where(User.name == "甲")).failed_logins == 0


@pytest.fixture
def gate(settings):
    """Settings whose login windows are small and counted in this process's memory."""
    gated = settings.model_copy(
        update={
            "rate_limit_storage": "memory://",
            "rate_limit_prefix": f"test-{uuid.uuid4().hex}",
            "login_rate_per_client_account": "2/minute",
            "login_rate_per_client": "5/minute",
            "login_rate_per_account": "4/minute",
        }
    )
    yield gated
    gated.limiter().reset()


def test_the_login_gate_counts_names_alike_and_by_address(gate):
    def tries(client: str, name: str, times: int) -> list[bool]:
        return [auth.admit_login(gate, client, name).allowed for _ in range(times)]

    # One address, one name: two; a name that exists or not makes no difference (the gate
    # never looks), and another address has its own count.
    assert tries("10.0.0.1", "市局", 3) == [True, True, False]
    assert tries("10.0.0.1", "无此人", 3) == [True, True, False]
    refused = auth.admit_login(gate, "10.0.0.1", "市局")
    assert not refused.allowed and 0 < refused.retry_after <= 60
    # One address, many names: five in all (two used above on each of two names).
    assert tries("10.0.0.1", "乙", 2) == [True, False]
    # Many addresses, one name: four in all; the owner's right password clears only the
    # owner's address count, so the shared window is the only thing strangers can fill.
    assert tries("10.0.0.2", "市局", 1) == [True]
    assert tries("10.0.0.3", "市局", 1) == [True]
    assert tries("10.0.0.4", "市局", 1) == [False]
    auth.forget_login_attempts(gate, "市局")  # what `intake user enable` does
    assert tries("10.0.0.4", "市局", 2) == [True, False]
    auth.forget_login_attempts(gate, "市局", "10.0.0.4")  # what a right password does
    assert tries("10.0.0.4", "市局", 1) == [True]


def test_unknown_names_and_right_passwords(db):
    with session_scope(db) as session:
        user = auth.add_user(session, "乙", "reviewer", "right password")
        assert user.password_hash.startswith("$argon2id$")
        assert auth.authenticate(session, "nobody", "right password") is None
        assert auth.authenticate(session, "乙", "right password") is user


def test_disabling_ends_sessions_and_revokes_tokens(db):
    with session_scope(db) as session:
        user = auth.add_user(session, "丙", "bureau", "right password")
        token = auth.issue_token(session, user)
        cookie, _ = auth.start_session(session, user, hours=1)
    with session_scope(db) as session:
        assert auth.user_for_token(session, token).name == "丙"
        assert auth.session_for_cookie(session, cookie) is not None
        auth.set_active(session, session.scalar(select(User).where(User.name == "丙")), False)
    with session_scope(db) as session:
        assert auth.user_for_token(session, token) is None
        assert auth.session_for_cookie(session, cookie) is None
        assert auth.authenticate(session, "丙", "right password") is None


def test_expired_sessions_open_nothing(db):
    with session_scope(db) as session:
        user = auth.add_user(session, "丁", "bureau", "right password")
        cookie, row = auth.start_session(session, user, hours=1)
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(db) as session:
        assert auth.session_for_cookie(session, cookie) is None


def test_the_command_line(settings, monkeypatch):
    monkeypatch.setenv("INTAKE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INTAKE_RATE_LIMIT_STORAGE", "memory://")
    monkeypatch.setenv("INTAKE_RATE_LIMIT_PREFIX", f"test-{uuid.uuid4().hex}")
    monkeypatch.setenv("INTAKE_LOGIN_RATE_PER_ACCOUNT", "1/hour")
    get_settings.cache_clear()
    run = CliRunner().invoke
    try:
        made = run(
            cli.main, ["user", "add", "市局", "--role", "bureau", "--password", "pass-word-1"]
        )
        assert made.exit_code == 0, made.output
        again = run(
            cli.main, ["user", "add", "市局", "--role", "bureau", "--password", "pass-word-1"]
        )
        assert again.exit_code == 1 and "已存在" in again.output
        asked = run(
            cli.main,
            ["user", "add", "专家", "--role", "reviewer"],
            input="pass-word-2\npass-word-2\n",
        )
        assert asked.exit_code == 0, asked.output  # the password asked for, twice
        listed = run(cli.main, ["user", "list"])
        assert "市局" in listed.output and "专家" in listed.output
        token = run(cli.main, ["token", "市局"]).output.strip()
        assert token.startswith("itk_")
        assert run(cli.main, ["token", "nobody"]).exit_code == 1
        assert run(cli.main, ["user", "disable", "市局"]).exit_code == 0
        with session_scope(settings.db_url) as session:
            assert auth.user_for_token(session, token) is None
        assert auth.admit_login(get_settings(), "10.0.0.1", "市局").allowed
        assert not auth.admit_login(get_settings(), "10.0.0.2", "市局").allowed
        assert run(cli.main, ["user", "enable", "市局"]).exit_code == 0
        assert auth.admit_login(get_settings(), "10.0.0.3", "市局").allowed  # cleared
        changed = run(cli.main, ["user", "password", "专家", "--password", "new-pass-3"])
        assert changed.exit_code == 0
        with session_scope(settings.db_url) as session:
            assert auth.authenticate(session, "专家", "new-pass-3") is not None
    finally:
        get_settings.cache_clear()
