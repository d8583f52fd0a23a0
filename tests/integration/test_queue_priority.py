"""Queue priority (issue 14): a DOCX uploaded after a scan is parsed first when one worker
serves both queues; a quick-only worker leaves scans alone; the reconciler puts a lost scan
job back on the OCR queue. Real API, PostgreSQL, Redis (db 15), worker processes and
tesseract."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq.job import Job

from intake.db import session_scope
from intake.models import DossierFile, utcnow
from intake.queue import Lane, discard_job, get_queue
from intake.reconcile import GRACE, reconcile
from intake.settings import Settings
from tests.accounts import client_as
from tests.fixtures import factory
from tests.fixtures.sample import APPLICATION
from tests.integration.processes import env_of
from tests.integration.test_service import database  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/15"  # this module's own
AUDIT = ["审计报告", "我们审计了西安测试有限公司财务报表。", "资产总计 3,265,000.00"]
# A worker as `intake worker --burst [--queues …]` runs it (worker.runner.run).
WORKER = "from intake.settings import get_settings; from worker.runner import run; " + (
    "run(get_settings(), burst=True)"
)


@pytest.fixture
def settings(database, tmp_path):  # noqa: F811
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database,
        redis_url=REDIS,
        queue_name=f"intake-test-{uuid.uuid4().hex[:8]}",
        rate_limit_prefix=f"intake-test-{uuid.uuid4().hex[:8]}",
        ocr_engine="tesseract",
        ocr_workers=1,
        worker_heartbeat=1,
    )
    settings.data_dir.mkdir()
    yield settings
    redis = Redis.from_url(REDIS)
    with session_scope(settings.db_url) as session:
        ids = [file_id for (file_id,) in session.query(DossierFile.id).all()]
    keys = list(redis.scan_iter(f"*{settings.queue_name}*"))
    keys += list(redis.scan_iter(f"*{settings.rate_limit_prefix}*"))
    for file_id in ids:
        keys += redis.scan_iter(f"rq:*parse-{file_id}*")
    if keys:
        redis.delete(*keys)
    redis.srem("rq:queues", *(get_queue(settings, lane).key for lane in Lane))
    redis.close()


def _burst_worker(settings: Settings, queues: str | None = None) -> None:
    env = env_of(settings)
    if queues:
        env["INTAKE_WORKER_QUEUES"] = queues
    else:
        env.pop("INTAKE_WORKER_QUEUES", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _row(settings: Settings, file_id: str) -> DossierFile:
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        session.expunge(row)
        return row


def _upload_one_by_one(settings: Settings, tmp_path, tag: str) -> tuple[str, str]:
    """A one-page scan, then a DOCX, each in a request of its own (as the web page sends
    them): their file ids."""
    scan = factory.scanned_pdf(tmp_path / f"审计报告{tag}.pdf", [[*AUDIT, tag]])
    docx = factory.docx_file(
        tmp_path / f"申请报告{tag}.docx", [[*APPLICATION[0], tag], *APPLICATION[1:]]
    )
    client = client_as(settings, "applicant")
    dossier_id = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
    ids = []
    for path in (scan, docx):
        answer = client.post(
            f"/api/dossiers/{dossier_id}/files", files=[("files", (path.name, path.read_bytes()))]
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["files"][0]["id"])
    return ids[0], ids[1]


def test_a_docx_queued_after_a_scan_is_parsed_first(settings, tmp_path):
    scan_id, docx_id = _upload_one_by_one(settings, tmp_path, "甲")
    scan_job, docx_job = _row(settings, scan_id).job_id, _row(settings, docx_id).job_id
    assert get_queue(settings, Lane.OCR).job_ids == [scan_job]
    assert get_queue(settings, Lane.QUICK).job_ids == [docx_job]

    _burst_worker(settings)  # one worker, both queues

    assert _row(settings, scan_id).state == "done" and _row(settings, docx_id).state == "done"
    connection = get_queue(settings).connection
    scan_run = Job.fetch(scan_job, connection=connection)
    docx_run = Job.fetch(docx_job, connection=connection)
    assert docx_run.ended_at <= scan_run.started_at, (docx_run.started_at, scan_run.started_at)


def test_a_quick_only_worker_leaves_scans_and_lost_scans_go_back_on_the_ocr_queue(
    settings, tmp_path
):
    scan_id, docx_id = _upload_one_by_one(settings, tmp_path, "乙")
    scan_job = _row(settings, scan_id).job_id

    _burst_worker(settings, "quick")

    assert _row(settings, docx_id).state == "done"
    assert _row(settings, scan_id).state == "queued"
    assert get_queue(settings, Lane.OCR).job_ids == [scan_job]

    # Redis loses the scan's job; the reconciler queues it again, on the OCR queue.
    discard_job(get_queue(settings).connection, scan_job)
    with session_scope(settings.db_url) as session:
        session.get(DossierFile, scan_id).queued_at = utcnow() - GRACE - timedelta(seconds=5)
    assert reconcile(settings) == [scan_id]
    again = _row(settings, scan_id).job_id
    assert again == f"parse-{scan_id}-r1"
    assert get_queue(settings, Lane.OCR).job_ids == [again]
    assert get_queue(settings, Lane.QUICK).job_ids == []
