"""Which way up a page lies, decided before it is read, so a turned page is recognised once.

PP-OCR's text detector finds the lines on a small copy of the page: lines standing on end
mean the page lies on its side. Its text-line direction classifier (0° or 180°, the model
RapidOCR carries) then says, line by line, whether each line reads upright once laid flat;
the lines vote. Level lines read upside down: the page is upside down. Lines on end that
read upright once turned a quarter anticlockwise: the page lies turned clockwise, and the
other way round. On the 40 real licences, each stored turned 0°, 90°, 180° and 270° (160
pictures), every turn was found, with PP-OCRv4's models and with PP-OCRv6's: the winning
direction with 4 to 23 votes (median 11.5), the losing one with 0 to 2 (v4). A look took
0.20 CPU seconds with v4, 0.33 with v6 (median; a full reading of a licence takes 2 to 9).
``benchmarks/orientation.py`` measures it on the real licences.

A page is only turned on evidence: enough lines, nearly all of one direction. Otherwise the
look says "undecided" and the page is read as it is (``ocrpage.ocr_page`` may still ask
tesseract's orientation detection when the reading comes back as columns or nothing).

The detector and classifier are those of the engine that reads the page (RapidOCR 1.x or
3.x: ``extractors.ocr.LineModels``), so no model is loaded twice. An engine without them
(tesseract), or whose models will not load, gets ``None``: the page is read first and
turned only if the reading says it lies (the older way, a second reading when it does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

# The copies looked at are the engine's ``looks``: a small one first, a larger one when the
# small one leaves it undecided (small print).
LINE_SHAPE = 2.0  # a box this many times longer than wide is a line of text, not a character
VOTERS = 24  # the longest lines are asked: they say most, and the classifier is run on few
SURE = 0.9  # a line votes when the classifier is this sure (RapidOCR's own threshold)
MIN_VOTES = 4  # fewer lines than this is no evidence (a blank page, a stamp, a signature)
# The longest lines are asked first, this many (one batch of the classifier): when all but
# one of them say the same surely and none says otherwise surely, the rest are not asked
# (asking all 24 costs 0.03–0.04 s more). Of the 40 real licences each turned 0°, 90°, 180°
# and 270° (160 pictures), 92 were settled by the first six, and every decision was the one
# all the votes gave.
SETTLED = 6
AGREEMENT = 0.8  # share of the votes the winning direction needs (the losers had ≤ 0.2)


@dataclass(frozen=True)
class Lie:
    """How a page lies: ``turn`` degrees clockwise make it upright (``Page.turned``)."""

    turn: int
    decided: bool  # the evidence was clear; undecided pages are read as they are (turn 0)
    level: int = 0  # lines lying level
    on_end: int = 0  # lines standing on end
    upright: int = 0  # votes: the line reads upright (once laid flat)
    upside_down: int = 0  # votes: the line reads upside down

    def __str__(self) -> str:
        verdict = f"turn {self.turn}°" if self.decided else "undecided"
        return (
            f"{verdict} (lines level {self.level}, on end {self.on_end};"
            f" votes upright {self.upright}, upside down {self.upside_down})"
        )


UNDECIDED = Lie(turn=0, decided=False)


def look(engine: Any, image: Image.Image) -> Lie | None:
    """How the picture of a page lies, or None when nothing was looked at: ``engine`` has no
    line detector and classifier (``extractors.ocr.LineModels``), or they failed."""
    if not (hasattr(engine, "detect_lines") and hasattr(engine, "line_directions")):
        return None
    lie: Lie | None = None
    try:
        grey = image.convert("L")
        for long_side, floor in engine.looks:
            lie, boxes = _look(engine, _shrink(grey, long_side), floor)
            if lie.decided or not boxes:  # nothing there at all: a larger copy finds no more
                break
    except Exception as exc:  # a look that fails is no evidence: read the page as it is
        log.warning("orientation not looked at: %s", exc)
        return None if lie is None else UNDECIDED  # None: not even the first look was made
    log.debug("orientation: %s", lie)
    return lie


def _look(models: Any, small: np.ndarray, floor: int) -> tuple[Lie, int]:
    """The lines of one copy and their votes; also how many boxes the detector found
    (``models``: an ``extractors.ocr.LineModels``)."""
    quads = models.detect_lines(small, floor)
    lines = [q for q in (_line(q) for q in quads) if q is not None]
    level = [ln for ln in lines if not ln.on_end]
    on_end = [ln for ln in lines if ln.on_end]
    if len(on_end) >= MIN_VOTES and len(on_end) >= 2 * len(level):
        voters, lying = on_end, True
    elif len(level) >= MIN_VOTES and len(level) >= 2 * len(on_end):
        voters, lying = level, False
    else:
        return Lie(0, False, len(level), len(on_end)), len(quads)
    voters = sorted(voters, key=lambda ln: ln.shape, reverse=True)[:VOTERS]
    said = models.line_directions([_flat(small, ln) for ln in voters[:SETTLED]])
    sure = [label for label, score in said if score >= SURE]
    settled = len(sure) >= SETTLED - 1 and len(set(sure)) == 1
    if not settled:  # the longest lines do not agree, surely: ask the rest too
        said += models.line_directions([_flat(small, ln) for ln in voters[SETTLED:]])
    upright = sum(1 for label, score in said if label == "0" and score >= SURE)
    down = sum(1 for label, score in said if label == "180" and score >= SURE)
    counts = dict(level=len(level), on_end=len(on_end), upright=upright, upside_down=down)
    winner = max(upright, down)
    if winner < MIN_VOTES or winner < AGREEMENT * (upright + down):
        return Lie(0, False, **counts), len(quads)
    return Lie(_TURNS[lying, upright > down], True, **counts), len(quads)


# (lines on end, they read upright once laid flat) → degrees clockwise to turn the page. A
# line on end is laid flat by a quarter turn anticlockwise: if it then reads upright, the
# page must turn 270° clockwise; if upside down, 90°.
_TURNS = {(False, True): 0, (False, False): 180, (True, True): 270, (True, False): 90}


def _shrink(grey: Image.Image, long_side: int) -> np.ndarray:
    factor = long_side / max(grey.size)
    if factor < 1:
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.stack([np.asarray(grey)] * 3, axis=-1))


@dataclass(frozen=True)
class _Quad:
    points: np.ndarray  # 4 × 2, as the detector orders them (top-left first, clockwise)
    across: float  # length of the side from the first point to the second
    down: float  # length of the side from the first point to the fourth
    on_end: bool  # the long side runs up and down the page

    @property
    def shape(self) -> float:
        return max(self.across, self.down) / max(1.0, min(self.across, self.down))


def _line(quad) -> _Quad | None:
    points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    first, second = points[1] - points[0], points[3] - points[0]
    across, down = float(np.hypot(*first)), float(np.hypot(*second))
    if max(across, down) < LINE_SHAPE * max(1.0, min(across, down)):
        return None  # a character, a seal, a square: says nothing about lines
    long_side = first if across >= down else second
    return _Quad(points, across, down, on_end=abs(long_side[1]) > abs(long_side[0]))


def _flat(image: np.ndarray, line: _Quad) -> np.ndarray:
    """The line cut out along its own sides; one standing on end is laid flat by turning it
    a quarter anticlockwise (as RapidOCR lays its tall boxes flat before reading them)."""
    import cv2

    width, height = max(1, round(line.across)), max(1, round(line.down))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(line.points, target)
    crop = cv2.warpPerspective(
        image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    if height > width:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)
