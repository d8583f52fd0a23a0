"""`intake purge --before ROUND`: dossiers of 2024 and 2025, one of 2026 (the current round)
sharing an upload with 2025, and one without a round, processed for real (in-process
pipeline); the purge removes the old rounds' blobs, parses and parsed documents, keeps
the shared blob, the file rows, reports, versions, reviews and audit trail, and writes a
"purge" line per dossier. Dry runs change nothing, a queued file stops it, a second run
finishes a purge that stopped halfway and is otherwise a no-op; everything that would need
a purged dossier's originals (rebuild, review, page picture, upload, reparse) says so.
On SQLite, and on a PostgreSQL database the test creates and drops."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from extractors.model import MODEL_VERSION
from intake import reviews
from intake.api import create_app
from intake.db import migrate, session_scope
from intake.dossiers import DossierPurgedError, add_path, create_dossier
from intake.models import (
    AnnualSummary,
    AuditEvent,
    Dossier,
    DossierFile,
    Parse,
    Platform,
    Report,
    ReportVersion,
    Review,
)
from intake.pipeline import PURGED, build_report, maybe_build_report, process_file
from intake.purge import PurgeError, purge_before, round_key
from intake.reconcile import outdated_files
from intake.settings import Settings
from intake.storage import FileStore
from tests.accounts import PASSWORD, account, client_as
from tests.integration.test_service import database  # noqa: F401 (fixture)

CURRENT = "2026"
A_YEAR_AGO = time.time() - 400 * 86400


@dataclass
class World:
    settings: Settings
    ids: dict[str, str]  # dossier ids: old (2025), older (2024), new (2026), loose (no round)
    shas: dict[str, str]  # content hashes by sample name


def _settings(folder: Path, url: str | None = None) -> Settings:
    return Settings(
        data_dir=folder / "data",
        database_url=url,
        current_round=CURRENT,
        ocr_workers=2,
        rate_limit_storage="memory://",
    )


def _dossier(settings: Settings, round_: str, name: str, paths: list[Path]) -> tuple[str, list]:
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018", name, round=round_)
        rows = [r for p in paths for r in add_path(session, store, settings, dossier, p.name, p)]
        return dossier.id, [r.id for r in rows]


def _build(settings: Settings, samples) -> World:
    """The dossiers, processed, their uploads dated a year back (when they were stored)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    made = {
        "old": _dossier(
            settings, "2025", "西安旧批次平台",
            [samples["text_pdf"], samples["docx"], samples["truncated_pdf"]],
        ),
        "older": _dossier(settings, "2024", "西安更早批次平台", [samples["encrypted_pdf"]]),
        "new": _dossier(settings, CURRENT, "西安本批次平台", [samples["text_pdf"]]),
        "loose": _dossier(settings, "", "命令行检查", [samples["garbage"]]),
    }  # fmt: skip
    for _, file_ids in made.values():
        for file_id in file_ids:
            process_file(settings, file_id)
    for blob in (settings.data_dir / "blobs").rglob("*"):
        if blob.is_file():
            os.utime(blob, (A_YEAR_AGO, A_YEAR_AGO))
    store = FileStore(settings.data_dir)
    shas = {}
    for name in ("text_pdf", "docx", "truncated_pdf", "encrypted_pdf", "garbage"):
        sha, _ = store.put_path(samples[name], 1 << 30)
        shas[name] = sha
    for blob in (settings.data_dir / "blobs").rglob("*"):  # put_path marked them just used
        if blob.is_file():
            os.utime(blob, (A_YEAR_AGO, A_YEAR_AGO))
    return World(settings, {k: v[0] for k, v in made.items()}, shas)


@pytest.fixture
def world(tmp_path, samples) -> World:
    return _build(_settings(tmp_path), samples)


def _snapshot(settings: Settings, dossier_id: str) -> dict:
    """What a purge must keep of a dossier: its file rows, reports, versions, reviews."""
    with session_scope(settings.db_url) as session:
        files = session.execute(
            select(DossierFile.name, DossierFile.sha256, DossierFile.size, DossierFile.state)
            .where(DossierFile.dossier_id == dossier_id)
            .order_by(DossierFile.seq)
        ).all()
        versions = session.scalars(
            select(ReportVersion.version).where(ReportVersion.dossier_id == dossier_id)
        ).all()
        reviews_ = session.scalars(select(Review.id).where(Review.dossier_id == dossier_id)).all()
        report = session.get(Report, dossier_id)
        return {
            "files": [tuple(f) for f in files],
            "versions": sorted(versions),
            "reviews": sorted(reviews_),
            "report": report.content if report else None,
            "fingerprint": report.fingerprint if report else None,
        }


