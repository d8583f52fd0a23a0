"""Seconds to each file's first feedback, through the real API and worker.

    python benchmarks/feedback_latency.py [--rounds 3] [--redis redis://127.0.0.1:6379/11]

Starts `intake serve` and `intake worker` on a temporary data directory with the embedded
SQLite database, and their own Redis database and queue; warms the worker with one file;
then, per round, uploads one dossier's files in one request — a DOCX application report, a
text-PDF audit report and a three-page scanned lease — and polls the API every 0.1 s.

Prints per file the seconds from the upload's answer to the first feedback (recognised
type and key values, ``files[].feedback``); for the scan also the seconds from its last
page read (its progress first showing ``ocr n/n``) to the feedback; and the seconds to the
dossier's full report. Target (issue 14): under 3 s for a text file after its upload and
for a scan after its last page is read.
"""

from __future__ import annotations

import argparse
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
from redis import Redis

from tests.fixtures import factory
from tests.fixtures.sample import APPLICATION, write_sample

REDIS = "redis://127.0.0.1:6379/11"  # not the browser tests' 10


def _intake(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "intake.cli", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _files(folder: Path, rounds: int) -> list[list[Path]]:
    """Each round's files, with bytes of their own (the same bytes would reuse the first
    round's parse): the application report carries the round's number, the PDFs a comment
    after their end."""
    sample = write_sample(folder / "sample")
    lease = factory.scanned_pdf(
        folder / "lease.pdf",
        [
            ["房屋租赁合同", "出租方（甲方）：西安高新物业管理有限公司",
             "承租方（乙方）：西安秦岭创新企业服务有限公司",
             "房屋坐落：西安市高新区科技路48号创业广场B座12层", "租赁面积：860平方米"],
            ["第二条 租赁期限", "租赁期限自2018年3月1日起至2021年2月28日止"],
            ["甲方（盖章）", "乙方（盖章）", "签订日期：2018年2月20日"],
        ],
    )  # fmt: skip
    out = []
    for n in range(rounds):
        here = folder / f"round-{n}"
        here.mkdir()
        pages = [[*APPLICATION[0], f"编号：第{n}轮"], *APPLICATION[1:]]
        application = factory.docx_file(here / "申请报告.docx", pages)
        audit = here / "2017年度审计报告.pdf"
        audit.write_bytes((sample / "03-2017年度审计报告.pdf").read_bytes() + f"%{n}\n".encode())
        scan = here / "房屋租赁合同（扫描件）.pdf"
        scan.write_bytes(lease.read_bytes() + f"%{n}\n".encode())
        out.append([application, audit, scan])
    return out


def _round(client: httpx.Client, files: list[Path], poll: float = 0.1) -> dict[str, float]:
    dossier = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
    body = [("files", (p.name, p.read_bytes())) for p in files]
    answer = client.post(f"/api/dossiers/{dossier}/files", files=body)
    answer.raise_for_status()
    uploaded = time.monotonic()
    first: dict[str, float] = {}
    last_page: dict[str, float] = {}
    while True:
        status = client.get(f"/api/dossiers/{dossier}").json()
        now = time.monotonic()
        for f in status["files"]:
            progress = f.get("progress") or ""
            stage, _, count = progress.partition(" ")
            done, _, total = count.partition("/")
            if stage == "ocr" and done and done == total and f["file"] not in last_page:
                last_page[f["file"]] = now
            if f.get("feedback") and f["file"] not in first:
                first[f["file"]] = now
                last_page.setdefault(f["file"], now)  # finished between two polls
        if status["state"] == "done" and len(first) == len(files):
            break
        if now - uploaded > 600:
            raise SystemExit(f"not done in 600 s: {status}")
        time.sleep(poll)
    out = {f"{name}: upload → feedback": t - uploaded for name, t in first.items()}
    scans = [p.name for p in files if "扫描" in p.name]
    for name in scans:
        out[f"{name}: last page read → feedback"] = first[name] - last_page[name]
    out["dossier: upload → full report"] = now - uploaded
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default=REDIS)
    args = parser.parse_args()
    queue = f"feedback-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "INTAKE_DATA_DIR": str(root / "data"),
            "INTAKE_REDIS_URL": args.redis,
            "INTAKE_QUEUE_NAME": queue,
            "INTAKE_RATE_LIMIT_PREFIX": queue,
            "INTAKE_OCR_WORKERS": "1",
        }
        env.pop("INTAKE_DATABASE_URL", None)  # the embedded SQLite in the data directory
        _intake(env, "user", "add", "bench", "--role", "applicant", "--password", "bench-pass-1")
        token = _intake(env, "token", "bench").strip()
        files = _files(root / "files", args.rounds + 1)
        port = _free_port()
        logs = [(root / f"{name}.log").open("w") for name in ("serve", "worker")]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "intake.cli", *cmd], env=env, stdout=log, stderr=log
            )
            for cmd, log in ((["serve", "--port", str(port)], logs[0]), (["worker"], logs[1]))
        ]
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ) as client:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit((root / "serve.log").read_text())
                    time.sleep(0.2)
                _round(client, files[0][:1])  # the worker's first job: warm, not measured
                results = [_round(client, round_files) for round_files in files[1:]]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            redis = Redis.from_url(args.redis)
            keys = [k for k in redis.scan_iter(f"*{queue}*")]
            keys += [k for k in redis.scan_iter("rq:job:*")]
            if keys:
                redis.delete(*keys)
            redis.close()
    print(f"{args.rounds} rounds (median, max seconds), one worker, OCR on one thread:")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"  {key}: {statistics.median(values):.2f}, {max(values):.2f}")


if __name__ == "__main__":
    main()
