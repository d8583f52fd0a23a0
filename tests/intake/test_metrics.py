"""/metrics (intake.metrics): who may read it, and that its figures appear and move after an
upload through the API and a parse by an rq worker, against real Redis (db 5, this
module's own, emptied afterwards) and the database the workers write (SQLite, and for the
report builds PostgreSQL too, a database the test creates and drops); and that two
uvicorn processes behind one port answer one scrape with both processes' requests."""

from __future__ import annotations

import concurrent.futures
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import SimpleWorker, Worker

from intake import logs, metrics
from intake.api import create_app
from intake.db import migrate, session_scope
from intake.metrics import BUILD_BUCKETS, MULTIPROC_ENV, PARSE_BUCKETS, ocr_engine
from intake.models import Dossier, DossierFile, Parse, ReportVersion
from intake.pipeline import build_report
from intake.queue import worker_queues
from intake.settings import Settings, get_settings
from tests.accounts import PASSWORD, account
from tests.fixtures import factory
from tests.integration.processes import free_port, up
from tests.integration.test_service import database  # noqa: F401 (fixture)

REDIS_DB = 5  # this module's own Redis database, emptied afterwards
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def observed_app(settings: Settings) -> FastAPI:
    """The app with metrics and the request context registered as create_app registers
    them (metrics, then the request context outermost), where it does not yet."""
    app = create_app(settings)
    if getattr(app.state, "metrics", None) is None:
        metrics.install(app, settings)
    if not any(m.cls is logs.RequestContext for m in app.user_middleware):
        app.add_middleware(logs.RequestContext)
    return app


