"""The OCR engines behind one interface: tesseract's figure re-read, and RapidOCR (PP-OCRv6,
the default for pictures, and PP-OCRv4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from extractors.errors import OcrFailedError
from extractors.fields import visual_rows
from extractors.model import Page
from extractors.ocr import (
    RapidOcrEngine,
    TesseractEngine,
    engine,
    engines,
    rapidocr_available,
)
from extractors.ocr_rapid3 import RapidOcr3Engine
from extractors.registry import ParseOptions
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


@pytest.mark.parametrize("make", [
    pytest.param(RapidOcr3Engine, id="rapidocr3-ppocr-v6"),
    pytest.param(RapidOcrEngine, id="rapidocr-ppocr-v4", marks=pytest.mark.skipif(
        not rapidocr_available(), reason="the ppocr-v4 extra is not installed")),
])  # fmt: skip
def test_rapidocr_behind_the_same_interface(tmp_path, make):
    path = figures_page(tmp_path / "p.pgm")
    result = make().read(path, 1654, 700)
    lines = _lines(result)
    assert any("资产总计" in ln and "6,300,572.61" in ln for ln in lines), lines
    assert all(0 <= w.conf <= 1 for b in result.blocks for ln in b.lines for w in ln.words)
    assert result.width == 1654 and result.conf is not None


def test_a_model_not_in_the_wheel_is_refused_not_downloaded(tmp_path):
    path = figures_page(tmp_path / "p.pgm")
    with pytest.raises(OcrFailedError, match="not in the wheel"):
        RapidOcr3Engine(model_type="medium").read(path, 1654, 700)


def test_engine_setting():
    assert engine("tesseract", "chi_sim", 6, 30.0, digits=False) == TesseractEngine(
        lang="chi_sim", psm=6, timeout=30.0, digits=False
    )
    assert isinstance(engine("rapidocr", "chi_sim", 4, 30.0), RapidOcrEngine)
    assert isinstance(engine("rapidocr3", "chi_sim", 4, 30.0), RapidOcr3Engine)
    # auto: PP-OCRv6 for pictures and short scans (it is a dependency), tesseract for long.
    short, long = engines("auto", "chi_sim+eng", 4, 30.0)
    assert isinstance(short, RapidOcr3Engine) and isinstance(long, TesseractEngine)
    options = ParseOptions(ocr=short, ocr_long=long, long_scan=30)
    assert options.engine_for(1) is short and options.engine_for(30) is short
    assert options.engine_for(31) is long  # a long scan: the lighter engine
    try:
        engine("abbyy", "chi_sim", 4, 30.0)
    except ValueError as exc:
        assert "abbyy" in str(exc)
    else:
        raise AssertionError("an unknown engine must be refused")


def test_several_figures_on_one_line_are_all_replaced(tmp_path, monkeypatch):
    """Two ill-formed figures on one line (dots for commas), re-read well: both replaced,
    right to left, and the row number between them left alone."""
    from extractors.model import Block, Line, Word
    from extractors.ocr import OcrResult, reread_figures

    path = tmp_path / "p.pgm"
    Image.new("L", (1000, 200), 255).save(path, format="PPM")
    words = [
        Word(text="1.340.195.16", bbox=(100, 50, 300, 80), conf=0.6),
        Word(text="12", bbox=(400, 50, 430, 80), conf=0.9),
        Word(text="846.592.36", bbox=(600, 50, 780, 80), conf=0.6),
    ]
    result = OcrResult(
        blocks=[Block(lines=[Line(text="x", bbox=(100, 50, 780, 80), words=words)])],
        width=1000,
        height=200,
        conf=0.7,
    )
    engine = TesseractEngine()

    def fake_data(self, image, lang, config):
        assert lang == "eng" and "whitelist" in config
        # Two stacked crops: 1.5 × 40 px high, 24 px apart, starting at 24.
        return {
            "text": ["1,340,195.16", "846,592.36"],
            "conf": [93.0, 91.0],
            "top": [30, 114],
            "height": [40, 40],
        }

    monkeypatch.setattr(TesseractEngine, "_data", fake_data)
    assert reread_figures(result, path, engine) == 2
    line = result.blocks[0].lines[0]
    assert [w.text for w in line.words] == ["1,340,195.16", "12", "846,592.36"]
    assert "1,340,195.16" in line.text and "846,592.36" in line.text
