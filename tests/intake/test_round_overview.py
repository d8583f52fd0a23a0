"""The bureau's round: the summary columns a report is stored with (and their back-fill by
migration 0009), ``GET /api/rounds/{round}/summary``, the XLSX export (API and ``intake
export``) read back with openpyxl and, where LibreOffice is installed, converted by it, and
who may see any of it.

The round is made of copies of one really checked dossier whose reports are rewritten to
known statuses and figures, so every count below is written out, not derived."""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from intake.api import create_app
from intake.db import alembic_config, session_scope
from intake.dossiers import fingerprint
from intake.models import Dossier, DossierFile, FileState, Report
from intake.overview import KEY_FIGURES, SUMMARY_COLUMNS, report_summary, store_summary
from intake.pipeline import process_file
from intake.reports.html import verdict
from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.intake.test_pipeline import _dossier_with
from tests.integration.test_service import database  # noqa: F401 (fixture)

ROUND = "2026"
CODE_A = "91610131MA6TXK1U2Y"
APP, AUDIT, LICENCE, LEASE = (
    "application_report",
    "audit_report",
    "business_licence",
    "premises_proof",
)


def _value(value, material, file="申请报告.docx", page=2):
    return {"value": value, "material": material, "file": file, "page": page,
            "text": str(value), "confidence": 0.9}  # fmt: skip


def _content(base: dict, dossier_id: str, statuses: dict[str, str], fields: dict) -> dict:
    """The template's report with every finding passing except ``statuses``, and the key
    figures replaced by ``fields``; its summary counts follow."""
    content = copy.deepcopy(base)
    content["dossier"] = dossier_id
    for finding in content["findings"]:
        finding["status"] = statuses.get(finding["criterion"], "pass")
    counts: dict[str, int] = {}
    for finding in content["findings"]:
        counts[finding["status"]] = counts.get(finding["status"], 0) + 1
    content["summary"] = {**content["summary"], "findings": counts, "files_failed": 0}
    content["fields"] = fields
    return content


# name, district, round, file state, statuses, fields
DOSSIERS = {
    "A": (
        "西安甲科技服务有限公司",
        "雁塔区",
        ROUND,
        "done",
        {"12.1.total_assets": "fail", "12.5.service_staff": "fail", "x.seal": "review"},
        {
            "finance.total_assets": [_value(300000.0, APP), _value(310000.5, AUDIT, "审计.pdf", 3)],
            "staff.service_staff": [_value(8, APP)],
            "service.satisfaction": [_value(0.85, APP)],
            "applicant.credit_code": [_value("91610000XXXXXXXXXX", APP), _value(CODE_A, LICENCE)],
            "applicant.name": [_value("西安甲科技服务有限公司", LICENCE)],
        },
    ),
    "B": (
        "西安乙企业服务中心",
        "高新区",
        ROUND,
        "done",
        {"12.1.total_assets": "fail", "x.seal": "review", "x.area_match": "review"},
        {
            "premises.area_m2": [_value(180.0, APP), _value(260.0, LEASE, "租赁合同.pdf", 1)],
            "service.smes_served": [_value(120, APP)],
            "finance.revenue": [_value(2500000.0, AUDIT, "审计.pdf", 4)],
        },
    ),
    "C": (
        "西安丙孵化器有限公司",
        "高新区",
        ROUND,
        "done",
        {},
        {
            "finance.total_assets": [_value(5200000.0, APP)],
            "staff.service_staff": [_value(31, APP)],
        },
    ),
    "D": ("西安丁服务平台", "碑林区", ROUND, "queued", None, None),
    "E": ("西安戊往年申报", "雁塔区", "2025", "done", {"12.1.total_assets": "fail"}, {}),
}


class World:
    settings: Settings
    ids: dict[str, str]
    base: dict
    app: object
    clients: dict[str, TestClient]


