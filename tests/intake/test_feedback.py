"""Per-file feedback (intake.feedback): which of a pack's checks one file decides, what a
parsed file says on its own, and how the pipeline, the API and the dossier page carry it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from extractors.classify import Material
from extractors.fields import FieldValue
from extractors.registry import parse_file
from intake.api import create_app
from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier
from intake.feedback import decided_by_file, file_feedback, file_pack, input_fields
from intake.models import Dossier, DossierFile, Report
from intake.pipeline import process_file
from intake.storage import FileStore
from tests.accounts import PASSWORD, account, give
from tests.fixtures import factory
from validators.packs import available_packs, load_pack, parse_pack

CODE = "91610131MA6TXK1U2Y"  # passes the GB 32100-2015 check
BAD_CODE = "91610131MA6TXK1U2X"  # the same with a wrong check character

PACK = """
programme = "测试"
source = "测试"
year = 2018

[[criteria]]
id = "age"
title = "age"
article = "一"
check = "years_before"
params = { field = "applicant.established", reference = "application.date", years = 2 }

[[criteria]]
id = "volume"
title = "volume"
article = "二"
check = "any_of"
params = { conditions = [ { field = "service.smes_served", min = 50 } ] }

[[criteria]]
id = "seal"
title = "seal"
article = "三"
check = "sealed"
params = { materials = ["authenticity_declaration"] }

[[criteria]]
id = "cooperation"
title = "cooperation"
article = "四"
check = "judgement"
params = { keywords = ["合作"], materials = ["application_report"] }

[[criteria]]
id = "complete"
title = "complete"
article = "五"
check = "materials_present"
params = { types = ["business_licence", "authenticity_declaration"] }

