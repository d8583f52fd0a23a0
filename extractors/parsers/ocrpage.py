"""Shared by the parsers that OCR pictures: prepare an image and turn OCR into a Page."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from extractors import lonechars
from extractors.model import Block, Line, Mark, Origin, Page, Word
from extractors.ocr import OcrEngine
from extractors.parsers import orientation
from extractors.parsers.orientation import Lie

log = logging.getLogger(__name__)

# Tesseract reads small text poorly below ~20 px per character and gains nothing past
# ~300 dpi; phone photos are usually 3000–4000 px long, scans 1700–2500. (RapidOCR scales
# its input itself, so its engine says 0: on the 40 real licences the values read right
# were the same without enlarging (161 against 162 of 200), the small pictures faster.)
MIN_SIDE = 1400
MAX_SIDE = 4200


def prepare_for_ocr(
    image: Image.Image,
    path: Path,
    seals: list[Mark] | None = None,
    min_side: int = MIN_SIDE,
    colour: bool = False,
) -> float:
    """Write a copy sized for OCR to ``path`` (PPM/PGM: fast to write, and both engines
    read it directly). Returns the factor from the written image back to ``image``.

    Where a red seal is stamped over black text (``seals``, boxes as fractions of the
    image), its red ink is lifted to white, black text stays black, and the company name
    under the seal becomes readable.

    ``colour`` (the engine's ``colour``): the copy stays in colour and keeps a table's
    ruling lines, for PP-OCR, whose models learnt on colour photographs: on the 40 real
    licences PP-OCRv6 read more of every field from colour with only the seals lifted
    than from the greyscale copy without rules (benchmarks/RESULTS.md). Otherwise the copy
    is greyscale, enlarged to ``min_side`` and without ruling lines, for tesseract."""
    if colour:
        rgb = _lift_seals(image.convert("RGB"), seals or [])
        factor = min(1.0, MAX_SIDE / max(rgb.size))
        if factor != 1.0:
            size = (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor)))
            rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        rgb.save(path, format="PPM")
        return 1.0 / factor
    grey = image.convert("L")
    if seals and image.mode in ("RGB", "RGBA", "P", "CMYK"):
        # Red ink is light in the red channel; lift it to white, keep black text.
        red = image.convert("RGB").getchannel("R").point(_RED_FILTER)
        for seal in seals:
            box = _seal_box(seal, image)
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


def _seal_box(seal: Mark, image: Image.Image) -> tuple[int, int, int, int]:
    """A seal's box in pixels of ``image``, with a margin of 5 % each side."""
    x0, y0, x1, y1 = seal.bbox
    pad_x, pad_y = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    return (
        max(0, round((x0 - pad_x) * image.width)),
        max(0, round((y0 - pad_y) * image.height)),
        min(image.width, round((x1 + pad_x) * image.width)),
        min(image.height, round((y1 + pad_y) * image.height)),
    )


def _lift_seals(rgb: Image.Image, seals: list[Mark]) -> Image.Image:
    """``rgb`` with each seal's box seen through a red filter (``_RED_FILTER``), as the
    greyscale copy is: red ink is as light as the paper in the red channel, black or blue
    text stays dark, even where it crosses the ink (testing pixels for redness there
    erases those strokes: a stroke over ink is dark red). Outside the seals the page keeps
    its colours."""
    if not seals:
        return rgb
    pixels = np.array(rgb)
    lut = np.array(_RED_FILTER, dtype=np.uint8)
    for seal in seals:
        x0, y0, x1, y1 = _seal_box(seal, rgb)
        pixels[y0:y1, x0:x1] = lut[pixels[y0:y1, x0:x1, 0]][..., None]
    return Image.fromarray(pixels)


# The red filter's levels, stretched to black and white: seal ink is at least INK_RED in the
# red channel, black type at most INK_BLACK. A stroke crossing the ink lies between and keeps
# its shade: a hard cut (everything above 140 to white) broke such strokes and the
# recogniser read 汇 as 江 and 清 as 消 under seals (real licences 0149, 0150).
INK_RED = 200
INK_BLACK = 40
# The filter as a table from the red channel's value to the grey it becomes, for the colour
# copy and tesseract's greyscale one alike.
_RED_FILTER = [
    int(min(255.0, max(0.0, (v - INK_BLACK) * 255.0 / (INK_RED - INK_BLACK)))) for v in range(256)
]


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


def turn_upright(engine: OcrEngine, image: Image.Image) -> tuple[Image.Image, Lie | None]:
    """The picture of a page, turned upright if it lies turned 90°, 180° or 270° with nothing
    to say so (no EXIF tag, no /Rotate, or a wrong one), and how it lay. The engine's own
    line detector and direction classifier look at a small copy (``orientation.look``), so
    the page is turned before its seals are searched and it is prepared and read: a turned
    page goes the way an upright one does, and is read once. None: the engine has no line
    models (tesseract), and ``ocr_page`` judges by its reading instead."""
    lie = orientation.look(engine, image)
    if lie is not None and lie.decided and lie.turn:
        image = image.transpose(_TRANSPOSE[lie.turn])
    return image, lie


def ocr_page(
    engine: OcrEngine,
    image_path: Path,
    size: tuple[int, int],
    scale: float,
    number: int,
    width: float,
    height: float,
    unit: str,
    lie: Lie | None = None,
    marks: list[Mark] | None = None,
) -> Page:
    """OCR one prepared image and express its boxes in the page's own unit (× ``scale``).

    ``lie`` is how the page lay (``turn_upright``, which has turned it). Where nothing was
    looked at (an engine without line models), or lines were seen but no clear direction,
    the reading decides: one that comes back as columns of short vertical boxes, next to
    nothing, or unsure of nearly every word (tesseract on a turned page) is checked with
    tesseract's orientation detection, and the page is turned and read again if it lies.
    ``Page.turned`` says how far it was turned (clockwise); the page's width and height and
    every box (``marks`` too, given in the page's unit) are then those of the turned
    picture."""
    turned = lie.turn if lie is not None and lie.decided else 0
    marks = list(marks or [])
    result = engine.read(image_path, *size)
    if lie is None or (not lie.decided and (lie.level or lie.on_end)):
        lying = sideways(result)
        if lying or _read_little(result) or _unsure(result):
            # Boxes standing on end: a lying page, surely. Nearly nothing read, or nearly
            # nothing read surely: ask, and want a sure answer.
            turned = turn_needed(image_path, 0.3 if lying else 1.0)
            if turned:
                marks = [
                    m.model_copy(update={"bbox": turn_box(m.bbox, turned, width, height)})
                    for m in marks
                ]
                size, width, height = _turn(image_path, turned, size, width, height)
                result = engine.read(image_path, *size)
    result = lonechars.recover(result, image_path, engine)
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
        marks=marks,
    )