def on_redis(settings: Settings, monkeypatch, url: str, prefix: str) -> Settings:
    """``settings`` on Redis ``url`` and a queue of its own; the environment says the same,
    so the in-process worker's jobs (which read get_settings()) use them too."""
    settings = settings.model_copy(
        update={"redis_url": url, "queue_name": f"{prefix}-{uuid.uuid4().hex[:8]}"}
    )
    for key, value in {
        "INTAKE_DATABASE_URL": settings.db_url,
        "INTAKE_DATA_DIR": str(settings.data_dir),
        "INTAKE_REDIS_URL": settings.redis_url,
        "INTAKE_QUEUE_NAME": settings.queue_name,
        "INTAKE_OCR_WORKERS": "2",
        "INTAKE_RATE_LIMIT_STORAGE": "memory://",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return settings


@pytest.fixture
def redis_settings(settings: Settings, monkeypatch) -> Iterator[Settings]:
    yield on_redis(settings, monkeypatch, REDIS_URL, "metrics")
    get_settings.cache_clear()
    Redis.from_url(REDIS_URL).flushdb()


def login(app: FastAPI, name: str) -> tuple[TestClient, str]:
    """A browser client logged in through the sign-in form as ``name``, and the CSRF token
    its pages carry (the JSON API wants it on changes)."""
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert done.status_code == 303, done.text
    home = client.get("/", follow_redirects=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text).group(1)
    return client, csrf


def upload_one(client: TestClient, csrf: str, path: Path) -> tuple[str, str]:
    """Create a dossier and upload ``path`` to it through the JSON API: (dossier, file)."""
    headers = {"X-CSRF-Token": csrf}
    created = client.post("/api/dossiers", json={"name": "观测测试"}, headers=headers)
    assert created.status_code == 201, created.text
    dossier_id = created.json()["id"]
    with path.open("rb") as f:
        sent = client.post(
            f"/api/dossiers/{dossier_id}/files",
            files=[("files", (path.name, f, "application/pdf"))],
            headers=headers,
        )
    assert sent.status_code == 202, sent.text
    return dossier_id, sent.json()["files"][0]["id"]


def work(settings: Settings) -> None:
    """An rq worker in this process works the queues empty (rq's SimpleWorker: no fork)."""
    queues = worker_queues(settings)
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


def scrape(client: TestClient) -> dict[tuple[str, frozenset], float]:
    """The samples of /metrics, by name and labels."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    """The sample's value; 0 when it is absent (a label set not seen yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def document(path: Path, marker: str) -> Path:
    return factory.text_pdf(
        path,
        [["审计报告", f"我们审计了{marker}有限公司财务报表。", "注册会计师：张三"]],
    )


def test_metrics_appear_and_move_after_an_upload_and_a_parse(redis_settings, tmp_path):
    settings = redis_settings
    app = observed_app(settings)
    applicant, _ = account(settings, "applicant", "申报甲")
    _, bureau_token = account(settings, "bureau", "主管甲")
    bureau = TestClient(app, headers={"Authorization": f"Bearer {bureau_token}"})
    quick = settings.queue_name

    before = scrape(bureau)
    assert value(before, "intake_redis_up") == 1 and value(before, "intake_database_up") == 1
    assert value(before, "intake_queue_jobs", queue=quick) == 0
    assert total(before, "intake_files") == 0
    assert value(before, "intake_report_builds_total") == 0

    client, csrf = login(app, applicant)
    dossier_id, file_id = upload_one(client, csrf, document(tmp_path / "审计报告.pdf", "西安"))
    time.sleep(0.05)  # the queued job ages
    queued = scrape(bureau)
    assert value(queued, "intake_queue_jobs", queue=quick) == 1
    assert value(queued, "intake_queue_oldest_job_age_seconds", queue=quick) > 0
    assert value(queued, "intake_files", state="queued", error_code="") == 1
    assert value(queued, "intake_files_oldest_queued_age_seconds") > 0
    route = "/api/dossiers/{dossier_id}/files"
    assert (
        value(
            queued,
            "intake_http_request_duration_seconds_count",
            method="POST",
            route=route,
            status="202",
        )
        == 1
    )

    # A worker alive is counted, by the queues it serves, while it is registered.
    waiting = Worker(worker_queues(settings), connection=Redis.from_url(REDIS_URL))
    waiting.register_birth()
    try:
        alive = scrape(bureau)
        assert total(alive, "intake_workers", queue=quick) == 1
        assert total(alive, "intake_workers", queue=f"{quick}-ocr") == 1
    finally:
        waiting.register_death()

    work(settings)
    done = scrape(bureau)
    assert value(done, "intake_queue_jobs", queue=quick) == 0
    assert value(done, "intake_queue_oldest_job_age_seconds", queue=quick) == 0
    assert value(done, "intake_queue_registry_jobs", queue=quick, registry="finished") == 1
    assert value(done, "intake_queue_registry_jobs", queue=quick, registry="failed") == 0
    assert value(done, "intake_files", state="done", error_code="") == 1
    assert value(done, "intake_files", state="queued", error_code="") == 0
    assert value(done, "intake_files_oldest_queued_age_seconds") == 0
    labels = {"parser": "pdf", "state": "done"}
    assert total(done, "intake_parse_duration_seconds_count", **labels) == 1
    assert total(done, "intake_parse_duration_seconds_bucket", le="+Inf", **labels) == 1
    assert total(done, "intake_parse_pages_total", **labels) == 1
    # A text PDF: no page needed OCR, so no engine is named and no OCR page counted.
    assert total(done, "intake_parse_duration_seconds_count", ocr_engine="none", **labels) == 1
    assert total(done, "intake_parse_ocr_pages_total", **labels) == 0
    assert value(done, "intake_report_builds_total") == 1
    assert total(done, "intake_workers") == 0  # the burst worker has left
    with session_scope(settings.db_url) as session:  # the figures agree with the database
        parse = session.get(Parse, session.get(DossierFile, file_id).sha256)
        seconds = total(done, "intake_parse_duration_seconds_sum", **labels)
        assert seconds == pytest.approx(parse.duration_ms / 1000)
        assert session.get(Dossier, dossier_id) is not None


def test_failed_files_are_counted_by_error_code(redis_settings, tmp_path):
    settings = redis_settings
    app = observed_app(settings)
    applicant, _ = account(settings, "applicant", "申报乙")
    client, csrf = login(app, applicant)
    good = document(tmp_path / "good.pdf", "渭南")
    broken = factory.truncated(tmp_path / "损坏.pdf", good)
    upload_one(client, csrf, broken)
    work(settings)
    settings_token = settings.model_copy(update={"metrics_token": "scrape-secret-123"})
    scraper = TestClient(observed_app(settings_token))
    scraper.headers["Authorization"] = "Bearer scrape-secret-123"
    samples = scrape(scraper)
    failed = {
        dict(labels)["error_code"]: v
        for (name, labels), v in samples.items()
        if name == "intake_files" and dict(labels)["state"] == "failed"
    }
    assert sum(failed.values()) == 1 and "" not in failed  # a code, never blank
    assert value(samples, "intake_report_builds_total") == 1  # built with the failure


def test_who_may_read_the_metrics(settings):
    app = observed_app(settings.model_copy(update={"metrics_token": "scrape-secret-123"}))
    anonymous = TestClient(app)
    assert anonymous.get("/metrics").status_code == 401
    anonymous.headers["Authorization"] = "Bearer wrong-token"
    assert anonymous.get("/metrics").status_code == 401
    for role in ("applicant", "reviewer"):
        _, token = account(settings, role)
        answer = TestClient(app, headers={"Authorization": f"Bearer {token}"}).get("/metrics")
        assert answer.status_code == 403
        assert "主管部门" in answer.json()["message"]
    scraper = TestClient(app, headers={"Authorization": "Bearer scrape-secret-123"})
    assert "intake_files" in scraper.get("/metrics").text
    public = observed_app(settings.model_copy(update={"metrics_public": True}))
    assert TestClient(public).get("/metrics").status_code == 200


def test_without_redis_the_scrape_still_answers(settings):
    dead = settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "metrics_public": True}
    )
    samples = scrape(TestClient(observed_app(dead)))
    assert value(samples, "intake_redis_up") == 0
    assert value(samples, "intake_database_up") == 1


