"""Uploads over a limit are refused at the door (413, a message), before anything is
stored; a name no file system takes is shortened, not refused. An upload is admitted as a
whole: too many files for the dossier, archive members across all nesting levels or bytes
refuse it with 413, too many uploads of an account with 429, and nothing of it is kept."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from intake.settings import Settings
from tests.accounts import client_as
from tests.fixtures import factory

REDIS_DB = 13  # this module's own Redis database, emptied afterwards


@pytest.fixture
def limited(tmp_path) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
        queue_name=f"test-limits-{uuid.uuid4().hex[:8]}",
        max_request_bytes=200_000,
        max_upload_bytes=50_000,
    )
    yield settings
    Redis.from_url(settings.redis_url).flushdb()


def _stored(settings: Settings) -> list:
    return [p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()]


def _dossier(client: TestClient) -> str:
    return client.post("/api/dossiers", json={}).json()["id"]


def test_a_request_declared_too_large_is_refused_before_it_is_read(limited):
    client = client_as(limited, "applicant")
    dossier_id = _dossier(client)
    answer = client.post(
        f"/api/dossiers/{dossier_id}/files",
        files={"files": ("scan.pdf", b"%PDF" + b"0" * 300_000, "application/pdf")},
    )
    assert answer.status_code == 413 and "分批上传" in answer.json()["detail"]
    assert _stored(limited) == []


def test_one_file_over_the_limit_refuses_the_upload_and_stores_nothing(limited):
    client = client_as(limited, "applicant")
    dossier_id = _dossier(client)
    answer = client.post(
        f"/api/dossiers/{dossier_id}/files",
        files=[
            ("files", ("ok.pdf", b"%PDF-1.4 small", "application/pdf")),
            ("files", ("huge.pdf", b"%PDF" + b"0" * 80_000, "application/pdf")),
        ],
    )
    assert answer.status_code == 413 and "huge.pdf" in answer.json()["detail"]
    assert _stored(limited) == []  # not even the small one
    status = client.get(f"/api/dossiers/{dossier_id}").json()
    assert status["files"] == []


def test_a_three_hundred_character_name_is_shortened(limited):
    client = client_as(limited, "applicant")
    dossier_id = _dossier(client)
    name = ("审计报告Аудит報告αβγ" * 20)[:296] + ".pdf"
    answer = client.post(
        f"/api/dossiers/{dossier_id}/files",
        files={"files": (name, b"%PDF-1.4 tiny", "application/pdf")},
    )
    assert answer.status_code == 202, answer.text
    (stored,) = answer.json()["files"]
    assert len(stored["file"]) <= 240 and stored["file"].endswith(".pdf")


def test_a_chunked_upload_past_the_limit_is_413_too(limited):
    client = client_as(limited, "applicant")
    dossier_id = _dossier(client)
    boundary = "x" * 16
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()

    def body():  # no Content-Length: sent in chunks
        yield head
        for _ in range(40):
            yield b"0" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = client.post(
        f"/api/dossiers/{dossier_id}/files",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413 and "分批上传" in answer.json()["detail"]
    assert _stored(limited) == []


# --- Admission of a whole upload (issue 12, findings 2 and 4) -----------------------------


@pytest.fixture
def settings_with(tmp_path):
    """Settings like ``limited`` with some limits changed; their rate counts are under a
    prefix of their own, forgotten afterwards."""
    made: list[Settings] = []

    def make(**limits) -> Settings:
        settings = Settings(
            data_dir=tmp_path / f"data{len(made)}",
            redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
            queue_name=f"test-limits-{uuid.uuid4().hex[:8]}",
            rate_limit_prefix=f"test-limits-{uuid.uuid4().hex[:8]}",
            **limits,
        )
        made.append(settings)
        return settings

    yield make
    for settings in made:
        settings.limiter().reset()
    Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()


def _queued(settings: Settings) -> int:
    from rq import Queue

    return Queue(settings.queue_name, connection=Redis.from_url(settings.redis_url)).count


def _upload(client: TestClient, dossier_id: str, *files: tuple[str, bytes]):
    return client.post(
        f"/api/dossiers/{dossier_id}/files",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def test_a_stored_zip_whose_first_member_is_a_pdf_becomes_its_files(limited, tmp_path):
    # Finding 2: Python's zipfile stores uncompressed by default, so %PDF- of the first
    # member sits in the archive's first KiB; the archive was parsed as that one PDF.
    members = {
        f"{i:02d}-{name}": b"%PDF-1.4\n%" + name.encode() + b"\n%%EOF\n"
        for i, name in enumerate(["申请报告.pdf", "营业执照.pdf", "审计报告.pdf", "租赁合同.pdf",
                                  "服务证明.pdf", "人员名单.pdf", "承诺书.pdf"], start=1)
    }  # fmt: skip
    archive = factory.stored_zip(tmp_path / "申报材料.zip", members)
    client = client_as(limited, "applicant")
    dossier_id = _dossier(client)
    answer = _upload(client, dossier_id, ("申报材料.zip", archive.read_bytes()))
    assert answer.status_code == 202, answer.text
    # each named inside the archive it came in (issue 14)
    assert [f["file"] for f in answer.json()["files"]] == [f"申报材料.zip › {m}" for m in members]


def test_nested_archives_count_their_members_across_all_levels(settings_with, tmp_path):
    # Finding 4: a small ZIP of ZIPs fanned out into archives × members files and jobs, each
    # archive within the per-archive limit. Here 4 × 30 members against a limit of 50.
    settings = settings_with(max_archive_members=50)
    archive = factory.nested_zip(tmp_path / "nested.zip", archives=4, members=30)
    client = client_as(settings, "applicant")
    dossier_id = _dossier(client)
    answer = _upload(client, dossier_id, ("nested.zip", archive.read_bytes()))
    assert answer.status_code == 413, answer.text
    assert "压缩包" in answer.json()["detail"] and "50" in answer.json()["detail"]
    assert client.get(f"/api/dossiers/{dossier_id}").json()["files"] == []
    assert _stored(settings) == [] and _queued(settings) == 0


def test_nested_archives_within_the_limit_are_expanded(settings_with, tmp_path):
    settings = settings_with(max_archive_members=50)
    archive = factory.nested_zip(tmp_path / "nested.zip", archives=3, members=10)
    client = client_as(settings, "applicant")
    dossier_id = _dossier(client)
    answer = _upload(client, dossier_id, ("nested.zip", archive.read_bytes()))
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["files"]) == 30 and _queued(settings) == 30


def test_files_per_dossier_count_what_it_has(settings_with, tmp_path):
    settings = settings_with(max_dossier_files=5)
    client = client_as(settings, "applicant")
    dossier_id = _dossier(client)
    first = [(f"{i}.pdf", b"%PDF-1.4 first " + bytes([i])) for i in range(3)]
    assert _upload(client, dossier_id, *first).status_code == 202
    kept = set(_stored(settings))
    queued = _queued(settings)
    again = [first[0], *((f"new{i}.pdf", b"%PDF-1.4 new " + bytes([i])) for i in range(3))]
    answer = _upload(client, dossier_id, *again)
    assert answer.status_code == 413, answer.text
    assert "5 个" in answer.json()["detail"]
    files = client.get(f"/api/dossiers/{dossier_id}").json()["files"]
    assert [f["file"] for f in files] == ["0.pdf", "1.pdf", "2.pdf"]
    # The refused upload's own blobs are gone; the one the dossier already had stays.
    assert set(_stored(settings)) == kept and _queued(settings) == queued
    # Replacing a file does not add one.
    file_id = files[0]["id"]
    answer = client.put(
        f"/api/dossiers/{dossier_id}/files/{file_id}",
        files={"file": ("0.pdf", b"%PDF-1.4 replaced", "application/pdf")},
    )
    assert answer.status_code == 202, answer.text


def test_bytes_per_upload_count_expanded_archives(settings_with, tmp_path):
    import random

    settings = settings_with(max_upload_bytes=200_000, max_upload_stored_bytes=150_000)
    noise = random.Random(12)
    members = {f"{i}.pdf": b"%PDF-1.4 " + noise.randbytes(40_000) for i in range(3)}
    archive = factory.zip_of(tmp_path / "big.zip", members)  # 120 KB, and 120 KB expanded
    client = client_as(settings, "applicant")
    dossier_id = _dossier(client)
    answer = _upload(client, dossier_id, ("big.zip", archive.read_bytes()))
    assert answer.status_code == 413, answer.text
    assert "MB" in answer.json()["detail"] and "分批上传" in answer.json()["detail"]
    assert client.get(f"/api/dossiers/{dossier_id}").json()["files"] == []
    assert _stored(settings) == [] and _queued(settings) == 0


def test_uploads_of_one_account_are_rate_limited(settings_with):
    settings = settings_with(upload_rate_per_account="2/minute")
    client = client_as(settings, "applicant")
    dossier_id = _dossier(client)
    for i in range(2):
        assert (
            _upload(client, dossier_id, (f"{i}.pdf", f"%PDF-1.4 {i}".encode())).status_code == 202
        )
    answer = _upload(client, dossier_id, ("2.pdf", b"%PDF-1.4 2"))
    assert answer.status_code == 429, answer.text
    assert 0 < int(answer.headers["Retry-After"]) <= 60
    assert "秒后再试" in answer.json()["detail"]
    assert len(client.get(f"/api/dossiers/{dossier_id}").json()["files"]) == 2
    # Another account has its own count.
    other = client_as(settings, "applicant")
    assert _upload(other, _dossier(other), ("x.pdf", b"%PDF-1.4 x")).status_code == 202


def test_the_command_line_path_refuses_a_nested_fan_out_too(settings_with, tmp_path):
    from extractors.errors import UploadRefusedError
    from intake.db import migrate, session_scope
    from intake.dossiers import add_path, create_dossier
    from intake.models import DossierFile
    from intake.storage import FileStore

    settings = settings_with(max_archive_members=50)
    migrate(settings.db_url)
    store = FileStore(settings.data_dir)
    archive = factory.nested_zip(tmp_path / "nested.zip", archives=4, members=30)
    with pytest.raises(UploadRefusedError), session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018")
        add_path(session, store, settings, dossier, archive.name, archive)
    with session_scope(settings.db_url) as session:
        assert session.query(DossierFile).count() == 0
    assert _stored(settings) == []
