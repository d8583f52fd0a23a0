"""Load test of the upload call on loopback: N concurrent uploads to a real `intake serve`
(uvicorn, PostgreSQL database of its own, its own Redis database and queue).

    python benchmarks/load_test.py [--uploads 200] [--concurrency 200] [--workers 2]

Prints errors (must be none), and the upload call's p50, p95 and max latency. Files are
queued, not parsed (no worker runs): this measures the front door.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from redis import Redis
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "INTAKE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = "redis://127.0.0.1:6379/12"


async def _upload(client: httpx.AsyncClient, dossier: str, body: bytes, i: int):
    start = time.perf_counter()
    response = await client.post(
        f"/api/dossiers/{dossier}/files",
        files={"files": (f"文件{i}.pdf", body, "application/pdf")},
    )
    return response.status_code, time.perf_counter() - start


async def run(base: str, uploads: int, concurrency: int, body: bytes, token: str) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits, headers=auth) as client:
        dossiers = [(await client.post("/api/dossiers", json={})).json()["id"] for _ in range(20)]
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int):
            async with gate:
                return await _upload(client, dossiers[i % len(dossiers)], body, i)

        start = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(uploads)))
        wall = time.perf_counter() - start
    errors = [code for code, _ in results if code != 202]
    times = sorted(t for _, t in results)
    p95 = times[max(0, int(0.95 * len(times)) - 1)]
    print(f"{uploads} uploads, {concurrency} at once, in {wall:.1f} s: {len(errors)} errors "
          f"{sorted(set(errors)) if errors else ''}")  # fmt: skip
    print(f"upload call: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()

    from tests.fixtures import factory
    from tests.integration.processes import cli, free_port, up

    name = f"intake_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    queue = f"intake-load-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as tmp:
        body = factory.text_pdf(
            Path(tmp) / "a.pdf", [["审计报告", "资产总计 1,234,567.89"]]
        ).read_bytes()
        port = free_port()
        env = {
            **os.environ,
            "INTAKE_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
            "INTAKE_REDIS_URL": REDIS,
            "INTAKE_QUEUE_NAME": queue,
            "INTAKE_DATA_DIR": str(Path(tmp) / "data"),
        }
        # The uploads come from an applicant account, as an integrator's script would.
        cli(env, "user", "add", "load-test", "--role", "applicant", "--password", "load-test-pw")
        token = cli(env, "token", "load-test").strip()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "intake.api:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            if not up(base):
                raise SystemExit("the API did not start")
            print(f"intake serve: {args.workers} uvicorn workers, PostgreSQL, Redis, on loopback")
            asyncio.run(run(base, args.uploads, args.concurrency, body, token))
        finally:
            server.terminate()
            server.wait(timeout=30)
            redis = Redis.from_url(REDIS)
            keys = list(redis.scan_iter(f"*{queue}*")) + list(redis.scan_iter("rq:job:parse-*"))
            if keys:
                redis.delete(*keys)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
