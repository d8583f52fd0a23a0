"""The pipeline on the embedded default (SQLite, local store), without a queue."""

from __future__ import annotations

from extractors.errors import OcrFailedError
from extractors.model import MODEL_VERSION
from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier, dossier_state
from intake.models import Dossier, DossierFile, Parse, Report
from intake.pipeline import process_file
from intake.storage import FileStore


def _dossier_with(settings, paths):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        dossier = create_dossier(session, "xian-2018")
        rows = [r for p in paths for r in add_path(session, store, settings, dossier, p.name, p)]
        return dossier.id, [r.id for r in rows]


def test_same_bytes_are_parsed_once(settings, samples, monkeypatch):
    _first, (a,) = _dossier_with(settings, [samples["text_pdf"]])
    process_file(settings, a)
    calls = []
    import intake.pipeline as pipeline

    monkeypatch.setattr(pipeline, "parse_file", lambda *a, **k: calls.append(1))
    second, (b,) = _dossier_with(settings, [samples["text_pdf"]])
    assert process_file(settings, b) == "done"
    assert calls == []
    with session_scope(settings.db_url) as session:
        assert session.get(DossierFile, b).pages == 2
        assert session.query(Parse).count() == 1
        assert session.get(Report, second) is not None


def test_a_parse_by_an_older_model_or_other_ocr_settings_is_redone(settings, samples):
    _first, (a,) = _dossier_with(settings, [samples["text_pdf"]])
    process_file(settings, a)
    with session_scope(settings.db_url) as session:
        parse = session.query(Parse).one()
        assert parse.model_version == MODEL_VERSION
        parse.model_version = MODEL_VERSION - 1
    _second, (b,) = _dossier_with(settings, [samples["text_pdf"]])
    assert process_file(settings, b) == "done"
    with session_scope(settings.db_url) as session:
        parse = session.query(Parse).one()
        assert parse.model_version == MODEL_VERSION
        assert parse.ocr_config == settings.ocr_config
        parse.ocr_config = "another-engine"  # made with other OCR settings: redone too
    _third, (c,) = _dossier_with(settings, [samples["text_pdf"]])
    assert process_file(settings, c) == "done"
    with session_scope(settings.db_url) as session:
        assert session.query(Parse).one().ocr_config == settings.ocr_config


def test_report_is_built_when_the_last_file_finishes(settings, samples):
    dossier_id, (a, b) = _dossier_with(settings, [samples["text_pdf"], samples["empty"]])
    with session_scope(settings.db_url) as session:
        assert session.get(DossierFile, b).state == "failed"  # empty: failed at upload
        assert dossier_state(session.get(Dossier, dossier_id), None) == "processing"
    process_file(settings, a)
    with session_scope(settings.db_url) as session:
        dossier = session.get(Dossier, dossier_id)
        report = session.get(Report, dossier_id)
        assert dossier_state(dossier, report) == "done"
        files = {f["file"]: f for f in report.content["files"]}
        assert files["empty.pdf"]["error"]["code"] == "empty"


def test_retryable_error_propagates_for_the_queue(settings, samples, monkeypatch):
    _dossier_id, (a,) = _dossier_with(settings, [samples["scanned_pdf"]])
    import intake.pipeline as pipeline

    def timeout(*args, **kwargs):
        raise OcrFailedError("tesseract timed out")

    monkeypatch.setattr(pipeline, "parse_file", timeout)
    try:
        process_file(settings, a)
    except OcrFailedError:
        pass
    else:
        raise AssertionError("a retryable error must reach the queue")
    with session_scope(settings.db_url) as session:
        assert session.get(Parse, session.get(DossierFile, a).sha256) is None  # not cached
