"""Work the database says is owed is never lost: files queued while Redis lost its queue,
and a worker killed (SIGKILL) in the middle of OCR, are queued again by the reconciler and
the dossier completes, with one report. Nor is it queued twice: an upload that takes longer
than the reconciler's grace is not queued again behind its back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis

from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import DossierFile, Report, ReportVersion, utcnow
from intake.queue import enqueue_parse, get_queue
from intake.reconcile import GRACE, reconcile
from intake.settings import Settings
from tests.accounts import client_as
from tests.fixtures import factory
from tests.integration.processes import burst_worker, env_of
from tests.integration.test_service import REDIS

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=REDIS,
        queue_name=f"intake-test-{uuid.uuid4().hex[:8]}",
        ocr_engine="tesseract",
        ocr_workers=1,
        worker_heartbeat=1,  # a killed worker is known dead after a few seconds
    )
    settings.data_dir.mkdir()
    migrate(settings.db_url)
    yield settings
    redis = Redis.from_url(REDIS)
    keys = list(redis.scan_iter(f"*{settings.queue_name}*")) + list(
        redis.scan_iter("rq:job:parse-*")
    )
    if keys:
        redis.delete(*keys)


def _dossier(settings: Settings, paths: list[Path]) -> tuple[str, list[str]]:
    from intake.storage import FileStore

    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018")
        rows = [r for p in paths for r in add_path(session, store, settings, dossier, p.name, p)]
        return dossier.id, [r.id for r in rows]


def _states(settings: Settings, ids: list[str]) -> list[str]:
    with session_scope(settings.db_url) as session:
        return [session.get(DossierFile, i).state for i in ids]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc; tesseract's are reaped with them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_files_queued_while_redis_lost_its_queue_are_not_lost(settings, tmp_path):
    pdf = factory.text_pdf(
        tmp_path / "a.pdf", [["审计报告", "我们审计了西安测试有限公司财务报表。"]]
    )
    dossier_id, ids = _dossier(settings, [pdf])
    queue = get_queue(settings)
    with session_scope(settings.db_url) as session:
        for file_id in ids:  # as the upload endpoint does
            session.get(DossierFile, file_id).job_id = enqueue_parse(queue, file_id)
    queue.connection.delete(queue.key)  # Redis restarted without its data: the queue is gone
    for file_id in ids:
        queue.connection.delete(f"rq:job:parse-{file_id}")
    with session_scope(settings.db_url) as session:  # a while after they were queued
        for file_id in ids:
            session.get(DossierFile, file_id).queued_at = utcnow() - GRACE - timedelta(seconds=1)
    assert _states(settings, ids) == ["queued"]

    assert reconcile(settings) == ids  # the database says the work is owed
    burst_worker(settings)
    assert _states(settings, ids) == ["done"]
    with session_scope(settings.db_url) as session:
        assert session.get(Report, dossier_id) is not None


def test_a_worker_killed_mid_ocr_is_picked_up_again(settings, tmp_path):
    lines = ["审计报告", "我们审计了西安测试有限公司财务报表。", "资产总计 3,265,000.00"]
    scan = factory.scanned_pdf(tmp_path / "scan.pdf", [lines] * 6)  # seconds of OCR
    dossier_id, ids = _dossier(settings, [scan])
    with session_scope(settings.db_url) as session:
        session.get(DossierFile, ids[0]).job_id = enqueue_parse(get_queue(settings), ids[0])
    worker = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "worker"],
        env=env_of(settings), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(settings.db_url) as session:
                progress = session.get(DossierFile, ids[0]).progress or ""
            if progress.startswith("ocr"):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never started OCR")
    finally:
        # The worker and its work-horse (which rq puts in a session of its own), mid-OCR.
        for pid in [*_children(worker.pid), worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait()
    assert _states(settings, ids) == ["processing"]

    time.sleep(3 * settings.worker_heartbeat + 6)  # its heartbeat stops
    assert reconcile(settings) == ids  # its job's worker is gone: the file is owed work
    burst_worker(settings)
    assert _states(settings, ids) == ["done"]
    with session_scope(settings.db_url) as session:
        assert session.query(Report).filter_by(dossier_id=dossier_id).count() == 1
        assert session.query(ReportVersion).filter_by(dossier_id=dossier_id).count() == 1


def test_reconcile_with_redis_down_waits_instead_of_failing(settings, tmp_path):
    pdf = factory.text_pdf(tmp_path / "a.pdf", [["审计报告"]])
    _, ids = _dossier(settings, [pdf])
    from tests.integration.processes import free_port as _free_port

    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_free_port()}/0"})
    assert reconcile(down) == []  # no Redis: nothing queued, nothing lost, no crash
    assert _states(settings, ids) == ["queued"]


def test_an_upload_slower_than_the_grace_is_not_queued_twice(settings, tmp_path, monkeypatch):
    """The reconciler runs between the upload's commit and its enqueue, a minute after the
    rows were stored (a large ZIP): the files are visible with their job ids and queued
    just now, so it leaves them be, and each file gets one job."""
    import intake.api.dossiers as api

    pdfs = [factory.text_pdf(tmp_path / f"{n}.pdf", [["审计报告", f"第{n}份"]]) for n in (1, 2)]
    client = client_as(settings, "applicant")
    dossier_id = client.post("/api/dossiers", json={}).json()["id"]
    seen: dict[str, object] = {}
    enqueue = api.enqueue_parse

    def enqueue_late(queue, file_id, *args, **kwargs):
        if not seen:
            with session_scope(settings.db_url) as session:
                rows = session.query(DossierFile).filter_by(dossier_id=dossier_id).all()
                seen["job_ids"] = {row.id: row.job_id for row in rows}
                for row in rows:  # stored a minute ago, at the start of a long request
                    row.created_at = utcnow() - timedelta(minutes=1)
            seen["reconciled"] = reconcile(settings)
        return enqueue(queue, file_id, *args, **kwargs)

    monkeypatch.setattr(api, "enqueue_parse", enqueue_late)
    files = [("files", (p.name, p.read_bytes())) for p in pdfs]
    uploaded = client.post(f"/api/dossiers/{dossier_id}/files", files=files)
    assert uploaded.status_code == 202, uploaded.text

    ids = [f["id"] for f in uploaded.json()["files"]]
    assert seen["reconciled"] == []
    assert seen["job_ids"] == {i: f"parse-{i}" for i in ids}  # visible with their job ids
    with session_scope(settings.db_url) as session:
        assert [session.get(DossierFile, i).job_id for i in ids] == [f"parse-{i}" for i in ids]
    assert sorted(get_queue(settings).job_ids) == sorted(f"parse-{i}" for i in ids)
