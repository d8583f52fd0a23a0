"""A reviewer corrects a value or accepts a review item: the findings are recomputed at
once (nothing parsed again), every report is kept as a version, every change recorded."""

from __future__ import annotations

import pytest

from tests.accounts import client_as
from tests.intake.test_recheck import _checked_dossier


@pytest.fixture
def client_and_dossier(settings, samples, monkeypatch):
    # An audit report and an application report (whose judgement clauses are review items).
    dossier_id = _checked_dossier(settings, samples, monkeypatch, ["text_pdf", "docx"])
    # The reviewer's account name is the actor on every change (the body's "actor" is
    # ignored since accounts exist).
    return client_as(settings, "reviewer", "评审专家甲", assigned=[dossier_id]), dossier_id


def _finding(report, criterion):
    return next(f for f in report["findings"] if f["criterion"] == criterion)


def test_a_correction_recomputes_the_findings_and_is_kept(client_and_dossier):
    client, dossier_id = client_and_dossier
    before = client.get(f"/api/dossiers/{dossier_id}/report").json()
    (read,) = [v for v in before["fields"]["finance.total_assets"] if v["file"] == "audit.pdf"]
    assert read["value"] == 1234567.89 and _finding(before, "12.1.total_assets")["status"] == "pass"

    fixed = client.post(
        f"/api/dossiers/{dossier_id}/corrections",
        json={"field": "finance.total_assets", "value": "480000", "old": read["value"],
              "file": read["file"], "page": read["page"],
              "comment": "原件资产总计为48万元，扫描件识别有误", "actor": "评审专家甲"},
    )  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    report = fixed.json()
    (value,) = [v for v in report["fields"]["finance.total_assets"] if v["file"] == "audit.pdf"]
    assert value["value"] == 480000.0 and value["origin"] == "reviewer"
    assert "评审专家甲" in value["note"] and "1234567.89" in value["note"]
    assert _finding(report, "12.1.total_assets")["status"] == "fail"  # recomputed at once
    assert report["version"] == before["version"] + 1

    history = client.get(f"/api/dossiers/{dossier_id}/history").json()
    assert [v["version"] for v in history["versions"]] == [before["version"], report["version"]]
    assert history["versions"][-1]["actor"] == "评审专家甲"
    assert history["events"][-1]["action"] == "correct"
    assert history["events"][-1]["detail"]["comment"] == "原件资产总计为48万元，扫描件识别有误"
    old = client.get(f"/api/dossiers/{dossier_id}/report", params={"version": before["version"]})
    assert _finding(old.json(), "12.1.total_assets")["status"] == "pass"  # versions kept

    review_id = history["reviews"][-1]["id"]
    back = client.post(
        f"/api/dossiers/{dossier_id}/reviews/{review_id}/withdraw",
        json={"comment": "核对后原读取正确", "actor": "评审专家甲"},
    )
    assert back.status_code == 200
    assert _finding(back.json(), "12.1.total_assets")["status"] == "pass"


def test_accepting_a_review_item(client_and_dossier):
    client, dossier_id = client_and_dossier
    report = client.get(f"/api/dossiers/{dossier_id}/report").json()
    review = next(f for f in report["findings"] if f["status"] == "review")
    accepted = client.post(
        f"/api/dossiers/{dossier_id}/acceptances",
        json={"criterion": review["criterion"], "comment": "已核对原件", "actor": "评审专家乙"},
    )
    assert accepted.status_code == 201
    finding = _finding(accepted.json(), review["criterion"])
    # The account is the actor; an "actor" in the body (from before accounts) is ignored.
    assert finding["status"] == "pass" and finding["reviewed"]["actor"] == "评审专家甲"
    assert "已核对原件" in finding["message"]

    passed = next(f for f in report["findings"] if f["status"] == "pass")
    refused = client.post(
        f"/api/dossiers/{dossier_id}/acceptances",
        json={"criterion": passed["criterion"], "comment": "x", "actor": "评审专家乙"},
    )
    assert refused.status_code == 422 and "待人工审核" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"field": "service.satisfaction", "value": "1.5"}, "0 到 1"),
        ({"field": "audit.period_end", "value": "2017年13月45日"}, "有效取值"),
        ({"field": "audit.period_end", "value": "去年年底"}, "有效取值"),
        ({"field": "audit.opinion", "value": "还行"}, "标准无保留意见、保留意见"),
        ({"field": "staff.service_staff", "value": "12.5"}, "有效取值"),
        ({"field": "applicant.name", "value": "某公司", "comment": " "}, "理由"),
        ({"field": "applicant.name", "value": "某公司", "file": "nothere.pdf"}, "没有文件"),
    ],
)
def test_bad_corrections_are_refused_with_a_reason(client_and_dossier, body, says):
    client, dossier_id = client_and_dossier
    payload = {"comment": "理由", "actor": "评审专家甲", **body}
    answer = client.post(f"/api/dossiers/{dossier_id}/corrections", json=payload)
    assert answer.status_code == 422 and says in answer.json()["detail"]


