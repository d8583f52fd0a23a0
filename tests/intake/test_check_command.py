"""`intake check` on a generated dossier, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fixtures import factory
from tests.fixtures.sample import CODE, NAME, write_sample

CONTRACT_KEYS = {"dossier", "rule_pack", "files", "materials", "fields", "findings"}
CRITERIA = {
    "12.registered_locally",
    "12.1.years_operating",
    "12.1.total_assets",
    "12.2.service_volume",
    "12.2.satisfaction",
    "12.3.service_area",
    "12.4.public_interest_share",
    "12.5.service_staff",
    "12.5.qualified_share",
    "12.6.agencies_aggregated",
    "13.function",
    "17.complete",
    "x.credit_code_valid",
    "x.name_consistent",
    "x.credit_code_consistent",
    "x.assets_match",
    "x.revenue_match",
    "x.area_match",
    "x.audit_period",
    "x.lease_valid",
    "x.audit_opinion",
}


def run_check(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "INTAKE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def dossier(tmp_path_factory) -> Path:
    folder = write_sample(tmp_path_factory.mktemp("dossier") / "秦岭")
    factory.truncated(folder / "08-损坏的扫描件.pdf", folder / "03-2017年度审计报告.pdf")
    return folder


@pytest.fixture(scope="module")
def report(dossier, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("out")
    result = run_check(
        [str(dossier), "--json", str(out / "r.json"), "--html", str(out / "r.html")], out / "data"
    )
    assert result.returncode == 0, result.stderr
    assert str(out / "r.json") in result.stderr.replace("\n", "")
    html = (out / "r.html").read_text("utf-8")
    assert "申报材料预审报告" in html and "文件已损坏" in html
    return json.loads((out / "r.json").read_text("utf-8"))


def test_report_follows_the_contract(report):
    assert report.keys() >= CONTRACT_KEYS
    assert report["rule_pack"] == "xian-2018"
    # Every contract criterion, plus the service's own (prefixed x.) beyond the contract.
    assert {f["criterion"] for f in report["findings"]} >= CRITERIA
    for finding in report["findings"]:
        assert finding["status"] in {"pass", "fail", "missing", "review"}
        assert finding["message"]
    for values in report["fields"].values():
        for v in values:
            assert {"value", "file", "page", "bbox", "text", "confidence"} <= v.keys()
            assert 0 <= v["confidence"] <= 1


def test_every_file_is_listed_and_the_bad_one_fails_with_a_reason(report):
    files = {f["file"]: f for f in report["files"]}
    assert len(files) == 8
    bad = files["08-损坏的扫描件.pdf"]
    assert bad["state"] == "failed" and bad["error"]["code"] == "corrupt"
    assert "损坏" in bad["error"]["message"]
    assert all(f["state"] == "done" for name, f in files.items() if name != bad["file"])


def test_materials_and_fields_are_found(report):
    types = {m["type"] for m in report["materials"]}
    assert {
        "application_report",
        "business_licence",
        "audit_report",
        "premises_proof",
        "service_evidence",
        "qualification",
        "authenticity_declaration",
    } <= types
    codes = {v["value"] for v in report["fields"]["applicant.credit_code"]}
    assert CODE in codes
    names = {v["value"] for v in report["fields"]["applicant.name"]}
    assert NAME in names
    status = {f["criterion"]: f["status"] for f in report["findings"]}
    assert status["17.complete"] == "pass"
    assert status["x.credit_code_valid"] == "pass"


def test_a_zip_of_the_dossier_gives_the_same_files(dossier, tmp_path):
    archive = tmp_path / "dossier.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(dossier.iterdir()):
            zf.write(path, f"秦岭/{path.name}")
    result = run_check([str(archive), "--json", str(tmp_path / "r.json")], tmp_path / "data")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert sorted(f["file"] for f in report["files"]) == sorted(p.name for p in dossier.iterdir())


def test_missing_path_is_a_clear_error(tmp_path):
    result = run_check([str(tmp_path / "nope")], tmp_path / "data")
    assert result.returncode == 1
    assert "找不到文件或文件夹" in result.stderr


def test_unknown_rule_pack_is_a_clear_error(dossier, tmp_path):
    result = run_check([str(dossier), "--rule-pack", "nowhere-2000"], tmp_path / "data")
    assert result.returncode == 1
    assert "未知的规则包" in result.stderr