def make_round(settings: Settings, samples: dict[str, Path]) -> tuple[dict[str, str], dict]:
    """Check a small dossier for real, then copy it as ``DOSSIERS`` with their reports
    rewritten; the ids by key (and ``template``), and the template's report."""
    template, file_ids = _dossier_with(settings, [samples["text_pdf"], samples["docx"]])
    for file_id in file_ids:
        process_file(settings, file_id)
    ids = {"template": template}
    with session_scope(settings.db_url) as session:
        source = session.get(Dossier, template)
        base = session.get(Report, template).content
        for key, (name, district, round_, state, statuses, fields) in DOSSIERS.items():
            dossier = Dossier(name=name, district=district, round=round_, rule_pack="xian-2018")
            session.add(dossier)
            session.flush()
            rows = [
                DossierFile(dossier_id=dossier.id, seq=f.seq, name=f.name, sha256=f.sha256,
                            pages=f.pages, media_type=f.media_type, state=state)
                for f in source.files
            ]  # fmt: skip
            session.add_all(rows)
            session.flush()
            if statuses is not None:
                report = Report(
                    dossier_id=dossier.id, rule_pack="xian-2018", fingerprint=fingerprint(rows),
                    content=_content(base, dossier.id, statuses, fields),
                )  # fmt: skip
                store_summary(report)  # as every build does (pipeline._build_report)
                session.add(report)
            ids[key] = dossier.id
    return ids, base


@pytest.fixture(scope="module")
def world(tmp_path_factory, samples) -> World:
    w = World()
    w.settings = Settings(
        data_dir=tmp_path_factory.mktemp("rounds") / "data", ocr_workers=1,
        rate_limit_storage="memory://", current_round=ROUND,
    )  # fmt: skip
    w.ids, w.base = make_round(w.settings, samples)
    w.app = create_app(w.settings)
    w.clients = {}
    for role in ("applicant", "reviewer", "bureau"):
        _, token = account(w.settings, role, f"round-{role}")
        w.clients[role] = TestClient(w.app, headers={"Authorization": f"Bearer {token}"})
    w.clients["anonymous"] = TestClient(w.app)
    return w


def test_a_built_report_is_stored_with_its_summary_columns(world):
    """The real build (process_file → build_report) fills the columns, from its JSON."""
    with session_scope(world.settings.db_url) as session:
        report = session.get(Report, world.ids["template"])
        stored = {c: getattr(report, c) for c in SUMMARY_COLUMNS}
        content = report.content
    assert stored["verdict"] == verdict(content)["status"]
    counts = content["summary"]["findings"]
    assert stored["n_fail"] == counts.get("fail", 0)
    assert stored["n_review"] == counts.get("review", 0)
    assert stored["statuses"] == {f["criterion"]: f["status"] for f in content["findings"]}
    # The generated audit report states 资产总计 1,234,567.89; the application report 326.50万元.
    assert stored["total_assets_read"] == pytest.approx(1234567.89)
    assert stored["total_assets_declared"] == pytest.approx(3265000.0)
    assert stored["service_staff_declared"] == 26
    assert stored["service_staff_read"] is None


def test_read_and_declared_figures_and_the_licence_credit_code():
    content = _content(
        {"findings": [{"criterion": "12.1.total_assets", "status": "pass"}], "summary": {}},
        "x", {}, DOSSIERS["A"][5],
    )  # fmt: skip
    row = report_summary(content)
    assert row["total_assets_declared"] == 300000.0
    assert row["total_assets_read"] == 310000.5
    assert row["service_staff_declared"] == 8 and row["service_staff_read"] is None
    assert row["credit_code"] == CODE_A  # the licence's, not the application report's
    assert row["applicant_name"] == "西安甲科技服务有限公司"
    assert row["revenue_read"] is None and row["revenue_declared"] is None
    # the district's recommendation form declares too: it is never the figure read
    fields = {"staff.service_staff": [_value(9, "recommendation_form"), _value(8, APP)]}
    content["fields"] = fields
    assert report_summary(content)["service_staff_read"] is None
    assert row["verdict"] == "pass" and row["n_pass"] == 1