def test_reviews_of_an_unknown_dossier_are_404(client_and_dossier):
    client, _ = client_and_dossier
    body = {"criterion": "x", "comment": "y", "actor": "z"}
    unknown = "0" * 32  # well-formed (a malformed id is refused with 422 before any lookup)
    assert client.post(f"/api/dossiers/{unknown}/acceptances", json=body).status_code == 404
    assert client.get(f"/api/dossiers/{unknown}/history").status_code == 404


def test_a_value_the_service_did_not_read_decides_once_supplied(client_and_dossier):
    client, dossier_id = client_and_dossier
    before = client.get(f"/api/dossiers/{dossier_id}/report").json()
    assert _finding(before, "12.5.service_staff")["status"] == "pass"  # docx: 26人
    answer = client.post(
        f"/api/dossiers/{dossier_id}/corrections",
        json={"field": "staff.service_staff", "value": 8, "comment": "花名册仅8人", "actor": "甲"},
    )
    assert answer.status_code == 201
    assert _finding(answer.json(), "12.5.service_staff")["status"] == "fail"


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        ("finance.total_assets", "48万元", 480000.0),
        ("finance.total_assets", "3,265,000.00", 3265000.0),
        ("service.satisfaction", "93%", 0.93),
        ("premises.area_m2", "860平方米", 860.0),
        ("premises.area_m2", "860", 860.0),
        ("audit.period_end", "2017年12月31日", "2017-12-31"),
        ("audit.period_end", "2017/12/31", "2017-12-31"),
        ("audit.opinion", "标准无保留意见", "unqualified"),
        ("audit.opinion", "qualified", "qualified"),
        ("audit.opinion", " 无法表示意见 ", "disclaimer"),
    ],
)
def test_values_are_read_as_people_write_them(field, typed, value):
    from intake.reviews import coerce

    assert coerce(field, typed) == value


@pytest.mark.parametrize("value", ["1e999", "nan", "-5"])
def test_non_numbers_are_refused(client_and_dossier, value):
    client, dossier_id = client_and_dossier
    answer = client.post(
        f"/api/dossiers/{dossier_id}/corrections",
        json={"field": "finance.total_assets", "value": value, "comment": "x", "actor": "甲"},
    )
    assert answer.status_code == 422


def test_an_opinion_confirmed_by_its_label_passes(client_and_dossier):
    client, dossier_id = client_and_dossier
    answer = client.post(
        f"/api/dossiers/{dossier_id}/corrections",
        json={"field": "audit.opinion", "value": "标准无保留意见", "comment": "核对原件"},
    )
    assert answer.status_code == 201, answer.text
    assert _finding(answer.json(), "x.audit_opinion")["status"] == "pass"


def test_withdrawing_an_acceptance_brings_the_review_item_back(client_and_dossier):
    client, dossier_id = client_and_dossier
    report = client.get(f"/api/dossiers/{dossier_id}/report").json()
    item = next(f for f in report["findings"] if f["status"] == "review")["criterion"]
    accepted = client.post(
        f"/api/dossiers/{dossier_id}/acceptances", json={"criterion": item, "comment": "已核对"}
    )
    assert _finding(accepted.json(), item)["status"] == "pass"
    review_id = client.get(f"/api/dossiers/{dossier_id}/history").json()["reviews"][-1]["id"]
    back = client.post(
        f"/api/dossiers/{dossier_id}/reviews/{review_id}/withdraw", json={"comment": "看错了"}
    )
    assert back.status_code == 200 and _finding(back.json(), item)["status"] == "review"
    again = client.post(
        f"/api/dossiers/{dossier_id}/reviews/{review_id}/withdraw", json={"comment": "再撤"}
    )
    assert again.status_code == 422  # withdrawn once
