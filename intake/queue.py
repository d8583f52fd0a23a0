"""Putting work on the rq queues, quick files ahead of OCR.

Two queues (lanes): ``<queue_name>`` for files that parse in a second or two (a DOCX, a text
PDF, anything that fails fast) and ``<queue_name>-ocr`` for those that need OCR or are
large (pictures, scanned PDFs, very long PDFs). A worker listens to the quick queue first
(rq takes jobs in the order of its queues), so a DOCX uploaded after scans is parsed before
those still waiting (issue 14: first feedback within 3 s of a text file's upload). rq does
not preempt: a scan a worker has started is finished first, hence workers that serve the
quick queue only (``intake worker --queues quick``). The quick queue keeps the old single
queue's name: jobs queued before an upgrade still run.

The lane is decided when a job is queued, from what is cheap to know without parsing: the
sniffed media type, the size and, for a PDF, whether a few of its pages (the first two,
the middle, the last) have a text layer."""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from extractors.sniff import DOCX, PDF, ZIP
from intake.settings import Settings

log = logging.getLogger(__name__)


class Lane(StrEnum):
    """Which queue a parse job goes on; the values are what ``INTAKE_WORKER_QUEUES`` and
    ``intake worker --queues`` take."""

    QUICK = "quick"
    OCR = "ocr"


PDF_PEEK_SECONDS = 1.0  # a PDF that takes longer to look at is not quick to parse either
# A PDF larger than this, or longer than QUICK_MAX_PAGES, goes on the OCR queue however it
# starts: text pages parse at ~110-240 a second, but its later pages may be scans.
QUICK_MAX_BYTES = 20 << 20
QUICK_MAX_PAGES = 200
# A page with fewer drawn paths than this (rules, a border), no picture and nearly no text
# is blank: the parser OCRs it, in a moment.
BLANK_MAX_PATHS = 20
# Without a look inside (PDFium busy elsewhere for too long): a small PDF is taken as text.
UNSEEN_QUICK_BYTES = 1 << 20


@lru_cache(maxsize=4)
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def queue_name(settings: Settings, lane: Lane = Lane.QUICK) -> str:
    """The rq queue of ``lane``: the quick one keeps the configured (and old) name."""
    return settings.queue_name if lane == Lane.QUICK else f"{settings.queue_name}-{lane}"


def get_queue(settings: Settings, lane: Lane = Lane.QUICK) -> Queue:
    return Queue(
        queue_name(settings, lane),
        connection=redis_connection(settings.redis_url),
        default_timeout=settings.job_timeout,
    )


