"""Re-checking a parsed dossier against another rule pack: nothing parsed again."""

from __future__ import annotations

import subprocess
import sys

from tests.accounts import client_as
from tests.intake.test_pipeline import _dossier_with


def _checked_dossier(settings, samples, monkeypatch, names=("text_pdf",)):
    from intake.pipeline import process_file

    dossier_id, ids = _dossier_with(settings, [samples[n] for n in names])
    for file_id in ids:
        process_file(settings, file_id)
    import intake.pipeline as pipeline

    def no_parsing(*args, **kwargs):
        raise AssertionError("a re-check must not parse")

    monkeypatch.setattr(pipeline, "parse_file", no_parsing)
    return dossier_id


def test_recheck_through_the_api(settings, samples, monkeypatch):
    dossier_id = _checked_dossier(settings, samples, monkeypatch)
    client = client_as(settings, "bureau")
    first = client.get(f"/api/dossiers/{dossier_id}/report").json()
    assert first["rule_pack"] == "xian-2018"

    again = client.post(f"/api/dossiers/{dossier_id}/recheck", json={"rule_pack": "jiangsu-2020"})
    assert again.status_code == 200, again.text
    report = again.json()
    assert report["rule_pack"] == "jiangsu-2020" and not report["rule_pack_meta"]["confirmed"]
    criteria = {f["criterion"] for f in report["findings"]}
    assert "12.3.service_area" not in criteria and "12.1.total_assets" in criteria
    assert client.get(f"/api/dossiers/{dossier_id}").json()["rule_pack"] == "jiangsu-2020"
    assert client.get(f"/api/dossiers/{dossier_id}/report").json() == report

    bad = client.post(f"/api/dossiers/{dossier_id}/recheck", json={"rule_pack": "mars-2030"})
    assert bad.status_code == 422 and bad.json()["field"] == "rule_pack"
    assert "xian-2018" in bad.json()["message"]  # the choices are named
    assert (
        client.post("/api/dossiers/nope/recheck", json={"rule_pack": "xian-2018"}).status_code
        == 404
    )


def test_recheck_on_the_command_line(settings, samples, monkeypatch, tmp_path):
    dossier_id = _checked_dossier(settings, samples, monkeypatch)
    env = {"INTAKE_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "r.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "intake.cli",
            "recheck",
            dossier_id,
            "--rule-pack",
            "national-2017",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert '"rule_pack": "national-2017"' in out.read_text("utf-8")
    unknown = subprocess.run(
        [sys.executable, "-m", "intake.cli", "recheck", dossier_id, "--rule-pack", "mars-2030"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert unknown.returncode == 1 and "未知的规则包" in unknown.stderr
