"""The service as its users run it: ``intake`` commands, and an API process with an rq
worker beside it, for the integration and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict, *args: str) -> str:
    """Run ``intake ARGS`` with ``env``; its output (the test fails on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def up(base: str, seconds: float = 30) -> bool:
    """Wait until the API at ``base`` answers its health check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.2)
    return False


@contextmanager
def running(env: dict, logs: Path, worker: bool = True) -> Iterator[str]:
    """``intake serve`` and (unless ``worker`` is false) ``intake worker`` with ``env``; the
    API's base URL. Their output goes to ``logs``; both are stopped afterwards."""
    port = free_port()
    commands = [["serve", "--port", str(port)]] + ([["worker"]] if worker else [])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "intake.cli", *args],
            env=env,
            stdout=(logs / f"{args[0]}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for args in commands
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        if not up(base):
            pytest.fail("the API did not start: " + (logs / "serve.log").read_text())
        yield base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def env_of(settings) -> dict[str, str]:
    """The environment that makes ``intake`` commands use ``settings``' database, store,
    Redis and queue (tesseract, one OCR thread, its heartbeat)."""
    return {
        **os.environ,
        "INTAKE_DATABASE_URL": settings.db_url,
        "INTAKE_DATA_DIR": str(settings.data_dir),
        "INTAKE_REDIS_URL": settings.redis_url,
        "INTAKE_QUEUE_NAME": settings.queue_name,
        "INTAKE_OCR_ENGINE": "tesseract",
        "INTAKE_OCR_WORKERS": "1",
        "INTAKE_WORKER_HEARTBEAT": str(settings.worker_heartbeat),
    }


def burst_worker(settings) -> None:
    """``intake worker --burst`` on ``settings``: it works the queue empty, then stops."""
    done = subprocess.run(
        [sys.executable, "-m", "intake.cli", "worker", "--burst"],
        env=env_of(settings), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
