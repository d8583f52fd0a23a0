"""Load test of the upload call on loopback: N concurrent uploads to a real `intake serve`
(uvicorn, PostgreSQL database of its own, its own Redis database and queue).

    python benchmarks/load_test.py [--uploads 200] [--concurrency 200] [--workers 2]

Prints errors (must be none), and the upload call's p50, p95 and max latency. Files are
queued, not parsed (no worker runs): this measures the front door.

    python benchmarks/load_test.py --parse [--dossiers 30] [--rq-workers 2] [--workers 2]

With ``--parse``, K real ``intake worker`` processes (both lanes, quick files first) parse
what is uploaded: each dossier gets a DOCX, a text PDF, a scanned page (PNG) and a bad file
(a corrupt PDF, or one encrypted with a password, in turn), each with text of its own so
that every file is parsed (parses are by content hash). /metrics is scraped every second
and printed as a time line (queue depth and oldest job per lane, workers busy, files by
state and error code, parse histogram counts by parser and OCR engine, report builds);
at the end its figures are compared with the database (and with what was uploaded), one
AGREE or DISAGREE a figure. The API runs its processes as ``intake serve --workers N``
does (prometheus-client's multiprocess directory for the HTTP histogram).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "INTAKE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = "redis://127.0.0.1:6379/12"


async def _upload(client: httpx.AsyncClient, dossier: str, body: bytes, i: int):
    start = time.perf_counter()
    response = await client.post(
        f"/api/dossiers/{dossier}/files",
        files={"files": (f"文件{i}.pdf", body, "application/pdf")},
    )
    return response.status_code, time.perf_counter() - start


async def run(base: str, uploads: int, concurrency: int, body: bytes, token: str) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits, headers=auth) as client:
        dossiers = [(await client.post("/api/dossiers", json={})).json()["id"] for _ in range(20)]
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int):
            async with gate:
                return await _upload(client, dossiers[i % len(dossiers)], body, i)

        start = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(uploads)))
        wall = time.perf_counter() - start
    errors = [code for code, _ in results if code != 202]
    times = sorted(t for _, t in results)
    p95 = times[max(0, int(0.95 * len(times)) - 1)]
    print(f"{uploads} uploads, {concurrency} at once, in {wall:.1f} s: {len(errors)} errors "
          f"{sorted(set(errors)) if errors else ''}")  # fmt: skip
    print(f"upload call: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="uploads at once (200; --parse: 8)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--parse", action="store_true", help="rq workers parse the uploads; /metrics watched"
    )
    parser.add_argument("--dossiers", type=int, default=30, help="--parse: four files each")
    parser.add_argument("--rq-workers", type=int, default=2, help="--parse: intake workers")
    parser.add_argument("--timeout", type=float, default=900, help="--parse: give up after")
    args = parser.parse_args()
    if args.parse:
        args.concurrency = args.concurrency or 8
        parse_load(args)
        return
    args.concurrency = args.concurrency or 200

    from tests.fixtures import factory
    from tests.integration.processes import cli, free_port, up

    name = f"intake_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    queue = f"intake-load-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as tmp:
        body = factory.text_pdf(
            Path(tmp) / "a.pdf", [["审计报告", "资产总计 1,234,567.89"]]
        ).read_bytes()
        port = free_port()
        env = {
            **os.environ,
            "INTAKE_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
            "INTAKE_REDIS_URL": REDIS,
            "INTAKE_QUEUE_NAME": queue,
            "INTAKE_DATA_DIR": str(Path(tmp) / "data"),
        }
        # The uploads come from an applicant account, as an integrator's script would.
        cli(env, "user", "add", "load-test", "--role", "applicant", "--password", "load-test-pw")
        token = cli(env, "token", "load-test").strip()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "intake.api:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            if not up(base):
                raise SystemExit("the API did not start")
            print(f"intake serve: {args.workers} uvicorn workers, PostgreSQL, Redis, on loopback")
            asyncio.run(run(base, args.uploads, args.concurrency, body, token))
        finally:
            server.terminate()
            server.wait(timeout=30)
            clean_up(admin, name, queue)


def clean_up(admin, name: str, queue: str) -> None:
    """Drop the run's database and its queue's keys in Redis."""
    redis = Redis.from_url(REDIS)
    keys = list(redis.scan_iter(f"*{queue}*")) + list(redis.scan_iter("rq:job:parse-*"))
    if keys:
        redis.delete(*keys)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- --parse: real workers parse the uploads, /metrics watched --------------------------

UPLOAD_ROUTE = "/api/dossiers/{dossier_id}/files"
LANES = ("quick", "ocr")
# What `intake serve --workers N` does: the multiprocess directory, then uvicorn.
SERVE = """
import uvicorn
from intake.metrics import prepare_multiprocess