def test_the_round_summary(world):
    answer = world.clients["bureau"].get(f"/api/rounds/{ROUND}/summary")
    assert answer.status_code == 200, answer.text
    s = answer.json()
    ids = world.ids
    assert s["round"] == ROUND and s["dossiers"] == 4  # E is of 2025, the template of none
    assert s["by_state"] == {"queued": 1, "processing": 0, "done": 3}
    assert s["by_verdict"] == {"fail": 2, "missing": 0, "review": 0, "pass": 1, "pending": 1}
    assert s["by_district"] == [
        {"district": "高新区", "dossiers": 2,
         "by_verdict": {"fail": 1, "missing": 0, "review": 0, "pass": 1, "pending": 0}},
        {"district": "碑林区", "dossiers": 1,
         "by_verdict": {"fail": 0, "missing": 0, "review": 0, "pass": 0, "pending": 1}},
        {"district": "雁塔区", "dossiers": 1,
         "by_verdict": {"fail": 1, "missing": 0, "review": 0, "pass": 0, "pending": 0}},
    ]  # fmt: skip
    top = s["criteria"][:4]
    assert [c["criterion"] for c in top] == [
        "12.1.total_assets", "x.seal", "12.5.service_staff", "x.area_match",
    ]  # fmt: skip
    assert top[0]["title"] == "资产总额" and top[0]["fail"] == 2 and top[0]["pass"] == 1
    assert sorted(top[0]["dossiers"]["fail"]) == sorted([ids["A"], ids["B"]])
    assert top[1]["review"] == 2 and top[2]["fail"] == 1 and top[3]["review"] == 1
    assert top[2]["dossiers"]["fail"] == [ids["A"]]
    rows = {r["id"]: r for r in s["rows"]}
    a = rows[ids["A"]]
    assert (a["name"], a["district"], a["credit_code"], a["state"], a["verdict"]) == (
        "西安甲科技服务有限公司", "雁塔区", CODE_A, "done", "fail",
    )  # fmt: skip
    assert (a["fail"], a["review"], a["missing"]) == (2, 1, 0)
    assert a["figures"]["finance.total_assets"] == {"read": 310000.5, "declared": 300000.0}
    assert a["figures"]["staff.service_staff"] == {"read": None, "declared": 8}
    assert a["figures"]["service.satisfaction"] == {"read": None, "declared": 0.85}
    b = rows[ids["B"]]
    assert b["figures"]["premises.area_m2"] == {"read": 260.0, "declared": 180.0}
    assert b["figures"]["finance.revenue"] == {"read": 2500000.0, "declared": None}
    assert b["statuses"]["x.area_match"] == "review"
    d = rows[ids["D"]]
    assert (d["state"], d["verdict"], d["fail"], d["statuses"]) == ("queued", "pending", 0, {})
    assert rows[ids["C"]]["verdict"] == "pass"


def test_a_report_stored_without_its_columns_is_summarised_when_read(world):
    """A report written before the columns existed (or by hand) still counts."""
    with session_scope(world.settings.db_url) as session:
        report = session.get(Report, world.ids["C"])
        for column in SUMMARY_COLUMNS:
            setattr(report, column, None)
    try:
        s = world.clients["bureau"].get(f"/api/rounds/{ROUND}/summary").json()
        c = next(r for r in s["rows"] if r["id"] == world.ids["C"])
        assert c["verdict"] == "pass"
        assert c["figures"]["staff.service_staff"] == {"read": None, "declared": 31}
    finally:
        with session_scope(world.settings.db_url) as session:
            store_summary(session.get(Report, world.ids["C"]))


def test_a_report_no_longer_current_is_processing_with_its_last_verdict(world):
    with session_scope(world.settings.db_url) as session:
        files = session.get(Dossier, world.ids["B"]).files
        files[0].state = FileState.PROCESSING
    try:
        s = world.clients["bureau"].get(f"/api/rounds/{ROUND}/summary").json()
        b = next(r for r in s["rows"] if r["id"] == world.ids["B"])
        assert (b["state"], b["verdict"]) == ("processing", "fail")
        assert s["by_state"] == {"queued": 1, "processing": 1, "done": 2}
    finally:
        with session_scope(world.settings.db_url) as session:
            session.get(Dossier, world.ids["B"]).files[0].state = FileState.DONE


@pytest.mark.parametrize("role", ["applicant", "reviewer", "anonymous"])
@pytest.mark.parametrize("path", ["summary", "export.xlsx"])
def test_only_bureau_staff_see_a_round(world, role, path):
    answer = world.clients[role].get(f"/api/rounds/{ROUND}/{path}")
    if role == "anonymous":
        assert answer.status_code == 401
        return
    assert answer.status_code == 403
    what = "查看申报批次概览" if path == "summary" else "导出申报批次"
    assert (
        answer.json()["message"]
        == {
            "applicant": f"申报单位账号不能{what}",
            "reviewer": f"评审专家账号不能{what}",
        }[role]
    )


def test_an_unknown_round_is_empty_and_a_bad_one_names_nothing(world):
    s = world.clients["bureau"].get("/api/rounds/1999/summary").json()
    assert s["dossiers"] == 0 and s["rows"] == [] and s["criteria"] == []
    assert s["by_verdict"]["pending"] == 0
    too_long = world.clients["bureau"].get("/api/rounds/" + "9" * 17 + "/summary")
    assert too_long.status_code == 404  # a path of the wrong shape names nothing (errors.py)
    assert too_long.json()["message"] == "请求的对象不存在，请检查编号"


