"""The database, not Redis, says what work is owed. The reconciler finds files that are
queued or processing but have no live job (Redis restarted and lost its queue, an upload
was answered 503 before its job was queued, a worker was killed mid-job) and queues them
again. Parsing is idempotent (by content hash), so work done twice is harmless; it is
never lost. `intake worker` runs it at start and every minute; `intake reconcile` once."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker
from sqlalchemy import select

from intake.db import session_scope
from intake.models import DossierFile, FileState, aware, utcnow
from intake.queue import enqueue_parse, get_queue
from intake.settings import Settings

log = logging.getLogger(__name__)

LIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
GRACE = timedelta(seconds=30)  # an upload's job is queued right after its row is stored


def reconcile(settings: Settings) -> list[str]:
    """Queue again every file that is owed work and has no live job; their ids."""
    queue = get_queue(settings)
    connection = queue.connection
    # A worker is alive while it keeps its heartbeat; a killed one's key lingers in Redis
    # for minutes, its heartbeat stops at once.
    stale = utcnow() - timedelta(seconds=3 * settings.worker_heartbeat + 5)
    try:
        workers = {
            w.name: w
            for w in Worker.all(connection=connection)
            if w.last_heartbeat is not None and aware(w.last_heartbeat) > stale
        }
    except RedisError:
        log.warning("reconcile: Redis unavailable, will try again")
        return []  # nothing can be queued now; the files stay owed in the database
    again: list[str] = []
    with session_scope(settings.db_url) as session:
        owed = session.scalars(
            select(DossierFile).where(
                DossierFile.state.in_([FileState.QUEUED, FileState.PROCESSING])
            )
        ).all()
        for row in owed:
            young = row.created_at and utcnow() - aware(row.created_at) < GRACE
            if row.job_id is None and young:
                continue  # just uploaded: its job is being queued right now
            if _alive(row.job_id, connection, workers):
                log.debug("reconcile: %s has a live job %s", row.id, row.job_id)
                continue
            attempt = _attempt(row.job_id) + 1
            try:
                row.job_id = enqueue_parse(queue, row.id, attempt)
            except RedisError:
                log.warning("reconcile: Redis unavailable, will try again")
                break
            row.state = FileState.QUEUED
            row.progress = None
            again.append(row.id)
            log.info("reconcile: queued %s again (attempt %d)", row.id, attempt)
    return again


def _alive(job_id: str | None, connection, workers: dict[str, Worker]) -> bool:
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=True)
    if status in LIVE:
        return True
    if status == JobStatus.STARTED:
        worker = workers.get(job.worker_name or "")
        return worker is not None and worker.get_current_job_id() == job.id
    return False  # finished, failed, stopped or canceled, yet the file is still owed work


def _attempt(job_id: str | None) -> int:
    if job_id and "-r" in job_id:
        tail = job_id.rsplit("-r", 1)[1]
        return int(tail) if tail.isdigit() else 0
    return 0


def outdated_files(settings: Settings) -> list[str]:
    """Files parsed by an older document model or another OCR set-up (e.g. before pages
    carried picture hashes): ``intake reparse`` does them again."""
    from intake.models import Parse
    from intake.pipeline import parse_is_current

    with session_scope(settings.db_url) as session:
        rows = session.execute(
            select(DossierFile.id, Parse)
            .join(Parse, Parse.sha256 == DossierFile.sha256)
            .where(DossierFile.state == FileState.DONE)
        ).all()
        return [file_id for file_id, parse in rows if not parse_is_current(parse, settings)]


def queue_again(settings: Settings, file_ids: list[str]) -> int:
    """Put files back on the queue (their reports are rebuilt when they are done)."""
    queue = get_queue(settings)
    queued = 0
    with session_scope(settings.db_url) as session:
        for file_id in file_ids:
            row = session.get(DossierFile, file_id)
            if row is None:  # deleted since it was listed
                continue
            attempt = _attempt(row.job_id) + 1
            row.job_id = enqueue_parse(queue, row.id, attempt)
            row.state, row.progress = FileState.QUEUED, None
            queued += 1
    return queued
