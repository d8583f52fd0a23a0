"""The OpenAPI document is a promise. Schemathesis (its command line, every check, every
phase but the stateful one) generates requests from the document, valid and invalid, and
checks each answer against it: no server error, every status, header, content type and
body as documented. It runs against `intake serve` and `intake worker` as real processes
on a PostgreSQL database of their own (NUL characters, which PostgreSQL cannot store, were
answered 500 there), once with each role's token. Path ids are drawn half the time from
real dossiers, files and reviews, so the checks reach past 404."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis import Redis

from intake import reviews
from intake.db import session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import User
from intake.pipeline import process_file
from intake.settings import Settings
from intake.storage import FileStore
from tests.accounts import account, give
from tests.fixtures import factory
from tests.integration.processes import running
from tests.integration.test_service import database  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/8"  # this module's own Redis database, emptied afterwards
EXAMPLES = 15  # per operation and phase: bounded, so the run takes about a minute a role
ROLES = ("applicant", "reviewer", "bureau")


@pytest.fixture(scope="module")
def world(database, tmp_path_factory):  # noqa: F811 (fixture)
    run = uuid.uuid4().hex[:8]
    data = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        data_dir=data / "data",
        database_url=database,
        redis_url=REDIS,
        queue_name=f"test-openapi-{run}",
        rate_limit_prefix=f"test-openapi-{run}",
        ocr_workers=1,
    )
    names, tokens = {}, {}
    for role in ROLES:
        names[role], tokens[role] = account(settings, role)
    pdf = factory.text_pdf(
        data / "audit.pdf",
        [["审计报告", "我们审计了西安测试有限公司财务报表。"], ["资产负债表", "2017年12月31日"]],
        table=[["项目", "期末余额"], ["资产总计", "1,234,567.89"]],
        table_page=2,
    )
    store = FileStore(settings.data_dir)
    ids: dict[str, list[str]] = {"dossiers": [], "files": [], "names": [], "reviews": []}
    for _ in range(2):  # the applicant's own dossier and somebody else's
        with session_scope(settings.db_url) as session:
            dossier = create_dossier(session, "xian-2018", "接口测试")
            row = add_path(session, store, settings, dossier, "审计报告.pdf", pdf)[0]
            ids["dossiers"].append(dossier.id)
            ids["files"].append(row.id)
            ids["names"].append(row.name)
        process_file(settings, row.id)
    give(settings, names["applicant"], dossier_ids=ids["dossiers"][:1])
    give(settings, names["reviewer"], assigned=ids["dossiers"][:1])
    own = ids["dossiers"][0]
    reviews.correct(settings, own, "finance.total_assets", 1300000, "审计报告第2页", "rev")
    ids["reviews"].append(reviews.history(settings, own)["reviews"][-1]["id"])
    with session_scope(settings.db_url) as session:
        ids["reviewers"] = [names["reviewer"]]
        assert session.query(User).count() == 3
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": database,
        "INTAKE_REDIS_URL": REDIS,
        "INTAKE_QUEUE_NAME": settings.queue_name,
        "INTAKE_RATE_LIMIT_PREFIX": settings.rate_limit_prefix,
        "INTAKE_UPLOAD_RATE_PER_ACCOUNT": "100000/minute",
        "INTAKE_DATA_DIR": str(settings.data_dir),
        "INTAKE_OCR_WORKERS": "1",
    }
    with running(env, data) as base:
        yield base, tokens, ids, data
    Redis.from_url(REDIS).flushdb()


def _config(ids: dict[str, list[str]], path: Path) -> Path:
    """Schemathesis settings: every check (enabled here, not on the command line, where
    it would override the two exceptions below); real ids drawn half the time."""
    lines = [
        "[checks]",
        "enabled = true",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        "[parameters]",
    ]
    bindings = {
        "path.dossier_id": "dossiers",
        "path.file_id": "files",
        "path.review_id": "reviews",
        "path.reviewer": "reviewers",
        "query.file": "names",
    }
    for key, name in bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
    # A reviewer's act is judged against the dossier as it is: a value that does not read as
    # the field's kind, a criterion not under review, a review already withdrawn, a reviewer
    # account that does not exist. No schema can say these; they are 422 with a reason.
    lines += [
        "[[operations]]",
        'include-path-regex = "/(corrections|acceptances|withdraw|assignments)$"',
        'include-method = "POST"',
        "[operations.checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]',
    ]
    # A replacement is judged by its content before the original goes: an empty or unreadable
    # new file leaves the original in place, 422 with the reason.
    lines += [
        "[[operations]]",
        'include-path-regex = "/files/[^/]+$"',
        'include-method = "PUT"',
        "[operations.checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]',
    ]
    # A file part is bytes on the wire: an item Schemathesis makes "invalid" (null, a
    # number) is sent as a file holding the text "null", which is a valid upload.
    lines += [
        "[[operations]]",
        'include-path-regex = "/files(/[^/]+)?$"',
        "[operations.checks.negative_data_rejection]",
        "enabled = false",
    ]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=False)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_keeps_the_documented_promise(world, role):
    base, tokens, ids, data = world
    config = _config(ids, data / "schemathesis.toml")
    done = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
            f"{base}/openapi.json", "--phases", "examples,coverage,fuzzing",
            "--workers", "1", "--seed", "20261202", "--no-color",
            "-H", f"Authorization: Bearer {tokens[role]}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
