"""The two jobs of the service, used alike by the CLI (in-process) and the rq worker:
parse one file (once per content hash) and give that file's own feedback at once, and
build a dossier's report when its last file is done."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extractors.errors import InputFileError, InternalParseError
from extractors.model import MODEL_VERSION, Document, Origin
from extractors.registry import parse_file
from intake.db import session_scope
from intake.dossiers import Needs, fingerprint, refuse_if_purged
from intake.feedback import file_feedback
from intake.models import (
    Dossier,
    DossierFile,
    FileState,
    PagePicture,
    Parse,
    ParseState,
    Report,
    ReportVersion,
    Review,
    utcnow,
)
from intake.overview import store_summary
from intake.reports.build import build_report_content
from intake.settings import Settings
from intake.storage import FileStore

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
SUPERSEDED = "superseded"  # process_file's answer for a job that is no longer the file's
PURGED = "purged"  # process_file's answer for a file of a purged dossier (intake purge)
TERMINAL = [state for state in FileState if state.terminal]


def process_file(
    settings: Settings,
    file_id: str,
    progress: Progress | None = None,
    job_id: str | None = None,
) -> str:
    """Parse one dossier file and record the outcome; returns the file's final state.

    A permanent failure (corrupt, encrypted …) is recorded as the file's failed state; a
    retryable one (OCR timed out) is re-raised for the queue to retry. Run by the queue
    (``job_id``), it records nothing unless that job is still the file's current one and the
    file is not finished: a job the reconciler superseded, or one rq runs again after its
    outcome was stored, must not turn a file back. Called in-process it is unconditional."""
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        row = session.get(DossierFile, file_id)
        if row is None:  # deleted or replaced by the applicant while it waited
            log.info("file %s is no longer in its dossier; nothing to do", file_id)
            return "deleted"
        if row.dossier.purged_at is not None:  # its blob is gone; its row is the record
            log.info("file %s belongs to a purged dossier; nothing to do", file_id)
            return PURGED
        if job_id is None:
            if row.state == FileState.FAILED:
                return row.state  # failed at upload (empty, too large, an unsafe archive)
            row.state, row.progress, row.feedback = FileState.PROCESSING, "parsing", None
        elif not set_if_current(
            session, file_id, job_id, state=FileState.PROCESSING, progress="parsing", feedback=None
        ):
            log.info("job %s of file %s is superseded or done; nothing to do", job_id, file_id)
            return SUPERSEDED
        sha, name, rule_pack = row.sha256, row.name, row.dossier.rule_pack
        cached = session.get(Parse, sha)
        outcome = ParseOutcome.of(cached) if parse_is_current(cached, settings) else None

    document = None
    if outcome is None or (outcome.state == ParseState.DONE and not store.has_document(sha)):
        outcome, document = _parse(settings, store, file_id, sha, progress, job_id)

    final = FileState.DONE if outcome.state == ParseState.DONE else FileState.FAILED
    feedback = None
    if final == FileState.DONE:
        feedback = _feedback(store, sha, document, name, rule_pack)
    with session_scope(settings.db_url) as session:
        recorded = set_if_current(
            session,
            file_id,
            job_id,
            state=final,
            progress=None,
            pages=outcome.pages,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            feedback=feedback,
            **({"media_type": outcome.media_type} if outcome.media_type else {}),
        )
        dossier_id = session.scalar(select(DossierFile.dossier_id).where(DossierFile.id == file_id))
    if not recorded:  # deleted, replaced or superseded while it was being parsed
        log.info("file %s changed while job %s parsed it; outcome dropped", file_id, job_id)
        return "deleted" if dossier_id is None else SUPERSEDED
    maybe_build_report(settings, dossier_id)
    return final


def _feedback(
    store: FileStore, sha: str, document: Document | None, name: str, rule_pack: str
) -> dict | None:
    """The file's own feedback (``intake.feedback``), recorded with its done state so that
    the file is never shown done without it. It is a courtesy before the dossier's report:
    a defect in it must never fail the parse."""
    try:
        return file_feedback(name, document or store.load_document(sha), rule_pack)
    except Exception:
        log.exception("feedback on file %s (%s) failed", name, sha[:12])
        return None


def set_if_current(session: Session, file_id: str, job_id: str | None, **values) -> bool:
    """Compare-and-set a file's row, in one UPDATE: only while ``job_id`` is its current job
    and the file is not finished (without a job, unconditionally). Whether it changed."""
    where = [DossierFile.id == file_id]
    if job_id is not None:
        where += [DossierFile.job_id == job_id, DossierFile.state.not_in(TERMINAL)]
    changed = session.execute(
        update(DossierFile)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1


def parse_is_current(parse: Parse | None, settings: Settings) -> bool:
    """Was this parse made by today's document model and OCR set-up? (Else it is redone.)"""
    return (
        parse is not None
        and parse.model_version == MODEL_VERSION
        and parse.ocr_config == settings.ocr_config
    )


