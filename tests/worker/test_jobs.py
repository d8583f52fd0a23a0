"""The failure callback rq calls when a parse job raises, times out or its work-horse is
killed (rq passes AbandonedJobError then): queued again while retries remain, then failed
with a reason, and the report is built. A job that is no longer the file's current one
(the reconciler queued the file again) changes nothing, in the callback or the job."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rq.exceptions import AbandonedJobError

from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import DossierFile, Report, ReportVersion
from intake.pipeline import process_file
from intake.storage import FileStore
from worker.jobs import on_parse_failure, parse_file_job


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
    job = SimpleNamespace(id=f"parse-{file_id}", args=(file_id,), retries_left=1)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        assert row.state == "queued" and row.error_code is None


def test_last_failure_records_a_reason_and_builds_the_report(settings, queued_file):
    dossier_id, file_id = queued_file
    job = SimpleNamespace(id=f"parse-{file_id}", args=(file_id,), retries_left=0)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        assert row.state == "failed" and row.error_code == "internal"
        assert "重试" in row.error_message
        report = session.get(Report, dossier_id)
        assert report.content["files"][0]["state"] == "failed"


def _superseded(settings, file_id: str) -> None:
    """The reconciler queued the file again under a new job id."""
    with session_scope(settings.db_url) as session:
        session.get(DossierFile, file_id).job_id = f"parse-{file_id}-r1"


@pytest.mark.parametrize("retries_left", [0, 1])
def test_an_abandoned_superseded_job_changes_nothing(settings, queued_file, retries_left):
    dossier_id, file_id = queued_file
    _superseded(settings, file_id)
    job = SimpleNamespace(id=f"parse-{file_id}", args=(file_id,), retries_left=retries_left)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        assert (row.state, row.progress, row.error_code) == ("queued", None, None)
        assert session.get(Report, dossier_id) is None
    assert job.retries_left == 0  # rq does not run it again


@pytest.mark.parametrize("retries_left", [0, 1])
def test_an_abandoned_job_of_a_finished_file_changes_nothing(settings, queued_file, retries_left):
    dossier_id, file_id = queued_file
    assert process_file(settings, file_id) == "done"
    job = SimpleNamespace(id=f"parse-{file_id}", args=(file_id,), retries_left=retries_left)
    on_parse_failure(job, None, AbandonedJobError, AbandonedJobError(), None)
    with session_scope(settings.db_url) as session:
        assert session.get(DossierFile, file_id).state == "done"
        assert session.query(ReportVersion).filter_by(dossier_id=dossier_id).count() == 1
        assert session.get(Report, dossier_id).content["files"][0]["state"] == "done"


def test_a_superseded_job_records_nothing(settings, queued_file, monkeypatch):
    dossier_id, file_id = queued_file
    _superseded(settings, file_id)
    current = SimpleNamespace(id=f"parse-{file_id}")
    monkeypatch.setattr("worker.jobs.get_current_job", lambda: current)
    assert parse_file_job(file_id) == "superseded"
    with session_scope(settings.db_url) as session:
        assert session.get(DossierFile, file_id).state == "queued"
        assert session.get(Report, dossier_id) is None

    current.id = f"parse-{file_id}-r1"  # the current job parses, once
    assert parse_file_job(file_id) == "done"
    assert parse_file_job(file_id) == "superseded"  # rq running it again changes nothing
    with session_scope(settings.db_url) as session:
        assert session.get(DossierFile, file_id).state == "done"
        assert session.query(ReportVersion).filter_by(dossier_id=dossier_id).count() == 1
