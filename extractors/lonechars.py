"""Characters PP-OCR's text detector missed: one character alone where a line goes on.

The DB detector finds lines of text well but often misses a character that stands alone:
the 室 of an address that wraps onto a second line (…39号3幢354 / 室), a 号 after a long
line. PaddleOCR's maintainers call it a limitation of the model (PaddleOCR issues 126, 504,
9690, 15414); lowering its thresholds finds some and adds noise elsewhere. So after a page
is read, ink the detector left out is looked for where a line of text would go on:

* under a line, starting where its text (or, after a label read into the same box, its
  value) starts: the line wrapped; or
* on a line's row, just after its end (the line's last character);

a patch of ink there of one or two characters' size is given to the engine's recogniser
alone, and kept only when it reads it surely as one or two characters. Nothing is searched
anywhere else, so a seal, an emblem or a watermark away from the text adds nothing.
"""

from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from extractors.model import Block, Line, Word
from extractors.ocr import OcrResult, union

log = logging.getLogger(__name__)

SURE = 0.85  # the recogniser's score a lone character needs
MOST = 12  # patches recognised per page at most (a noisy page is not searched further)
DARK = 0.7  # ink: darker than this share of the paper around it
WORK_HEIGHT = 24  # px a text line is high on the copy the ink is looked for on
LABEL = 5.5  # characters of a label a line's box may hold before its value (法定代表人：)
_TEXT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9]{1,2}")


@dataclass(frozen=True)
class _Patch:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the prepared picture's pixels
    after: Line  # the line it continues


def recover(result: OcrResult, image: Path, engine: Any) -> OcrResult:
    """``result`` with the lone characters the detector missed added as lines of their own
    (an engine without a line recogniser, ``recognise_lines``, gets ``result`` back)."""
    if not hasattr(engine, "recognise_lines") or not result.blocks:
        return result
    lines = [ln for block in result.blocks for ln in block.lines if ln.bbox is not None]
    level = [
        ln.bbox[3] - ln.bbox[1]
        for ln in lines
        if len(ln.text) >= 2 and (ln.bbox[2] - ln.bbox[0]) > (ln.bbox[3] - ln.bbox[1])
    ]
    if len(level) < 3:
        return result
    height = statistics.median(level)
    try:
        with Image.open(image) as picture:
            grey = picture.convert("L")
        patches = _patches(grey, lines, height)
        if not patches:
            return result
        pixels = np.asarray(grey)
        crops = [_crop(pixels, p.box, height) for p in patches]
        read = engine.recognise_lines(crops)
    except Exception as exc:  # a second look that fails costs nothing of the first
        log.warning("lone characters not looked for: %s", exc)
        return result
    found: list[Line] = []
    for patch, (text, score) in zip(patches, read, strict=True):
        text = (text or "").strip()
        if score < SURE or not _TEXT.fullmatch(text):
            continue
        box = tuple(float(v) for v in patch.box)
        conf = round(float(score), 3)
        size = min(box[2] - box[0], box[3] - box[1])
        word = Word(text=text, bbox=box, conf=conf)
        found.append(Line(text=text, bbox=box, words=[word], conf=conf, size=size))
    if not found:
        return result
    log.debug("lone characters recovered: %s", [ln.text for ln in found])
    merged = sorted([*lines, *found], key=lambda ln: (ln.bbox[1], ln.bbox[0]))
    return OcrResult(
        blocks=[Block(lines=merged, bbox=union(ln.bbox for ln in merged))],
        width=result.width,
        height=result.height,
        conf=result.conf,
    )


def _patches(picture: Image.Image, lines: list[Line], height: float) -> list[_Patch]:
    """Patches of ink of one or two characters' size that no line covers, where a line
    goes on (under its start, or after its end on its row); boxes in ``picture``'s pixels.

    The ink is looked for on a copy whose text lines are ``WORK_HEIGHT`` px high (a phone
    photo's are 50–80 px): the shapes are the same, the arrays a tenth the size."""
    scale = min(1.0, WORK_HEIGHT / height)
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.BOX)
    found = _found(np.asarray(picture, dtype=np.float32), lines, height, scale)
    return [
        _Patch(tuple(round(v / scale) for v in box), after)  # type: ignore[arg-type]
        for box, after in found
    ]


