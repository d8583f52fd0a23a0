"""End to end, one dossier per certificate kind: an application report (DOCX) and a picture
of the certificate drawn as real ones are printed (tests/fixtures/certificates/make.py) go
through `intake check` as a user runs it. The report must name the certificate's material,
give its fields with their file and page, and say no false `fail`: the land's area is never
the premises' area, the 不动产单元号 never a credit code, the certificate's land-use term never
a lease's end, and a 事业单位法人证书 (which prints no founding date) gives none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures import factory
from tests.fixtures.certificates import make
from tests.fixtures.sample import APPLICATION, CODE, NAME
from tests.intake.test_check_command import run_check

# The first 18 of the unit number's 28 characters (610113001001GB0000) pass a credit code's
# check: read as a slice, it would be a second, different code.
UNIT = "610113001001GB00001F00010001"
INSTITUTION = "西安市中小企业服务中心"
INSTITUTION_CODE = "12610100MB2961807U"


def _application(folder: Path, name: str, code: str) -> None:
    pages = [[line.replace(NAME, name).replace(CODE, code) for line in p] for p in APPLICATION]
    factory.docx_file(folder / "01-西安市中小企业公共服务示范平台申请报告.docx", pages)


def _report(folder: Path, tmp_path: Path) -> dict:
    result = run_check([str(folder), "--json", str(tmp_path / "r.json")], tmp_path / "data")
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / "r.json").read_text("utf-8"))


def _from(report: dict, field: str, file: str) -> list[dict]:
    return [v for v in report["fields"].get(field, []) if v["file"] == file]


def _status(report: dict) -> dict[str, str]:
    return {f["criterion"]: f["status"] for f in report["findings"]}


@pytest.fixture(scope="module")
def real_estate(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("real-estate") / "不动产"
    folder.mkdir()
    _application(folder, NAME, CODE)  # declares 服务场所面积：860平方米
    make.real_estate_certificate(
        holder=NAME,
        address=("西安市高新区科技路48号创业广场B座", "12层"),
        land="5000.00",
        building="860.00",
        unit=UNIT,
    ).save(folder / "04-不动产权证书.png")
    return _report(folder, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def ownership(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("ownership") / "房产证"
    folder.mkdir()
    _application(folder, NAME, CODE)
    make.ownership_certificate(
        holder=NAME,
        address=("西安市高新区科技路48号", "创业广场B座12层"),
        building="860.00",
        inner="700.00",
    ).save(folder / "04-房屋所有权证.png")
    return _report(folder, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def institution(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("institution") / "事业单位"
    folder.mkdir()
    _application(folder, INSTITUTION, INSTITUTION_CODE)
    make.institution_certificate(
        name=INSTITUTION,
        code=INSTITUTION_CODE,
        address="西安市高新区科技路48号创业广场B座12层",
        representative="王建国",
    ).save(folder / "02-事业单位法人证书.png")
    return _report(folder, tmp_path_factory.mktemp("out"))


@pytest.mark.parametrize(
    ("dossier", "file"),
    [("real_estate", "04-不动产权证书.png"), ("ownership", "04-房屋所有权证.png")],
)
def test_a_property_certificate_is_the_premises_proof(request, dossier, file):
    report = request.getfixturevalue(dossier)
    (material,) = [m for m in report["materials"] if m["file"] == file]
    assert material["type"] == "premises_proof"
    assert material.get("kind") == "property_certificate"
    (area,) = _from(report, "premises.area_m2", file)
    assert area["value"] == 860.0 and area["page"] == 1  # the building's, not the land's
    assert [v["value"] for v in _from(report, "premises.holder", file)] == [NAME]
    assert [v["page"] for v in _from(report, "premises.holder", file)] == [1]
    assert _from(report, "premises.address", file)
    assert not _from(report, "applicant.credit_code", file)  # the unit number is none
    assert not _from(report, "premises.lease_end", file)  # a land-use term is no lease
    status = _status(report)
    for criterion in ("x.area_match", "12.3.service_area", "x.name_consistent",
                      "x.credit_code_valid"):  # fmt: skip
        assert status[criterion] == "pass", (criterion, report["findings"])
    # The application report alone prints a code: nothing to compare it with, no conflict.
    assert status["x.credit_code_consistent"] == "missing"
    assert status.get("x.lease_valid") != "fail"


def test_the_land_area_and_the_unit_number_are_kept_apart(real_estate):
    file = "04-不动产权证书.png"
    assert [v["value"] for v in _from(real_estate, "property.land_area_m2", file)] == [5000.0]
    assert [v["value"] for v in _from(real_estate, "property.unit_number", file)] == [UNIT]


def test_an_institution_certificate_stands_in_for_the_licence(institution):
    file = "02-事业单位法人证书.png"
    (material,) = [m for m in institution["materials"] if m["file"] == file]
    assert material["type"] == "business_licence"
    assert material.get("kind") == "法人证书"
    expected = {
        "applicant.name": INSTITUTION,
        "applicant.credit_code": INSTITUTION_CODE,
        "applicant.address": "西安市高新区科技路48号创业广场B座12层",
        "applicant.legal_representative": "王建国",
    }
    for field, value in expected.items():
        found = _from(institution, field, file)
        assert [(v["value"], v["page"]) for v in found] == [(value, 1)], (field, found)
    assert not _from(institution, "applicant.established", file)  # none printed, none made up
    status = _status(institution)
    for criterion in ("x.name_consistent", "x.credit_code_valid", "x.credit_code_consistent",
                      "12.registered_locally", "12.1.years_operating"):  # fmt: skip
        assert status[criterion] == "pass", (criterion, institution["findings"])