def parse_lanes(value: str) -> list[Lane]:
    """Lanes from ``"quick,ocr"`` (in priority order, as given); a ValueError in Chinese
    naming what is wrong."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    try:
        lanes = [Lane(name) for name in names]
    except ValueError:
        raise ValueError(
            f"无法识别的队列：{value}（可选：{'、'.join(lane.value for lane in Lane)}，用逗号分隔）"
        ) from None
    if not lanes:
        raise ValueError("至少需要指定一个队列（quick 或 ocr）")
    return list(dict.fromkeys(lanes))


def worker_queues(settings: Settings, lanes: str | None = None) -> list[Queue]:
    """The queues a worker serves, in the order it takes jobs: ``lanes`` (``--queues``)
    or ``settings.worker_queues``; by default quick, then OCR."""
    return [get_queue(settings, lane) for lane in parse_lanes(lanes or settings.worker_queues)]


def choose_lane(media_type: str | None, path: Path | None, size: int | None = None) -> Lane:
    """The lane of a file of ``media_type`` stored at ``path``. What cannot be read or is
    not taken (no media type: the sniffer refused it; an encrypted or corrupt PDF) fails in
    a moment: quick. Pictures need OCR, and so would an archive: uploads expand one into
    its members, each queued by its own type, so an archive row is never queued today."""
    if media_type is None or media_type == DOCX:
        return Lane.QUICK
    if media_type == PDF and path is not None:
        return _pdf_lane(path, size if size is not None else _size(path))
    if media_type == PDF:
        return Lane.QUICK  # nothing stored to parse: it fails at once
    if media_type.startswith("image/") or media_type == ZIP:
        return Lane.OCR
    return Lane.QUICK  # a type no parser takes: refused at once


def lane_of_file(
    settings: Settings, media_type: str | None, sha256: str | None, size: int | None
) -> Lane:
    """The lane of a stored dossier file (its row's media type, content hash and size)."""
    from intake.storage import FileStore

    path = FileStore(settings.data_dir).blob_path(sha256) if sha256 else None
    return choose_lane(media_type, path, size)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _pdf_lane(path: Path, size: int) -> Lane:
    if size > QUICK_MAX_BYTES:
        return Lane.OCR
    lock = _pdfium_lock()
    if not lock.acquire(timeout=PDF_PEEK_SECONDS):
        log.info("PDFium busy; %s queued by its size alone", path.name)
        return Lane.QUICK if size <= UNSEEN_QUICK_BYTES else Lane.OCR
    try:
        return _peek_pdf(path)
    finally:
        lock.release()


def peek_pages(count: int) -> list[int]:
    """The pages of a ``count``-page PDF looked at (0-based): the first two, the middle and
    the last. A dossier bound into one PDF (合订本) starts with typed pages and carries its
    scanned licence, audit report or lease further in (seen on the dev corpus: pages 6-14
    and 18-21 of 21 scanned)."""
    return sorted({i for i in (0, 1, count // 2, count - 1) if 0 <= i < count})


def _peek_pdf(path: Path) -> Lane:
    """Look at a few pages of a PDF (:func:`peek_pages`, for at most PDF_PEEK_SECONDS):
    any page that takes real OCR makes it an OCR job, as does a long one."""
    from extractors.parsers.pdf import MIN_TEXT_CHARS, read_by_ocr  # before the clock starts

    started = time.monotonic()
    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError):
        return Lane.QUICK  # encrypted or corrupt: the parser refuses it at once
    try:
        count = len(pdf)
        if count > QUICK_MAX_PAGES:
            return Lane.OCR
        for index in peek_pages(count):
            if time.monotonic() - started > PDF_PEEK_SECONDS:
                return Lane.OCR
            try:
                page = pdf[index]
            except pdfium.PdfiumError:
                continue  # a broken page: the parser skips it
            try:
                if _ocr_work(page, read_by_ocr(page), MIN_TEXT_CHARS):
                    return Lane.OCR
            finally:
                page.close()
        return Lane.QUICK
    except pdfium.PdfiumError:
        return Lane.QUICK
    finally:
        pdf.close()


def _ocr_work(page: pdfium.PdfPage, by_ocr: bool, min_chars: int) -> bool:
    """Does reading ``page`` take real OCR? The parser reads by OCR (``by_ocr``) a page
    without usable text: a scan or photo, text drawn as outlines, text whose font has no
    Unicode, but also a nearly blank page (a cover with a title, a separator), whose OCR
    takes a moment: fewer than ``min_chars`` characters, no picture and few drawn paths."""
    if not by_ocr:
        return False
    textpage = page.get_textpage()
    try:
        if textpage.count_chars() >= min_chars:
            return True  # text there, unreadable: the whole page is OCR'd
    finally:
        textpage.close()
    drawn = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH))
    for paths, obj in enumerate(drawn, start=1):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE or paths > BLANK_MAX_PATHS:
            return True  # a picture; drawn text or a drawing
    return False


def _pdfium_lock() -> threading.RLock:
    """The process's one PDFium lock (PDFium must not be entered from two threads; the PDF
    parser and the page pictures of reports take the same lock)."""
    from extractors.parsers.pdf import PDFIUM_LOCK

    return PDFIUM_LOCK


def parse_job_id(file_id: str, attempt: int = 0) -> str:
    """The id of a file's parse job: ``parse-{file}`` first, ``-r{attempt}`` when the
    reconciler or a reparse queues it again (a new id: the old job may linger in a registry)."""
    return f"parse-{file_id}" + (f"-r{attempt}" if attempt else "")


def enqueue_parse(queue: Queue, file_id: str, job_id: str | None = None) -> str:
    """Queue a file's parse job on ``queue`` (its lane's: :func:`get_queue` of
    :func:`lane_of_file`) under ``job_id`` (the one its row already holds; by default its
    first id)."""
    from worker.jobs import on_parse_failure, parse_file_job

    job = queue.enqueue_call(
        parse_file_job,
        args=(file_id,),
        job_id=job_id or parse_job_id(file_id),
        retry=Retry(max=2, interval=[10, 60]),
        on_failure=Callback(on_parse_failure),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    return job.id


def discard_job(connection: Redis, job_id: str | None) -> None:
    """Delete a superseded job from Redis (its queue and every registry), so rq never runs
    it again nor reports it abandoned; best-effort, its outcome is ignored anyway."""
    if not job_id:
        return
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass
    except RedisError:
        log.warning("cannot delete superseded job %s", job_id, exc_info=True)
