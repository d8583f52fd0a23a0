"""Prometheus metrics at ``/metrics`` (text exposition format, prometheus-client).

Three sources, each read when Prometheus scrapes, so that the API process alone serves the
whole service's figures (workers fork a work-horse per job: an in-process registry there
would need prometheus-client's multiprocess mode and a shared directory):

- **HTTP** (:class:`HttpMetrics`, ASGI middleware): each request's seconds by method,
  route template and status, in this process's registry; under ``intake serve --workers
  N`` (N > 1) in prometheus-client's multiprocess files instead, summed over the API
  processes at scrape time (:func:`prepare_multiprocess`).
- **Queues** (:class:`QueueCollector`): from rq and Redis, per queue (lane): jobs waiting,
  the oldest one's age, the jobs in rq's started, finished, failed, deferred and scheduled
  registries, and the workers alive by state.
- **Database** (:class:`DatabaseCollector`): what the workers recorded: files by state and
  error code and the oldest queued one's age, parse seconds (a histogram by parser, OCR
  engine and outcome) with the pages parsed, and report builds with their seconds (a
  histogram). One aggregate query each.

Each registry is the app's own (``app.state.metrics``), never prometheus-client's global
one: tests build many apps in one process. The queue and database collectors read shared
state, so they stay in the registry of the process that answers the scrape, never summed."""

from __future__ import annotations

import atexit
import hmac
import logging
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
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
# Seconds of one report build: a few files' dossier in tens of milliseconds, a round's
# largest (hundreds of pages of parsed text, every rule) in tens of seconds.
BUILD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
REGISTRIES = ("started", "finished", "failed", "deferred", "scheduled")
# prometheus-client reads it when it is imported: set before a process starts, never after.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

router = APIRouter()
FORBIDDEN = "只有主管部门账号（或配置的监控令牌）可以读取运行指标"


def install(app, settings: Settings) -> CollectorRegistry:
    """The app's metrics: its registry (HTTP, queues, database), the middleware that times
    requests, and ``GET /metrics``."""
    registry = CollectorRegistry(auto_describe=True)
    shared = multiprocess_directory()
    if shared is not None:
        # The HTTP histogram goes to this process's file in ``shared`` (unregistered: its
        # own samples would be counted twice), and the scrape sums every process's files.
        MultiProcessCollector(registry, path=shared)
    registry.register(QueueCollector(settings))
    registry.register(DatabaseCollector(settings))
    app.state.metrics = registry
    app.add_middleware(HttpMetrics, registry=None if shared is not None else registry)
    app.include_router(router)
    return registry