# Clockwise turns as PIL's transpositions (which are named anticlockwise).
_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def _turn(
    image_path: Path, turn: int, size: tuple[int, int], width: float, height: float
) -> tuple[tuple[int, int], float, float]:
    """Turn the prepared picture ``turn`` degrees clockwise in place; the sizes it then has."""
    with Image.open(image_path) as prepared:
        prepared.transpose(_TRANSPOSE[turn]).save(image_path, format="PPM")
    if turn in (90, 270):
        return (size[1], size[0]), height, width
    return size, width, height


def turn_box(
    box: tuple[float, float, float, float], turn: int, width: float, height: float
) -> tuple[float, float, float, float]:
    """A box on a page ``width`` × ``height``, where it is once the page is turned ``turn``
    degrees clockwise."""
    x0, y0, x1, y1 = box
    if turn == 90:
        return (height - y1, x0, height - y0, x1)
    if turn == 180:
        return (width - x1, height - y1, width - x0, height - y0)
    if turn == 270:
        return (y0, width - x1, y1, width - x0)
    return box


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


# Tesseract's mean word confidence on the real licences read upright was 0.72–0.87, turned
# 180° 0.22–0.30 (and 0.37 on one turned 90° that still gave 53 characters).
UNSURE = 0.5


def _unsure(result) -> bool:
    return result.conf is not None and result.conf < UNSURE


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
