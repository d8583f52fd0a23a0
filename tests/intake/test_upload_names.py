"""Uploads keep their names (issue 14): an archive's members are listed inside it
("材料压缩包.zip › 营业执照.jpg"), an identical file uploaded twice is said to be a duplicate
(not silently renamed "… (2).jpg"), and an archive nested too deep is reported under the
name of the archive the applicant uploaded (套娃.zip), not an inner one."""

from __future__ import annotations

import io
import zipfile

import pytest

from intake.db import migrate, session_scope
from intake.dossiers import add_upload, create_dossier
from intake.storage import FileStore


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def upload(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018")
        dossier_id = dossier.id

    def add(*files: tuple[str, bytes]) -> list[dict]:
        from intake.models import Dossier

        with session_scope(settings.db_url) as session:
            dossier = session.get(Dossier, dossier_id)
            rows = [r for name, data in files
                    for r in add_upload(session, store, settings, dossier, name, io.BytesIO(data))]  # fmt: skip
            return [
                {"name": r.name, "state": r.state, "code": r.error_code, "message": r.error_message}
                for r in rows
            ]

    return add


LICENCE = b"%PDF-1.4\n% licence\n%%EOF\n"
AUDIT = b"%PDF-1.4\n% audit\n%%EOF\n"


def test_an_archives_members_are_named_inside_it(upload):
    rows = upload(("材料压缩包.zip", _zip({"营业执照.pdf": LICENCE, "财务/审计报告.pdf": AUDIT})))
    assert [r["name"] for r in rows] == [
        "材料压缩包.zip › 营业执照.pdf",
        "材料压缩包.zip › 财务/审计报告.pdf",
    ]
    assert all(r["state"] == "queued" for r in rows)


def test_the_same_file_uploaded_twice_is_a_duplicate_said_so(upload):
    (first,) = upload(("营业执照.pdf", LICENCE))
    rows = upload(("材料压缩包.zip", _zip({"营业执照.pdf": LICENCE})), ("营业执照.pdf", LICENCE))
    for row in rows:
        assert row["state"] == "failed" and row["code"] == "duplicate"
        assert "与已上传的“营业执照.pdf”内容完全相同" in row["message"]
    assert rows[0]["name"] == "材料压缩包.zip › 营业执照.pdf"
    assert rows[1]["name"] == "营业执照（重复上传）.pdf"  # never a silent "营业执照 (2).pdf"
    assert first["state"] == "queued"


def test_a_different_file_of_a_taken_name_is_no_duplicate(upload):
    upload(("营业执照.pdf", LICENCE))
    (row,) = upload(("营业执照.pdf", AUDIT))
    assert row["state"] == "queued" and row["code"] is None


def test_an_archive_nested_too_deep_is_reported_under_the_uploaded_archives_name(upload):
    level3 = _zip({"a.pdf": LICENCE})
    level2 = _zip({"level3.zip": level3})
    rows = upload(("套娃.zip", _zip({"level2.zip": level2, "说明.pdf": AUDIT})))
    failed = [r for r in rows if r["state"] == "failed"]
    assert [r["name"] for r in failed] == ["套娃.zip"]
    assert "level2.zip › level3.zip" in failed[0]["message"]
    assert "套娃.zip › 说明.pdf" in [r["name"] for r in rows]
