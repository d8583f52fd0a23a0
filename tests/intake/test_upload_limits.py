"""Uploads over a limit are refused at the door (413, a message), before anything is
stored; a name no file system takes is shortened, not refused."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from intake.settings import Settings
from tests.accounts import client_as

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