[[criteria]]
id = "identified"
title = "identified"
article = "六"
check = "materials_identified"
"""


def _value(field: str, value, material: str = "application_report") -> FieldValue:
    return FieldValue(field, value, "f.pdf", 1, str(value), 0.98, material=material)


def _material(kind: str) -> Material:
    return Material(type=kind, file="f.pdf", pages=(1, 1), confidence=0.9)


def _chosen(fields: dict, materials: list[Material]) -> set[str]:
    pack = parse_pack("test", PACK)
    return {c.id for c in pack.criteria if decided_by_file(c, fields, materials)}


def test_input_fields_are_read_from_the_parameters_nested_conditions_too():
    pack = parse_pack("test", PACK)
    by_id = {c.id: c for c in pack.criteria}
    assert input_fields(by_id["age"].params) == {"applicant.established", "application.date"}
    assert input_fields(by_id["volume"].params) == {"service.smes_served"}
    xian = {c.id: c for c in load_pack("xian-2018").criteria}
    assert "function.finance.amount" in input_fields(xian["13.function"].params)
    assert input_fields(xian["x.balance_sheet"].params) == {
        "finance.total_assets",
        "finance.liabilities_and_equity",
    }


def test_a_check_is_the_files_when_every_field_it_reads_was_read_in_it():
    established = {"applicant.established": [_value("applicant.established", "2013-04-18")]}
    # A licence gives the date of establishment but not the application's date: the age
    # check waits for the dossier.
    assert "age" not in _chosen(established, [_material("business_licence")])
    both = {**established, "application.date": [_value("application.date", "2018-06-08")]}
    assert "age" in _chosen(both, [_material("application_report")])
    served = {"service.smes_served": [_value("service.smes_served", 186)]}
    assert "volume" in _chosen(served, [_material("application_report")])


def test_a_check_on_named_materials_is_the_files_when_it_holds_one():
    # The seal on the declaration: the file that holds the declaration decides it.
    assert "seal" in _chosen({}, [_material("authenticity_declaration")])
    assert "seal" not in _chosen({}, [_material("business_licence")])


def test_judgements_and_checks_on_the_whole_dossier_are_never_a_files():
    everything = [_material(k) for k in ("application_report", "business_licence",
                                         "authenticity_declaration")]  # fmt: skip
    chosen = _chosen({}, everything)
    assert not chosen & {"cooperation", "complete", "identified"}


@pytest.mark.parametrize("name", available_packs())
def test_no_pack_hands_a_dossier_wide_check_to_one_file(name):
    pack = load_pack(name)
    every_field = {
        f: [_value(f, 1)] for c in pack.criteria for f in input_fields(c.params)
    }  # fmt: skip
    kinds = {k for c in pack.criteria for k in c.params.get("types", [])}
    cut = file_pack(pack, every_field, [_material(k) for k in kinds])
    checks = {c.check for c in cut.criteria}
    assert not checks & {"materials_present", "materials_identified", "judgement"}
    assert {c.id for c in cut.criteria} <= {c.id for c in pack.criteria}


# --------------------------------------------------------------------------- one file


def _licence_pdf(path: Path, code: str) -> Path:
    """An electronic licence (电子营业执照 printed to PDF): a text layer, labels in a row."""
    return factory.text_pdf(
        path,
        [["营业执照", f"统一社会信用代码 {code}", "名称 西安测试企业服务有限公司",
          "住所 西安市雁塔区科技路48号", "成立日期 2013年04月18日"]],
    )  # fmt: skip


def test_a_licence_is_recognised_and_its_code_checked_on_its_own(tmp_path):
    path = _licence_pdf(tmp_path / "营业执照.pdf", CODE)
    got = file_feedback(path.name, parse_file(path), "xian-2018")
    assert [m["type"] for m in got["materials"]] == ["business_licence"]
    values = {v["field"]: v for v in got["values"]}
    assert values["applicant.credit_code"]["shown"] == CODE
    assert values["applicant.credit_code"]["name"] == "统一社会信用代码"
    checks = {c["criterion"]: c for c in got["checks"]}
    assert checks["x.credit_code_valid"]["status"] == "pass"
    assert "12.1.years_operating" not in checks  # needs the application's date
    assert "17.complete" not in checks


def test_a_wrong_check_character_typed_in_the_application_fails_in_its_feedback(tmp_path):
    # The applicant's own form (基本情况表 of 附件2) states the code as typed: a wrong check
    # character there is certain, whatever the licence says.
    path = factory.docx_file(
        tmp_path / "申请报告.docx",
        [["西安市中小企业公共服务示范平台申请报告", "申报单位：西安测试企业服务有限公司"],
         ["一、申报单位基本情况表", f"统一社会信用代码：{BAD_CODE}"]],
    )  # fmt: skip
    got = file_feedback(path.name, parse_file(path), "xian-2018")
    (check,) = [c for c in got["checks"] if c["criterion"] == "x.credit_code_valid"]
    assert check["status"] == "fail"
    assert BAD_CODE in check["message"] and "校验位不正确" in check["message"]


def test_an_audit_report_gives_its_period_and_opinion(samples):
    path = samples["text_pdf"]
    got = file_feedback(path.name, parse_file(path), "xian-2018")
    assert got["materials"][0]["type"] == "audit_report"
    assert got["materials"][0]["where"] == "第1–2页"
    values = {v["field"]: v for v in got["values"]}
    assert values["finance.total_assets"]["shown"] == "1,234,567.89元"
    assert values["audit.period_end"]["value"] == "2017-12-31"


def test_a_blank_scanned_page_is_named_unreadable(tmp_path):
    path = factory.scanned_pdf(
        tmp_path / "扫描件.pdf", [["房屋租赁合同", "承租方：西安测试有限公司"], []]
    )
    got = file_feedback(path.name, parse_file(path), "xian-2018")
    assert got["pages"]["unreadable"] == [2]


# --------------------------------------------------------------------------- the pipeline


def _dossier_with(settings, paths):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018", "秦岭")
        rows = [r for p in paths for r in add_path(session, store, settings, dossier, p.name, p)]
        return dossier.id, [r.id for r in rows]


def test_a_files_feedback_is_recorded_before_the_dossiers_report(settings, samples, tmp_path):
    licence = _licence_pdf(tmp_path / "营业执照.pdf", CODE)
    dossier_id, (a, b, c) = _dossier_with(
        settings, [licence, samples["text_pdf"], samples["empty"]]
    )
    process_file(settings, a)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, a)
        assert row.state == "done"
        assert row.feedback["materials"][0]["type"] == "business_licence"
        assert session.get(DossierFile, b).feedback is None  # not parsed yet
        assert session.get(DossierFile, c).feedback is None  # failed at upload
        assert session.get(Report, dossier_id) is None  # the audit report is still queued
    process_file(settings, b)
    with session_scope(settings.db_url) as session:
        assert session.get(Report, dossier_id) is not None
        assert session.get(DossierFile, b).feedback["rule_pack"] == "xian-2018"


def _browser(app) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login", data={"name": "申报乙", "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert done.status_code == 303, done.text
    return client


def test_the_api_and_the_page_show_it_and_count_a_failed_file(settings, samples, tmp_path):
    licence = _licence_pdf(tmp_path / "营业执照.pdf", BAD_CODE)
    dossier_id, (a, b, _c) = _dossier_with(
        settings, [licence, samples["text_pdf"], samples["empty"]]
    )
    process_file(settings, a)
    name, token = account(settings, "applicant", "申报乙")
    give(settings, name, [dossier_id])
    app = create_app(settings)
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    status = api.get(f"/api/dossiers/{dossier_id}").json()
    files = {f["file"]: f for f in status["files"]}
    assert status["state"] != "done"
    feedback = files["营业执照.pdf"]["feedback"]
    assert feedback["materials"][0]["name"] == "营业执照副本或法人证书（复印件）"
    (code,) = [c for c in feedback["checks"] if c["criterion"] == "x.credit_code_valid"]
    assert code["status"] in ("fail", "review")  # fail read plainly, review read with doubt
    assert files["empty.pdf"]["feedback"] is None

    page = _browser(app)
    live = page.get(f"/dossiers/{dossier_id}/live").text
    assert "识别为：" in live and "营业执照副本或法人证书（复印件）" in live
    assert code["message"] in live and "x.credit_code_valid" not in live
    assert 'data-announce="营业执照.pdf：已完成，识别为' in live

    process_file(settings, b)
    live = page.get(f"/dossiers/{dossier_id}/live").text
    todo = live[live.index('id="todo"') :]
    assert "文件“empty.pdf”无法处理" in todo  # counted among what the applicant must do
    verdict = re.search(r"初审结论：([^<]*)<", live).group(1)
    assert "1 个文件无法处理" in verdict
    with session_scope(settings.db_url) as session:
        assert session.get(Dossier, dossier_id).report is not None