def test_a_scrape_of_a_thousand_files_is_grouped(settings):
    """Three grouped queries, whatever the number of files: 1,000 files, 1,000 parses and
    as many report versions, each counted once under its labels (how long the scrape takes
    is printed by benchmarks/load_test.py, not asserted here)."""
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        for d in range(50):
            dossier = Dossier(rule_pack="xian-2018", name=f"d{d}")
            session.add(dossier)
            session.flush()
            for n in range(20):
                sha = f"{d:04d}{n:060d}"
                failed = n % 7 == 0
                session.add(
                    DossierFile(
                        dossier_id=dossier.id,
                        name=f"f{n}.pdf",
                        sha256=sha,
                        state="failed" if failed else "done",
                        error_code="corrupt" if failed else None,
                    )
                )
                session.add(
                    Parse(
                        sha256=sha,
                        state="failed" if failed else "done",
                        parser="pdf",
                        pages=1 + n * 3,
                        # A text PDF (no page by OCR), a scan (every page), an old parse
                        # (not known: the engine is the one it had at hand).
                        ocr_pages=None if failed else (0, 1 + n * 3, None)[n % 3],
                        duration_ms=100 * (n + 1) ** 2,
                        ocr_config="rapidocr3|tesseract:chi_sim+eng:psm4>30:200dpi",
                    )
                )
                session.add(
                    ReportVersion(
                        dossier_id=dossier.id, version=n + 1, reason="t", rule_pack="x", content={}
                    )
                )
    collector = metrics.DatabaseCollector(settings)
    families = {f.name: f for f in collector.collect()}
    assert sum(s.value for s in families["intake_files"].samples) == 1000
    assert families["intake_report_builds"].samples[0].value == 1000
    counts = [
        s for s in families["intake_parse_duration_seconds"].samples if s.name.endswith("_count")
    ]
    assert sum(s.value for s in counts) == 1000
    # A long scan's parse is put to the long-scan engine, a short one's to the first; a
    # parse that needed no OCR to none.
    assert {s.labels["ocr_engine"] for s in counts} == {"rapidocr3", "tesseract", "none"}
    text_only = [s for s in counts if s.labels["ocr_engine"] == "none"]
    assert sum(s.value for s in text_only) == 50 * len(
        [n for n in range(20) if n % 7 and n % 3 == 0]
    )
    read = families["intake_parse_ocr_pages"].samples
    expected = 50 * sum(1 + n * 3 for n in range(20) if n % 7 and n % 3 == 1)
    assert sum(s.value for s in read) == expected
    assert all(s.value == 0 for s in read if s.labels["ocr_engine"] == "none")
    buckets = [
        s
        for s in families["intake_parse_duration_seconds"].samples
        if s.name.endswith("_bucket")
        and s.labels["ocr_engine"] == "rapidocr3"
        and s.labels["state"] == "done"
    ]
    assert [s.value for s in buckets] == sorted(s.value for s in buckets)  # cumulative
    assert len(buckets) == len(PARSE_BUCKETS) + 1