class ParseOutcome(NamedTuple):
    """What parsing one content hash gave: stored in ``parses`` and copied to each file."""

    state: ParseState
    pages: int | None = None
    media_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    ocr_pages: int | None = None  # of ``pages``, those read by OCR

    @classmethod
    def of(cls, parse: Parse) -> ParseOutcome:
        return cls(
            ParseState(parse.state),
            parse.pages,
            parse.media_type,
            parse.error_code,
            parse.error_message,
            parse.ocr_pages,
        )


def _parse(
    settings: Settings,
    store: FileStore,
    file_id: str,
    sha: str,
    progress: Progress | None,
    job_id: str | None = None,
) -> tuple[ParseOutcome, Document | None]:
    """Parse the blob ``sha``: its outcome, and the document when it was read."""
    writer = _ProgressWriter(settings, file_id, progress, job_id)
    started = time.monotonic()
    try:
        document = parse_file(store.blob_path(sha), settings.parse_options(writer))
    except InputFileError as exc:
        if exc.retryable:
            raise
        log.info("file %s (%s) failed: %s", file_id, sha[:12], exc)
        outcome = ParseOutcome(
            ParseState.FAILED, error_code=str(exc.code), error_message=exc.message
        )
        if not isinstance(exc, InternalParseError):  # a defect of ours may be fixed later
            _record_parse(settings, sha, outcome, None, started)
        return outcome, None
    store.save_document(sha, document)
    ocr_pages = sum(page.origin == Origin.OCR for page in document.pages)
    outcome = ParseOutcome(
        ParseState.DONE, len(document.pages), document.media_type, ocr_pages=ocr_pages
    )
    pictures = {(page.number, p) for page in document.pages for p in page.pictures}
    _record_parse(settings, sha, outcome, document.parser, started, pictures)
    return outcome, document


def _record_parse(
    settings: Settings,
    sha: str,
    outcome: ParseOutcome,
    parser: str | None,
    started: float,
    pictures: set[tuple[int, str]] | None = None,
) -> None:
    """Store the outcome of parsing ``sha``, and its pages' picture hashes (for the bureau's
    view of reuse across dossiers)."""
    with session_scope(settings.db_url) as session:
        session.execute(delete(PagePicture).where(PagePicture.sha256 == sha))
        session.merge(
            Parse(
                sha256=sha,
                state=outcome.state,
                parser=parser,
                media_type=outcome.media_type,
                pages=outcome.pages,
                ocr_pages=outcome.ocr_pages,
                error_code=outcome.error_code,
                error_message=outcome.error_message,
                duration_ms=int((time.monotonic() - started) * 1000),
                created_at=utcnow(),
                model_version=MODEL_VERSION,
                ocr_config=settings.ocr_config,
            )
        )
        session.flush()
        session.add_all(
            PagePicture(sha256=sha, page=page, picture=picture)
            for page, picture in sorted(pictures or ())
        )


