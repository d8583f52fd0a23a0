"""The access-control matrix: every endpoint and page × every role (and no login) × the
user's own dossier and another's, expecting exactly the allowed answer.

The expectations are written out here as the rule, not derived from ``intake.access``:
- a dossier a user may not see is 404 (an applicant sees its own, a reviewer the ones
  assigned to them, bureau staff all); seen but not theirs to act on is 403;
- applicants create dossiers and upload, replace and delete files; reviewers correct and
  accept; reviewers and bureau re-check; bureau assigns and sees reuse across dossiers;
- no login: the API answers 401, pages and forms send to the login page.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import select

from intake import reviews
from intake.api import create_app
from intake.db import session_scope
from intake.dossiers import assign, fingerprint
from intake.models import Dossier, DossierFile, Report, User
from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.intake.test_pipeline import _dossier_with

REDIS_DB = 11  # this module's own Redis database, emptied afterwards

APPLICANT, REVIEWER, BUREAU, NOBODY = "applicant", "reviewer", "bureau", "anonymous"
PRINCIPALS = (APPLICANT, REVIEWER, BUREAU, NOBODY)


@dataclass
class World:
    settings: Settings
    app: object
    template: str  # a checked dossier whose files and report are copied for each case
    clients: dict[str, TestClient]  # API clients (Bearer tokens) by principal
    browsers: dict[str, TestClient]  # logged-in browser sessions by principal
    csrf: dict[str, str]


def _browser(app, name: str | None) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    if name is None:
        return client, ""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert done.status_code == 303, done.text
    home = client.get(done.headers["location"], follow_redirects=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)
    return client, csrf


@pytest.fixture(scope="module")
def world(tmp_path_factory, samples) -> World:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("access") / "data",
        redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
        queue_name=f"test-access-{uuid.uuid4().hex[:8]}",
        ocr_workers=1,
    )
    from intake.pipeline import process_file

    template, ids = _dossier_with(settings, [samples["text_pdf"], samples["docx"]])
    for file_id in ids:
        process_file(settings, file_id)
    app = create_app(settings)
    clients, browsers, csrf = {}, {}, {}
    for role, name in (
        (APPLICANT, "app-a"), (REVIEWER, "rev-r"), (BUREAU, "bur-u"),
        (APPLICANT, "app-b"), (REVIEWER, "rev-s"),
    ):  # fmt: skip
        _, token = account(settings, role, name)
        if name in ("app-a", "rev-r", "bur-u"):
            clients[role] = TestClient(app, headers={"Authorization": f"Bearer {token}"})
            browsers[role], csrf[role] = _browser(app, name)
    clients[NOBODY] = TestClient(app)
    browsers[NOBODY], csrf[NOBODY] = _browser(app, None)
    yield World(settings, app, template, clients, browsers, csrf)
    Redis.from_url(settings.redis_url).flushdb()


def _clone(world: World, owner: str, reviewer: str) -> dict[str, str]:
    """A done dossier like the template (same stored parses, same report), owned by
    ``owner`` and assigned to ``reviewer``; with one active correction to withdraw."""
    with session_scope(world.settings.db_url) as session:
        source = session.get(Dossier, world.template)
        users = {u.name: u for u in session.scalars(select(User))}
        dossier = Dossier(rule_pack=source.rule_pack, name="克隆", owner_id=users[owner].id)
        session.add(dossier)
        session.flush()
        files = []
        for f in source.files:
            copy = DossierFile(
                dossier_id=dossier.id, seq=f.seq, name=f.name, sha256=f.sha256, size=f.size,
                media_type=f.media_type, pages=f.pages, state=f.state,
            )  # fmt: skip
            session.add(copy)
            files.append(copy)
        session.flush()
        report = session.get(Report, world.template)
        session.add(
            Report(
                dossier_id=dossier.id,
                rule_pack=report.rule_pack,
                fingerprint=fingerprint(files),
                content={**report.content, "dossier": dossier.id},
            )
        )
        assign(session, dossier, reviewer, by="test")
        dossier_id, file_id = dossier.id, files[0].id
        review_item = next(
            f["criterion"] for f in report.content["findings"] if f["status"] == "review"
        )
    reviews.correct(world.settings, dossier_id, "staff.service_staff", 30, "花名册", reviewer)
    history = reviews.history(world.settings, dossier_id)
    return {
        "d": dossier_id,
        "f": file_id,
        "r": history["reviews"][-1]["id"],
        "criterion": review_item,
    }


def _upload(name="补充.txt"):
    return {"files": [("files", (name, io.BytesIO(b"%PDF-1.4 not really"), "application/pdf"))]}


# (name, method, path, request kwargs (given the case's ids), what it needs, answer when allowed)
VIEW, UPLOAD, REVIEW, RECHECK, ASSIGN = "view", "upload", "review", "recheck", "assign"
API = [
    ("status", "GET", "/api/dossiers/{d}", lambda c: {}, VIEW, 200),
    ("report", "GET", "/api/dossiers/{d}/report", lambda c: {}, VIEW, 200),
    ("report.html", "GET", "/api/dossiers/{d}/report.html", lambda c: {}, VIEW, 200),
    ("report.pdf", "GET", "/api/dossiers/{d}/report.pdf", lambda c: {}, VIEW, 200),
    ("history", "GET", "/api/dossiers/{d}/history", lambda c: {}, VIEW, 200),
    ("page.png", "GET", "/api/dossiers/{d}/page.png",
     lambda c: {"params": {"file": "audit.pdf", "page": 1, "box": "50,50,200,80"}}, VIEW, 200),
    ("upload", "POST", "/api/dossiers/{d}/files", lambda c: _upload(), UPLOAD, 202),
    ("replace", "PUT", "/api/dossiers/{d}/files/{f}",
     lambda c: {"files": [("file", ("新版.pdf", io.BytesIO(b"%PDF-1.4 x"), "application/pdf"))]},
     UPLOAD, 202),
    ("delete", "DELETE", "/api/dossiers/{d}/files/{f}", lambda c: {}, UPLOAD, 200),
    ("recheck", "POST", "/api/dossiers/{d}/recheck",
     lambda c: {"json": {"rule_pack": "national-2017"}}, RECHECK, 200),
    ("correct", "POST", "/api/dossiers/{d}/corrections",
     lambda c: {"json": {"field": "staff.service_staff", "value": 8, "comment": "花名册"}},
     REVIEW, 201),
    ("accept", "POST", "/api/dossiers/{d}/acceptances",
     lambda c: {"json": {"criterion": c["criterion"], "comment": "已核对"}}, REVIEW, 201),
    ("withdraw", "POST", "/api/dossiers/{d}/reviews/{r}/withdraw",
     lambda c: {"json": {"comment": "撤回"}}, REVIEW, 200),
    ("assign", "POST", "/api/dossiers/{d}/assignments",
     lambda c: {"json": {"reviewer": "rev-s"}}, ASSIGN, 201),
    ("unassign", "DELETE", "/api/dossiers/{d}/assignments/{reviewer}", lambda c: {}, ASSIGN, 200),
]  # fmt: skip
PAGES = [
    ("dossier page", "GET", "/dossiers/{d}", lambda c: {}, VIEW, 200),
    ("live part", "GET", "/dossiers/{d}/live", lambda c: {}, VIEW, 200),
    ("web correct", "POST", "/dossiers/{d}/corrections",
     lambda c: {"data": {"field": "staff.service_staff", "value": "8", "comment": "花名册"}},
     REVIEW, 303),
    ("web accept", "POST", "/dossiers/{d}/acceptances",
     lambda c: {"data": {"criterion": c["criterion"], "comment": "已核对"}}, REVIEW, 303),
    ("web withdraw", "POST", "/dossiers/{d}/reviews/{r}/withdraw",
     lambda c: {"data": {"comment": "撤回"}}, REVIEW, 303),
    ("web assign", "POST", "/dossiers/{d}/assignments",
     lambda c: {"data": {"reviewer": "rev-s"}}, ASSIGN, 303),
    ("web unassign", "POST", "/dossiers/{d}/assignments/{reviewer}/remove",
     lambda c: {"data": {}}, ASSIGN, 303),
]  # fmt: skip

ROLES_FOR = {
    VIEW: {APPLICANT, REVIEWER, BUREAU},
    UPLOAD: {APPLICANT},
    REVIEW: {REVIEWER},
    RECHECK: {REVIEWER, BUREAU},
    ASSIGN: {BUREAU},
}


def _expected(principal: str, own: bool, needs: str, allowed: int, page: bool) -> int:
    if principal == NOBODY:
        return 303 if page else 401
    sees = own or principal == BUREAU
    if not sees:
        return 404
    return allowed if principal in ROLES_FOR[needs] else 403


CASES = [
    pytest.param(endpoint, principal, own, page, id=f"{endpoint[0]}-{principal}-{'own' if own else 'other'}")
    for page, table in ((False, API), (True, PAGES))
    for endpoint in table
    for principal in PRINCIPALS
    for own in (True, False)
]  # fmt: skip


@pytest.mark.parametrize(("endpoint", "principal", "own", "page"), CASES)
def test_dossier_endpoints(world, endpoint, principal, own, page):
    _name, method, path, kwargs, needs, allowed = endpoint
    case = _clone(world, "app-a", "rev-r") if own else _clone(world, "app-b", "rev-s")
    case["reviewer"] = "rev-r" if own else "rev-s"
    client = world.browsers[principal] if page else world.clients[principal]
    request = kwargs(case)
    if page and method == "POST":
        request.setdefault("data", {})["csrf_token"] = world.csrf[principal]
    answer = client.request(method, path.format(**case), **request)
    expected = _expected(principal, own, needs, allowed, page)
    assert answer.status_code == expected, answer.text[:300]
    if expected == 303 and principal != NOBODY:  # the form worked, it did not bounce
        flash = answer.cookies.get("intake_flash") or ""
        assert not flash.startswith("%21"), flash  # "!" marks an error message
    if expected == 303 and principal == NOBODY:
        assert answer.headers["location"].startswith("/login")


# Acts not on one dossier: (name, method, path, kwargs, roles allowed, answer, is a page)
GENERAL = [
    ("platform register", "GET", "/api/platforms", {}, {BUREAU}, 200, False),
    ("recognise", "POST", "/api/platforms",
     {"json": {"dossier_id": "0" * 32, "recognised_on": "2025-01-01"}}, {BUREAU}, 404, False),
    ("revoke", "POST", "/api/platforms/" + "0" * 32 + "/revoke", {"json": {"reason": "complaints"}},
     {BUREAU}, 404, False),
    ("register page", "GET", "/bureau/register", {}, {BUREAU}, 200, True),
    ("round summary", "GET", "/api/rounds/2026/summary", {}, {BUREAU}, 200, False),
    ("round export", "GET", "/api/rounds/2026/export.xlsx", {}, {BUREAU}, 200, False),
    ("overview page", "GET", "/bureau/overview", {}, {BUREAU}, 200, True),
    ("list", "GET", "/api/dossiers", {}, {APPLICANT, REVIEWER, BUREAU}, 200, False),
    ("me", "GET", "/api/me", {}, {APPLICANT, REVIEWER, BUREAU}, 200, False),
    ("create", "POST", "/api/dossiers", {"json": {"name": "新申报"}}, {APPLICANT}, 201, False),
    ("reuse", "GET", "/api/reuse", {}, {BUREAU}, 200, False),
    ("applicant home", "GET", "/applicant", {}, {APPLICANT}, 200, True),
    ("reviewer home", "GET", "/reviewer", {}, {REVIEWER}, 200, True),
    ("bureau home", "GET", "/bureau", {}, {BUREAU}, 200, True),
    ("reuse page", "GET", "/bureau/reuse", {}, {BUREAU}, 200, True),
    ("web create", "POST", "/dossiers", {"data": {"name": "新申报", "district": "雁塔区"}},
     {APPLICANT}, 303, True),
]  # fmt: skip


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", GENERAL, ids=[g[0] for g in GENERAL])
def test_general_endpoints(world, endpoint, principal):
    _name, method, path, kwargs, roles, allowed, page = endpoint
    client = world.browsers[principal] if page else world.clients[principal]
    request = {k: dict(v) for k, v in kwargs.items()}
    if page and method == "POST":
        request.setdefault("data", {})["csrf_token"] = world.csrf[principal]
    answer = client.request(method, path, **request)
    if principal == NOBODY:
        expected = 303 if page else 401
    else:
        expected = allowed if principal in roles else 403
    assert answer.status_code == expected, answer.text[:300]


def test_lists_hold_only_what_each_may_see(world):
    own = _clone(world, "app-a", "rev-r")["d"]
    other = _clone(world, "app-b", "rev-s")["d"]
    seen = {
        role: {d["id"] for d in world.clients[role].get("/api/dossiers").json()["dossiers"]}
        for role in (APPLICANT, REVIEWER, BUREAU)
    }
    assert own in seen[APPLICANT] and other not in seen[APPLICANT]
    assert own in seen[REVIEWER] and other not in seen[REVIEWER]
    assert {own, other} <= seen[BUREAU]
    page = world.browsers[REVIEWER].get("/reviewer").text
    assert f"/dossiers/{own}" in page and f"/dossiers/{other}" not in page


def test_a_browser_session_must_send_its_csrf_token(world):
    case = _clone(world, "app-a", "rev-r")
    browser = world.browsers[APPLICANT]
    path = f"/api/dossiers/{case['d']}/files"
    assert browser.post(path, **_upload()).status_code == 403  # no X-CSRF-Token
    bad = browser.post(path, headers={"X-CSRF-Token": "forged"}, **_upload())
    assert bad.status_code == 403
    good = browser.post(path, headers={"X-CSRF-Token": world.csrf[APPLICANT]}, **_upload())
    assert good.status_code == 202
    form = world.browsers[REVIEWER].post(
        f"/dossiers/{case['d']}/acceptances",
        data={"criterion": case["criterion"], "comment": "x", "csrf_token": "forged"},
    )
    assert form.status_code == 403


def test_sessions_cookies_passwords_and_tokens(world):
    client = TestClient(world.app, follow_redirects=False)
    page = client.get("/login?next=//evil.example/x")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = client.post("/login", data={"name": "app-a", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', wrong.text).group(1)
    done = client.post(
        "/login",
        data={
            "name": "app-a",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/"  # no open redirect
    cookie = next(
        h for h in done.headers.get_list("set-cookie") if h.startswith("intake_session=")
    ).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # Logging out ends the session on the server, not only in the browser.
    home = client.get("/applicant")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)
    session_cookie = client.cookies.get("intake_session")
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    replay = TestClient(
        world.app, follow_redirects=False, cookies={"intake_session": session_cookie}
    )
    assert replay.get("/api/me").status_code == 401

    with session_scope(world.settings.db_url) as session:
        stored = session.scalar(select(User).where(User.name == "app-a")).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    assert (
        TestClient(world.app)
        .get("/api/me", headers={"Authorization": "Bearer itk_forged"})
        .status_code
        == 401
    )
    _, token = account(world.settings, REVIEWER, "rev-s")
    _set_active(world, "rev-s", False)
    try:
        assert (
            TestClient(world.app)
            .get("/api/me", headers={"Authorization": f"Bearer {token}"})
            .status_code
            == 401
        )  # a disabled account's tokens open nothing
    finally:
        _set_active(world, "rev-s", True)


def _set_active(world: World, name: str, active: bool) -> None:
    with session_scope(world.settings.db_url) as session:
        session.scalar(select(User).where(User.name == name)).active = active


def test_changes_go_to_the_audit_trail_under_the_account(world):
    case = _clone(world, "app-a", "rev-r")
    csrf = {"X-CSRF-Token": world.csrf[APPLICANT]}
    world.browsers[APPLICANT].post(f"/api/dossiers/{case['d']}/files", headers=csrf, **_upload())
    world.clients[BUREAU].post(f"/api/dossiers/{case['d']}/assignments", json={"reviewer": "rev-r"})
    events = reviews.history(world.settings, case["d"])["events"]
    acts = {(e["actor"], e["action"]) for e in events}
    assert {("app-a", "upload"), ("rev-r", "correct"), ("bur-u", "assign")} <= acts


def test_ids_of_another_dossier_open_nothing(world):
    """Its own dossier in the path, another's file, review or file name in the rest."""
    mine = _clone(world, "app-a", "rev-r")
    theirs = _clone(world, "app-b", "rev-s")
    applicant, reviewer = world.clients[APPLICANT], world.clients[REVIEWER]
    base = f"/api/dossiers/{mine['d']}"
    assert applicant.delete(f"{base}/files/{theirs['f']}").status_code == 404
    assert applicant.put(f"{base}/files/{theirs['f']}", **_upload()).status_code == 422  # field
    replace = {"files": [("file", ("x.pdf", io.BytesIO(b"%PDF-1.4"), "application/pdf"))]}
    assert applicant.put(f"{base}/files/{theirs['f']}", **replace).status_code == 404
    withdraw = reviewer.post(f"{base}/reviews/{theirs['r']}/withdraw", json={"comment": "x"})
    assert withdraw.status_code == 422
    assert reviews.history(world.settings, theirs["d"])["reviews"][-1]["active"]
    page = reviewer.get(f"{base}/page.png", params={"file": "elsewhere.pdf", "page": 1})
    assert page.status_code == 404
    # Both dossiers still hold their files.
    bureau = world.clients[BUREAU]
    for case in (mine, theirs):
        files = bureau.get(f"/api/dossiers/{case['d']}").json()["files"]
        assert case["f"] in {f["id"] for f in files}


