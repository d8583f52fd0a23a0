"""Every 4xx of the API has a Chinese ``message`` and a stable ``code`` (issue 14):
corrections are checked against the vocabulary's field table (an unknown field was
accepted and made a new report version), malformed JSON is told in Chinese, and the 409
of a report not built yet names the dossier's state in words."""

from __future__ import annotations

import re

import pytest

from tests.accounts import client_as
from tests.intake.test_reviews import client_and_dossier  # noqa: F401  (a fixture)

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"field": "foo.bar", "value": "1"}, "unknown_field", "没有名为“foo.bar”的字段"),
        ({"field": "service.satisfaction", "value": "很高"}, "invalid_value", "“用户满意度”"),
        ({"field": "applicant.credit_code", "value": "91610131MA6TX00000"}, "invalid_value",
         "统一社会信用代码"),
        ({"field": "service.smes_served_by_year", "value": "12"}, "not_correctable", "不能在此更正"),
    ],
)  # fmt: skip
def test_a_correction_is_checked_against_the_field_table(client_and_dossier, body, code, says):  # noqa: F811
    client, dossier_id = client_and_dossier
    before = client.get(f"/api/dossiers/{dossier_id}/report").json()["version"]
    answer = client.post(
        f"/api/dossiers/{dossier_id}/corrections", json={"comment": "核对原件", **body}
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["code"] == code and says in error["message"] and HAN.search(error["message"])
    assert client.get(f"/api/dossiers/{dossier_id}/report").json()["version"] == before


def test_malformed_json_is_told_in_chinese(client_and_dossier):  # noqa: F811
    client, dossier_id = client_and_dossier
    answer = client.post(
        f"/api/dossiers/{dossier_id}/corrections",
        content=b'{"field": "applicant.name", "value": ',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    error = answer.json()
    assert error["code"] == "invalid" and error["message"] == "请求体不是正确的 JSON 对象"


def test_the_409_names_the_state_in_chinese(settings):
    client = client_as(settings, "applicant")
    dossier_id = client.post("/api/dossiers", json={"rule_pack": "xian-2018"}).json()["id"]
    answer = client.get(f"/api/dossiers/{dossier_id}/report")
    assert answer.status_code == 409
    error = answer.json()
    assert error["code"] == "not_ready"
    assert error["message"] == "报告尚未生成：材料排队等待处理，请稍后再试"
    assert not re.search(r"[a-z]{4,}", error["message"])  # no "queued"
