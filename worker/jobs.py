"""The rq jobs. They carry ids, never objects; all the work is in intake.pipeline."""

from __future__ import annotations

import logging

from extractors.errors import InputFileError
from intake.db import session_scope
from intake.models import DossierFile, FileState
from intake.pipeline import maybe_build_report, process_file
from intake.settings import get_settings

log = logging.getLogger(__name__)

INTERRUPTED = "处理超时或中断，请稍后重试；如多次失败，请上传更清晰或更小的文件"


def parse_file_job(file_id: str) -> str:
    """Parse one dossier file; the report is rebuilt when it was the dossier's last."""
    return process_file(get_settings(), file_id)


def on_parse_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """A job raised (a retryable error, a crash, a timeout or a killed work-horse): while
    retries remain the file is queued again, after the last one it fails with a reason."""
    file_id = job.args[0]
    settings = get_settings()
    retrying = bool(job.retries_left)
    if isinstance(exc_value, InputFileError):
        code, message = str(exc_value.code), exc_value.message
    else:
        code, message = "internal", INTERRUPTED
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        if row is None:
            return
        if retrying:
            row.state, row.progress = FileState.QUEUED, "retrying"
        else:
            row.state, row.progress = FileState.FAILED, None
            row.error_code, row.error_message = code, message
        dossier_id = row.dossier_id
    log.warning("parse job for file %s failed (%s); retrying=%s", file_id, exc_type, retrying)
    if not retrying:
        maybe_build_report(settings, dossier_id)
