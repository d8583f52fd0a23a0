"""Prometheus metrics at ``/metrics`` (text exposition format, prometheus-client).

Three sources, each read when Prometheus scrapes, so that the API process alone serves the
whole service's figures (workers fork a work-horse per job: an in-process registry there
would need prometheus-client's multiprocess mode and a shared directory):

- **HTTP** (:class:`HttpMetrics`, ASGI middleware): each request's seconds by method,
  route template and status, in this process's registry.
- **Queues** (:class:`QueueCollector`): from rq and Redis, per queue (lane): jobs waiting,
  the oldest one's age, the jobs in rq's started, finished, failed, deferred and scheduled
  registries, and the workers alive by state.
- **Database** (:class:`DatabaseCollector`): what the workers recorded: files by state and
  error code and the oldest queued one's age, parse seconds (a histogram by parser, OCR
  engine and outcome) with the pages parsed, and report builds. One aggregate query each.

Each registry is the app's own (``app.state.metrics``), never prometheus-client's global
one: tests build many apps in one process."""

from __future__ import annotations

import hmac
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.utils import str_to_date
from rq.worker import WorkerStatus
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.db import session_factory
from intake.logs import route_template
from intake.models import DossierFile, Parse, ReportVersion, aware
from intake.queue import Lane, get_queue, redis_connection
from intake.settings import Settings

log = logging.getLogger(__name__)

# Seconds of an HTTP request: a status poll in milliseconds, an upload of many files in tens.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Seconds of one file's parse: a DOCX in a fraction of one, a 200-page scan in half an hour.
PARSE_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
REGISTRIES = ("started", "finished", "failed", "deferred", "scheduled")

router = APIRouter()
FORBIDDEN = "只有主管部门账号（或配置的监控令牌）可以读取运行指标"


def install(app, settings: Settings) -> CollectorRegistry:
    """The app's metrics: its registry (HTTP, queues, database), the middleware that times
    requests, and ``GET /metrics``."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(QueueCollector(settings))
    registry.register(DatabaseCollector(settings))
    app.state.metrics = registry
    app.add_middleware(HttpMetrics, registry=registry)
    app.include_router(router)
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this service's metrics, to those allowed
    (:func:`allowed`)."""
    allowed(request)
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


def allowed(request: Request) -> None:
    """Who reads ``/metrics``: anyone when ``INTAKE_METRICS_PUBLIC`` is set (the port is
    only on a private network); otherwise a scraper sending ``Authorization: Bearer
    <INTAKE_METRICS_TOKEN>``, or a bureau account (its API token or browser session).
    Queue depths and failure counts are operational facts about every applicant's work,
    hence not for applicants or reviewers (403) nor for the anonymous (401)."""
    from intake.api.deps import NotLoggedIn, identify
    from intake.models import Role

    settings: Settings = request.app.state.settings
    if settings.metrics_public:
        return
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    expected = settings.metrics_token
    if (
        expected
        and scheme.lower() == "bearer"
        and hmac.compare_digest(credential.strip().encode(), expected.encode())
    ):
        return
    session = session_factory(settings.db_url)()
    try:
        user = identify(request, session)
    finally:
        session.close()
    if user is None:
        raise NotLoggedIn()
    if user.role != Role.BUREAU:
        raise HTTPException(status_code=403, detail=FORBIDDEN)


