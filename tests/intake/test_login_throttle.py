"""Login throttling under attempts sent at once, against a real server (uvicorn in a
thread) and the real Redis: the count is taken before a password is checked, atomically,
so a burst gets no more guesses than the rate; unknown names are answered like real ones;
a stranger at another address cannot lock the owner out.

Clients at different addresses are connections from different loopback source addresses
(127.0.0.1, 127.0.0.2 …), which the server sees as ``request.client.host``."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from intake.api import create_app
from intake.db import session_scope
from intake.models import User
from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.integration.processes import free_port, up

OWNER, STRANGER = "127.0.0.1", "127.0.0.2"
CHECKED = (401, 303)  # answers given after the password was checked (wrong, right)


@dataclass
class Server:
    settings: Settings
    base: str


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("throttle") / "data",
        rate_limit_prefix=f"test-login-{uuid.uuid4().hex[:8]}",
    )
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    assert up(base), "the server did not start"
    try:
        yield Server(settings, base)
    finally:
        running.should_exit = True
        thread.join(timeout=20)
        for client in (OWNER, STRANGER):
            _http(client).close()
        _http.cache_clear()


@pytest.fixture(autouse=True)
def fresh_counts(server) -> Iterator[None]:
    server.settings.limiter().reset()
    yield
    server.settings.limiter().reset()


@cache
def _http(client: str) -> httpx.Client:
    """A connection pool whose connections come from the address ``client``."""
    no_keepalive = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    transport = httpx.HTTPTransport(local_address=client, limits=no_keepalive)
    return httpx.Client(transport=transport, timeout=120)


def _login(base: str, name: str, password: str, client: str = OWNER) -> httpx.Response:
    """One login form post from the address ``client``, with a login CSRF pair."""
    answer = _http(client).post(
        f"{base}/login",
        data={"name": name, "password": password, "csrf_token": "t", "next": "/"},
        headers={"Cookie": "intake_login_csrf=t"},  # not the jar: answers set new ones
    )
    assert answer.headers.get("location", "/") == "/", "refused as a stale page"
    return answer


def _at_once(base: str, attempts: list[tuple[str, str, str]]) -> list[httpx.Response]:
    """Send every (name, password, client) at the same moment; the answers in order."""
    start = threading.Barrier(len(attempts))

    def send(attempt: tuple[str, str, str]) -> httpx.Response:
        start.wait()
        return _login(base, *attempt)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(send, attempts))


def _failed_logins(settings: Settings, name: str) -> int:
    with session_scope(settings.db_url) as session:
        return session.scalar(select(User.failed_logins).where(User.name == name))


def _message(response: httpx.Response) -> str:
    return re.search(r'role="alert">([^<]*)<', response.text).group(1)


def test_forty_wrong_and_the_right_one_at_once_get_five_checks(server):
    name, _ = account(server.settings, "applicant", f"burst-{uuid.uuid4().hex[:6]}")
    attempts = [(name, "wrong password", OWNER)] * 40 + [(name, PASSWORD, OWNER)]
    answers = _at_once(server.base, attempts)
    statuses = Counter(a.status_code for a in answers)
    rate = int(server.settings.login_rate_per_client_account.split("/")[0])
    checked = statuses[401] + statuses[303]
    if statuses[303]:
        # The right password was among the five checked: it cleared this client's count for
        # the name (the owner is in), so up to five more of those still waiting were checked.
        assert rate <= checked <= 2 * rate, statuses
    else:
        assert checked == rate, statuses
    assert statuses[429] == len(attempts) - checked, statuses
    for refused in (a for a in answers if a.status_code == 429):
        assert int(refused.headers["Retry-After"]) > 0
        assert "尝试次数过多" in _message(refused)
    # No count lost; but the right password, if it was among the five checked, began the
    # count of wrong passwords in a row again, so only those after it remain.
    counted = _failed_logins(server.settings, name)
    assert counted == statuses[401] if not statuses[303] else counted <= statuses[401]


def test_two_hundred_guesses_at_once(server):
    name, _ = account(server.settings, "bureau", f"bureau-{uuid.uuid4().hex[:6]}")
    answers = _at_once(server.base, [(name, f"guess-{i}", OWNER) for i in range(200)])
    checked = sum(a.status_code in CHECKED for a in answers)
    assert checked == int(server.settings.login_rate_per_client_account.split("/")[0])
    assert _failed_logins(server.settings, name) == checked

    server.settings.limiter().reset()
    # One address, many names (real and made up): the per-address window holds.
    names = [name if i % 2 else f"nobody-{i}" for i in range(200)]
    answers = _at_once(server.base, [(n, "guess", OWNER) for n in names])
    checked = sum(a.status_code in CHECKED for a in answers)
    assert checked == int(server.settings.login_rate_per_client.split("/")[0])
    assert all(a.status_code in (*CHECKED, 429) for a in answers)


def test_a_stranger_cannot_lock_the_owner_out_nor_learn_names(server):
    name, _ = account(server.settings, "bureau", f"市局-{uuid.uuid4().hex[:6]}")
    unknown = f"无此人-{uuid.uuid4().hex[:6]}"

    def guesses(who: str) -> list[tuple[int, str]]:
        answers = [_login(server.base, who, "wrong password", STRANGER) for _ in range(8)]
        return [(a.status_code, _message(a)) for a in answers]

    real, made_up = guesses(name), guesses(unknown)
    assert [status for status, _ in real] == [401] * 5 + [429] * 3
    assert [m for _, m in real] == [m for _, m in made_up]  # the same answers, word for word
    assert [s for s, _ in real] == [s for s, _ in made_up]

    owner = _login(server.base, name, PASSWORD, OWNER)
    assert owner.status_code == 303  # the owner, from the owner's address, still gets in
    assert _failed_logins(server.settings, name) == 0


def test_the_right_password_starts_the_count_again(server):
    name, _ = account(server.settings, "reviewer", f"rev-{uuid.uuid4().hex[:6]}")
    for _ in range(2):
        for _ in range(4):
            assert _login(server.base, name, "wrong password").status_code == 401
        assert _login(server.base, name, PASSWORD).status_code == 303
    for _ in range(5):
        assert _login(server.base, name, "wrong password").status_code == 401
    assert _login(server.base, name, PASSWORD).status_code == 429