@pytest.mark.parametrize("box", ["10,10,5,5", "inf,0,1,1", "nan,0,1,1", "1,2,3", "a,b,c,d"])
def test_page_pictures_take_only_a_sane_box(world, box):
    case = _clone(world, "app-a", "rev-r")
    answer = world.clients[REVIEWER].get(
        f"/api/dossiers/{case['d']}/page.png", params={"file": "audit.pdf", "page": 1, "box": box}
    )
    if box == "10,10,5,5":  # corners given the other way round: drawn all the same
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
    else:
        assert answer.status_code == 422


def test_no_review_lands_on_a_report_being_rebuilt(world):
    case = _clone(world, "app-a", "rev-r")
    csrf = {"X-CSRF-Token": world.csrf[APPLICANT]}
    world.browsers[APPLICANT].post(f"/api/dossiers/{case['d']}/files", headers=csrf, **_upload())
    form = {"field": "staff.service_staff", "value": "8", "comment": "x",
            "csrf_token": world.csrf[REVIEWER]}  # fmt: skip
    answer = world.browsers[REVIEWER].post(f"/dossiers/{case['d']}/corrections", data=form)
    assert answer.status_code == 409 and "仍在处理中" in answer.text
    api = world.clients[REVIEWER].post(
        f"/api/dossiers/{case['d']}/corrections",
        json={"field": "staff.service_staff", "value": 8, "comment": "x"},
    )
    assert api.status_code == 409


