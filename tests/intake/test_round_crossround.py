"""Cross-round consistency: one organisation (same credit code) applies in 2025 and again in
2026; what the 2026 application report declares for 2024 is compared with what the 2025
one declared for that year. Agreeing figures pass; a difference beyond the pack's 1 % is a
``review`` finding naming both dossiers, files and pages, counted in the round's summary
and listed in the bureau's reuse view. Generated DOCX application reports go through the
real pipeline (parse, read, judge, store)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.api import create_app
from intake.crossround import CRITERION, tolerance, year_figures
from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier
from intake.models import Report
from intake.pipeline import process_file
from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.fixtures import factory
from validators.packs import load_pack

CODE = "91610131MA6TXK1U2Y"
OTHER_CODE = "91610113MA6U0DRR5X"
NAME = "西安秦岭创新企业服务有限公司"


def _application(folder: Path, date: str, years: dict[int, int], staff: int, code=CODE) -> Path:
    """An application report declaring SMEs served year by year and its staff."""
    path = folder / f"申请报告-{date}.docx"
    served = "，".join(f"{y}年服务本市中小企业{n}家" for y, n in years.items())
    factory.docx_file(
        path,
        [
            ["西安市中小企业公共服务示范平台申请报告", f"申报单位（盖章）：{NAME}",
             f"申报日期：{date}", "西安市中小企业促进局制"],
            ["一、申报单位基本情况表", f"单位名称：{NAME}", f"统一社会信用代码：{code}",
             "注册地址：西安市高新区科技路48号", f"服务人员：{staff}人",
             f"运营情况：{served}。"],
        ],
    )  # fmt: skip
    return path


def _checked(settings: Settings, path: Path, round_: str) -> str:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018", f"{round_}年申报", round=round_)
        dossier.district = "高新区"
        file_ids = [f.id for f in add_path(session, _store(settings), settings, dossier,
                                           path.name, path)]  # fmt: skip
        dossier_id = dossier.id
    for file_id in file_ids:
        process_file(settings, file_id)
    return dossier_id


def _store(settings: Settings):
    from intake.storage import FileStore

    return FileStore(settings.data_dir)


def _finding(settings: Settings, dossier_id: str) -> dict | None:
    with session_scope(settings.db_url) as session:
        report = session.get(Report, dossier_id)
        return next((f for f in report.content["findings"] if f["criterion"] == CRITERION), None)


@pytest.fixture
def earlier(settings, tmp_path) -> str:
    """The 2025 dossier: 2023 and 2024 served, 20 staff (for 2024)."""
    path = _application(tmp_path, "2025年3月10日", {2023: 120, 2024: 186}, staff=20)
    return _checked(settings, path, "2025")


def test_agreeing_figures_pass(settings, tmp_path, earlier):
    assert _finding(settings, earlier) is None  # nothing earlier to compare with
    path = _application(tmp_path, "2026年3月12日", {2024: 186, 2025: 240}, staff=26)
    later = _checked(settings, path, "2026")
    finding = _finding(settings, later)
    assert finding is not None and finding["status"] == "pass", finding
    assert finding["title"] == "与往批次申报数据一致"
    assert [(c["field"], c["year"], c["value"], c["other"]["value"], c["agree"])
            for c in finding["cross_round"]] == [
        ("service.smes_served", 2024, 186.0, 186.0, True),
    ]  # fmt: skip
    assert finding["cross_round"][0]["other"]["dossier"] == earlier
    assert "2024年服务本市中小企业数量：本申报为186家" in finding["message"]


def test_a_difference_beyond_the_tolerance_is_for_review(settings, tmp_path, earlier):
    path = _application(tmp_path, "2026年3月12日", {2024: 150, 2025: 240}, staff=26)
    later = _checked(settings, path, "2026")
    finding = _finding(settings, later)
    assert finding is not None and finding["status"] == "review", finding
    (compared,) = finding["cross_round"]
    assert (compared["value"], compared["other"]["value"], compared["agree"]) == (
        150.0, 186.0, False,
    )  # fmt: skip
    assert compared["file"] == "申请报告-2026年3月12日.docx" and compared["page"] == 2
    assert compared["other"]["file"] == "申请报告-2025年3月10日.docx"
    assert compared["other"]["page"] == 2 and compared["other"]["round"] == "2025"
    message = finding["message"]
    assert "相差超过1%" in message and "本申报为150家" in message
    assert "2025批次的申报为186家（申请报告-2025年3月10日.docx 第2页）" in message
    assert finding["evidence"] == ["service.smes_served_by_year#0"]
    # The round's summary counts it; the reuse view lists it with both dossiers.
    app = create_app(settings)
    _, token = account(settings, "bureau", "局")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    summary = client.get("/api/rounds/2026/summary").json()
    row = next(r for r in summary["rows"] if r["id"] == later)
    assert row["statuses"][CRITERION] == "review"
    assert summary["titles"][CRITERION] == "与往批次申报数据一致"
    reuse = client.get("/api/reuse?round=2026").json()
    (listed,) = [d for d in reuse["cross_round"] if d["dossier"] == later]
    assert listed["round"] == "2026"
    html = client.get(f"/api/dossiers/{later}/report.html")
    assert html.status_code == 200 and "与往批次申报数据一致" in html.text
    browser = TestClient(app, follow_redirects=False)
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
    browser.post("/login", data={"name": "局", "password": PASSWORD, "next": "/",
                                 "csrf_token": token_field.group(1)})  # fmt: skip
    page = browser.get("/bureau/reuse?round=2026").text
    section = page[page.index('id="reuse-rounds"') :]
    assert f'href="/dossiers/{later}#f-{CRITERION}"' in section
    assert f'href="/dossiers/{earlier}"' in section
    assert "2024年" in section and "150家" in section and "186家" in section


def test_another_organisation_or_a_later_round_is_not_compared(settings, tmp_path, earlier):
    path = _application(tmp_path, "2026年3月12日", {2024: 150, 2025: 240}, 26, OTHER_CODE)
    other = _checked(settings, path, "2026")
    assert _finding(settings, other) is None
    # a dossier of an earlier round is not judged against a later one
    path = _application(tmp_path, "2024年3月1日", {2023: 99, 2022: 80}, staff=20)
    older = _checked(settings, path, "2024")
    assert _finding(settings, older) is None


def test_year_figures_and_the_packs_tolerance():
    fields = {
        "application.date": [{"value": "2026-03-12", "material": "application_report"}],
        "staff.service_staff": [{"value": 26, "material": "application_report",
                                 "file": "a.docx", "page": 2}],
        "premises.area_m2": [{"value": 860.0, "material": "premises_proof", "file": "l.pdf",
                              "page": 1}],
        "audit.period_end": [{"value": "2025-12-31", "material": "audit_report"}],
        "finance.revenue": [{"value": 100.0, "material": "application_report"},
                            {"value": 5182000.0, "material": "audit_report", "file": "s.pdf",
                             "page": 4}],
    }  # fmt: skip
    found = {key: (f.value, f.ref) for key, f in year_figures(fields).items()}
    assert found == {
        ("staff.service_staff", 2025): (26.0, "staff.service_staff#0"),
        ("finance.revenue", 2025): (5182000.0, "finance.revenue#1"),
    }  # the lease's area is not a declaration; the declared revenue is not the audited one
    assert tolerance(load_pack("xian-2018")) == 0.01