prepare_multiprocess({workers})
uvicorn.run("intake.api:create_app", factory=True, host="127.0.0.1", port={port},
            workers={workers}, log_level="warning", server_header=False)
"""


def dossier_files(folder: Path, i: int) -> list[Path]:
    """Dossier ``i``'s four files, each with text of its own (a parse per file, not one per
    kind): a DOCX, a text PDF, a scanned page and a bad file, a corrupt PDF for an even
    ``i`` and a password-protected one for an odd."""
    from tests.fixtures import factory

    company = f"第{i:03d}号测试"
    folder = folder / f"d{i:03d}"
    folder.mkdir(parents=True)
    docx = factory.docx_file(
        folder / "申请报告.docx",
        [["申请报告", f"申报单位：{company}有限公司", f"服务人员 {20 + i}人"]],
    )
    pdf = factory.text_pdf(
        folder / "审计报告.pdf",
        [["审计报告", f"我们审计了{company}有限公司财务报表。", f"资产总计 {1000 + i},234.56"]],
    )
    scan = factory.png(
        folder / "营业执照.png", ["营业执照", f"名称 {company}有限公司", f"注册资本 {100 + i}万元"]
    )
    if i % 2 == 0:
        bad = folder / "损坏.pdf"
        bad.write_bytes(b"%PDF-1.4\n" + f"{i}\n".encode() + bytes(range(256)) * 64)
    else:
        bad = factory.text_pdf(folder / "加密.pdf", [["审计报告", company]], password="secret")
    return [docx, pdf, scan, bad]


Samples = dict[tuple[str, frozenset], float]


def parse_scrape(body: str) -> Samples:
    """A /metrics answer's samples, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def by_label(samples: Samples, name: str, *keys: str, **labels: str) -> dict[tuple, float]:
    """``name``'s samples (with ``labels``) summed by the values of the labels ``keys``."""
    out: dict[tuple, float] = {}
    want = set(labels.items())
    for (n, ls), v in samples.items():
        if n == name and want <= ls:
            key = tuple(dict(ls).get(k, "") for k in keys)
            out[key] = out.get(key, 0) + v
    return out


def timeline_line(t: float, samples: Samples, queues: dict[str, str]) -> str:
    """One second of the run, as /metrics saw it."""
    lanes = "  ".join(
        f"{lane} {total(samples, 'intake_queue_jobs', queue=name):3.0f} "
        f"({total(samples, 'intake_queue_oldest_job_age_seconds', queue=name):5.1f}s)"
        for lane, name in queues.items()
    )
    quick = queues["quick"]
    busy = total(samples, "intake_workers", queue=quick, state="busy")
    alive = total(samples, "intake_workers", queue=quick)
    files = by_label(samples, "intake_files", "state")
    failed = by_label(samples, "intake_files", "error_code", state="failed")
    codes = ", ".join(f"{code} {n:.0f}" for (code,), n in sorted(failed.items()) if n)
    finished = sum(
        total(samples, "intake_queue_registry_jobs", queue=name, registry="finished")
        for name in queues.values()
    )
    parses = by_label(samples, "intake_parse_duration_seconds_count", "parser", "ocr_engine")
    parsed = " ".join(f"{p}/{e} {n:.0f}" for (p, e), n in sorted(parses.items()))
    return (
        f"{t:4.0f}s | {lanes} | busy {busy:.0f}/{alive:.0f} | files "
        f"q{files.get(('queued',), 0):.0f} p{files.get(('processing',), 0):.0f} "
        f"done {files.get(('done',), 0):.0f} failed {files.get(('failed',), 0):.0f}"
        f"{f' ({codes})' if codes else ''} | jobs done {finished:.0f} | parses {parsed or '-'}"
        f" | builds {total(samples, 'intake_report_builds_total'):.0f}"
    )


