"""Which queue a parse job goes on (intake.queue.choose_lane): quick files (DOCX, text PDFs,
whatever fails at once) ahead of OCR work (pictures, scans, archives, very long PDFs).
Real files made by the fixture factory, sniffed as the upload sniffs them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import intake.queue as queue
from extractors.parsers.pdf import PDFIUM_LOCK
from extractors.sniff import sniff
from intake.queue import Lane, choose_lane, get_queue, parse_lanes, queue_name, worker_queues
from intake.settings import Settings
from tests.fixtures import factory

TEXT = [
    "审计报告",
    "我们审计了西安测试有限公司2017年12月31日的资产负债表。",
    "资产总计 3,265,000.00",
]
LICENCE = ["营业执照", "统一社会信用代码 91610131MA6W0X1234", "名称 西安测试有限公司"]


def lane(path: Path, size: int | None = None) -> Lane:
    return choose_lane(sniff(path), path, size)


def test_a_docx_is_quick(tmp_path):
    assert lane(factory.docx_file(tmp_path / "申请报告.docx", [TEXT, TEXT])) == Lane.QUICK


def test_a_text_pdf_is_quick(tmp_path):
    assert lane(factory.text_pdf(tmp_path / "审计报告.pdf", [TEXT] * 5)) == Lane.QUICK


def test_a_text_pdf_with_a_seal_picture_is_quick(tmp_path):
    seal = factory.sealed_png(tmp_path / "seal.png", ["专用章"])
    assert lane(factory.text_pdf(tmp_path / "证明.pdf", [TEXT], image=seal)) == Lane.QUICK


def test_a_scanned_pdf_needs_ocr(tmp_path):
    assert lane(factory.scanned_pdf(tmp_path / "审计报告.pdf", [TEXT] * 2)) == Lane.OCR


def test_a_pdf_whose_second_page_is_a_scan_needs_ocr(tmp_path):
    text = factory.text_pdf(tmp_path / "text.pdf", [TEXT])
    scan = factory.scanned_pdf(tmp_path / "scan.pdf", [LICENCE])
    merged = factory.merged_pdf(tmp_path / "merged.pdf", [text, scan, text])
    assert lane(merged) == Lane.OCR


def test_a_nearly_blank_cover_is_not_ocr_work(tmp_path):
    # The parser OCRs a page with a handful of characters, but a blank one takes a moment.
    pdf = factory.text_pdf(tmp_path / "审计报告.pdf", [["审计报告"], [], TEXT])
    assert lane(pdf) == Lane.QUICK


def test_a_page_drawn_without_a_text_layer_is_ocr_work(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "outlined.pdf"  # text converted to outlines: strokes, no characters
    c = canvas.Canvas(str(path))
    for row in range(8):
        for col in range(6):
            p = c.beginPath()
            p.moveTo(60 + col * 80, 700 - row * 60)
            p.curveTo(80 + col * 80, 730 - row * 60, 100 + col * 80, 690 - row * 60, 120, 700)
            c.drawPath(p)
    c.showPage()
    c.save()
    assert lane(path) == Lane.OCR


def test_a_bound_dossier_with_scans_further_in_needs_ocr(tmp_path):
    # Typed application pages first, the scanned licence at the end (a 合订本).
    text = factory.text_pdf(tmp_path / "text.pdf", [TEXT] * 5)
    scan = factory.scanned_pdf(tmp_path / "scan.pdf", [LICENCE])
    merged = factory.merged_pdf(tmp_path / "合订本.pdf", [text, scan])
    assert lane(merged) == Lane.OCR


def test_the_pages_looked_at_are_the_first_two_the_middle_and_the_last():
    assert queue.peek_pages(0) == []
    assert queue.peek_pages(1) == [0]
    assert queue.peek_pages(3) == [0, 1, 2]
    assert queue.peek_pages(21) == [0, 1, 10, 20]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: factory.png(p / "执照.png", LICENCE),
        lambda p: factory.photo_jpeg(p / "执照.jpg", LICENCE),
        lambda p: _tiff(p / "执照.tif"),
    ],
    ids=["png", "jpeg", "tiff"],
)
def test_pictures_need_ocr(tmp_path, make):
    assert lane(make(tmp_path)) == Lane.OCR


def _tiff(path: Path) -> Path:
    factory.page_image(LICENCE).save(path, "TIFF")
    return path


def test_an_archive_goes_with_ocr_work(tmp_path):
    # Uploads expand a ZIP into its members, each queued by its own type; an archive row
    # itself only fails at upload. Should one reach the queue, it is not quick work.
    archive = factory.zip_of(tmp_path / "材料.zip", {"a.txt": b"a", "b.txt": b"b"})
    assert sniff(archive) == "application/zip"
    assert lane(archive) == Lane.OCR


def test_a_corrupt_pdf_is_quick_it_fails_at_once(tmp_path):
    whole = factory.text_pdf(tmp_path / "whole.pdf", [TEXT] * 3)
    broken = factory.truncated(tmp_path / "broken.pdf", whole)
    assert lane(broken) == Lane.QUICK
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert lane(garbage) == Lane.QUICK


def test_an_encrypted_pdf_is_quick_it_fails_at_once(tmp_path):
    locked = factory.text_pdf(tmp_path / "locked.pdf", [TEXT], password="secret")
    assert lane(locked) == Lane.QUICK


def test_a_file_the_sniffer_refused_or_a_missing_blob_is_quick(tmp_path):
    assert choose_lane(None, tmp_path / "whatever") == Lane.QUICK  # failed to sniff
    assert choose_lane("application/pdf", tmp_path / "gone.pdf") == Lane.QUICK


def test_a_large_or_long_pdf_needs_the_ocr_queue(tmp_path, monkeypatch):
    pdf = factory.text_pdf(tmp_path / "年报.pdf", [TEXT] * 4)
    assert lane(pdf, size=queue.QUICK_MAX_BYTES + 1) == Lane.OCR
    monkeypatch.setattr(queue, "QUICK_MAX_PAGES", 3)
    assert lane(pdf) == Lane.OCR


def test_looking_inside_a_pdf_is_time_bounded(tmp_path, monkeypatch):
    pdf = factory.text_pdf(tmp_path / "审计报告.pdf", [TEXT] * 3)
    monkeypatch.setattr(queue, "PDF_PEEK_SECONDS", 0.0)
    assert lane(pdf) == Lane.OCR  # slow to look at: not taken for quick


def test_while_pdfium_is_busy_a_pdf_is_queued_by_its_size(tmp_path, monkeypatch):
    scan = factory.scanned_pdf(tmp_path / "扫描件.pdf", [LICENCE])
    monkeypatch.setattr(queue, "PDF_PEEK_SECONDS", 0.05)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:  # another thread of the API renders a report's page pictures
        with PDFIUM_LOCK:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(5)
        assert lane(scan, size=100_000) == Lane.QUICK  # small: most likely text
        assert lane(scan, size=queue.UNSEEN_QUICK_BYTES + 1) == Lane.OCR
    finally:
        release.set()
        holder.join()
    assert lane(scan) == Lane.OCR  # looked at once PDFium is free


def test_queue_names_the_quick_one_keeps_the_old_name():
    settings = Settings(queue_name="intake-x", redis_url="redis://127.0.0.1:6379/15")
    assert queue_name(settings) == "intake-x"  # jobs queued before the upgrade still run
    assert get_queue(settings, Lane.QUICK).name == "intake-x"
    assert get_queue(settings, Lane.OCR).name == "intake-x-ocr"
    assert [q.name for q in worker_queues(settings)] == ["intake-x", "intake-x-ocr"]
    assert [q.name for q in worker_queues(settings, "quick")] == ["intake-x"]
    only = settings.model_copy(update={"worker_queues": "quick"})
    assert [q.name for q in worker_queues(only)] == ["intake-x"]


def test_lanes_are_parsed_in_order_and_bad_names_are_refused_in_chinese():
    assert parse_lanes("quick,ocr") == [Lane.QUICK, Lane.OCR]
    assert parse_lanes(" OCR , quick,ocr") == [Lane.OCR, Lane.QUICK]
    with pytest.raises(ValueError, match="无法识别的队列：fast"):
        parse_lanes("fast")
    with pytest.raises(ValueError, match="至少需要指定一个队列"):
        parse_lanes(" , ")
