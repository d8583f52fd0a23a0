"""Putting work on the rq queue."""

from __future__ import annotations

import logging
from functools import lru_cache

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from intake.settings import Settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def get_queue(settings: Settings) -> Queue:
    return Queue(
        settings.queue_name,
        connection=redis_connection(settings.redis_url),
        default_timeout=settings.job_timeout,
    )


def parse_job_id(file_id: str, attempt: int = 0) -> str:
    """The id of a file's parse job: ``parse-{file}`` first, ``-r{attempt}`` when the
    reconciler or a reparse queues it again (a new id: the old job may linger in a registry)."""
    return f"parse-{file_id}" + (f"-r{attempt}" if attempt else "")


def enqueue_parse(queue: Queue, file_id: str, job_id: str | None = None) -> str:
    """Queue a file's parse job under ``job_id`` (the one its row already holds; by default
    its first id)."""
    from worker.jobs import on_parse_failure, parse_file_job

    job = queue.enqueue_call(
        parse_file_job,
        args=(file_id,),
        job_id=job_id or parse_job_id(file_id),
        retry=Retry(max=2, interval=[10, 60]),
        on_failure=Callback(on_parse_failure),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    return job.id


def discard_job(connection: Redis, job_id: str | None) -> None:
    """Delete a superseded job from Redis (its queue and every registry), so rq never runs
    it again nor reports it abandoned; best-effort, its outcome is ignored anyway."""
    if not job_id:
        return
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass
    except RedisError:
        log.warning("cannot delete superseded job %s", job_id, exc_info=True)
