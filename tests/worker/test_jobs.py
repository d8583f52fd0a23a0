"""The failure callback rq calls when a parse job raises, times out or its work-horse is
killed (rq passes AbandonedJobError then): queued again while retries remain, then failed
with a reason, and the report is built."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rq.exceptions import AbandonedJobError

from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import DossierFile, Report
from intake.storage import FileStore
from worker.jobs import on_parse_failure


@pytest.fixture
def queued_file(settings, samples, monkeypatch):
    monkeypatch.setattr("worker.jobs.get_settings", lambda: settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018")
        (row,) = add_path(
            session,
            FileStore(settings.data_dir),
            settings,
            dossier,
            "a.pdf",
            samples["scanned_pdf"],
        )
        return dossier.id, row.id


def test_killed_worker_with_retries_left_requeues(settings, queued_file):
    _, file_id = queued_file
    job = SimpleNamespace(args=(file_id,), retries_left=1)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        assert row.state == "queued" and row.error_code is None


def test_last_failure_records_a_reason_and_builds_the_report(settings, queued_file):
    dossier_id, file_id = queued_file
    job = SimpleNamespace(args=(file_id,), retries_left=0)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        assert row.state == "failed" and row.error_code == "internal"
        assert "重试" in row.error_message
        report = session.get(Report, dossier_id)
        assert report.content["files"][0]["state"] == "failed"