class HttpMetrics:
    """ASGI middleware: ``intake_http_request_duration_seconds{method,route,status}``, the
    route being its template (``/api/dossiers/{dossier_id}``, ``unmatched`` for a 404)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.seconds = Histogram(
            "intake_http_request_duration_seconds",
            "Seconds to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.seconds.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )


class QueueCollector(Collector):
    """The queues as Redis holds them at scrape time (a handful of Redis calls a queue)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []  # families are only known by collecting; describe nothing up front

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("intake_redis_up", "1 if Redis answered this scrape, else 0.")
        waiting = GaugeMetricFamily(
            "intake_queue_jobs", "Jobs waiting in an rq queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "intake_queue_oldest_job_age_seconds",
            "Seconds since the job at the head of an rq queue was queued (0: queue empty).",
            labels=["queue"],
        )
        registries = GaugeMetricFamily(
            "intake_queue_registry_jobs",
            "Jobs in an rq registry of a queue (started: running; finished and failed: "
            "kept for their result or failure TTL; scheduled: waiting for a retry).",
            labels=["queue", "registry"],
        )
        workers = GaugeMetricFamily(
            "intake_workers",
            "rq workers alive, by a queue they serve and state (started, idle, busy, suspended).",
            labels=["queue", "state"],
        )
        try:
            self._collect(waiting, oldest, registries, workers)
        except RedisError as exc:
            log.warning("metrics: Redis unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, waiting, oldest, registries, workers)

    def _collect(self, waiting, oldest, registries, workers) -> None:
        connection = redis_connection(self.settings.redis_url)
        now = datetime.now(UTC)
        names = []
        for lane in Lane:
            queue = get_queue(self.settings, lane)
            names.append(queue.name)
            waiting.add_metric([queue.name], queue.count)
            head = queue.get_job_ids(0, 1)
            age = 0.0
            if head:
                stamp = connection.hget(Job.key_for(head[0]), "enqueued_at")
                try:
                    age = max(0.0, (now - aware(str_to_date(stamp))).total_seconds())
                except (TypeError, ValueError):  # gone since, or a stamp rq did not write
                    age = 0.0
            oldest.add_metric([queue.name], age)
            for name in REGISTRIES:
                registry = getattr(queue, f"{name}_job_registry")
                # Live entries only (scored by expiry; a scheduled job by when it runs,
                # all counted), and without rq's cleanup, which would run failure
                # callbacks in the API process.
                low = "-inf" if name == "scheduled" else now.timestamp()
                count = connection.zcount(registry.key, low, "+inf")
                registries.add_metric([queue.name, name], count)
        by_state: dict[tuple[str, str], int] = defaultdict(int)
        for worker in Worker.all(connection=connection):
            for name in worker.queue_names():
                if name in names:
                    state = worker.get_state()
                    by_state[name, str(getattr(state, "value", state))] += 1
        for name in names:
            for state in WorkerStatus:
                by_state.setdefault((name, state.value), 0)
        for (name, state), count in sorted(by_state.items()):
            workers.add_metric([name, state], count)


class DatabaseCollector(Collector):
    """What the workers recorded in the database, aggregated at scrape time: three
    grouped queries, whatever the number of files."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("intake_database_up", "1 if the database answered, else 0.")
        try:
            families = self._collect()
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _collect(self) -> list[Metric]:
        session = session_factory(self.settings.db_url)()
        try:
            files = session.execute(
                select(
                    DossierFile.state,
                    DossierFile.error_code,
                    func.count(),
                    func.min(DossierFile.queued_at),
                ).group_by(DossierFile.state, DossierFile.error_code)
            ).all()
            bucket = case(
                *[(Parse.duration_ms <= b * 1000, i) for i, b in enumerate(PARSE_BUCKETS)],
                else_=len(PARSE_BUCKETS),
            )
            long_scan = case((Parse.pages > self.settings.ocr_long_scan, True), else_=False)
            parses = session.execute(
                select(
                    Parse.parser,
                    Parse.ocr_config,
                    Parse.state,
                    long_scan,
                    bucket,
                    func.count(),
                    func.sum(Parse.duration_ms),
                    func.sum(Parse.pages),
                )
                .where(Parse.duration_ms.is_not(None))
                .group_by(Parse.parser, Parse.ocr_config, Parse.state, long_scan, bucket)
            ).all()
            builds = session.scalar(select(func.count()).select_from(ReportVersion)) or 0
        finally:
            session.close()
        return [*_file_families(files), *_parse_families(parses), _builds_family(builds)]


def _file_families(rows) -> list[Metric]:
    files = GaugeMetricFamily(
        "intake_files",
        "Dossier files by state (queued, processing, done, failed) and error code.",
        labels=["state", "error_code"],
    )
    oldest = GaugeMetricFamily(
        "intake_files_oldest_queued_age_seconds",
        "Seconds since the longest-waiting queued file was queued (0: none queued).",
    )
    now = datetime.now(UTC)
    first = None
    for state, code, count, queued_at in rows:
        files.add_metric([state, code or ""], count)
        if state == "queued" and queued_at is not None:
            first = min(first or aware(queued_at), aware(queued_at))
    oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
    return [files, oldest]


def _parse_families(rows) -> list[Metric]:
    """The parse histogram (cumulative buckets from the per-bucket counts) and pages."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(
        lambda: [0] * (len(PARSE_BUCKETS) + 1)
    )
    sums: dict[tuple[str, str, str], float] = defaultdict(float)
    pages: dict[tuple[str, str, str], int] = defaultdict(int)
    for parser, config, state, long, bucket, count, duration_ms, page_sum in rows:
        key = (parser or "none", ocr_engine(parser, config, bool(long)), state)
        counts[key][bucket] += count
        sums[key] += (duration_ms or 0) / 1000
        pages[key] += page_sum or 0
    seconds = HistogramMetricFamily(
        "intake_parse_duration_seconds",
        "Seconds to parse one stored file (content hash), by parser, the OCR engine its "
        "pages had (by the OCR setting and page count) and outcome; from the database.",
        labels=["parser", "ocr_engine", "state"],
    )
    parsed = CounterMetricFamily(
        "intake_parse_pages",
        "Pages of the stored parses, by the same labels (rate against the histogram's sum "
        "for pages a second).",
        labels=["parser", "ocr_engine", "state"],
    )
    for key in sorted(counts):
        running, buckets = 0, []
        for bound, count in zip((*PARSE_BUCKETS, float("inf")), counts[key], strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
        seconds.add_metric(list(key), buckets, sums[key])
        parsed.add_metric(list(key), pages[key])
    return [seconds, parsed]


def ocr_engine(parser: str | None, config: str | None, long: bool) -> str:
    """The OCR engine a parse had at hand, from its stored OCR setting
    (``rapidocr3|tesseract:chi_sim+eng:psm4>30:200dpi``: short scans and pictures | long
    scans > pages) and whether it had more pages than that: ``none`` for a DOCX, or
    without a setting."""
    if parser == "docx" or not config:
        return "none"
    engines = config.split(">", 1)[0].split("|")
    chosen = engines[-1] if long and len(engines) > 1 else engines[0]
    return chosen.split(":", 1)[0] or "none"


def _builds_family(builds: int) -> Metric:
    family = CounterMetricFamily(
        "intake_report_builds", "Report versions built (every build is kept, numbered)."
    )
    family.add_metric([], builds)
    return family
