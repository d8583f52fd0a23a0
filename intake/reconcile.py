"""The database, not Redis, says what work is owed. The reconciler finds files that are
queued or processing but have no live job (Redis restarted and lost its queue, an upload
was answered 503 before its job was queued, a worker was killed mid-job) and queues them
again. Parsing is idempotent (by content hash), so work done twice is harmless; it is
never lost. `intake worker` runs it at start and every minute; `intake reconcile` once.
A file goes back on its lane's queue (quick or OCR, decided again as at upload).

A file has one current job (its row's ``job_id``): queuing again is a compare-and-set on
it, the job it replaces is deleted from Redis, and a superseded job's late outcome (rq
reporting it abandoned minutes later) is ignored by the job and its failure callback."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker
from sqlalchemy import select, update

from intake.db import session_scope
from intake.models import Dossier, DossierFile, FileState, aware, utcnow
from intake.queue import discard_job, enqueue_parse, get_queue, lane_of_file, parse_job_id
from intake.settings import Settings

log = logging.getLogger(__name__)

LIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
GRACE = timedelta(seconds=30)  # a file's job is put on the queue right after it is stored
OWED = [FileState.QUEUED, FileState.PROCESSING]


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
    with session_scope(settings.db_url) as session:
        # (A purged dossier never has a file owed work: intake purge refuses one that has.)
        owed = session.execute(
            select(DossierFile.id, DossierFile.job_id, DossierFile.queued_at)
            .join(Dossier, Dossier.id == DossierFile.dossier_id)
            .where(DossierFile.state.in_(OWED), Dossier.purged_at.is_(None))
        ).all()
    again: list[str] = []
    for file_id, job_id, queued_at in owed:
        try:
            job = _job(job_id, connection)
            if job is not None and _alive(job, workers):
                log.debug("reconcile: %s has a live job %s", file_id, job_id)
                continue
            if job is None and queued_at and utcnow() - aware(queued_at) < GRACE:
                continue  # just stored: its job is being put on the queue right now
            if _requeue(settings, file_id, job_id, OWED):
                again.append(file_id)
        except RedisError:
            log.warning("reconcile: Redis unavailable, will try again")
            break
    return again


def _requeue(settings: Settings, file_id: str, job_id: str | None, states: list[str]) -> str | None:
    """Give a file a new job, if ``job_id`` is still its job and it is in one of ``states``
    (compare-and-set: two reconcilers, or a job finishing meanwhile, cannot both win); then
    queue the new job on its lane's queue and delete the old one. The new job's id, or
    None."""
    new = parse_job_id(file_id, _attempt(job_id) + 1)
    with session_scope(settings.db_url) as session:
        changed = session.execute(
            update(DossierFile)
            .where(
                DossierFile.id == file_id,
                DossierFile.job_id.is_(None) if job_id is None else DossierFile.job_id == job_id,
                DossierFile.state.in_(states),
            )
            .values(job_id=new, state=FileState.QUEUED, progress=None, queued_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        kind = session.execute(
            select(DossierFile.media_type, DossierFile.sha256, DossierFile.size).where(
                DossierFile.id == file_id
            )
        ).first()
    if not changed or kind is None:
        log.info("reconcile: %s changed meanwhile; left alone", file_id)
        return None
    queue = get_queue(settings, lane_of_file(settings, *kind))
    # Should Redis fail here, the row holds a job Redis lacks: queued again after GRACE.
    enqueue_parse(queue, file_id, new)
    discard_job(queue.connection, job_id)
    log.info("queued %s again as %s (was %s)", file_id, new, job_id)
    return new


def _job(job_id: str | None, connection) -> Job | None:
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


def _alive(job: Job, workers: dict[str, Worker]) -> bool:
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
    carried picture hashes): ``intake reparse`` does them again. Never a file of a purged
    dossier (``intake purge``): its upload is gone, and its report is history, even where
    a dossier not purged keeps the same content (that dossier's file is listed)."""
    from intake.models import Parse
    from intake.pipeline import parse_is_current

    with session_scope(settings.db_url) as session:
        rows = session.execute(
            select(DossierFile.id, Parse)
            .join(Parse, Parse.sha256 == DossierFile.sha256)
            .join(Dossier, Dossier.id == DossierFile.dossier_id)
            .where(DossierFile.state == FileState.DONE, Dossier.purged_at.is_(None))
        ).all()
        return [file_id for file_id, parse in rows if not parse_is_current(parse, settings)]


def queue_again(settings: Settings, file_ids: list[str]) -> int:
    """Put files back on the queue (their reports are rebuilt when they are done); a file
    whose job changed while this ran is left to that job, one of a purged dossier alone."""
    queued = 0
    for file_id in file_ids:
        with session_scope(settings.db_url) as session:
            row = session.execute(
                select(DossierFile.job_id, DossierFile.state, Dossier.purged_at)
                .join(Dossier, Dossier.id == DossierFile.dossier_id)
                .where(DossierFile.id == file_id)
            ).first()
        if row is None or row.purged_at is not None:  # deleted since it was listed, or purged
            continue
        if _requeue(settings, file_id, row.job_id, [row.state]):
            queued += 1
    return queued