def prepare_multiprocess(workers: int) -> Path | None:
    """Before ``intake serve`` starts ``workers`` uvicorn processes (more than one): a fresh
    private directory for prometheus-client's multiprocess files, named in
    ``PROMETHEUS_MULTIPROC_DIR`` for the processes uvicorn spawns (they import
    prometheus-client anew and so write their HTTP histogram there), and removed when this
    process exits. Without it a scrape would show one process's requests. One process
    needs none (None)."""
    if workers <= 1:
        return None
    if os.environ.get(MULTIPROC_ENV):
        log.info("metrics: replacing %s with a fresh directory", MULTIPROC_ENV)
    # A new directory each start: another run's files would be summed in (prometheus-client
    # wants it empty at start). mkdtemp makes it 0700, for this user only.
    # Only a histogram is kept there, no "live" gauge: when uvicorn replaces a process there
    # is nothing for mark_process_dead to remove, and the dead process's counts stay in.
    directory = Path(tempfile.mkdtemp(prefix="intake-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def multiprocess_directory() -> str | None:
    """The multiprocess directory this process writes its metrics to, if any: named in the
    environment *and* in use by prometheus-client (it chose its value class when it was
    imported; a variable set after that changes nothing, and reading the directory then
    would show no requests at all)."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    if values.ValueClass is values.MutexValue or not os.path.isdir(path):
        log.warning(
            "metrics: %s=%s ignored (set after prometheus-client was imported, or not a "
            "directory); HTTP figures are this process's only",
            MULTIPROC_ENV,
            path,
        )
        return None
    return path


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
    route being its template (``/api/dossiers/{dossier_id}``, ``unmatched`` for a 404).
    ``registry`` None: in multiprocess mode, where the histogram's values live in this
    process's file and the app's registry reads them with the other processes'."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry | None) -> None:
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
    grouped queries (files, parses, report builds), whatever the number of files."""

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
            # Whether OCR read any page: known since migration 0012 (null before: guessed
            # from the OCR setting, as ``ocr_engine`` says).
            read_by_ocr = case((Parse.ocr_pages > 0, 1), (Parse.ocr_pages == 0, 0), else_=-1)
            parses = session.execute(
                select(
                    Parse.parser,
                    Parse.ocr_config,
                    Parse.state,
                    long_scan,
                    read_by_ocr,
                    bucket,
                    func.count(),
                    func.sum(Parse.duration_ms),
                    func.sum(Parse.pages),
                    func.sum(Parse.ocr_pages),
                )
                .where(Parse.duration_ms.is_not(None))
                .group_by(
                    Parse.parser, Parse.ocr_config, Parse.state, long_scan, read_by_ocr, bucket
                )
            ).all()
            took = ReportVersion.duration_ms
            build_bucket = case(
                (took.is_(None), -1),  # built before its time was recorded (migration 0011)
                *[(took <= b * 1000, i) for i, b in enumerate(BUILD_BUCKETS)],
                else_=len(BUILD_BUCKETS),
            )
            builds = session.execute(
                select(build_bucket, func.count(), func.sum(took)).group_by(build_bucket)
            ).all()
        finally:
            session.close()
        return [*_file_families(files), *_parse_families(parses), *_build_families(builds)]


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
    ocr_pages: dict[tuple[str, str, str], int] = defaultdict(int)
    for parser, config, state, long, by_ocr, bucket, count, duration_ms, page_sum, ocr_sum in rows:
        engine = "none" if by_ocr == 0 else ocr_engine(parser, config, bool(long))
        key = (parser or "none", engine, state)
        counts[key][bucket] += count
        sums[key] += (duration_ms or 0) / 1000
        pages[key] += page_sum or 0
        ocr_pages[key] += ocr_sum or 0
    seconds = HistogramMetricFamily(
        "intake_parse_duration_seconds",
        "Seconds to parse one stored file (content hash), by parser, the OCR engine that "
        "read its pages (none: no page needed OCR) and outcome; from the database.",
        labels=["parser", "ocr_engine", "state"],
    )
    parsed = CounterMetricFamily(
        "intake_parse_pages",
        "Pages of the stored parses, by the same labels (rate against the histogram's sum "
        "for pages a second).",
        labels=["parser", "ocr_engine", "state"],
    )
    by_ocr = CounterMetricFamily(
        "intake_parse_ocr_pages",
        "Of those pages, the ones OCR read (parses before migration 0012 count none).",
        labels=["parser", "ocr_engine", "state"],
    )
    for key in sorted(counts):
        seconds.add_metric(list(key), cumulative(PARSE_BUCKETS, counts[key]), sums[key])
        parsed.add_metric(list(key), pages[key])
        by_ocr.add_metric(list(key), ocr_pages[key])
    return [seconds, parsed, by_ocr]


def ocr_engine(parser: str | None, config: str | None, long: bool) -> str:
    """The OCR engine a parse that needed OCR used, from its stored OCR setting
    (``rapidocr3|tesseract:chi_sim+eng:psm4>30:200dpi``: short scans and pictures | long
    scans > pages) and whether it had more pages than that: ``none`` for a DOCX, a parse
    that failed before a parser read it, or without a setting. (A parse from before
    migration 0012 does not say whether it needed OCR: a text PDF's counts under the
    engine it had at hand.)"""
    if parser in (None, "docx") or not config:  # no parser: failed before reading
        return "none"
    engines = config.split(">", 1)[0].split("|")
    chosen = engines[-1] if long and len(engines) > 1 else engines[0]
    return chosen.split(":", 1)[0] or "none"


def _build_families(rows) -> list[Metric]:
    """Report builds: every version counted, and the seconds of those that recorded them
    (a histogram, cumulative buckets from the per-bucket counts)."""
    counts = [0] * (len(BUILD_BUCKETS) + 1)
    total, seconds = 0, 0.0
    for bucket, count, duration_ms in rows:
        total += count
        if bucket >= 0:
            counts[bucket] += count
            seconds += (duration_ms or 0) / 1000
    built = CounterMetricFamily(
        "intake_report_builds", "Report versions built (every build is kept, numbered)."
    )
    built.add_metric([], total)
    timed = HistogramMetricFamily(
        "intake_report_build_seconds",
        "Seconds to build one report version (wall time, from the database). Versions built "
        "before build times were recorded are in intake_report_builds_total, not here.",
    )
    timed.add_metric([], cumulative(BUILD_BUCKETS, counts), seconds)
    return [built, timed]


def cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, int]]:
    """Prometheus buckets (``le`` → observations at or under it, ``+Inf`` last) from the
    count in each bucket (``counts[i]``: over ``bounds[i - 1]``, up to ``bounds[i]``)."""
    running, buckets = 0, []
    for bound, count in zip((*bounds, float("inf")), counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
    return buckets
