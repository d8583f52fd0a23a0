"""Putting work on the rq queue."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from rq import Callback, Queue, Retry

from intake.settings import Settings


@lru_cache(maxsize=4)
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def get_queue(settings: Settings) -> Queue:
    return Queue(
        settings.queue_name,
        connection=redis_connection(settings.redis_url),
        default_timeout=settings.job_timeout,
    )


def enqueue_parse(queue: Queue, file_id: str, attempt: int = 0) -> str:
    """Queue a file's parse job; ``attempt`` > 0 for a job the reconciler puts back (a new
    id: the lost one may still be in a registry)."""
    from worker.jobs import on_parse_failure, parse_file_job

    job = queue.enqueue_call(
        parse_file_job,
        args=(file_id,),
        job_id=f"parse-{file_id}" + (f"-r{attempt}" if attempt else ""),
        retry=Retry(max=2, interval=[10, 60]),
        on_failure=Callback(on_parse_failure),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    return job.id