def _events(settings: Settings, action: str) -> list[AuditEvent]:
    with session_scope(settings.db_url) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _parses(settings: Settings) -> set[str]:
    with session_scope(settings.db_url) as session:
        return set(session.scalars(select(Parse.sha256)))


def _purged_at(settings: Settings, dossier_id: str):
    with session_scope(settings.db_url) as session:
        return session.get(Dossier, dossier_id).purged_at


def _store_state(world: World) -> dict[str, tuple[bool, bool, bool]]:
    """Per sample: (blob, parsed document, parse row) still there."""
    store, parses = FileStore(world.settings.data_dir), _parses(world.settings)
    return {
        name: (store.blob_path(sha).exists(), store.has_document(sha), sha in parses)
        for name, sha in world.shas.items()
    }


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_purge_removes_old_rounds_originals_and_keeps_their_history(
    tmp_path, samples, request, dialect
):
    url = None if dialect == "sqlite" else request.getfixturevalue("database")
    world = _build(_settings(tmp_path, url), samples)
    settings, ids = world.settings, world.ids
    before = {key: _snapshot(settings, dossier_id) for key, dossier_id in ids.items()}
    everything = _store_state(world)
    assert everything == {
        "text_pdf": (True, True, True),
        "docx": (True, True, True),
        "truncated_pdf": (True, False, True),  # failed: a parse row, no document
        "encrypted_pdf": (True, False, True),
        "garbage": (True, False, True),
    }

    dry = purge_before(settings, CURRENT, "运维甲", dry_run=True)
    assert [(d.id, d.round, d.files, d.shared) for d in dry.dossiers] == [
        (ids["older"], "2024", 1, 0),
        (ids["old"], "2025", 3, 1),  # its audit report's bytes are also the 2026 dossier's
    ]
    assert (dry.blobs, dry.documents, dry.parses, dry.shared) == (3, 1, 3, 1)
    sizes = [samples[n].stat().st_size for n in ("docx", "truncated_pdf", "encrypted_pdf")]
    assert dry.bytes > sum(sizes)  # the uploads, and the docx's parsed document
    assert _store_state(world) == everything  # a dry run changes nothing
    assert _purged_at(settings, ids["old"]) is None and _events(settings, "purge") == []

    done = purge_before(settings, CURRENT, "运维甲", dry_run=False)
    assert [d.id for d in done.dossiers] == [ids["older"], ids["old"]]
    assert (done.blobs, done.documents, done.parses, done.bytes) == (
        dry.blobs, dry.documents, dry.parses, dry.bytes,
    )  # fmt: skip
    assert _store_state(world) == {
        "text_pdf": (True, True, True),  # shared with the 2026 dossier: kept
        "docx": (False, False, False),
        "truncated_pdf": (False, False, False),
        "encrypted_pdf": (False, False, False),
        "garbage": (True, False, True),  # a dossier without a round is never purged
    }
    for key in ("old", "older"):
        assert _purged_at(settings, ids[key]) is not None
    for key in ("new", "loose"):
        assert _purged_at(settings, ids[key]) is None
    after = {key: _snapshot(settings, dossier_id) for key, dossier_id in ids.items()}
    assert after == before  # file rows, reports, versions, reviews: all kept
    events = {e.dossier_id: e for e in _events(settings, "purge")}
    assert set(events) == {ids["old"], ids["older"]}
    assert events[ids["old"]].actor == "运维甲"
    detail = events[ids["old"]].detail
    assert (detail["before"], detail["round"], detail["files"], detail["shared"]) == (
        CURRENT, "2025", 3, 1,
    )  # fmt: skip
    assert detail["bytes"] == sum(samples[n].stat().st_size for n in
                                  ("text_pdf", "docx", "truncated_pdf"))  # fmt: skip

    # A second run has nothing left to do, and says so.
    again = purge_before(settings, CURRENT, "运维甲", dry_run=False)
    assert not again.changed and again.dossiers == [] and again.shared == 1
    assert len(_events(settings, "purge")) == 2 and _store_state(world)["text_pdf"][0]


