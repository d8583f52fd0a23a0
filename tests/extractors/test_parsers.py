"""Each parser on generated inputs, through the registry (type from content)."""

from __future__ import annotations

import pytest

from extractors.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    ErrorCode,
    ImageTooLargeError,
    InputFileError,
    UnsupportedTypeError,
)
from extractors.model import Document, Origin
from extractors.registry import parse_file
from extractors.sniff import DOCX, PDF, PNG, sniff
from extractors.text import compact
from tests.fixtures import factory


def test_sniff_uses_content_not_name(samples):
    assert sniff(samples["text_pdf"]) == PDF
    assert sniff(samples["docx"]) == DOCX
    assert sniff(samples["png_named_pdf"]) == PNG


def test_text_pdf_words_boxes_and_table(samples, options):
    doc = parse_file(samples["text_pdf"], options)
    assert [p.origin for p in doc.pages] == [Origin.TEXT, Origin.TEXT]
    first = doc.pages[0]
    assert first.lines[0].text.replace(" ", "") == "审计报告"
    x0, y0, x1, y1 = first.lines[0].bbox
    assert 0 <= x0 < x1 <= first.width and 0 <= y0 < y1 < first.height / 4  # near the top
    assert "注册会计师" in compact(first.text)
    # A statement's ruled table is read as lines (its rows), not through pdfplumber: the
    # table finder runs only on form pages (three form labels or more).
    assert doc.pages[1].tables == []
    assert "资产总计 1,234,567.89 1,000,000.00" in doc.pages[1].text


def test_a_form_table_is_read_cell_by_cell(tmp_path, options):
    form = [
        ["单位名称", "西安测试有限公司", "统一社会信用代码", "91610131MA6TXK1U2Y"],
        ["法定代表人", "王五", "成立时间", "2013年4月18日"],
        ["资产总额（元）", "3,265,000.00", "服务人员数（人）", "26"],
    ]
    pdf = factory.text_pdf(tmp_path / "form.pdf", [["基本情况表"]], table=form)
    (table,) = parse_file(pdf, options).pages[0].tables
    assert table.rows[0] == form[0] and table.rows[2][1] == "3,265,000.00"


def test_scanned_pdf_is_ocrd_page_by_page(samples, options):
    seen = []
    options.progress = lambda stage, done, total: seen.append((stage, done, total))
    doc = parse_file(samples["scanned_pdf"], options)
    assert [p.origin for p in doc.pages] == [Origin.OCR, Origin.OCR]
    assert "租赁合同" in compact(doc.pages[0].text)
    assert "营业执照" in compact(doc.pages[1].text)
    assert doc.pages[0].conf and doc.pages[0].conf > 0.5
    # boxes are in PDF points, like text pages
    assert doc.pages[0].unit == "pt" and doc.pages[0].lines[0].bbox[2] <= doc.pages[0].width
    assert ("ocr", 2, 2) in seen


def test_docx_paragraphs_tables_and_page_breaks(samples, options):
    doc = parse_file(samples["docx"], options)
    assert len(doc.pages) == 2
    assert doc.pages[0].lines[0].text == "西安市中小企业公共服务示范平台申请报告"
    assert doc.pages[1].tables[0].rows == [["资产总额", "326.50万元"], ["服务人员", "26人"]]
    assert "资产总额 326.50万元" in doc.pages[1].text  # table rows in reading order too


def test_photo_is_turned_upright_by_exif(samples, options):
    doc = parse_file(samples["photo"], options)
    page = doc.pages[0]
    assert page.rotation == 270 and page.width < page.height  # stored sideways, read upright
    assert "营业执照" in compact(page.text)
    assert "西安测试有限公司" in compact(page.text)


def test_png_with_pdf_name_is_read_as_image(samples, options):
    doc = parse_file(samples["png_named_pdf"], options)
    assert doc.parser == "image" and "备案" in compact(doc.text)


@pytest.mark.parametrize(
    ("sample", "error", "code"),
    [
        ("truncated_pdf", CorruptFileError, ErrorCode.CORRUPT),
        ("encrypted_pdf", EncryptedFileError, ErrorCode.ENCRYPTED),
        ("empty", EmptyFileError, ErrorCode.EMPTY),
        ("garbage", UnsupportedTypeError, ErrorCode.UNSUPPORTED_TYPE),
        ("bomb", ImageTooLargeError, ErrorCode.IMAGE_TOO_LARGE),
        ("truncated_jpeg", CorruptFileError, ErrorCode.CORRUPT),
    ],
)
def test_bad_files_give_typed_errors_with_chinese_messages(samples, options, sample, error, code):
    with pytest.raises(error) as info:
        parse_file(samples[sample], options)
    assert info.value.code == code
    assert info.value.message and all(ord(c) < 0x3000 or c for c in info.value.message)
    assert any("\u4e00" <= c <= "\u9fff" for c in info.value.message)


def test_a_crashing_parser_becomes_an_internal_error(samples, options):
    from extractors.registry import ParserRegistry

    class Crashing:
        name = "crashing"

        def score(self, media_type):
            return 10

        def parse(self, path, options):
            raise ZeroDivisionError("boom")

    registry = ParserRegistry()
    registry.register(Crashing())
    with pytest.raises(InputFileError) as info:
        parse_file(samples["text_pdf"], options, registry)
    assert info.value.code == ErrorCode.INTERNAL


def test_document_round_trips_through_storage_format(samples, options):
    doc = parse_file(samples["text_pdf"], options)
    again = Document.from_gzip_json(doc.to_gzip_json())
    assert again == doc


def test_a_blank_scan_parses_to_an_empty_ocr_page(tmp_path, options):
    from PIL import Image

    blank = tmp_path / "blank.pdf"
    Image.new("L", (1654, 2339), 255).save(blank, "PDF", resolution=200)
    doc = parse_file(blank, options)
    assert [p.origin for p in doc.pages] == [Origin.OCR]
    assert doc.pages[0].text == ""


def test_the_pdf_parser_waits_for_pdfium_and_lets_go_while_ocr_reads(samples, options):
    """PDFium must not be entered from two threads (the API parses an annual summary inline
    while page pictures render): the parser takes the process's PDFium lock, and not while
    OCR reads a page, so others render meanwhile."""
    import threading

    from extractors.parsers.pdf import PDFIUM_LOCK

    held_during_ocr: list[bool] = []
    progress = options.progress

    def watch(stage: str, done: int, total: int) -> None:
        if stage == "ocr":  # a page was read: may another thread enter PDFium now?
            free: list[bool] = []

            def probe() -> None:
                free.append(PDFIUM_LOCK.acquire(blocking=False))
                if free[0]:
                    PDFIUM_LOCK.release()

            other = threading.Thread(target=probe)
            other.start()
            other.join()
            held_during_ocr.append(not free[0])
        progress(stage, done, total)

    options.progress = watch
    outcome: list[Document] = []
    with PDFIUM_LOCK:  # another thread is in PDFium: the parse waits
        worker = threading.Thread(
            target=lambda: outcome.append(parse_file(samples["scanned_pdf"], options))
        )
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and not outcome
    worker.join(timeout=120)
    assert outcome and [p.origin for p in outcome[0].pages] == [Origin.OCR, Origin.OCR]
    assert held_during_ocr and not any(held_during_ocr)