def test_the_ocr_engine_of_a_parse():
    config = "rapidocr3|tesseract:chi_sim+eng:psm4>30:200dpi"
    assert ocr_engine("pdf", config, long=False) == "rapidocr3"
    assert ocr_engine("pdf", config, long=True) == "tesseract"
    assert ocr_engine("image", config, long=False) == "rapidocr3"
    assert ocr_engine("docx", config, long=False) == "none"
    assert ocr_engine("pdf", None, long=False) == "none"
    assert ocr_engine(None, config, long=False) == "none"  # failed before a parser read it


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_report_builds_are_timed(dialect, request, redis_settings, monkeypatch, tmp_path):
    """Each report build's seconds (report_versions.duration_ms) land in a histogram whose
    count, sum and buckets agree with the database; a version without a time (built before
    they were recorded) is a build, not an observation."""
    settings = redis_settings
    if dialect == "postgresql":
        url = request.getfixturevalue("database")
        settings = settings.model_copy(update={"database_url": url})
        monkeypatch.setenv("INTAKE_DATABASE_URL", url)  # the in-process worker's jobs
        get_settings.cache_clear()
    app = observed_app(settings.model_copy(update={"metrics_public": True}))
    scraper = TestClient(app)
    before = scrape(scraper)
    assert value(before, "intake_report_builds_total") == 0
    assert value(before, "intake_report_build_seconds_count") == 0
    assert value(before, "intake_report_build_seconds_bucket", le="+Inf") == 0

    applicant, _ = account(settings, "applicant", f"申报丙-{dialect}")
    client, csrf = login(app, applicant)
    dossier_id, _ = upload_one(client, csrf, document(tmp_path / "审计报告.pdf", "咸阳"))
    work(settings)  # parse, then the report's first build
    build_report(settings, dossier_id, reason="复核后重建")  # and a second one
    with session_scope(settings.db_url) as session:
        old = ReportVersion(
            dossier_id=dossier_id, version=3, reason="0011 之前", rule_pack="x", content={}
        )
        session.add(old)  # a build from before migration 0011: no duration
    with session_scope(settings.db_url) as session:
        timed = [
            v.duration_ms
            for v in session.query(ReportVersion).filter_by(dossier_id=dossier_id)
            if v.duration_ms is not None
        ]
    assert len(timed) == 2

    after = scrape(scraper)
    assert value(after, "intake_report_builds_total") == 3
    assert value(after, "intake_report_build_seconds_count") == 2
    assert value(after, "intake_report_build_seconds_sum") == pytest.approx(sum(timed) / 1000)
    for bound in BUILD_BUCKETS:
        expected = sum(1 for ms in timed if ms <= bound * 1000)
        observed = value(after, "intake_report_build_seconds_bucket", le=str(bound))
        assert observed == expected, bound
    assert value(after, "intake_report_build_seconds_bucket", le="+Inf") == 2