def test_deleting_the_last_file_leaves_no_verdict_behind(world):
    case = _clone(world, "app-a", "rev-r")
    applicant = world.clients[APPLICANT]
    for f in applicant.get(f"/api/dossiers/{case['d']}").json()["files"]:
        assert applicant.delete(f"/api/dossiers/{case['d']}/files/{f['id']}").status_code == 200
    (row,) = [d for d in applicant.get("/api/dossiers").json()["dossiers"] if d["id"] == case["d"]]
    assert (row["files"], row["verdict"], row["fail"], row["missing"]) == (0, "pending", 0, 0)
    assert applicant.get(f"/api/dossiers/{case['d']}/report").status_code == 409
    assert len(reviews.history(world.settings, case["d"])["versions"]) >= 2  # versions kept


def test_a_new_login_ends_the_session_it_was_given(world):
    client, _ = _browser(world.app, "app-b")
    old = client.cookies.get("intake_session")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"name": "app-b", "password": PASSWORD, "csrf_token": token})
    assert client.cookies.get("intake_session") != old
    replay = TestClient(world.app, cookies={"intake_session": old})
    assert replay.get("/api/me").status_code == 401


def test_the_login_page_slows_guessing_alike_for_any_name(world):
    account(world.settings, APPLICANT, "guessed")
    client = TestClient(world.app, follow_redirects=False)

    def attempt(name: str, password: str):
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return client.post("/login", data={"name": name, "password": password, "csrf_token": token})

    def alert(response) -> str:
        return re.search(r'role="alert">([^<]*)<', response.text).group(1)

    answers = {}
    for name in ("guessed", "never-made"):  # a real name and one that does not exist
        for _ in range(5):
            wrong = attempt(name, "wrong")
            assert wrong.status_code == 401 and alert(wrong) == "用户名或密码不正确"
        refused = attempt(name, PASSWORD)  # even the right one, for now
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        answers[name] = alert(refused)
    assert "尝试次数过多" in answers["guessed"]
    assert answers["guessed"] == answers["never-made"]  # nothing tells which names exist


