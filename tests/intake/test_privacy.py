"""Applicants never read who reviews their dossier or what reviewers wrote (issue 12,
finding 7): not in the JSON list, the history, the report (JSON, any version, HTML, PDF)
or the web pages. They do read *that* a value was corrected or an item accepted, by
"评审专家". Reviewers and bureau staff read everything."""

from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from fastapi.testclient import TestClient

from intake.api import create_app
from intake.settings import Settings
from tests.accounts import PASSWORD, account, client_as
from tests.intake.test_recheck import _checked_dossier

REVIEWER = "王审核"  # not "评审专家…": that is the label applicants may read
OTHER_REVIEWER = "李复核"
CORRECTION = "内部意见：原件资产总计为四十八万元"
ADDITION = "内部核对：花名册仅八人"
ACCEPTANCE = "内部意见：已电话核实原件"
SECRETS = (REVIEWER, OTHER_REVIEWER, CORRECTION, ADDITION, ACCEPTANCE)


def _finding(report, criterion):
    return next(f for f in report["findings"] if f["criterion"] == criterion)


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory, samples):
    """A checked dossier owned by an applicant, with a correction, a value added, an
    acceptance (all by one reviewer) and a second reviewer assigned by bureau staff."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("privacy") / "data",
        ocr_workers=2,
        rate_limit_storage="memory://",
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        dossier_id = _checked_dossier(settings, samples, monkeypatch, ["text_pdf", "docx"])
        app = create_app(settings)
        reviewer = client_as(settings, "reviewer", REVIEWER, assigned=[dossier_id], app=app)
        account(settings, "reviewer", OTHER_REVIEWER)
        bureau = client_as(settings, "bureau", "局员", app=app)
        applicant = client_as(settings, "applicant", "申报甲", owns=[dossier_id], app=app)
        url = f"/api/dossiers/{dossier_id}"

        before = reviewer.get(f"{url}/report").json()
        (read,) = [v for v in before["fields"]["finance.total_assets"] if v["file"] == "audit.pdf"]
        item = next(  # one the corrections below leave under review
            f for f in before["findings"]
            if f["status"] == "review" and f["criterion"] != "12.1.total_assets"
        )["criterion"]  # fmt: skip
        for path, body in (
            ("corrections", {"field": "finance.total_assets", "value": "480000",
                             "old": read["value"], "file": "audit.pdf", "page": read["page"],
                             "comment": CORRECTION}),
            ("corrections", {"field": "staff.service_staff", "value": 8, "comment": ADDITION}),
            ("acceptances", {"criterion": item, "comment": ACCEPTANCE}),
        ):  # fmt: skip
            done = reviewer.post(f"{url}/{path}", json=body)
            assert done.status_code == 201, done.text
        added = bureau.post(f"{url}/assignments", json={"reviewer": OTHER_REVIEWER})
        assert added.status_code == 201, added.text
        yield {
            "settings": settings,
            "app": app,
            "id": dossier_id,
            "url": url,
            "item": item,
            "applicant": applicant,
            "reviewer": reviewer,
            "bureau": bureau,
        }


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_the_applicants_json_shows_no_reviewer_or_comment(reviewed):
    client, url = reviewed["applicant"], reviewed["url"]
    listed = client.get("/api/dossiers").json()["dossiers"]
    assert [d["id"] for d in listed] == [reviewed["id"]]
    assert "reviewers" not in listed[0]

    report = client.get(f"{url}/report").json()
    assert not _leaks(str(report))
    # What happened stays visible: the value was corrected, the item accepted, by 评审专家.
    (value,) = [v for v in report["fields"]["finance.total_assets"] if v["file"] == "audit.pdf"]
    assert value["value"] == 480000.0 and value["origin"] == "reviewer"
    assert value["note"] == "评审专家已更正（原读取：1234567.89）"
    (added,) = [v for v in report["fields"]["staff.service_staff"] if v["origin"] == "reviewer"]
    assert added["value"] == 8 and added["text"] == "" and added["note"] == "评审专家已更正"
    accepted = _finding(report, reviewed["item"])
    assert accepted["status"] == "pass" and accepted["reviewed"] == {"actor": "评审专家"}
    assert "（评审专家已确认）" in accepted["message"]  # a change note may follow
    assert {r["actor"] for r in report["reviews"]} == {"评审专家"}
    assert all("comment" not in r and "id" not in r for r in report["reviews"])

    for version in range(1, report["version"]):
        old = client.get(f"{url}/report", params={"version": version})
        assert old.status_code == 200 and not _leaks(old.text), version

    history = client.get(f"{url}/history")
    assert history.status_code == 200 and not _leaks(history.text)
    trail = history.json()
    assert {e["action"] for e in trail["events"]} >= {"correct", "accept"}
    assert not {"assign", "unassign"} & {e["action"] for e in trail["events"]}
    assert {v["actor"] for v in trail["versions"]} >= {"评审专家"}
    assert all("comment" not in e["detail"] for e in trail["events"])


def test_the_applicants_report_html_and_pdf_show_no_reviewer_or_comment(reviewed):
    client, url = reviewed["applicant"], reviewed["url"]
    html = client.get(f"{url}/report.html")
    assert html.status_code == 200 and not _leaks(html.text)
    assert "评审专家已更正" in html.text and "评审专家已确认" in html.text
    pdf = client.get(f"{url}/report.pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    assert "预审报告" in text and not _leaks(text)


def test_reviewers_and_bureau_read_everything(reviewed):
    url = reviewed["url"]
    for client in (reviewed["reviewer"], reviewed["bureau"]):
        report = client.get(f"{url}/report").json()
        assert REVIEWER in str(report) and CORRECTION in str(report) and ACCEPTANCE in str(report)
        history = client.get(f"{url}/history").text
        assert all(s in history for s in SECRETS)
    listed = reviewed["bureau"].get("/api/dossiers").json()["dossiers"]
    assert set(listed[0]["reviewers"]) == {REVIEWER, OTHER_REVIEWER}
    html = reviewed["reviewer"].get(f"{url}/report.html").text
    assert REVIEWER in html and CORRECTION in html
    # The PDF check below is only worth something if the PDF's text shows names at all.
    assert REVIEWER in _pdf_text(reviewed["reviewer"].get(f"{url}/report.pdf").content)


def _browser(app, name: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client


def test_the_applicants_web_pages_show_no_reviewer_or_comment(reviewed):
    browser = _browser(reviewed["app"], "申报甲")
    for path in ("/applicant", f"/dossiers/{reviewed['id']}", f"/dossiers/{reviewed['id']}/live"):
        page = browser.get(path)
        assert page.status_code == 200 and not _leaks(page.text), path
    page = browser.get(f"/dossiers/{reviewed['id']}").text
    assert "评审更正" in page and "评审专家已确认" in page

    staff = _browser(reviewed["app"], REVIEWER).get(f"/dossiers/{reviewed['id']}").text
    assert REVIEWER in staff and ACCEPTANCE in staff