def test_rounds_before_and_never_the_current_one(world):
    settings, ids = world.settings, world.ids
    assert round_key("999") < round_key("2024") < round_key("2026") < round_key("2026-2")
    assert round_key("2026-2") < round_key("2027")
    only_2024 = purge_before(settings, "2025", "运维甲", dry_run=True)
    assert [d.id for d in only_2024.dossiers] == [ids["older"]]
    with pytest.raises(PurgeError, match=r"不能清理当前批次（2026）"):
        purge_before(settings, "2027", "运维甲", dry_run=True)
    with pytest.raises(PurgeError, match="批次应为"):
        purge_before(settings, "  ", "运维甲", dry_run=False)
    assert _purged_at(settings, ids["older"]) is None


def test_a_queued_file_stops_it_before_anything_is_removed(world, samples):
    settings, ids = world.settings, world.ids
    with session_scope(settings.db_url) as session:  # an upload to 2024 not yet parsed
        dossier = session.get(Dossier, ids["older"])
        add_path(session, FileStore(settings.data_dir), settings, dossier, "补充.docx",
                 samples["docx"])  # fmt: skip
    state = _store_state(world)
    for dry_run in (True, False):
        with pytest.raises(PurgeError, match="仍有文件在排队或解析中：西安更早批次平台"):
            purge_before(settings, CURRENT, "运维甲", dry_run=dry_run)
    assert _store_state(world) == state
    assert _purged_at(settings, ids["old"]) is None and _events(settings, "purge") == []


def test_a_second_run_finishes_a_purge_that_stopped_halfway(world):
    """As if the command died after committing the dossiers, one blob already set aside."""
    settings, ids = world.settings, world.ids
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        session.get(Dossier, ids["old"]).purged_at = datetime.now(UTC)
    aside = store.set_aside(world.shas["docx"])
    assert aside is not None and not store.blob_path(world.shas["docx"]).exists()
    done = purge_before(settings, "2024", "运维甲", dry_run=False)
    assert done.dossiers == []  # nothing before 2024; 2025's was marked already
    assert not aside.exists() and done.blobs == 2  # the docx set aside, the truncated PDF
    assert _store_state(world)["docx"] == (False, False, False)
    assert _store_state(world)["text_pdf"] == (True, True, True)


def test_bytes_stored_again_just_now_are_kept_until_a_later_run(world, samples):
    """An upload of the same bytes may be storing them while the purge runs: its file row
    is not committed yet, but the blob says it was just used."""
    settings = world.settings
    store = FileStore(settings.data_dir)
    store.put_path(samples["docx"], 1 << 30)  # an upload in flight
    done = purge_before(settings, CURRENT, "运维甲", dry_run=False)
    assert done.recent == 1 and _store_state(world)["docx"] == (True, True, True)
    blob = store.blob_path(world.shas["docx"])
    os.utime(blob, (A_YEAR_AGO, A_YEAR_AGO))  # hours later, no dossier took them
    later = purge_before(settings, CURRENT, "运维甲", dry_run=False)
    assert later.dossiers == [] and later.blobs == 1 and not blob.exists()


def test_bytes_an_annual_summary_holds_are_kept(world):
    """The 2025 platform filed its application report again as an annual summary: the
    summary is the register's (article 19), not a round's, and keeps its bytes."""
    settings = world.settings
    with session_scope(settings.db_url) as session:
        platform = Platform(credit_code="91610131MA6TXK1U2Y", name="西安旧批次平台",
                            dossier_id=world.ids["old"], round="2025",
                            recognised_on=date(2025, 6, 1), expires_on=date(2028, 6, 1),
                            recognised_by="市局")  # fmt: skip
        session.add(platform)
        session.flush()
        session.add(AnnualSummary(platform_id=platform.id, year=2025, name="年度总结.docx",
                                  sha256=world.shas["docx"], size=1, uploaded_by="市局",
                                  checks={}))  # fmt: skip
    done = purge_before(settings, CURRENT, "运维甲", dry_run=False)
    assert done.shared == 2 and done.dossiers[1].shared == 2
    assert _store_state(world)["docx"] == (True, True, True)
    assert _store_state(world)["truncated_pdf"] == (False, False, False)


@pytest.fixture
def purged(world) -> World:
    """The world purged before 2026, a reviewer's correction on the 2025 dossier first."""
    settings = world.settings
    account(settings, "reviewer", "评审专家甲")
    reviews.correct(settings, world.ids["old"], "finance.total_assets", "480000",
                    "原件资产总计为48万元", "评审专家甲")  # fmt: skip
    purge_before(settings, CURRENT, "运维甲", dry_run=False)
    return world


