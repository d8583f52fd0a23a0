"""The rq worker the service runs: rq's own, with the reconciler among its maintenance
tasks. They run in the worker's main loop, between jobs, and never beside a fork: a
reconciler in a thread of its own could hold a lock (an import, a connection pool's) at
the moment rq forks a work-horse, and the horse would wait on it forever (seen: a horse
asleep on a futex with its job never started)."""

from __future__ import annotations

import logging

from rq import Worker

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
