"""The rq jobs. They carry ids, never objects; all the work is in intake.pipeline."""

from __future__ import annotations

import logging

from rq import get_current_job
from sqlalchemy import select

from extractors.errors import InputFileError
from intake import logs
from intake.db import session_scope
from intake.feedback import warm_up
from intake.models import DossierFile, FileState, utcnow
from intake.pipeline import maybe_build_report, process_file, set_if_current
from intake.settings import get_settings

log = logging.getLogger(__name__)

# The worker imports this module before it forks a work-horse per job: what every file's
# feedback reads is loaded here once, not in each horse.
warm_up()

INTERRUPTED = "处理超时或中断，请稍后重试；如多次失败，请上传更清晰或更小的文件"


def parse_file_job(file_id: str) -> str:
    """Parse one dossier file; the report is rebuilt when it was the dossier's last. Nothing
    is recorded when this job is no longer the file's current one."""
    job = get_current_job()
    settings = get_settings()
    with logs.job_context(file_id=file_id, job_id=job.id if job else None):
        logs.bind(dossier_id=_dossier_of(settings, file_id))
        return process_file(settings, file_id, job_id=job.id if job else None)


def _dossier_of(settings, file_id: str) -> str | None:
    """The dossier of a file, for the job's log lines (None: the file was deleted)."""
    with session_scope(settings.db_url) as session:
        return session.scalar(select(DossierFile.dossier_id).where(DossierFile.id == file_id))


def on_parse_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """A job raised (a retryable error, a crash, a timeout or a killed work-horse): while
    retries remain the file is queued again, after the last one it fails with a reason.

    rq also calls this long after the fact, for a job it finds abandoned when a worker
    cleans its registries; so it only acts on the file's current job and a file not yet
    finished (compare-and-set), and a superseded job is not retried."""
    file_id = job.args[0]
    settings = get_settings()
    with logs.job_context(file_id=file_id, job_id=job.id):
        _record_failure(settings, job, file_id, exc_type, exc_value)


def _record_failure(settings, job, file_id: str, exc_type, exc_value) -> None:
    """on_parse_failure's work, inside the job's log context."""
    retrying = bool(job.retries_left)
    if isinstance(exc_value, InputFileError):
        code, message = str(exc_value.code), exc_value.message
    else:
        code, message = "internal", INTERRUPTED
    if retrying:
        values = {"state": FileState.QUEUED, "progress": "retrying", "queued_at": utcnow()}
    else:
        values = {"state": FileState.FAILED, "progress": None, "error_code": code}
        values["error_message"] = message
    with session_scope(settings.db_url) as session:
        changed = set_if_current(session, file_id, job.id, **values)
        dossier_id = session.scalar(select(DossierFile.dossier_id).where(DossierFile.id == file_id))
    logs.bind(dossier_id=dossier_id)
    if not changed:
        log.info("parse job %s failed (%s) but is superseded or its file done", job.id, exc_type)
        job.retries_left = 0  # running it again could only be ignored
        return
    log.warning("parse job for file %s failed (%s); retrying=%s", file_id, exc_type, retrying)
    if not retrying:
        maybe_build_report(settings, dossier_id)
