"""The rq worker the service runs: rq's own, with the reconciler among its maintenance
tasks. They run in the worker's main loop, between jobs, and never beside a fork: a
reconciler in a thread of its own could hold a lock (an import, a connection pool's) at
the moment rq forks a work-horse, and the horse would wait on it forever (seen: a horse
asleep on a futex with its job never started)."""

from __future__ import annotations

import logging

from rq import Worker

from intake.queue import worker_queues
from intake.reconcile import reconcile
from intake.settings import Settings

log = logging.getLogger(__name__)

RECONCILE_EVERY = 60  # seconds, between jobs


class ReconcilingWorker(Worker):
    def __init__(self, *args, settings: Settings, **kwargs) -> None:
        kwargs.setdefault("maintenance_interval", RECONCILE_EVERY)
        super().__init__(*args, **kwargs)
        self.settings = settings

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            reconcile(self.settings)
        except Exception:  # never let the reconciler take the worker down
            log.exception("reconcile failed")


def run(settings: Settings, burst: bool = False, queues: str | None = None) -> None:
    """`intake worker`: migrate, load what every job shares once, then work ``queues``
    (``"quick,ocr"``, ``"quick"``…; default ``settings.worker_queues``) in their order,
    so a quick file queued after a scan is taken first. A ValueError in Chinese for
    queues it does not know, before anything is started."""
    listened = worker_queues(settings, queues)
    import worker.jobs  # noqa: F401  (warms the feedback before any work-horse is forked)
    from extractors.classify import cue_book
    from intake.db import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    cue_book()  # spaCy and the cue matchers, built once here and shared by forked jobs
    log.info("serving queues %s", ", ".join(q.name for q in listened))
    ReconcilingWorker(
        listened,
        connection=listened[0].connection,
        job_monitoring_interval=settings.worker_heartbeat,
        settings=settings,
    ).work(burst=burst, with_scheduler=True)