def settled(samples: Samples, files: int, queues: dict[str, str]) -> bool:
    """Every uploaded file finished, no job waiting or running: the run is over."""
    states = by_label(samples, "intake_files", "state")
    finished = states.get(("done",), 0) + states.get(("failed",), 0)
    idle = all(
        total(samples, "intake_queue_jobs", queue=name) == 0
        and total(samples, "intake_queue_registry_jobs", queue=name, registry="started") == 0
        for name in queues.values()
    )
    return finished == files and sum(states.values()) == files and idle


async def watched_run(
    base: str,
    token: str,
    metrics_token: str,
    dossiers: list[list[Path]],
    queues: dict[str, str],
    concurrency: int,
    timeout: float,
) -> tuple[Samples, dict[str, int], list[float], dict[str, float]]:
    """Create the dossiers, upload their files (``concurrency`` at once) while /metrics is
    scraped every second and printed, until every file is finished; the last scrape, the
    answers' status counts, the upload calls' seconds and what the time line peaked at."""
    statuses: dict[str, int] = {}
    seconds: list[float] = []
    peaks: dict[str, float] = {}
    limits = httpx.Limits(max_connections=concurrency + 2)
    auth = {"Authorization": f"Bearer {token}"}
    scrape_auth = {"Authorization": f"Bearer {metrics_token}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits, headers=auth) as client,
        httpx.AsyncClient(base_url=base, timeout=30, headers=scrape_auth) as scraper,
    ):

        async def scrape() -> Samples:
            answer = await scraper.get("/metrics")
            answer.raise_for_status()
            return parse_scrape(answer.text)

        # The workers have registered (they load spaCy and the OCR engines first).
        deadline = time.monotonic() + 120
        while total(await scrape(), "intake_workers", queue=queues["quick"]) == 0:
            if time.monotonic() > deadline:
                raise SystemExit("no intake worker registered in 120 s")
            await asyncio.sleep(0.5)

        started = time.perf_counter()
        ids = []
        for i in range(len(dossiers)):
            made = await client.post("/api/dossiers", json={"name": f"负载测试{i:03d}"})
            statuses[f"POST /api/dossiers {made.status_code}"] = (
                statuses.get(f"POST /api/dossiers {made.status_code}", 0) + 1
            )
            ids.append(made.json()["id"])
        gate = asyncio.Semaphore(concurrency)

        async def upload(dossier: str, path: Path) -> None:
            async with gate:
                begun = time.perf_counter()
                with path.open("rb") as f:
                    answer = await client.post(
                        f"/api/dossiers/{dossier}/files",
                        files={"files": (path.name, f.read(), "application/octet-stream")},
                    )
                seconds.append(time.perf_counter() - begun)
                key = f"POST {UPLOAD_ROUTE} {answer.status_code}"
                statuses[key] = statuses.get(key, 0) + 1

        # Round-robin over the dossiers, so that each dossier's files arrive spread out.
        order = [(ids[d], files[k]) for k in range(4) for d, files in enumerate(dossiers)]
        uploads = asyncio.gather(*(upload(d, path) for d, path in order))
        files = len(order)
        print(f"{'t':>5} | queue depth (oldest job) | workers | files | rq | parse counts | builds")
        samples: Samples = {}
        while True:
            tick = time.perf_counter()
            samples = await scrape()
            now = tick - started
            print(timeline_line(now, samples, queues), flush=True)
            for lane, name in queues.items():
                depth = total(samples, "intake_queue_jobs", queue=name)
                age = total(samples, "intake_queue_oldest_job_age_seconds", queue=name)
                peaks[f"{lane} depth"] = max(peaks.get(f"{lane} depth", 0), depth)
                peaks[f"{lane} oldest"] = max(peaks.get(f"{lane} oldest", 0), age)
            if "first failure" not in peaks and total(samples, "intake_files", state="failed"):
                peaks["first failure"] = now
            if uploads.done() and settled(samples, files, queues):
                break
            if now > timeout:
                print(f"gave up after {timeout:.0f} s")
                break
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
        await uploads
        peaks["wall"] = time.perf_counter() - started
        samples = await scrape()  # the final figures, after the last job's report build
    return samples, statuses, seconds, peaks


