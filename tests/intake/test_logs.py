"""Structured logs (intake.logs): JSON lines that parse and carry the request, dossier,
file and job ids, and a realistic run (sign in, upload, parse by an rq worker in this
process) whose every line is free of the password, the session cookie, the CSRF and API
tokens and the document's text. Redis db 6, this module's own, emptied afterwards."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from intake.db import session_scope
from intake.logs import (
    JsonFormatter,
    bind,
    current,
    job_context,
    make_handler,
    setup_logging,
)
from intake.models import DossierFile
from intake.settings import Settings, get_settings
from intake.storage import FileStore
from tests.accounts import PASSWORD, account
from tests.fixtures import factory
from tests.intake.test_metrics import (
    document,
    login,
    observed_app,
    on_redis,
    upload_one,
    work,
)

REDIS_URL = "redis://127.0.0.1:6379/6"  # this module's own Redis database, emptied afterwards
MARKER = "琥珀色独角兽科技"  # a phrase only the uploaded document holds


@pytest.fixture
def redis_settings(settings: Settings, monkeypatch) -> Iterator[Settings]:
    yield on_redis(settings, monkeypatch, REDIS_URL, "logs")
    get_settings.cache_clear()
    Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    level, access = root.level, logging.getLogger("intake.access").level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("intake.access").setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("intake.access").setLevel(access)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_full_run_logs_ids_and_no_secret(redis_settings, json_logs, tmp_path):
    settings = redis_settings
    app = observed_app(settings)
    applicant, api_token = account(settings, "applicant", "申报丙")
    client, csrf = login(app, applicant)
    cookie = client.cookies["intake_session"]
    good = document(tmp_path / "审计报告.pdf", MARKER)
    dossier_id, good_id = upload_one(client, csrf, good)
    broken = factory.truncated(tmp_path / "损坏.pdf", good)
    with broken.open("rb") as f:
        sent = client.post(
            f"/api/dossiers/{dossier_id}/files",
            files=[("files", (broken.name, f, "application/pdf"))],
            headers={"X-CSRF-Token": csrf, "X-Request-ID": "lb-7f3a.42"},
        )
    assert sent.status_code == 202
    assert sent.headers["X-Request-ID"] == "lb-7f3a.42"  # a proxy's plain id is kept
    broken_id = sent.json()["files"][0]["id"]
    # The API token too, on a request that reads the report (and its document's values).
    api = TestClient(app, headers={"Authorization": f"Bearer {api_token}"})
    status = api.get(f"/api/dossiers/{dossier_id}")
    own_id = status.headers["X-Request-ID"]
    work(settings)
    assert api.get(f"/api/dossiers/{dossier_id}").json()["state"] == "done"
    assert api.get(f"/api/dossiers/{dossier_id}/report").status_code == 200
    with session_scope(settings.db_url) as session:  # the text was read: there to leak
        sha = session.get(DossierFile, good_id).sha256
    assert MARKER in FileStore(settings.data_dir).load_document(sha).text

    logged = lines(json_logs)  # every line parses
    text = json_logs.getvalue()
    for secret in (PASSWORD, cookie, csrf, api_token, MARKER):
        assert secret not in text, secret

    access = [line for line in logged if line["logger"] == "intake.access"]
    upload = [
        line
        for line in access
        if line["route"] == "/api/dossiers/{dossier_id}/files" and line["method"] == "POST"
    ]
    assert len(upload) == 2
    assert all(line["dossier_id"] == dossier_id and line["status"] == 202 for line in upload)
    assert upload[1]["request_id"] == "lb-7f3a.42"
    assert all(line["user"] == applicant for line in upload)  # bound by deps.identify
    (polled,) = [line for line in access if line["request_id"] == own_id]
    assert polled["route"] == "/api/dossiers/{dossier_id}" and polled["duration_ms"] >= 0
    assert polled["user"] == applicant
    assert len({line["request_id"] for line in access}) == len(access)  # one id a request
    # The worker's line about the broken file carries its file, job and dossier.
    (failed,) = [
        line
        for line in logged
        if line.get("file_id") == broken_id and line["logger"] == "intake.pipeline"
    ]
    assert failed["job_id"].startswith(f"parse-{broken_id}")
    assert failed["dossier_id"] == dossier_id
    assert "request_id" not in failed  # a job is not a request


def test_a_request_id_a_client_cannot_write_into_the_logs(settings, json_logs):
    app = observed_app(settings)
    client = TestClient(app)
    injected = 'x" , "level": "critical'
    answer = client.get("/healthz", headers={"X-Request-ID": injected})
    given = answer.headers["X-Request-ID"]
    assert given != injected and len(given) == 32
    (line,) = [line for line in lines(json_logs) if line["logger"] == "intake.access"]
    assert line["request_id"] == given and line["route"] == "/healthz"
    assert line["level"] == "info"
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    assert lines(json_logs)[-1]["route"] == "unmatched"  # never the raw path


def test_tokens_and_cookies_in_a_message_are_redacted(json_logs):
    log = logging.getLogger("intake.test")
    log.warning("headers: %s", {"authorization": "Bearer itk_AbCdEf0123456789xyz"})
    log.warning("cookie intake_session=s3cr3tS3ss10nV4lue; path=/")
    log.warning("sent", extra={"header": "Bearer itk_ZyXwVu9876543210abc"})
    try:
        raise RuntimeError("token itk_QqQqQqQq11112222 refused")
    except RuntimeError:
        log.exception("failed")
    text = json_logs.getvalue()
    for secret in ("AbCdEf0123456789xyz", "s3cr3tS3ss10nV4lue", "ZyXwVu9876543210", "QqQqQqQq"):
        assert secret not in text, secret
    assert len(lines(json_logs)) == 4
    assert "[已隐去]" in lines(json_logs)[0]["message"]


def test_job_context_is_fresh_for_each_job_and_carries_extra_fields(json_logs):
    log = logging.getLogger("intake.test")
    with job_context(file_id="f1", job_id="parse-f1"):
        bind(dossier_id="d1")
        log.info("one", extra={"pages": 3})
    with job_context(file_id="f2", job_id="parse-f2"):
        log.info("two")
    assert current() == {}
    bind(user="nobody")  # outside a request or job: nothing to add to, nothing sticks
    assert current() == {}
    one, two = lines(json_logs)
    assert (one["file_id"], one["job_id"], one["dossier_id"], one["pages"]) == (
        "f1",
        "parse-f1",
        "d1",
        3,
    )
    assert two["file_id"] == "f2" and "dossier_id" not in two
    assert one["time"].endswith("+00:00") and one["message"] == "one"


def test_an_exception_is_logged_as_one_json_line():
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["exc_type"] == "ValueError" and "坏了" in parsed["exc"]


def test_text_lines_carry_the_ids_and_a_bad_format_is_refused():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        setup_logging("text", logging.INFO, stream)
        with job_context(file_id="f9", job_id="parse-f9"):
            logging.getLogger("intake.test").info("parsed")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert stream.getvalue().strip() == "INFO intake.test: parsed [file=f9 job=parse-f9]"
    with pytest.raises(ValueError, match="无法识别的日志格式"):
        setup_logging("yaml")
