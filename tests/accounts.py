"""Accounts for tests: a user of a role with an API token, and a client that sends it."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.api import create_app
from intake.auth import add_user, issue_token
from intake.db import migrate, session_scope
from intake.dossiers import assign
from intake.models import Dossier, User
from intake.settings import Settings

PASSWORD = "correct horse battery"


def account(settings: Settings, role: str, name: str | None = None) -> tuple[str, str]:
    """(name, API token) of a new account; an existing name gets a new token."""
    migrate(settings.db_url)
    name = name or f"{role}-{uuid.uuid4().hex[:6]}"
    with session_scope(settings.db_url) as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = add_user(session, name, role, PASSWORD)
        return name, issue_token(session, user)


def give(settings: Settings, name: str, dossier_ids=(), assigned=()) -> None:
    """Make ``name`` the owner of ``dossier_ids`` and assign it ``assigned``."""
    with session_scope(settings.db_url) as session:
        user = session.scalar(select(User).where(User.name == name))
        for dossier_id in dossier_ids:
            session.get(Dossier, dossier_id).owner_id = user.id
        for dossier_id in assigned:
            assign(session, session.get(Dossier, dossier_id), name, by="test")


def client_as(
    settings: Settings,
    role: str,
    name: str | None = None,
    owns=(),
    assigned=(),
    app=None,
) -> TestClient:
    """A test client that sends a Bearer token of a ``role`` account."""
    name, token = account(settings, role, name)
    give(settings, name, owns, assigned)
    client = TestClient(app or create_app(settings))
    client.headers["Authorization"] = f"Bearer {token}"
    return client