def _found(
    grey: np.ndarray, lines: list[Line], line_height: float, scale: float
) -> list[tuple[tuple[int, int, int, int], Line]]:
    height = line_height * scale
    window = max(15, int(4 * height)) | 1
    paper = ndimage.uniform_filter(grey, size=window, mode="nearest")
    ink = grey < DARK * paper
    rows, cols = ink.shape
    for ln in lines:  # the detector's boxes already reach past their characters' ink
        x0, y0, x1, y1 = (round(v * scale) for v in ln.bbox)
        ink[max(0, y0) : min(rows, y1), max(0, x0) : min(cols, x1)] = False
    # A character's strokes are several pieces of ink: join what lies within a stroke gap.
    reach = 2 * max(1, round(0.2 * height)) + 1
    joined = ndimage.maximum_filter1d(ndimage.maximum_filter1d(ink, reach, axis=0), reach, axis=1)
    labels, count = ndimage.label(joined)
    if not count:
        return []
    patches: list[tuple[tuple[int, int, int, int], Line]] = []
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        tall, wide = found[0].stop - found[0].start, found[1].stop - found[1].start
        if not (0.4 * height <= tall <= 1.3 * height + reach and wide <= 2.4 * height + reach):
            continue  # the joined patch is the ink grown by ``reach``: too small or large
        region = (labels[found] == index) & ink[found]
        ys, xs = np.nonzero(region)
        if not len(xs):
            continue
        box = (
            found[1].start + int(xs.min()),
            found[0].start + int(ys.min()),
            found[1].start + int(xs.max()) + 1,
            found[0].start + int(ys.max()) + 1,
        )
        h, w = box[3] - box[1], box[2] - box[0]
        # A detector's box is taller than its characters' ink by about a third.
        if not (0.4 * height <= h <= 1.3 * height and 0.3 * height <= w <= 2.4 * height):
            continue
        density = float(region.sum()) / (h * w)
        if not 0.05 <= density <= 0.6:
            continue
        after = _continues(tuple(v / scale for v in box), lines, line_height)
        if after is not None:
            patches.append((box, after))
    patches.sort(key=lambda p: (p[0][1], p[0][0]))
    return patches[:MOST]


def _continues(box: tuple[float, ...], lines: list[Line], height: float) -> Line | None:
    """The line ``box`` would go on: the one it sits under, starting where it starts, or
    the one on its row that ends just before it."""
    x0, y0, _, y1 = box
    for ln in lines:
        lx0, ly0, lx1, ly1 = ln.bbox
        line_height = ly1 - ly0
        if len(ln.text) < 2 or lx1 - lx0 <= line_height:
            continue  # a lone character or a line on end: nothing to go on from
        if not 0.6 * height <= line_height <= 1.6 * height:
            continue  # a title, a watermark, small print: another size of type
        # Under it, where its text starts: at the box's start, or up to a label's few
        # characters in when label and value were read as one box (住所西安市…).
        under = -0.2 * line_height <= y0 - ly1 <= 0.8 * line_height
        if under and -0.8 * line_height <= x0 - lx0 <= LABEL * line_height:
            return ln
        top, bottom = max(y0, ly0), min(y1, ly1)
        level = bottom - top >= 0.6 * min(y1 - y0, line_height)
        if level and 0 <= x0 - lx1 <= 0.8 * line_height:
            return ln
    return None


def _crop(grey: np.ndarray, box: tuple[int, int, int, int], height: float) -> np.ndarray:
    """The patch with a margin of paper, as three channels (what the recogniser takes)."""
    pad = max(2, round(0.2 * height))
    rows, cols = grey.shape
    x0, y0, x1, y1 = box
    crop = grey[max(0, y0 - pad) : min(rows, y1 + pad), max(0, x0 - pad) : min(cols, x1 + pad)]
    crop = crop.astype(np.uint8)
    return np.ascontiguousarray(np.stack([crop] * 3, axis=-1))
