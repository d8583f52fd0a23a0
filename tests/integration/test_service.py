"""The deployed path end to end: `intake serve` and `intake worker` as real processes on
a PostgreSQL database of their own and their own Redis database and queue; files go up
through HTTP and the report comes back."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import httpx
import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from tests.fixtures import factory
from tests.fixtures.sample import write_sample
from tests.integration.processes import cli, running

pytestmark = pytest.mark.integration

PG_ADMIN = os.environ.get(
    "INTAKE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("INTAKE_TEST_REDIS", "redis://127.0.0.1:6379/14")


@pytest.fixture(scope="module")
def database():
    name = f"intake_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def queue_name():
    name = f"intake-test-{uuid.uuid4().hex[:8]}"
    yield name
    redis = Redis.from_url(REDIS)
    keys = [k for k in redis.scan_iter("rq:*") if name.encode() in k or b"rq:job:" in k]
    if keys:
        redis.delete(*keys)
    redis.close()


@pytest.fixture(scope="module")
def service(database, queue_name, tmp_path_factory):
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": database,
        "INTAKE_REDIS_URL": REDIS,
        "INTAKE_QUEUE_NAME": queue_name,
        "INTAKE_DATA_DIR": str(tmp_path_factory.mktemp("service-data")),
        "INTAKE_OCR_WORKERS": "2",
    }
    with running(env, tmp_path_factory.mktemp("logs")) as base:
        yield base, env


def _wait_done(client: httpx.Client, dossier_id: str, seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/api/dossiers/{dossier_id}").json()
        if status["state"] == "done":
            return status
        time.sleep(0.5)
    raise AssertionError(f"dossier not done in {seconds}s: {status}")


def _upload(client, dossier_id, paths: list[Path]):
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    return client.post(f"/api/dossiers/{dossier_id}/files", files=files)


def _parses(database: str) -> int:
    engine = create_engine(database)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM parses")).scalar_one()
    engine.dispose()
    return count


@pytest.fixture(scope="module")
def integrator(service) -> dict[str, str]:
    """An integrator's account and token, made as the README says: on the command line."""
    _, env = service
    cli(env, "user", "add", "integrator", "--role", "applicant", "--password", "s3cret-pass")
    token = cli(env, "token", "integrator").strip()
    assert token.startswith("itk_")
    return {"Authorization": f"Bearer {token}"}


def test_upload_through_http_and_read_the_report(service, integrator, database, tmp_path):
    folder = write_sample(tmp_path / "dossier")
    bad = factory.truncated(tmp_path / "损坏.pdf", folder / "03-2017年度审计报告.pdf")
    base, _ = service
    with httpx.Client(base_url=base, timeout=30, headers=integrator) as client:
        created = client.post("/api/dossiers", json={"rule_pack": "xian-2018", "name": "秦岭"})
        assert created.status_code == 201
        dossier_id = created.json()["id"]
        early = client.get(f"/api/dossiers/{dossier_id}/report")
        assert early.status_code == 409

        uploaded = _upload(client, dossier_id, [*sorted(folder.iterdir()), bad])
        assert uploaded.status_code == 202, uploaded.text
        assert len(uploaded.json()["files"]) == 8

        status = _wait_done(client, dossier_id)
        states = {f["file"]: f for f in status["files"]}
        assert states["损坏.pdf"]["state"] == "failed"
        assert "损坏" in states["损坏.pdf"]["error"]["message"]
        assert sum(f["state"] == "done" for f in status["files"]) == 7

        report = client.get(f"/api/dossiers/{dossier_id}/report").json()
        assert report["dossier"] == dossier_id and len(report["findings"]) == 29
        assert {m["type"] for m in report["materials"]} >= {"application_report", "audit_report"}
        html = client.get(f"/api/dossiers/{dossier_id}/report.html")
        assert html.status_code == 200 and "申报材料预审报告" in html.text
        assert client.get("/docs").status_code == 200

        # The same bytes in another dossier reuse the stored parse: no new parse row.
        parsed = _parses(database)
        assert parsed == 8  # seven documents and the corrupt file's permanent failure
        second = client.post("/api/dossiers", json={}).json()["id"]
        _upload(client, second, [folder / "04-房屋租赁合同.pdf"])
        status = _wait_done(client, second, seconds=120)
        assert status["files"][0]["state"] == "done" and status["files"][0]["pages"] == 1
        assert _parses(database) == parsed


def test_unknown_dossier_and_rule_pack(service, integrator):
    base, _ = service
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/api/dossiers").status_code == 401  # no token, no answer
        client.headers.update(integrator)
        assert client.get("/api/dossiers/nope").status_code == 404
        bad = client.post("/api/dossiers", json={"rule_pack": "nowhere"})
        assert bad.status_code == 422 and "未知的规则包" in bad.json()["message"]
