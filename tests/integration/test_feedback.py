"""Per-file feedback through the deployed path: `intake serve` and `intake worker` as real
processes (embedded SQLite database, their own Redis queue). A text file's feedback is in
the API while a scan of the same dossier is still being read, before the dossier's report."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest
from redis import Redis

from tests.fixtures import factory
from tests.fixtures.sample import write_sample
from tests.integration.processes import cli, running

pytestmark = pytest.mark.integration

REDIS = os.environ.get("INTAKE_TEST_REDIS", "redis://127.0.0.1:6379/14")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    queue = f"intake-test-feedback-{uuid.uuid4().hex[:8]}"
    data = tmp_path_factory.mktemp("feedback-data")
    env = {
        **os.environ,
        "INTAKE_REDIS_URL": REDIS,
        "INTAKE_QUEUE_NAME": queue,
        "INTAKE_RATE_LIMIT_PREFIX": queue,
        "INTAKE_DATA_DIR": str(data),
        "INTAKE_OCR_ENGINE": "tesseract",
        "INTAKE_OCR_WORKERS": "1",
    }
    env.pop("INTAKE_DATABASE_URL", None)  # the embedded SQLite in the data directory
    cli(env, "user", "add", "feedback", "--role", "applicant", "--password", "s3cret-pass")
    token = cli(env, "token", "feedback").strip()
    with running(env, tmp_path_factory.mktemp("feedback-logs")) as base:
        yield base, {"Authorization": f"Bearer {token}"}
    redis = Redis.from_url(REDIS)
    keys = [k for k in redis.scan_iter("rq:*") if queue.encode() in k]
    if keys:
        redis.delete(*keys)
    redis.close()


def test_a_files_feedback_comes_before_the_dossiers_report(service, tmp_path):
    base, auth = service
    folder = write_sample(tmp_path / "sample")
    application = folder / "01-西安市中小企业公共服务示范平台申请报告.docx"
    scan = factory.scanned_pdf(
        tmp_path / "房屋租赁合同.pdf",
        [
            ["房屋租赁合同", "承租方（乙方）：西安秦岭创新企业服务有限公司", "租赁面积为860平方米。"],
            ["租赁期限自2016年3月1日起至2021年2月28日止。"],
        ],
    )  # fmt: skip
    with httpx.Client(base_url=base, timeout=30, headers=auth) as client:
        dossier = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
        files = [("files", (p.name, p.read_bytes())) for p in (application, scan)]
        assert client.post(f"/api/dossiers/{dossier}/files", files=files).status_code == 202
        early = None  # the application's feedback, seen while the dossier was not done
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = client.get(f"/api/dossiers/{dossier}").json()
            by_name = {f["file"]: f for f in status["files"]}
            if status["state"] == "done":
                break
            if early is None and by_name[application.name]["feedback"]:
                early = by_name[application.name]["feedback"]
                assert by_name[scan.name]["state"] != "done"
                assert client.get(f"/api/dossiers/{dossier}/report").status_code == 409
            time.sleep(0.2)
        assert status["state"] == "done", status
        assert early is not None, "the application's feedback came only with the report"
        assert [m["type"] for m in early["materials"]] == ["application_report"]
        values = {v["field"]: v["shown"] for v in early["values"]}
        assert values["applicant.credit_code"] == "91610131MA6TXK1U2Y"
        assert values["service.satisfaction"] == "93%"
        checks = {c["criterion"]: c["status"] for c in early["checks"]}
        assert checks["x.credit_code_valid"] == "pass"
        assert checks["12.2.satisfaction"] == "pass"
        lease = by_name[scan.name]["feedback"]
        assert lease["materials"][0]["type"] == "premises_proof"
        report = client.get(f"/api/dossiers/{dossier}/report").json()
        assert early["built_at"] <= report["generated_at"]
