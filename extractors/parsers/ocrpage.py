"""Shared by the parsers that OCR pictures: prepare an image and turn OCR into a Page."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from extractors.model import Block, Line, Mark, Origin, Page, Word
from extractors.ocr import OcrEngine

log = logging.getLogger(__name__)

# Tesseract reads small text poorly below ~20 px per character and gains nothing past
# ~300 dpi; phone photos are usually 3000–4000 px long, scans 1700–2500. (RapidOCR scales
# its input itself, so its engine says 0: on the 40 real licences the values read right
# were the same without enlarging (161 against 162 of 200), the small pictures faster.)
MIN_SIDE = 1400
MAX_SIDE = 4200


def prepare_for_ocr(
    image: Image.Image, path: Path, seals: list[Mark] | None = None, min_side: int = MIN_SIDE
) -> float:
    """Write a greyscale copy sized for OCR to ``path`` (PGM is fast to write and tesseract
    reads it directly). Returns the factor from the written image back to ``image``.

    Where a red seal is stamped over black text (``seals``, boxes as fractions of the
    image), the red channel stands in for grey: red ink is as light as the paper there,
    black text stays black, and the company name under the seal becomes readable."""
    grey = image.convert("L")
    if seals and image.mode in ("RGB", "RGBA", "P", "CMYK"):
        # Red ink is light in the red channel; lift it to white, keep black text.
        red = image.convert("RGB").getchannel("R").point(lambda v: 255 if v > 140 else v)
        for seal in seals:
            x0, y0, x1, y1 = seal.bbox
            pad_x, pad_y = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
            box = (
                max(0, round((x0 - pad_x) * image.width)),
                max(0, round((y0 - pad_y) * image.height)),
                min(image.width, round((x1 + pad_x) * image.width)),
                min(image.height, round((y1 + pad_y) * image.height)),
            )
            grey.paste(red.crop(box), box[:2])
    longest = max(grey.size)
    factor = 1.0
    if longest < min_side:
        factor = min_side / longest
    elif longest > MAX_SIDE:
        factor = MAX_SIDE / longest
    if factor != 1.0:
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    grey = remove_rules(grey)
    grey.save(path, format="PPM")
    return 1.0 / factor


def remove_rules(grey: Image.Image) -> Image.Image:
    """Whiten a table's ruling lines. Tesseract reads cell borders as characters and loses
    the figures between them (a scanned balance sheet came out as noise); without the
    rules the same page reads row by row. Thick strokes (a large title's characters) are
    kept. A quick look at a half-size copy skips pages without long lines."""
    if not _has_long_lines(grey.reduce(2)):
        return grey
    pixels = np.asarray(grey)
    dark = pixels < DARK
    height, width = dark.shape
    ink = dark.astype(np.float32)
    across = _runs(ink, max(20, width // 10), axis=1)
    down = _runs(ink, max(20, height // 20), axis=0)
    core = ndimage.minimum_filter1d(ndimage.minimum_filter1d(dark, 7, axis=0), 7, axis=1)
    thick = ndimage.maximum_filter1d(ndimage.maximum_filter1d(core, 13, axis=0), 13, axis=1)
    rules = (across | down) & dark & ~thick
    rules = ndimage.maximum_filter(rules, size=3)
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)


DARK = 160


def _runs(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels on a straight dark run of at least ``length`` along ``axis``."""
    full = ndimage.uniform_filter1d(ink, size=length, axis=axis, mode="constant") >= 0.97
    return ndimage.maximum_filter1d(full, size=length, axis=axis)


def _has_long_lines(small: Image.Image) -> bool:
    """A look at a half-size copy (a 2-pixel rule is a grey pixel there, hence the looser
    threshold): lines of dense text are not rules, a quarter-size copy mistook them."""
    ink = (np.asarray(small) < 200).astype(np.float32)
    height, width = ink.shape
    across = ndimage.uniform_filter1d(ink, size=max(5, width // 10), axis=1, mode="constant")
    down = ndimage.uniform_filter1d(ink, size=max(5, height // 20), axis=0, mode="constant")
    return bool((across >= 0.95).any() or (down >= 0.95).any())


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
    """OCR one prepared image and express its boxes in the page's own unit (× ``scale``).

    A picture lying on its side (a scan turned 90° with no EXIF tag to say so) reads as
    columns of short vertical boxes: then tesseract's orientation detection says which way
    it lies, the picture is turned upright and read again (``Page.turned``; the page's
    width and height are then those of the turned picture)."""
    result = engine.read(image_path, *size)
    turned = 0
    lying = sideways(result)
    if unit == "px" and (lying or _read_little(result)):
        # Boxes standing on end, or nearly nothing read (tesseract reads a turned page as
        # nothing): ask which way it lies; surer, when nothing hints that it lies at all.
        turned = turn_needed(image_path, 0.3 if lying else 1.0)
        if turned:
            with Image.open(image_path) as prepared:
                prepared.rotate(-turned, expand=True).save(image_path, format="PPM")
            if turned in (90, 270):
                size, width, height = (size[1], size[0]), height, width
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
        turned=turned,
    )


def sideways(result) -> bool:
    """Most lines of three or more characters came back as tall narrow boxes."""
    lines = [
        ln
        for block in result.blocks
        for ln in block.lines
        if ln.bbox is not None and len(ln.text.strip()) >= 3
    ]
    if len(lines) < 4:
        return False
    tall = sum((ln.bbox[3] - ln.bbox[1]) > 1.5 * (ln.bbox[2] - ln.bbox[0]) for ln in lines)
    return tall >= 0.5 * len(lines)


def _read_little(result) -> bool:
    return sum(len(ln.text.strip()) for block in result.blocks for ln in block.lines) < 12


def turn_needed(image_path: Path, sure: float = 0.3) -> int:
    """Degrees (clockwise) to turn the picture to read it upright, by tesseract's
    orientation and script detection; 0 when it cannot tell."""
    import pytesseract

    try:
        osd = pytesseract.image_to_osd(
            str(image_path), config="--psm 0", output_type=pytesseract.Output.DICT, timeout=60
        )
    except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
        log.info("orientation of %s not detected: %s", image_path.name, exc)
        return 0
    if float(osd.get("orientation_conf", 0)) < sure:
        return 0
    return int(osd.get("rotate", 0)) % 360


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
