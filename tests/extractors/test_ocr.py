"""The OCR engines behind one interface: tesseract's figure re-read, and RapidOCR."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from extractors.fields import visual_rows
from extractors.model import Page
from extractors.ocr import RapidOcrEngine, TesseractEngine, engine
from tests.fixtures import factory


def figures_page(path: Path) -> Path:
    """A scanned statement's rows: label, row number, two amounts, as a table prints them."""
    image = Image.new("L", (1654, 700), 255)
    draw = ImageDraw.Draw(image)
    font = factory._font(34)
    rows = [
        ("资产负债表", "", "", ""),
        ("货币资金", "1", "1,340,195.16", "846,592.36"),
        ("资产总计", "14", "6,300,572.61", "6,744,906.00"),
    ]
    for i, (label, number, now, before) in enumerate(rows):
        y = 80 + i * 110
        draw.text((120, y), label, fill=0, font=font)
        draw.text((560, y), number, fill=0, font=font)
        draw.text((760, y), now, fill=0, font=font)
        draw.text((1180, y), before, fill=0, font=font)
    image.save(path, format="PPM")
    return path


def _lines(result) -> list[str]:
    page = Page(number=1, origin="ocr", blocks=result.blocks)
    return [line.text for line in visual_rows(page)]


def test_tesseract_reads_the_figures_of_a_statement(tmp_path):
    path = figures_page(tmp_path / "p.pgm")
    result = TesseractEngine().read(path, 1654, 700)
    total = next(line for line in _lines(result) if "资产总计" in line)
    assert "6,300,572.61" in total and "14" in total


def test_the_figure_pass_keeps_a_row_number_apart(tmp_path):
    path = figures_page(tmp_path / "p.pgm")
    plain = TesseractEngine(digits=False).read(path, 1654, 700)
    reread = TesseractEngine(digits=True).read(path, 1654, 700)
    for result in (plain, reread):
        words = [w.text for b in result.blocks for ln in b.lines for w in ln.words]
        assert "6,300,572.61" in words and "146,300,572.61" not in words


def test_rapidocr_behind_the_same_interface(tmp_path):
    path = figures_page(tmp_path / "p.pgm")
    result = RapidOcrEngine().read(path, 1654, 700)
    lines = _lines(result)
    assert any("资产总计" in ln and "6,300,572.61" in ln for ln in lines), lines
    assert all(0 <= w.conf <= 1 for b in result.blocks for ln in b.lines for w in ln.words)
    assert result.width == 1654 and result.conf is not None


def test_engine_setting():
    assert engine("tesseract", "chi_sim", 6, 30.0, digits=False) == TesseractEngine(
        lang="chi_sim", psm=6, timeout=30.0, digits=False
    )
    assert isinstance(engine("rapidocr", "chi_sim", 4, 30.0), RapidOcrEngine)
    try:
        engine("abbyy", "chi_sim", 4, 30.0)
    except ValueError as exc:
        assert "abbyy" in str(exc)
    else:
        raise AssertionError("an unknown engine must be refused")