def test_a_multiprocess_directory_set_too_late_is_ignored(settings, monkeypatch, tmp_path):
    """prometheus-client chose its in-memory values when this process imported it: a
    directory named afterwards must not be read (it would show no requests at all)."""
    late = tmp_path / "late"
    late.mkdir()
    monkeypatch.setenv(MULTIPROC_ENV, str(late))
    assert metrics.multiprocess_directory() is None
    client = TestClient(observed_app(settings.model_copy(update={"metrics_public": True})))
    assert client.get("/healthz").status_code == 200
    samples = scrape(client)
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(samples, "intake_http_request_duration_seconds_count", **labels) == 1
    assert list(late.iterdir()) == []
    assert metrics.prepare_multiprocess(1) is None  # one process: nothing to share
    assert os.environ[MULTIPROC_ENV] == str(late)


# What ``intake serve --workers 2`` does: the multiprocess directory, then uvicorn.
SERVE_TWO = """
import uvicorn
from intake.metrics import prepare_multiprocess

print(prepare_multiprocess(2), flush=True)
uvicorn.run("intake.api:create_app", factory=True, host="127.0.0.1", port={port}, workers=2,
            log_level="warning")
"""


def test_two_api_processes_answer_one_scrape_with_both_requests(redis_settings, tmp_path):
    """Two uvicorn processes behind one port: whichever answers the scrape shows the
    requests of both (each process's own figure is read from its file, to see that both
    served some), and the queue and database figures once, not summed."""
    settings = redis_settings
    migrate(settings.db_url)  # once, before two processes would race to
    port = free_port()
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": settings.db_url,
        "INTAKE_DATA_DIR": str(settings.data_dir),
        "INTAKE_REDIS_URL": settings.redis_url,
        "INTAKE_QUEUE_NAME": settings.queue_name,
        "INTAKE_RATE_LIMIT_STORAGE": "memory://",
        "INTAKE_METRICS_PUBLIC": "true",
    }
    env.pop(MULTIPROC_ENV, None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_TWO.format(port=port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        shared = Path(server.stdout.readline().strip())
        assert shared.is_dir() and shared.name.startswith("intake-metrics-")
        assert up(base), (tmp_path / "serve.log").read_text()

        def miss(i: int) -> int:
            with httpx.Client(base_url=base, timeout=10) as client:  # a connection each
                return client.get(f"/no-such-page/{i}").status_code

        sent, served = 0, {}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while sent < 400 and not (len(served) == 2 and all(served.values())):
                assert set(pool.map(miss, range(sent, sent + 20))) == {404}
                sent += 20
                served = settled(shared, sent, method="GET", route="unmatched", status="404")
        assert len(served) == 2 and all(served.values()), served  # both processes answered
        assert sum(served.values()) == sent

        answer = httpx.get(f"{base}/metrics", timeout=10)
        assert answer.status_code == 200
        samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
        }
        missed = {"method": "GET", "route": "unmatched", "status": "404"}
        assert value(samples, "intake_http_request_duration_seconds_count", **missed) == sent
        bucket = value(samples, "intake_http_request_duration_seconds_bucket", le="+Inf", **missed)
        assert bucket == sent
        # Shared state is read once, by the process that answered.
        ups = [k for k in samples if k[0] == "intake_database_up"]
        assert len(ups) == 1 and samples[ups[0]] == 1
        assert value(samples, "intake_redis_up") == 1
        assert value(samples, "intake_queue_jobs", queue=settings.queue_name) == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert server.returncode == 0
    assert not shared.exists()  # removed when `serve` exits


def settled(shared: Path, sent: int, **labels: str) -> dict[str, float]:
    """:func:`per_process` once the processes have recorded all ``sent`` requests (the
    middleware records a request just after its answer has gone out), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        counts = per_process(shared, **labels)
        if sum(counts.values()) >= sent or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def per_process(shared: Path, **labels: str) -> dict[str, float]:
    """Each API process's own request count with ``labels``, from its multiprocess file."""
    counts = {}
    for path in sorted(shared.glob("histogram_*.db")):
        pid = path.stem.split("_", 1)[1]
        counts[pid] = sum(
            s.value
            for family in MultiProcessCollector.merge([str(path)])
            for s in family.samples
            if s.name.endswith("_count") and labels.items() <= s.labels.items()
        )
    return counts
