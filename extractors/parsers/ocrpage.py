"""Shared by the parsers that OCR pictures: prepare an image and turn OCR into a Page."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from extractors.model import Block, Line, Origin, Page, Word
from extractors.ocr import OcrEngine

# Tesseract reads small text poorly below ~20 px per character and gains nothing past
# ~300 dpi; phone photos are usually 3000–4000 px long, scans 1700–2500.
MIN_SIDE = 1400
MAX_SIDE = 4200


def prepare_for_ocr(image: Image.Image, path: Path) -> float:
    """Write a greyscale copy sized for OCR to ``path`` (PGM is fast to write and tesseract
    reads it directly). Returns the factor from the written image back to ``image``."""
    grey = image.convert("L")
    longest = max(grey.size)
    factor = 1.0
    if longest < MIN_SIDE:
        factor = MIN_SIDE / longest
    elif longest > MAX_SIDE:
        factor = MAX_SIDE / longest
    if factor != 1.0:
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    grey.save(path, format="PPM")
    return 1.0 / factor


def ocr_page(
    engine: OcrEngine,
    image_path: Path,
    size: tuple[int, int],
    scale: float,
    number: int,
    width: float,
    height: float,
    unit: str,
) -> Page:
    """OCR one prepared image and express its boxes in the page's own unit (× ``scale``)."""
    result = engine.read(image_path, *size)
    blocks = [_scale_block(b, scale) for b in result.blocks] if scale != 1.0 else result.blocks
    return Page(
        number=number,
        width=width,
        height=height,
        unit=unit,
        origin=Origin.OCR,
        blocks=blocks,
        conf=result.conf,
    )


def _box(b, s):
    return (
        None
        if b is None
        else (round(b[0] * s, 2), round(b[1] * s, 2), round(b[2] * s, 2), round(b[3] * s, 2))
    )


def _scale_block(block: Block, s: float) -> Block:
    return Block(
        bbox=_box(block.bbox, s),
        lines=[
            Line(
                text=line.text,
                bbox=_box(line.bbox, s),
                conf=line.conf,
                size=None if line.size is None else round(line.size * s, 2),
                words=[Word(text=w.text, bbox=_box(w.bbox, s), conf=w.conf) for w in line.words],
            )
            for line in block.lines
        ],
    )
