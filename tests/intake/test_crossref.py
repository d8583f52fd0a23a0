"""Reuse across dossiers, for bureau staff: the same credit code, premises address, file or
page picture in more than one dossier; and ``intake reparse`` giving old parses their
picture hashes."""

from __future__ import annotations

from intake.crossref import address_key, find_reuse
from intake.db import migrate, session_scope
from intake.dossiers import fingerprint
from intake.models import Dossier, DossierFile, FileState, PagePicture, Parse, Report


def _dossier(session, name, files, fields=None, round="2026", current=True):
    """A done dossier with ``files`` [(name, sha)] and a report holding ``fields``."""
    dossier = Dossier(name=name, rule_pack="xian-2018", round=round, district="雁塔区")
    session.add(dossier)
    session.flush()
    rows = []
    for seq, (file_name, sha) in enumerate(files):
        row = DossierFile(
            dossier_id=dossier.id, seq=seq, name=file_name, sha256=sha, state=FileState.DONE
        )
        session.add(row)
        rows.append(row)
    session.flush()
    content = {"fields": fields or {}, "findings": [], "summary": {"findings": {}}}
    session.add(
        Report(
            dossier_id=dossier.id,
            rule_pack="xian-2018",
            fingerprint=fingerprint(rows) if current else "stale",
            content=content,
        )
    )
    return dossier.id


def _parse(session, sha, pictures=()):
    session.add(Parse(sha256=sha, state="done", model_version=7, ocr_config="x"))
    session.flush()
    for page, picture in pictures:
        session.add(PagePicture(sha256=sha, page=page, picture=picture))


def _value(value, file, page=1):
    return [{"value": value, "file": file, "page": page, "confidence": 0.9}]


def test_addresses_compare_without_province_spaces_or_punctuation():
    assert address_key("陕西省西安市高新区 科技路48号（创业广场）B座") == address_key(
        "西安市高新区科技路48号创业广场B座"
    )
    assert address_key("西安市雁塔区") != address_key("西安市高新区")


def test_reuse_across_dossiers(settings):
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        for sha in ("a" * 64, "b" * 64, "c" * 64, "d" * 64):
            _parse(session, sha)
        _parse(session, "e" * 64, [(1, "f" * 64)])  # a scanned lease, page 1
        _parse(session, "9" * 64, [(2, "f" * 64), (3, "7" * 64)])  # merged: page 2 is it
        one = _dossier(
            session, "甲", [("licence.jpg", "a" * 64), ("lease.pdf", "e" * 64)],
            {"applicant.credit_code": _value("91610131MA6TXK1U2Y", "licence.jpg"),
             "premises.address": _value("陕西省西安市高新区科技路48号B座", "lease.pdf")},
        )  # fmt: skip
        two = _dossier(
            session, "乙", [("营业执照.jpg", "b" * 64), ("合并.pdf", "9" * 64)],
            {"applicant.credit_code": _value("91610131ma6txk1u2y", "营业执照.jpg"),
             "premises.address": _value("西安市高新区 科技路48号 B座", "合并.pdf", 2)},
        )  # fmt: skip
        _dossier(  # shares a file with 甲 (the same bytes), nothing else
            session, "丙", [("copy.jpg", "a" * 64)], {"premises.address": _value("西安市", "x")}
        )
        _dossier(  # a report built before its files changed: its values do not count
            session, "丁", [("d.pdf", "d" * 64)],
            {"applicant.credit_code": _value("91610131MA6TXK1U2Y", "old.pdf")}, current=False,
        )  # fmt: skip
        _dossier(  # another round
            session, "戊", [("e.pdf", "c" * 64)],
            {"applicant.credit_code": _value("91610131MA6TXK1U2Y", "e.pdf")}, round="2025",
        )  # fmt: skip

    with session_scope(settings.db_url) as session:
        found = find_reuse(session, "2026")
        everywhere = find_reuse(session, None)

    (code,) = found["credit_codes"]
    assert {d["name"] for d in code["dossiers"]} == {"甲", "乙"}
    (address,) = found["addresses"]  # "西安市" alone is too short to mean anything
    assert {(d["name"], d["page"]) for d in address["dossiers"]} == {("甲", 1), ("乙", 2)}
    (same_file,) = found["files"]
    assert {(d["name"], d["file"]) for d in same_file["dossiers"]} == {
        ("甲", "licence.jpg"),
        ("丙", "copy.jpg"),
    }
    (page,) = found["pages"]
    assert {(p["dossier"], p["file"], p["page"]) for p in page["pages"]} == {
        (one, "lease.pdf", 1),
        (two, "合并.pdf", 2),
    }
    # Across rounds the 2025 dossier joins the credit code; the stale report never does.
    (code,) = everywhere["credit_codes"]
    assert {d["name"] for d in code["dossiers"]} == {"甲", "乙", "戊"}


def test_the_same_file_twice_is_not_also_a_page_reuse(settings):
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        _parse(session, "e" * 64, [(1, "f" * 64)])
        _dossier(session, "甲", [("lease.pdf", "e" * 64)])
        _dossier(session, "乙", [("租赁.pdf", "e" * 64)])
        _dossier(session, "丙", [("a.pdf", "e" * 64), ("b.pdf", "e" * 64)])
    with session_scope(settings.db_url) as session:
        found = find_reuse(session)
    assert found["pages"] == []  # the file list says it
    assert len(found["files"]) == 1 and len(found["files"][0]["dossiers"]) == 3


def test_reparse_gives_old_parses_their_picture_hashes(settings, samples):
    from intake.pipeline import process_file
    from intake.reconcile import outdated_files
    from tests.intake.test_pipeline import _dossier_with

    dossier_id, (file_id,) = _dossier_with(settings, [samples["photo"]])
    process_file(settings, file_id)
    with session_scope(settings.db_url) as session:
        sha = session.get(DossierFile, file_id).sha256
        assert session.query(PagePicture).filter_by(sha256=sha).count() >= 1
        # As a parse made before pictures were hashed looks:
        session.query(PagePicture).delete()
        session.get(Parse, sha).model_version = 6
    assert outdated_files(settings) == [file_id]

    from click.testing import CliRunner

    from intake import cli
    from intake.settings import get_settings

    get_settings.cache_clear()
    try:
        env = {"INTAKE_DATA_DIR": str(settings.data_dir), "INTAKE_OCR_WORKERS": "2"}
        done = CliRunner().invoke(cli.main, ["reparse", "--in-process"], env=env)
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert outdated_files(settings) == []
    with session_scope(settings.db_url) as session:
        assert session.query(PagePicture).filter_by(sha256=sha).count() >= 1
        assert session.get(Report, dossier_id) is not None


def test_reparse_queues_outdated_files_for_the_workers(settings, samples):
    from redis import Redis
    from rq import Queue

    from intake.pipeline import process_file
    from intake.reconcile import queue_again
    from tests.intake.test_pipeline import _dossier_with

    queued_settings = settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:6379/9", "queue_name": "test-reparse"}
    )
    _, (file_id,) = _dossier_with(settings, [samples["text_pdf"]])
    process_file(settings, file_id)
    redis = Redis.from_url(queued_settings.redis_url)
    try:
        assert queue_again(queued_settings, [file_id, "gone"]) == 1  # a deleted id is skipped
        with session_scope(settings.db_url) as session:
            row = session.get(DossierFile, file_id)
            assert row.state == FileState.QUEUED and row.job_id.startswith(f"parse-{file_id}-r")
        assert Queue("test-reparse", connection=redis).job_ids == [row.job_id]
    finally:
        redis.flushdb()
