"""The edge of the service (issue 12, finding 8): every answer carries a
Content-Security-Policy without inline script that forbids framing, nosniff, a
Referrer-Policy; no ``server`` header; a request body that stops arriving is answered
408 and its connection closed."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from intake.api import create_app
from intake.api.headers import BodyIdleTimeout, SecurityHeaders
from intake.settings import Settings
from tests.accounts import client_as
from tests.integration.processes import free_port, up

ROOT = Path(__file__).parents[2]
TEMPLATES = [ROOT / "intake/web/templates", ROOT / "intake/reports/templates"]


def _app(settings: Settings):
    """The app as ``create_app`` builds it, with the edge middlewares (added here while
    ``create_app`` does not add them itself)."""
    app = create_app(settings)
    installed = {m.cls for m in app.user_middleware}
    if BodyIdleTimeout not in installed:
        app.add_middleware(BodyIdleTimeout, seconds=settings.body_idle_timeout)
    if SecurityHeaders not in installed:
        app.add_middleware(SecurityHeaders)
    return app


def _policy(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize(
    "path", ["/login", "/static/app.js", "/api/me", "/api/dossiers/nope", "/healthz", "/docs"]
)
def test_every_answer_carries_the_security_headers(settings, path):
    answer = TestClient(_app(settings)).get(path, follow_redirects=False)
    policy = _policy(answer)
    assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_the_templates_hold_no_inline_script_style_or_handler():
    for folder in TEMPLATES:
        for template in folder.glob("*.html"):
            text = template.read_text("utf-8")
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
            assert not re.search(r"\sstyle\s*=", text), template
            assert not re.search(r"\son[a-z]+\s*=", text), template
            assert not re.search(r"javascript:", text), template
            styles = re.findall(r"<style>(.*?)</style>", text, re.S)
            assert styles in ([], ["{{ style | safe }}"]), template  # the report's, hashed


def test_the_report_page_allows_its_own_stylesheet_only(settings, samples, monkeypatch):
    from tests.intake.test_recheck import _checked_dossier

    dossier_id = _checked_dossier(settings, samples, monkeypatch)
    client = client_as(settings, "bureau", app=_app(settings))
    answer = client.get(f"/api/dossiers/{dossier_id}/report.html")
    assert answer.status_code == 200
    (style,) = re.findall(r"<style>(.*?)</style>", answer.text, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = _policy(answer)
    assert policy["style-src"] == f"'self' 'sha256-{digest}'"
    assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
    assert len(answer.headers.get_list("content-security-policy")) == 1  # its own, not two


@pytest.fixture
def live_server(settings):
    """The app under a real uvicorn (as ``intake serve`` runs it), body idle timeout 1 s."""
    settings = settings.model_copy(
        update={"body_idle_timeout": 1.0, "rate_limit_storage": "memory://"}
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert up(f"http://127.0.0.1:{port}")
    yield port
    server.should_exit = True
    thread.join(10)


def _send(port: int, head: str, chunks: list[bytes], pause: float = 0.0) -> tuple[bytes, float]:
    """Send a request's head and body chunks; everything the server answers until it
    closes the connection, and how long that took after the last chunk."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        for chunk in chunks:
            time.sleep(pause)
            s.sendall(chunk)
        sent = time.monotonic()
        answer = b""
        while chunk := s.recv(65536):  # a connection left open fails here (timeout)
            answer += chunk
        return answer, time.monotonic() - sent


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/dossiers/" + "0" * 32 + "/files", "multipart/form-data; boundary=b"),
        ("/login", "application/x-www-form-urlencoded"),  # read by a middleware first
    ],
)
def test_a_body_that_stops_arriving_is_cut_off(live_server, path, kind):
    head = f"POST {path} HTTP/1.1\nHost: t\nContent-Type: {kind}\nContent-Length: 100000\n"
    answer, waited = _send(live_server, head, [b"--b\r\nContent-Disposition: form-data"])
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in answer.lower()
    assert "请检查网络后重新上传" in answer.decode("utf-8", "replace")
    assert waited < 5


def test_a_slow_but_steady_body_is_not_cut_off(live_server):
    body = b"name=a&password=b&csrf_token=c&next=/"
    head = (
        "POST /login HTTP/1.1\nHost: t\nContent-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {len(body)}\nConnection: close\n"
    )
    answer, _ = _send(live_server, head, [body[:10], body[10:20], body[20:]], pause=0.6)
    assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 408"), answer


def test_intake_serve_sends_no_server_header(tmp_path):
    env = {**os.environ, "INTAKE_DATA_DIR": str(tmp_path / "data")}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        assert up(f"http://127.0.0.1:{port}", seconds=120)  # a loaded CI machine starts slowly
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert answer.status_code == 200 and "server" not in answer.headers
    finally:
        proc.terminate()
        proc.wait(20)
