"""Accounts: making them (and refusing bad ones), passwords, lockout after wrong passwords,
tokens, disabling; and the command line that does it."""

from __future__ import annotations

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


def test_wrong_passwords_lock_the_account_for_a_while(db):
    with session_scope(db) as session:
        auth.add_user(session, "甲", "applicant", "right password")
    for _ in range(auth.MAX_FAILURES):
        with session_scope(db) as session:
            assert auth.authenticate(session, "甲", "wrong password") is None
    with session_scope(db) as session, pytest.raises(auth.LockedOut):
        auth.authenticate(session, "甲", "right password")  # even the right one, for now
    with session_scope(db) as session:  # the lockout runs out
        user = session.scalar(select(User).where(User.name == "甲"))
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    with session_scope(db) as session:
        assert auth.authenticate(session, "甲", "right password").name == "甲"
        assert session.scalar(select(User).where(User.name == "甲")).failed_logins == 0


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
        assert run(cli.main, ["user", "enable", "市局"]).exit_code == 0
        changed = run(cli.main, ["user", "password", "专家", "--password", "new-pass-3"])
        assert changed.exit_code == 0
        with session_scope(settings.db_url) as session:
            assert auth.authenticate(session, "专家", "new-pass-3") is not None
    finally:
        get_settings.cache_clear()
