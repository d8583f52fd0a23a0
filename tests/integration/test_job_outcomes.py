"""A job's outcome cannot go back in time (issue 12, finding 1): a 7-page scan whose
work-horse is killed, then its worker too; the reconciler queues the file again under a new
job, it finishes and the report is built. Minutes later a worker starting up cleans rq's
registries: the first job, abandoned, must neither fail the finished file (it did, and the
report lost the audit report) nor queue it again (it did while retries were left: the
dossier left `done` and a duplicate report version was built). Real `intake worker`
processes, PostgreSQL, Redis and tesseract; the upload goes through the API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from intake.db import session_scope
from intake.models import DossierFile, ReportVersion
from intake.queue import Lane, get_queue
from intake.reconcile import reconcile
from intake.settings import Settings
from tests.accounts import client_as
from tests.fixtures import factory
from tests.integration.processes import burst_worker, env_of
from tests.integration.test_service import REDIS, database  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

AUDIT = ["审计报告", "我们审计了西安测试有限公司财务报表。", "资产总计 3,265,000.00"]


@pytest.fixture
def settings(database, tmp_path):  # noqa: F811
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database,
        redis_url=REDIS,
        queue_name=f"intake-test-{uuid.uuid4().hex[:8]}",
        ocr_engine="tesseract",
        ocr_workers=1,
        worker_heartbeat=1,  # a killed worker is known dead after a few seconds
    )
    settings.data_dir.mkdir()
    yield settings
    redis = Redis.from_url(REDIS)
    with session_scope(settings.db_url) as session:
        ids = session.query(DossierFile.id).all()
    keys = list(redis.scan_iter(f"*{settings.queue_name}*"))
    for (file_id,) in ids:
        keys += redis.scan_iter(f"rq:*parse-{file_id}*")
    if keys:
        redis.delete(*keys)


def _row(settings: Settings, file_id: str) -> DossierFile:
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        session.expunge(row)
        return row


def _wait_for_ocr(settings: Settings, file_id: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (_row(settings, file_id).progress or "").startswith("ocr"):
            return
        time.sleep(0.2)
    pytest.fail("the worker never started OCR: " + log.read_text()[-3000:])


def _horse(worker: int) -> int:
    """The work-horse of the worker ``worker``: the child rq puts in a process group of its
    own (the scheduler, also a child, stays in the worker's)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if int(fields[1]) == worker and int(fields[2]) == pid:
            return pid
    raise AssertionError(f"worker {worker} has no work-horse")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # with its tesseract


@pytest.mark.parametrize("horse_kills", [2, 0], ids=["retries-used-up", "retries-left"])
def test_a_superseded_job_abandoned_in_rq_cannot_undo_a_finished_file(
    settings, tmp_path, horse_kills
):
    application = factory.text_pdf(
        tmp_path / "申请报告.pdf", [["西安市中小企业公共服务示范平台申请报告"]]
    )
    scan = factory.scanned_pdf(tmp_path / "审计报告.pdf", [AUDIT] * 7)
    client = client_as(settings, "applicant")
    dossier_id = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
    files = [("files", (p.name, p.read_bytes())) for p in (application, scan)]
    uploaded = client.post(f"/api/dossiers/{dossier_id}/files", files=files)
    assert uploaded.status_code == 202, uploaded.text
    scan_id = next(f["id"] for f in uploaded.json()["files"] if f["file"] == scan.name)
    first_job = _row(settings, scan_id).job_id
    queue = get_queue(settings, Lane.OCR)  # a scan's job: retried on the OCR queue
    scheduled = ScheduledJobRegistry(queue=queue)

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "worker"],
        env=env_of(settings), start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(horse_kills):  # the work-horse dies mid-OCR; rq retries the job
            _wait_for_ocr(settings, scan_id, log)
            _kill_group(_horse(worker.pid))
            deadline = time.monotonic() + 30
            while queue.connection.zscore(scheduled.key, first_job) is None:
                assert time.monotonic() < deadline, "rq did not schedule a retry"
                time.sleep(0.2)
            with session_scope(settings.db_url) as session:
                session.get(DossierFile, scan_id).progress = None  # to see OCR start again
            queue.connection.zadd(scheduled.key, {first_job: 0}, xx=True)  # retry time is up
        _wait_for_ocr(settings, scan_id, log)
    finally:  # the worker and its work-horse, mid-OCR
        with contextlib.suppress(AssertionError):
            _kill_group(_horse(worker.pid))
        _kill_group(worker.pid)
        worker.wait()
    assert _row(settings, scan_id).state == "processing"

    time.sleep(3 * settings.worker_heartbeat + 6)  # its heartbeat stops
    assert reconcile(settings) == [scan_id]  # queued again under a new job id
    assert _row(settings, scan_id).job_id != first_job
    burst_worker(settings)
    status = client.get(f"/api/dossiers/{dossier_id}").json()
    assert status["state"] == "done", status

    # A minute on, the first job's entry in rq's started registry has expired; the next
    # worker to start cleans the registry up (and calls the failure callback of what it
    # finds there).
    started = StartedJobRegistry(queue=queue)
    for entry in queue.connection.zrange(started.key, 0, -1):
        queue.connection.zadd(started.key, {entry: 1})
    burst_worker(settings)

    status = client.get(f"/api/dossiers/{dossier_id}").json()
    assert status["state"] == "done", status
    assert [f["state"] for f in status["files"]] == ["done", "done"]
    report = client.get(f"/api/dossiers/{dossier_id}/report")
    assert report.status_code == 200, report.text
    with session_scope(settings.db_url) as session:
        versions = session.query(ReportVersion).filter_by(dossier_id=dossier_id).all()
        files = [(f["file"], f["state"]) for f in versions[-1].content["files"]]
        assert files == [(application.name, "done"), (scan.name, "done")]
        assert len(versions) == 1  # one real change: the dossier's files were all parsed
    with pytest.raises(NoSuchJobError):  # the superseded job is gone from rq
        Job.fetch(first_job, connection=queue.connection)
