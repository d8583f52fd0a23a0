"""Seconds to a DOCX's first feedback when it is uploaded right after 7-page scans, through
the real API and workers (issue 14: a text file's feedback within 3 s of its upload).

    python benchmarks/queue_priority.py [--rounds 2] [--redis redis://127.0.0.1:6379/12]

Set-ups, each with its own `intake serve` and `intake worker` processes, temporary
data directory (embedded SQLite), Redis queue and warm-up job:

- ``1 worker``: one scan, then the DOCX, one worker serving every queue (the worker has
  taken the scan before the DOCX arrives: rq does not preempt, so priority cannot help);
- ``1 worker, 2 scans``: two scans, then the DOCX: with priority the DOCX waits for one
  scan, not two;
- ``2 workers``: two scans, then the DOCX, two workers serving every queue (both busy);
- ``general + quick-only``: two scans, then the DOCX, one worker serving every queue and
  one serving only the quick queue (``INTAKE_WORKER_QUEUES=quick``);
- ``2 general + quick-only``: the same with a third worker, mostly idle (one per core for
  OCR, and one kept for quick files).

Each file is uploaded in a request of its own, as the web page sends them. Prints per
set-up the median and max of the seconds from the DOCX's upload answer to its feedback,
and of the seconds from the first scan's upload to the scans' feedback. A version without
queue priority ignores ``INTAKE_WORKER_QUEUES``: its quick-only worker is a general one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from redis import Redis

from benchmarks.feedback_latency import _free_port, _intake
from tests.fixtures import factory
from tests.fixtures.sample import APPLICATION

AUDIT = [
    "审计报告",
    "西安秦岭创新企业服务有限公司全体股东：",
    "我们审计了西安秦岭创新企业服务有限公司2017年12月31日的资产负债表。",
    "资产总计 3,265,000.00",
]
REDIS = "redis://127.0.0.1:6379/12"  # its own: rq jobs and results in it are deleted after
SETUPS = {  # name: (scans per round, each worker's INTAKE_WORKER_QUEUES; None: all)
    "1 worker": (1, [None]),
    "1 worker, 2 scans": (2, [None]),
    "2 workers": (2, [None, None]),
    "general + quick-only": (2, [None, "quick"]),
    "2 general + quick-only": (2, [None, None, "quick"]),
}


def _files(folder: Path, rounds: int, scans: int) -> list[tuple[list[Path], Path]]:
    """Each round's scans and DOCX, with bytes of their own (the same bytes would reuse
    an earlier parse)."""
    folder.mkdir(parents=True)
    scan = factory.scanned_pdf(folder / "scan.pdf", [AUDIT] * 7)
    out = []
    for n in range(rounds):
        here = folder / f"round-{n}"
        here.mkdir()
        pdfs = []
        for s in range(scans):
            pdf = here / f"审计报告（扫描件）{s + 1}.pdf"
            pdf.write_bytes(scan.read_bytes() + f"%{n}-{s}\n".encode())
            pdfs.append(pdf)
        pages = [[*APPLICATION[0], f"编号：第{n}轮"], *APPLICATION[1:]]
        out.append((pdfs, factory.docx_file(here / "申请报告.docx", pages)))
    return out


def _round(client: httpx.Client, scans: list[Path], docx: Path) -> tuple[float, float]:
    """Upload the scans, then the DOCX; (DOCX upload → its feedback, first upload → the
    last scan's feedback)."""
    dossier = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
    started = time.monotonic()
    for path in [*scans, docx]:
        answer = client.post(
            f"/api/dossiers/{dossier}/files", files=[("files", (path.name, path.read_bytes()))]
        )
        answer.raise_for_status()
    uploaded = time.monotonic()
    seen: dict[str, float] = {}
    while True:
        status = client.get(f"/api/dossiers/{dossier}").json()
        now = time.monotonic()
        for f in status["files"]:
            if f["state"] == "failed":
                raise SystemExit(f"{f['file']} failed: {f.get('error')}")
            if f.get("feedback") and f["file"] not in seen:
                seen[f["file"]] = now
        if status["state"] == "done" and len(seen) == len(scans) + 1:
            break
        if now - started > 900:
            raise SystemExit(f"not done in 900 s: {status}")
        time.sleep(0.1)
    return seen[docx.name] - uploaded, max(seen[p.name] for p in scans) - started


def _setup(args, root: Path, name: str) -> list[tuple[float, float]]:
    scans, lanes = SETUPS[name]
    queue = f"priority-bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "INTAKE_DATA_DIR": str(root / "data"),
        "INTAKE_REDIS_URL": args.redis,
        "INTAKE_QUEUE_NAME": queue,
        "INTAKE_RATE_LIMIT_PREFIX": queue,
        "INTAKE_OCR_WORKERS": "1",
    }
    for key in ("INTAKE_DATABASE_URL", "INTAKE_WORKER_QUEUES"):
        env.pop(key, None)  # the embedded SQLite; every worker's queues set below
    _intake(env, "user", "add", "bench", "--role", "applicant", "--password", "bench-pass-1")
    token = _intake(env, "token", "bench").strip()
    files = _files(root / "files", args.rounds + 1, scans)
    port = _free_port()
    commands = [(["serve", "--port", str(port)], env)]
    for lane in lanes:
        commands.append((["worker"], {**env, **({"INTAKE_WORKER_QUEUES": lane} if lane else {})}))
    logs = [(root / f"{n}-{cmd[0]}.log").open("w") for n, (cmd, _) in enumerate(commands)]
    procs = [  # each in a session of its own: stopped with its work-horse and tesseract
        subprocess.Popen(
            [sys.executable, "-m", "intake.cli", *cmd],
            env=e,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        for (cmd, e), log in zip(commands, logs, strict=True)
    ]
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=60,
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit((root / "0-serve.log").read_text())
                time.sleep(0.2)
            # Warm every worker (its first job loads what forked jobs share): one DOCX each,
            # uploaded together so that each worker takes one.
            warm = [
                factory.docx_file(root / f"warm-{n}.docx", [[*APPLICATION[0], f"预热{n}"]])
                for n in range(len(lanes))
            ]
            dossier = client.post("/api/dossiers", json={}).json()["id"]
            for path in warm:
                client.post(
                    f"/api/dossiers/{dossier}/files",
                    files=[("files", (path.name, path.read_bytes()))],
                ).raise_for_status()
            while client.get(f"/api/dossiers/{dossier}").json()["state"] != "done":
                time.sleep(0.2)
            return [_round(client, pdfs, docx) for pdfs, docx in files[1:]]
    finally:
        for proc in procs:  # a worker mid-scan would finish it first: no waiting
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        redis = Redis.from_url(args.redis)
        keys = list(redis.scan_iter(f"*{queue}*"))
        keys += list(redis.scan_iter("rq:job:*")) + list(redis.scan_iter("rq:results:*"))
        if keys:
            redis.delete(*keys)
        redis.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis", default=REDIS)
    parser.add_argument("--setup", choices=list(SETUPS), action="append")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the services on the way out
    print(f"{args.rounds} rounds (median, max seconds), OCR on one thread:")
    for name in args.setup or SETUPS:
        with tempfile.TemporaryDirectory(prefix="priority-bench-") as tmp:
            results = _setup(args, Path(tmp), name)
        docx = [r[0] for r in results]
        scans = [r[1] for r in results]
        print(
            f"  {name}: DOCX upload → feedback {statistics.median(docx):.2f}, {max(docx):.2f};"
            f" scans upload → feedback {statistics.median(scans):.2f}, {max(scans):.2f}"
            f"  (load {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