def database_figures(url: str) -> dict[str, object]:
    """What the database holds after the run, for the comparison with /metrics."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            files = conn.execute(
                text(
                    "SELECT state, coalesce(error_code, ''), count(*) FROM dossier_files "
                    "GROUP BY 1, 2"
                )
            ).all()
            parses = conn.execute(
                text(
                    "SELECT coalesce(parser, 'none'), state, count(*), sum(duration_ms), "
                    "sum(coalesce(pages, 0)), sum(coalesce(ocr_pages, 0)) FROM parses "
                    "WHERE duration_ms IS NOT NULL "
                    "GROUP BY 1, 2"
                )
            ).all()
            builds = conn.execute(
                text(
                    "SELECT count(*), count(duration_ms), coalesce(sum(duration_ms), 0), "
                    "count(DISTINCT dossier_id) FROM report_versions"
                )
            ).one()
    finally:
        engine.dispose()
    return {"files": files, "parses": parses, "builds": builds}


def compare(
    samples: Samples,
    db: dict[str, object],
    statuses: dict[str, int],
    dossiers: int,
    queues: dict[str, str],
) -> int:
    """Print each figure as /metrics has it beside the database's (or what was sent), with
    AGREE or DISAGREE; the number of disagreements."""
    rows: list[tuple[str, float, float, str]] = []

    def figure(name: str, scraped: float, truth: float, source: str = "database") -> None:
        rows.append((name, scraped, truth, source))

    in_db = {(state, code): n for state, code, n in db["files"]}
    scraped = by_label(samples, "intake_files", "state", "error_code")
    for key in sorted(set(in_db) | set(scraped)):
        label = f"files {key[0]}" + (f" {key[1]}" if key[1] else "")
        figure(label, scraped.get(key, 0), in_db.get(key, 0))
    for parser, state, n, ms, pages, ocr_pages in sorted(db["parses"]):
        figure(
            f"parses {parser} {state}",
            total(samples, "intake_parse_duration_seconds_count", parser=parser, state=state),
            n,
        )
        figure(
            f"parse seconds {parser} {state}",
            total(samples, "intake_parse_duration_seconds_sum", parser=parser, state=state),
            (ms or 0) / 1000,
        )
        figure(
            f"parse pages {parser} {state}",
            total(samples, "intake_parse_pages_total", parser=parser, state=state),
            pages,
        )
        figure(
            f"OCR pages {parser} {state}",
            total(samples, "intake_parse_ocr_pages_total", parser=parser, state=state),
            ocr_pages,
        )
    builds, timed, build_ms, _ = db["builds"]
    figure("report builds", total(samples, "intake_report_builds_total"), builds)
    figure("report builds timed", total(samples, "intake_report_build_seconds_count"), timed)
    figure(
        "report build seconds", total(samples, "intake_report_build_seconds_sum"), build_ms / 1000
    )
    done = sum(n for (state, _), n in in_db.items() if state in ("done", "failed"))
    rq_done = sum(
        total(samples, "intake_queue_registry_jobs", queue=name, registry="finished")
        for name in queues.values()
    )
    figure("rq jobs finished / files finished", rq_done, done)
    # Against what this run sent, not the database: the HTTP histogram (summed over the
    # API processes) and the outcomes the inputs were made for.
    sent = statuses.get(f"POST {UPLOAD_ROUTE} 202", 0)
    route = {"method": "POST", "route": UPLOAD_ROUTE, "status": "202"}
    figure(
        "upload calls answered 202",
        total(samples, "intake_http_request_duration_seconds_count", **route),
        sent,
        "client",
    )
    created = statuses.get("POST /api/dossiers 201", 0)
    made = {"method": "POST", "route": "/api/dossiers", "status": "201"}
    figure(
        "dossiers created",
        total(samples, "intake_http_request_duration_seconds_count", **made),
        created,
        "client",
    )
    figure("files done", total(samples, "intake_files", state="done"), 3 * dossiers, "uploaded")
    figure(
        "files failed corrupt",
        total(samples, "intake_files", state="failed", error_code="corrupt"),
        (dossiers + 1) // 2,
        "uploaded",
    )
    figure(
        "files failed encrypted",
        total(samples, "intake_files", state="failed", error_code="encrypted"),
        dossiers // 2,
        "uploaded",
    )

    wrong = 0
    print(f"\n{'figure':<40} {'/metrics':>10} {'other':>10}  source")
    for name, scraped_value, truth, source in rows:
        same = math.isclose(scraped_value, truth, rel_tol=1e-9, abs_tol=1e-6)
        wrong += not same
        print(
            f"{name:<40} {scraped_value:>10.3f} {truth:>10.3f}  {source:<8} "
            f"{'AGREE' if same else 'DISAGREE'}"
        )
    return wrong


def parse_load(args: argparse.Namespace) -> None:
    """``--parse``: the API and K workers on a PostgreSQL database and Redis queue of their
    own; the uploads, the time line from /metrics, the comparison, then everything removed."""
    from tests.integration.processes import cli, free_port, up

    name = f"intake_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    queue = f"intake-load-{uuid.uuid4().hex[:6]}"
    queues = {"quick": queue, "ocr": f"{queue}-ocr"}
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        metrics_token = uuid.uuid4().hex
        env = {
            **os.environ,
            "INTAKE_DATABASE_URL": url,
            "INTAKE_REDIS_URL": REDIS,
            "INTAKE_QUEUE_NAME": queue,
            "INTAKE_DATA_DIR": str(folder / "data"),
            "INTAKE_OCR_WORKERS": "1",  # one OCR thread a worker: the workers share the cores
            "INTAKE_METRICS_TOKEN": metrics_token,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        made = time.perf_counter()
        dossiers = [dossier_files(folder / "inputs", i) for i in range(args.dossiers)]
        print(
            f"{args.dossiers} dossiers × 4 files made in {time.perf_counter() - made:.1f} s; "
            f"API: {args.workers} uvicorn processes; {args.rq_workers} intake workers "
            f"(quick,ocr); PostgreSQL, Redis, on loopback"
        )
        cli(env, "user", "add", "load-test", "--role", "applicant", "--password", "load-test-pw")
        token = cli(env, "token", "load-test").strip()
        port = free_port()
        logs = [(folder / "serve.log").open("w")]
        try:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", SERVE.format(workers=args.workers, port=port)],
                    env=env,
                    stdout=logs[0],
                    stderr=subprocess.STDOUT,
                )
            )
            for k in range(args.rq_workers):
                logs.append((folder / f"worker-{k}.log").open("w"))
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "intake.cli", "worker"],
                        env=env,
                        stdout=logs[-1],
                        stderr=subprocess.STDOUT,
                    )
                )
            base = f"http://127.0.0.1:{port}"
            if not up(base, 60):
                raise SystemExit("the API did not start: " + (folder / "serve.log").read_text())
            samples, statuses, seconds, peaks = asyncio.run(
                watched_run(
                    base, token, metrics_token, dossiers, queues, args.concurrency, args.timeout
                )
            )
            db = database_figures(url)
            wrong = compare(samples, db, statuses, args.dossiers, queues)
            seconds.sort()
            print(
                f"\n{len(seconds)} uploads in {peaks['wall']:.1f} s to the last report; upload "
                f"call p50 {statistics.median(seconds) * 1000:.0f} ms, max "
                f"{seconds[-1] * 1000:.0f} ms; seen while running: quick queue up to "
                f"{peaks['quick depth']:.0f} (oldest {peaks['quick oldest']:.1f} s), ocr up "
                f"to {peaks['ocr depth']:.0f} (oldest {peaks['ocr oldest']:.1f} s), first "
                f"failure counted at {peaks.get('first failure', float('nan')):.0f} s"
            )
            speed = {
                key: total(
                    samples, "intake_parse_ocr_pages_total", parser=key[0], ocr_engine=key[1]
                )
                / seconds_
                for key, seconds_ in by_label(
                    samples, "intake_parse_duration_seconds_sum", "parser", "ocr_engine",
                    state="done",
                ).items()
                if seconds_ and key[1] != "none"
            }  # fmt: skip
            print(
                "OCR pages a second (OCR pages / parse seconds): "
                + ", ".join(f"{p}/{e} {v:.1f}" for (p, e), v in sorted(speed.items()))
            )
            print(f"dossiers with a report (database): {db['builds'][3]} of {args.dossiers}")
            print(f"{wrong} disagreement(s)" if wrong else "every figure agrees")
        finally:
            for proc in reversed(procs):  # the workers first (warm shutdown), then the API
                proc.terminate()
            for proc in reversed(procs):
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for log in logs:
                log.close()
            clean_up(admin, name, queue)


if __name__ == "__main__":
    main()