def _browser(world: World, role: str) -> TestClient:
    client = TestClient(world.app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login",
        data={"name": f"round-{role}", "password": PASSWORD, "csrf_token": token, "next": "/"},
    )
    assert done.status_code == 303, done.text
    return client


def test_the_overview_page(world):
    browser = _browser(world, "bureau")
    listing = browser.get(f"/bureau?round={ROUND}").text
    assert f'href="/bureau/overview?round={ROUND}"' in listing  # the list leads to it
    assert f'href="/api/rounds/{ROUND}/export.xlsx"' in listing
    page = browser.get(f"/bureau/overview?round={ROUND}")
    assert page.status_code == 200
    html = page.text
    assert "申报批次概览（2026 批次）" in html
    assert html.count("<svg") == 3 and 'role="img"' in html
    assert '<td class="num" data-verdict="fail">2</td>' in html
    assert 'data-state="queued">1<' in html
    # the most failed criterion, titled by the pack, with links to the dossiers that fail it
    assert 'id="c-12.1.total_assets"' in html and "<h3>资产总额" in html
    assert html.count('<div class="criterion"') == 4  # those that failed, or went to review
    for key in ("A", "B"):
        assert f'href="/dossiers/{world.ids[key]}#f-12.1.total_assets"' in html
    assert f"/api/rounds/{ROUND}/export.xlsx" in html
    assert "/static/bureau.css" in html
    assert world.app.url_path_for("static", path="/bureau.css")


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_the_overview_page_refuses_others(world, role):
    page = _browser(world, role).get("/bureau/overview")
    assert page.status_code == 403
    assert "账号不能查看申报批次概览" in page.text
    anonymous = TestClient(world.app, follow_redirects=False).get("/bureau/overview")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


STATUS = {"符合": "pass", "不符合": "fail", "缺失": "missing", "待人工审核": "review", "": None}


def _check_workbook(book_bytes: bytes, summary: dict) -> None:
    """The workbook holds exactly what the summary API gives."""
    book = load_workbook(io.BytesIO(book_bytes))
    sheet = book["申报汇总"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}5"
    header = [c.value for c in sheet[1]]
    assert header[:9] == ["申报单位", "区县", "统一社会信用代码", "状态", "初审结论",
                          "不符合项", "待审核项", "缺失项", "符合项"]  # fmt: skip
    assert header[9:11] == ["资产总额（材料读取）", "资产总额（申请报告填报）"]
    assert "单位名称一致" in header and "资产总额" in header and header[-1] == "编号"
    titles = summary["titles"]
    by_id = {r["id"]: r for r in summary["rows"]}
    assert sheet.max_row - 1 == len(by_id) == 4
    for cells in sheet.iter_rows(min_row=2, values_only=True):
        values = dict(zip(header, cells, strict=True))
        row = by_id[values["编号"]]
        assert values["申报单位"] == row["name"] and values["区县"] == row["district"]
        assert (values["统一社会信用代码"] or "") == row["credit_code"]
        assert (
            values["状态"]
            == {"done": "已完成", "queued": "排队中", "processing": "处理中"}[row["state"]]
        )
        assert (values["不符合项"], values["待审核项"], values["缺失项"], values["符合项"]) == (
            row["fail"], row["review"], row["missing"], row["pass"],
        )  # fmt: skip
        for how, said in (("read", "材料读取"), ("declared", "申请报告填报")):
            assert values[f"资产总额（{said}）"] == row["figures"]["finance.total_assets"][how]
            assert values[f"服务人员数（{said}）"] == row["figures"]["staff.service_staff"][how]
            assert values[f"用户满意度（{said}）"] == row["figures"]["service.satisfaction"][how]
        for criterion, title in titles.items():
            assert STATUS[values[title] or ""] == row["statuses"].get(criterion)
    failing = {c["title"]: c["dossiers"]["fail"] for c in summary["criteria"] if c["fail"]}
    assert set(book.sheetnames) == {"申报汇总", *failing}
    for title, ids in failing.items():
        listed = [r[-1] for r in book[title].iter_rows(min_row=2, values_only=True)]
        assert listed == ids
        assert book[title].freeze_panes == "B2"


