"""Input hygiene on PostgreSQL, which cannot store a NUL character (the driver raises, and
that was a 500): a control character anywhere a request carries text (JSON body, form,
query, path, login name) is refused with 422 in the one error model, and so are integers
out of range; a page picture is bounded by the parse itself."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from intake.api import create_app
from intake.db import session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import DossierFile
from intake.pipeline import process_file
from intake.settings import Settings
from intake.storage import FileStore
from tests.accounts import account, give
from tests.fixtures import factory
from tests.integration.test_service import database  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

REDIS = "redis://127.0.0.1:6379/7"  # this module's own Redis database, emptied afterwards
NUL = "\x00"


@pytest.fixture(scope="module")
def world(database, tmp_path_factory):  # noqa: F811 (fixture)
    run = uuid.uuid4().hex[:8]
    data = tmp_path_factory.mktemp("hygiene")
    settings = Settings(
        data_dir=data / "data",
        database_url=database,
        redis_url=REDIS,
        queue_name=f"test-hygiene-{run}",
        rate_limit_prefix=f"test-hygiene-{run}",
        ocr_workers=1,
    )
    app = create_app(settings)
    pdf = factory.text_pdf(data / "a.pdf", [["审计报告", "资产总计 100"], ["第二页"]])
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018", "卫生")
        first = add_path(session, store, settings, dossier, "a.pdf", pdf)[0]
        # The same content again: its parse is shared, its own row has no page count yet.
        second = add_path(session, store, settings, dossier, "b.pdf", pdf)[0]
        ids = {"d": dossier.id, "f1": first.id, "f2": second.id}
    process_file(settings, ids["f1"])
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, ids["f2"])
        row.state, row.pages = "done", None
    clients = {}
    for role in ("applicant", "reviewer", "bureau"):
        name, token = account(settings, role)
        if role == "applicant":
            give(settings, name, dossier_ids=[ids["d"]])
        if role == "reviewer":
            give(settings, name, assigned=[ids["d"]])
            ids["reviewer"] = name
        clients[role] = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    clients["browser"] = TestClient(app, follow_redirects=False)
    yield settings, clients, ids
    Redis.from_url(REDIS).flushdb()


def _refused(response, field: str | None = None) -> None:
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()
    assert body["code"] in ("control_character", "invalid"), body
    assert body["message"] and not body["message"].isascii()
    if field is not None:
        assert body["field"] == field


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": f"西安{NUL}平台"}, "name"),
        ({"name": "平台", "district": f"雁塔{NUL}区"}, "district"),
    ],
)
def test_nul_in_a_new_dossier_is_refused(world, body, field):
    _, clients, _ = world
    _refused(clients["applicant"].post("/api/dossiers", json=body), field)


def test_nul_in_a_reviewer_name_or_a_correction_is_refused(world):
    _, clients, ids = world
    d = ids["d"]
    _refused(clients["bureau"].post(f"/api/dossiers/{d}/assignments", json={"reviewer": NUL}))
    correction = {"field": "finance.total_assets", "value": f"48{NUL}万元", "comment": "x"}
    _refused(clients["reviewer"].post(f"/api/dossiers/{d}/corrections", json=correction))
    comment = {"criterion": "12.registered_locally", "comment": f"好{NUL}"}
    _refused(clients["reviewer"].post(f"/api/dossiers/{d}/acceptances", json=comment))


def test_nul_in_a_path_or_query_is_refused(world):
    _, clients, ids = world
    bureau = clients["bureau"]
    _refused(bureau.get("/api/dossiers/%00"))
    _refused(bureau.get("/api/dossiers?round=%00"))
    _refused(bureau.get("/api/reuse?round=20%0026"))
    _refused(bureau.get("/bureau?round=%00"))
    _refused(bureau.delete(f"/api/dossiers/{ids['d']}/assignments/%00"))


def test_nul_in_a_login_name_is_refused(world):
    _, clients, _ = world
    browser = clients["browser"]
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"name": f"admin{NUL}", "password": "x" * 10, "csrf_token": token, "next": "/"}
    _refused(browser.post("/login", data=form), "name")


def test_a_comment_may_have_lines(world):
    _, clients, ids = world
    body = {"criterion": "12.registered_locally", "comment": "第一行\n第二行"}
    response = clients["reviewer"].post(f"/api/dossiers/{ids['d']}/acceptances", json=body)
    assert response.status_code != 422 or response.json()["code"] != "control_character"


@pytest.mark.parametrize("version", ["99999999999999999999", "0", "-1", "2147483648"])
def test_a_report_version_out_of_range_is_refused(world, version):
    _, clients, ids = world
    response = clients["bureau"].get(f"/api/dossiers/{ids['d']}/report?version={version}")
    _refused(response, "version")


def test_a_page_picture_is_bounded_by_the_parse_itself(world):
    _, clients, ids = world
    bureau, d = clients["bureau"], ids["d"]
    assert bureau.get(f"/api/dossiers/{d}/page.png?file=b.pdf&page=1").status_code == 200
    assert bureau.get(f"/api/dossiers/{d}/page.png?file=b.pdf&page=2").status_code == 200
    assert bureau.get(f"/api/dossiers/{d}/page.png?file=b.pdf&page=3").status_code == 404
    huge = "1e308,1e308,1e309,1"
    assert bureau.get(f"/api/dossiers/{d}/page.png?file=a.pdf&page=1&box={huge}").status_code == 422


def test_every_error_has_the_one_shape(world):
    _, clients, ids = world
    for response in (
        clients["browser"].get("/api/dossiers"),  # 401
        clients["applicant"].post(f"/api/dossiers/{ids['d']}/assignments", json={"reviewer": "x"}),
        clients["bureau"].get(f"/api/dossiers/{uuid.uuid4().hex}"),  # 404
        clients["bureau"].get("/api/nothing-here"),  # 404 from the router
        clients["bureau"].put("/api/dossiers"),  # 405
        clients["applicant"].post("/api/dossiers", json={"nmae": "typo"}),  # 422
    ):
        body = response.json()
        assert set(body) >= {"code", "message", "field"}, body
        assert isinstance(body["message"], str) and not body["message"].isascii(), body
    allowed = clients["bureau"].put("/api/dossiers").headers["allow"]
    assert set(allowed.split(", ")) == {"GET", "POST"}