class _ProgressWriter:
    """Forwards progress to the caller and, at most once a second, to the file's row
    (where the API and the web pages read "OCR 3/12"), while its job is the file's current
    one."""

    def __init__(
        self,
        settings: Settings,
        file_id: str,
        forward: Progress | None,
        job_id: str | None = None,
    ) -> None:
        self.settings, self.file_id, self.forward = settings, file_id, forward
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.forward is not None:
            self.forward(stage, done, total)
        now = time.monotonic()
        if now - self.last < 1.0 and done < total:
            return
        self.last = now
        try:
            with session_scope(self.settings.db_url) as session:
                set_if_current(
                    session, self.file_id, self.job_id, progress=f"{stage} {done}/{total}"
                )
        except Exception:  # progress is a courtesy; never fail a parse over it
            log.debug("progress write failed", exc_info=True)


def maybe_build_report(
    settings: Settings, dossier_id: str, reason: str = "材料处理完成", actor: str | None = None
) -> bool:
    """Build the report when every file of the dossier has finished (done or failed). A
    dossier left with no files has no current report (its versions stay). A purged
    dossier's report is history: DossierPurgedError."""
    with session_scope(settings.db_url) as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is not None:
            refuse_if_purged(dossier, Needs.REBUILD, settings.timezone)
        states = session.scalars(
            select(DossierFile.state).where(DossierFile.dossier_id == dossier_id)
        ).all()
        if not states:
            session.execute(delete(Report).where(Report.dossier_id == dossier_id))
            return False
    if not all(FileState(s).terminal for s in states):
        return False
    build_report(settings, dossier_id, reason=reason, actor=actor)
    return True


def build_report(
    settings: Settings,
    dossier_id: str,
    rule_pack: str | None = None,
    reason: str = "材料处理完成",
    actor: str | None = None,
) -> dict:
    """(Re)build and store the dossier's report from the stored parses, with the reviewers'
    corrections and acceptances applied: no file is parsed or OCR'd again. Every build is
    kept as a numbered version, with why it was built. Two builds at once (two workers
    finishing a dossier's last files, a review during a build) race for the next version
    number: the loser builds again on top of the winner's. A purged dossier's parses are
    gone and its report is history: DossierPurgedError, nothing written."""
    for attempt in range(3):
        try:
            return _build_report(settings, dossier_id, rule_pack, reason, actor)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("report of %s built concurrently; building again", dossier_id)
    raise AssertionError("unreachable")


def _build_report(
    settings: Settings, dossier_id: str, rule_pack: str | None, reason: str, actor: str | None
) -> dict:
    store = FileStore(settings.data_dir)
    started = time.perf_counter()
    with session_scope(settings.db_url) as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            raise LookupError(f"no dossier {dossier_id}")
        refuse_if_purged(dossier, Needs.REBUILD, settings.timezone)
        if rule_pack is not None:
            dossier.rule_pack = rule_pack
        files = list(dossier.files)
        reviews = list(
            session.scalars(
                select(Review).where(Review.dossier_id == dossier_id).order_by(Review.created_at)
            )
        )
        content = build_report_content(dossier, files, store, reviews)
        latest = session.scalar(
            select(func.max(ReportVersion.version)).where(ReportVersion.dossier_id == dossier_id)
        )
        content["version"] = (latest or 0) + 1
        session.add(
            ReportVersion(
                dossier_id=dossier_id,
                version=content["version"],
                reason=reason,
                actor=actor,
                rule_pack=dossier.rule_pack,
                content=content,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )
        )
        report = session.get(Report, dossier_id) or Report(dossier_id=dossier_id)
        report.rule_pack = dossier.rule_pack
        report.fingerprint = fingerprint(files)
        report.content = content
        store_summary(report)  # the verdict, counts and key figures the round views read
        report.built_at = utcnow()
        session.merge(report)
    return content