def test_the_export_holds_what_the_api_gives(world):
    client = world.clients["bureau"]
    summary = client.get(f"/api/rounds/{ROUND}/summary").json()
    answer = client.get(f"/api/rounds/{ROUND}/export.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer.headers["content-disposition"]
    _check_workbook(answer.content, summary)


def test_the_export_command(world, tmp_path):
    out = tmp_path / "轮次" / "out.xlsx"
    env = {**os.environ, "INTAKE_DATA_DIR": str(world.settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "intake.cli", "export", "--round", ROUND, str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已导出2026批次4份申报" in "".join(done.stderr.split())  # rich wraps lines
    summary = world.clients["bureau"].get(f"/api/rounds/{ROUND}/summary").json()
    _check_workbook(out.read_bytes(), summary)
    from click.testing import CliRunner

    from intake.cli import main

    for bad, said in (
        (tmp_path / "out.csv", "输出文件应以 .xlsx 结尾"),
        (tmp_path / "folder.xlsx", "输出路径是一个文件夹"),
    ):
        if bad.suffix == ".xlsx":
            bad.mkdir()
        refused = CliRunner().invoke(main, ["export", "--round", ROUND, str(bad)])
        assert refused.exit_code == 1 and said in "".join(refused.output.split("\n"))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_reads_the_export(world, tmp_path):
    """A real spreadsheet program opens the workbook and reads the same cells."""
    book = tmp_path / "round.xlsx"
    book.write_bytes(world.clients["bureau"].get(f"/api/rounds/{ROUND}/export.xlsx").content)
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false",
         "--outdir", str(tmp_path), str(book)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    csv_path = tmp_path / "round.csv"
    assert csv_path.exists(), done.stdout + done.stderr
    import csv

    rows = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines()))
    expected = load_workbook(book)["申报汇总"]
    assert len(rows) == expected.max_row
    assert rows[0] == [c.value for c in expected[1]]
    for got, cells in zip(rows[1:], expected.iter_rows(min_row=2), strict=True):
        for text_value, cell in zip(got, cells, strict=True):
            if isinstance(cell.value, int | float):
                assert float(text_value.replace(",", "").rstrip("%")) == pytest.approx(
                    cell.value * (100 if cell.number_format.endswith("%") else 1), rel=1e-3
                )
            else:
                assert text_value == (cell.value or "")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_0009_fills_the_columns_of_existing_reports(world, tmp_path, request, dialect):
    """A database at 0008 with a stored report: upgrading fills its columns from the JSON;
    downgrading takes them away again (on SQLite and on a PostgreSQL database of its own)."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("database")
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    with session_scope(world.settings.db_url) as session:
        content = session.get(Report, world.ids["A"]).content
    dossiers = sa.table("dossiers", *(sa.column(c) for c in
                        ("id", "name", "rule_pack", "district", "round", "created_at",
                         "updated_at")))  # fmt: skip
    reports = sa.table(
        "reports", sa.column("dossier_id"), sa.column("rule_pack"), sa.column("fingerprint"),
        sa.column("content", sa.JSON), sa.column("built_at"),
    )  # fmt: skip
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            dossiers.insert().values(id="d1", name="甲", rule_pack="xian-2018", district="雁塔区",
                                     round=ROUND, created_at=when, updated_at=when)
        )  # fmt: skip
        connection.execute(
            reports.insert().values(dossier_id="d1", rule_pack="xian-2018", fingerprint="f",
                                    content=content, built_at=when)
        )  # fmt: skip
    command.upgrade(config, "head")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM reports")).mappings().one()
    assert (row["verdict"], row["n_fail"], row["n_review"]) == ("fail", 2, 1)
    assert row["credit_code"] == CODE_A
    assert (row["total_assets_read"], row["total_assets_declared"]) == (310000.5, 300000.0)
    command.downgrade(config, "0008")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("reports")}
    assert "verdict" not in columns and "content" in columns
    engine.dispose()


def test_text_in_the_export_never_becomes_a_formula():
    """A name an applicant typed is shown as typed, never evaluated by the spreadsheet."""
    from intake.export import round_workbook

    row = {
        "id": "d" * 32, "name": '=HYPERLINK("http://example.com","点此")', "district": "+1",
        "credit_code": "@SUM(1)", "state": "done", "verdict": "pass",
        "fail": 0, "review": 0, "missing": 0, "pass": 0,
        "figures": {name: {"read": None, "declared": None} for name in KEY_FIGURES},
        "statuses": {},
    }  # fmt: skip
    book = load_workbook(io.BytesIO(round_workbook({"titles": {}, "criteria": [], "rows": [row]})))
    cells = book["申报汇总"][2]
    assert [(c.value, c.data_type) for c in cells[:3]] == [
        ('=HYPERLINK("http://example.com","点此")', "s"), ("+1", "s"), ("@SUM(1)", "s"),
    ]  # fmt: skip