def test_replacing_keeps_the_old_version_when_the_new_one_is_unusable(world):
    case = _clone(world, "app-a", "rev-r")
    applicant = world.clients[APPLICANT]
    path = f"/api/dossiers/{case['d']}/files/{case['f']}"
    empty = {"files": [("file", ("audit.pdf", io.BytesIO(b""), "application/pdf"))]}
    refused = applicant.put(path, **empty)
    assert refused.status_code == 422 and "未被替换" in refused.json()["detail"]
    files = applicant.get(f"/api/dossiers/{case['d']}").json()["files"]
    assert case["f"] in {f["id"] for f in files} and len(files) == 2
    # A usable new version under the same name takes the old one's place and name.
    newer = {"files": [("file", ("audit.pdf", io.BytesIO(b"%PDF-1.4 newer"), "application/pdf"))]}
    assert applicant.put(path, **newer).status_code == 202
    names = [f["file"] for f in applicant.get(f"/api/dossiers/{case['d']}").json()["files"]]
    assert sorted(names) == ["audit.pdf", "report.docx"]


def test_identifying_the_user_gives_its_connection_back(world):
    """FastAPI runs the user lookup and the endpoint as two threadpool calls: a connection
    held in between starved the pool under 200 concurrent uploads (benchmarks/load_test.py)."""
    from types import SimpleNamespace

    from intake.api.deps import identify
    from intake.db import get_engine, session_factory

    _, token = account(world.settings, BUREAU, "bur-u")
    pool = get_engine(world.settings.db_url).pool
    session = session_factory(world.settings.db_url)()
    try:
        before = pool.checkedout()
        request = SimpleNamespace(
            headers={"authorization": f"Bearer {token}"}, cookies={}, state=SimpleNamespace()
        )
        assert identify(request, session).name == "bur-u"
        assert pool.checkedout() == before
    finally:
        session.close()