def _purged_on(settings: Settings, dossier_id: str) -> str:
    """The day the dossier was purged where the bureau is (YYYY-MM-DD)."""
    moment = _purged_at(settings, dossier_id)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d")


def test_the_pipeline_and_reviews_refuse_to_rebuild_a_purged_report(purged):
    settings, old = purged.settings, purged.ids["old"]
    kept = _snapshot(settings, old)
    with pytest.raises(DossierPurgedError) as refused:
        build_report(settings, old, rule_pack="national-2017")
    assert refused.value.message == (
        f"该申报材料已于 {_purged_on(settings, old)} 清理原件，报告保留为历史记录，不能重新生成"
    )
    with pytest.raises(DossierPurgedError):
        maybe_build_report(settings, old)
    with pytest.raises(DossierPurgedError, match="不能再更正、确认或撤回"):
        reviews.correct(settings, old, "finance.total_assets", "500000", "再改", "评审专家甲")
    with pytest.raises(DossierPurgedError):
        reviews.accept(settings, old, "12.4.management", "核实", "评审专家甲")
    with session_scope(settings.db_url) as session:
        file_id = session.scalar(select(DossierFile.id).where(DossierFile.dossier_id == old))
        dossier = session.get(Dossier, old)
        assert dossier.rule_pack == "xian-2018"
    assert process_file(settings, file_id) == PURGED
    assert _snapshot(settings, old) == kept


def test_reparse_never_picks_a_purged_file(purged):
    settings = purged.settings
    with session_scope(settings.db_url) as session:  # the shared audit report's parse is old
        session.get(Parse, purged.shas["text_pdf"]).model_version = MODEL_VERSION - 1
        files = {
            dossier_id: file_id
            for file_id, dossier_id in session.execute(
                select(DossierFile.id, DossierFile.dossier_id).where(
                    DossierFile.sha256 == purged.shas["text_pdf"]
                )
            )
        }
    assert outdated_files(settings) == [files[purged.ids["new"]]]
    result = _cli(settings, ["reparse", "--in-process"])
    assert result.exit_code == 0, result.output
    assert "已重新解析 1/1" in result.output
    with session_scope(settings.db_url) as session:
        assert session.get(Parse, purged.shas["text_pdf"]).model_version == MODEL_VERSION


def _login(app, name: str) -> TestClient:
    browser = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
    done = browser.post("/login", data={"name": name, "password": PASSWORD, "next": "/",
                                        "csrf_token": token.group(1)})  # fmt: skip
    assert done.status_code == 303, done.text
    return browser


def test_the_api_and_the_pages_keep_the_report_and_refuse_the_rest(purged):
    settings, old = purged.settings, purged.ids["old"]
    kept = _snapshot(settings, old)
    app = create_app(settings)
    bureau = client_as(settings, "bureau", "市局", app=app)
    reviewer = client_as(settings, "reviewer", "评审专家甲", assigned=[old], app=app)
    applicant = client_as(settings, "applicant", "旧批次单位", owns=[old], app=app)
    on = _purged_on(settings, old)

    status = bureau.get(f"/api/dossiers/{old}").json()
    stored = _purged_at(settings, old)
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    assert status["state"] == "done"
    assert datetime.fromisoformat(status["purged_at"]) == stored.replace(microsecond=0)
    assert bureau.get(f"/api/dossiers/{purged.ids['new']}").json()["purged_at"] is None
    assert bureau.get(f"/api/dossiers/{old}/report").json() == kept["report"]
    html = bureau.get(f"/api/dossiers/{old}/report.html")
    assert html.status_code == 200 and "data:image/png" not in html.text
    history = bureau.get(f"/api/dossiers/{old}/history").json()
    assert history["events"][-1]["action"] == "purge"

    recheck = bureau.post(f"/api/dossiers/{old}/recheck", json={"rule_pack": "national-2017"})
    assert recheck.status_code == 409 and recheck.json()["code"] == "purged"
    assert recheck.json()["message"] == (
        f"该申报材料已于 {on} 清理原件，报告保留为历史记录，不能重新生成"
    )
    review_id = kept["reviews"][0]
    for path, body in (
        ("corrections", {"field": "finance.total_assets", "value": "1", "comment": "改"}),
        ("acceptances", {"criterion": "12.4.management", "comment": "核实"}),
        (f"reviews/{review_id}/withdraw", {"comment": "撤回"}),
    ):
        refused = reviewer.post(f"/api/dossiers/{old}/{path}", json=body)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["code"] == "purged" and "不能再更正、确认或撤回" in refused.text
    picture = reviewer.get(f"/api/dossiers/{old}/page.png", params={"file": "audit.pdf",
                                                                      "page": 1})  # fmt: skip
    assert picture.status_code == 410 and picture.json()["code"] == "purged"
    assert "原页图像已不可查看" in picture.json()["message"]
    upload = applicant.post(
        f"/api/dossiers/{old}/files",
        files={"files": ("补充.pdf", b"%PDF-1.4 x", "application/pdf")},
    )
    file_id = status["files"][0]["id"]
    replace = applicant.put(
        f"/api/dossiers/{old}/files/{file_id}",
        files={"file": ("新.pdf", b"%PDF-1.4 y", "application/pdf")},
    )
    delete = applicant.delete(f"/api/dossiers/{old}/files/{file_id}")  # fmt: skip
    for answer in (upload, replace, delete):
        assert answer.status_code == 409 and answer.json()["code"] == "purged"
        assert "不能再上传、替换或删除文件" in answer.json()["message"]
    assert _snapshot(settings, old) == kept
    assert [e.action for e in _events(settings, "recheck")] == []
    assert _events(settings, "delete") == [] and _events(settings, "upload") == []

    browser = _login(app, "评审专家甲")
    page = browser.get(f"/dossiers/{old}").text
    assert f"原件已于 {on} 清理，报告为历史记录" in page
    assert "初审结论" in page and "data-page-view" not in page and "原件已清理" in page
    assert "/corrections" not in page and "确认符合" not in page and "撤回</button>" not in page
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = browser.post(
        f"/dossiers/{old}/corrections",
        data={"csrf_token": csrf, "field": "finance.total_assets", "value": "1", "comment": "改"},
    )
    assert form.status_code == 303 and "不能再更正" in _flash(form)
    assert _snapshot(settings, old) == kept
    bureau_page = _login(app, "市局").get(f"/dossiers/{purged.ids['new']}").text
    assert "data-page-view" in bureau_page and "原件已于" not in bureau_page  # not purged


def _flash(answer) -> str:
    from urllib.parse import unquote

    return unquote(answer.cookies.get("intake_flash", ""))


def _cli(settings: Settings, args: list[str], input: str | None = None):
    from intake import cli
    from intake.settings import get_settings

    env = {"INTAKE_DATA_DIR": str(settings.data_dir), "INTAKE_CURRENT_ROUND": CURRENT,
           "COLUMNS": "400"}  # fmt: skip
    if settings.database_url:
        env["INTAKE_DATABASE_URL"] = settings.database_url
    get_settings.cache_clear()
    try:
        return CliRunner(env=env).invoke(cli.main, args, input=input)
    finally:
        get_settings.cache_clear()


def test_the_command_asks_lists_and_says_what_it_removed(world):
    settings, ids = world.settings, world.ids
    dry = _cli(settings, ["purge", "--before", CURRENT, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "西安旧批次平台" in dry.output and "将清理 2 份申报" in dry.output
    assert "试运行：未做任何改动" in dry.output
    no = _cli(settings, ["purge", "--before", CURRENT], input="n\n")
    assert no.exit_code == 1 and "intake backup" in no.output
    assert _purged_at(settings, ids["old"]) is None
    yes = _cli(settings, ["purge", "--before", CURRENT, "--actor", "运维甲"], input="y\n")
    assert yes.exit_code == 0, yes.output
    assert "已清理 2 份申报（共 4 个文件记录，保留）" in yes.output
    assert "删除上传文件 3 个" in yes.output and "1 个文件的内容仍被" in yes.output
    assert _purged_at(settings, ids["old"]) is not None
    assert {e.actor for e in _events(settings, "purge")} == {"运维甲"}
    again = _cli(settings, ["purge", "--before", CURRENT, "--yes"])
    assert again.exit_code == 0 and "没有需要清理的申报材料" in again.output
    later = _cli(settings, ["purge", "--before", "2027", "--yes"])
    assert later.exit_code == 1 and "不能清理当前批次（2026）" in later.output
    recheck = _cli(settings, ["recheck", ids["old"], "--rule-pack", "national-2017"])
    assert recheck.exit_code == 1 and "清理原件，报告保留为历史记录，不能重新生成" in recheck.output
    assert "--before" in _cli(settings, ["purge", "--help"]).output
    assert "intake backup" in _cli(settings, ["purge", "--help"]).output
    with session_scope(settings.db_url) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2
