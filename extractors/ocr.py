"""OCR behind one small interface: RapidOCR (PP-OCRv6) for pictures, tesseract for long
scans (``engines``).

Engines read an image file (a path: pytesseract would re-encode a PIL image on every
call) and return blocks of lines of words with boxes and confidences in pixels.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import pytesseract

from extractors.errors import OcrFailedError
from extractors.model import Block, Line, Word

# Tesseract's own OpenMP threads made it several times slower per page on a 2-core
# machine; we parallelise across pages instead. Only OMP_THREAD_LIMIT limits them.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def join_words(words: Iterable[str]) -> str:
    """Join OCR words into a line: spaces between Han characters are OCR artefacts."""
    return _SPACE_BETWEEN_CJK.sub("", " ".join(w for w in words if w))


@dataclass(frozen=True)
class OcrResult:
    blocks: list[Block]
    width: int
    height: int
    conf: float | None  # mean word confidence in [0, 1]


class OcrEngine(Protocol):
    name: str

    def read(self, image: Path, width: int, height: int) -> OcrResult: ...


class LineModels(Protocol):
    """What an engine with PP-OCR's line models offers besides reading: its text detector and
    its text-line direction classifier, used to tell which way up a page lies before it is
    read (``extractors.parsers.orientation``). ``looks`` are the copies worth looking at:
    (long side, the detector's floor for the short side) in px, small first."""

    looks: ClassVar[tuple[tuple[int, int], ...]]

    def detect_lines(self, image: Any, floor: int) -> list: ...

    def line_directions(self, crops: list) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class TesseractEngine:
    """Tesseract through pytesseract's ``image_to_data`` (word boxes and confidences)."""

    lang: str = "chi_sim+eng"
    psm: int = 4  # one column of variable sizes: psm 3 dropped large titles such as 营业执照
    min_side: int = 1400  # pictures shorter than this are enlarged before OCR
    timeout: float = 120.0
    digits: bool = False  # re-read figures with a digits-only pass (INTAKE_OCR_DIGITS)
    name: str = "tesseract"

    def read(self, image: Path, width: int, height: int) -> OcrResult:
        data = self._data(image, self.lang, f"--psm {self.psm}")
        result = _from_tesseract_data(data, width, height)
        if self.digits:
            reread_figures(result, image, self)
        return result

    def _data(self, image: Path, lang: str, config: str) -> dict[str, list]:
        try:
            return pytesseract.image_to_data(
                str(image),
                lang=lang,
                config=config,
                output_type=pytesseract.Output.DICT,
                timeout=self.timeout,
            )
        except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
            raise OcrFailedError(f"tesseract timed out after {self.timeout}s") from exc
        except (pytesseract.TesseractError, subprocess.SubprocessError, OSError) as exc:
            raise OcrFailedError(f"tesseract failed: {exc}") from exc


# --------------------------------------------------------------------------- figures

_FIGURE_CHARS = set("0123456789,.-%")
_WELL_FORMED = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?%?")
FIGURE_HEIGHT = 40  # px: tesseract's eng model reads digits best at about this height
FIGURE_GAP = 24


_DATE_LIKE = re.compile(r"\d{4}[.\-/]\d{1,2}[.\-/]\d{1,2}")


def _figure_like(text: str) -> bool:
    """An amount, a share or a count as printed, never a code, a date or a phone number
    (a digits-only read would drop a code's letters)."""
    if any(ch.isalpha() and ch.isascii() for ch in text) or _DATE_LIKE.search(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    if digits < 3 or sum(ch in _FIGURE_CHARS for ch in text) < 0.7 * len(text):
        return False
    return any(ch in ",.%" for ch in text) or digits <= 10


def _gap(left: Word, right: Word) -> float:
    """The horizontal gap between two words, in heights of the left one."""
    return (right.bbox[0] - left.bbox[2]) / max(1.0, left.bbox[3] - left.bbox[1])


def reread_figures(result: OcrResult, image: Path, engine: TesseractEngine) -> int:
    """Read every figure on the page again with ``eng``, digits and separators only, one
    line each (the figures' word boxes cut out, scaled to one height and stacked into one
    picture, so a page costs one extra tesseract call). A re-read replaces the first read
    when it is a well-formed figure and the first was not, or is read more surely.
    Returns how many figures changed."""
    from PIL import Image

    spots: list[tuple[Line, list[int]]] = []
    for block in result.blocks:
        for line in block.lines:
            run: list[int] = []
            for i, word in enumerate(line.words):
                figure = word.bbox is not None and _figure_like(word.text)
                # One figure split in two words (2,234, 403.48) is one spot; a row number a
                # column away (资产总计 14 6,300,572.61) is not part of the figure.
                close = bool(run) and figure and _gap(line.words[run[-1]], word) < 0.4
                if run and not close:
                    spots.append((line, run))
                    run = []
                if figure:
                    run.append(i)
            if run:
                spots.append((line, run))
    if not spots:
        return 0
    with Image.open(image) as page:
        page = page.convert("L")
        crops = []
        for line, run in spots:
            box = union(line.words[i].bbox for i in run)
            pad = 0.25 * (box[3] - box[1])
            crop = page.crop(
                (
                    max(0, int(box[0] - pad)),
                    max(0, int(box[1] - pad)),
                    min(page.width, int(box[2] + pad)),
                    min(page.height, int(box[3] + pad)),
                )
            )
            scale = FIGURE_HEIGHT * 1.5 / max(1, crop.height)
            crops.append(crop.resize((max(1, int(crop.width * scale)), int(FIGURE_HEIGHT * 1.5))))
        sheet = Image.new(
            "L",
            (
                max(c.width for c in crops) + 2 * FIGURE_GAP,
                sum(c.height + FIGURE_GAP for c in crops) + FIGURE_GAP,
            ),
            255,
        )
        tops = []
        y = FIGURE_GAP
        for crop in crops:
            sheet.paste(crop, (FIGURE_GAP, y))
            tops.append((y, y + crop.height))
            y += crop.height + FIGURE_GAP
        sheet_path = image.with_name(image.stem + "-figures.pgm")
        sheet.save(sheet_path, format="PPM")
    try:
        data = engine._data(sheet_path, "eng", "--psm 6 -c tessedit_char_whitelist=0123456789,.-%")
    finally:
        sheet_path.unlink(missing_ok=True)
    reads: dict[int, list[tuple[str, float]]] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        middle = data["top"][i] + data["height"][i] / 2
        for index, (top, bottom) in enumerate(tops):
            if top - FIGURE_GAP / 2 <= middle <= bottom + FIGURE_GAP / 2:
                reads.setdefault(index, []).append((text, conf / 100))
                break
    changed = 0
    # Right to left: replacing a run shortens its line's word list for the runs after it.
    for index in reversed(range(len(spots))):
        line, run = spots[index]
        found = reads.get(index)
        if not found:
            continue
        text = "".join(t for t, _ in found)
        conf = min(c for _, c in found)
        old = "".join(line.words[i].text for i in run)
        old_conf = min((line.words[i].conf or 0) for i in run)
        if not _WELL_FORMED.fullmatch(text) or text == old:
            continue
        if _WELL_FORMED.fullmatch(old) and conf <= old_conf:
            continue
        merged = Word(text=text, bbox=union(line.words[i].bbox for i in run), conf=round(conf, 3))
        line.words[run[0] : run[-1] + 1] = [merged]
        line.text = join_words(w.text for w in line.words)
        changed += 1
    return changed


def _from_tesseract_data(data: dict[str, list], width: int, height: int) -> OcrResult:
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(
            Word(text=text, bbox=(x, y, x + w, y + h), conf=round(conf / 100, 3))
        )
    blocks: dict[int, list[Line]] = {}
    confs: list[float] = []
    for (block_num, _par, _line), words in lines.items():
        confs.extend(w.conf for w in words if w.conf is not None)
        blocks.setdefault(block_num, []).append(
            Line(
                text=join_words(w.text for w in words),
                bbox=union(w.bbox for w in words),
                words=words,
                conf=round(sum(w.conf for w in words) / len(words), 3),
                size=_median([w.bbox[3] - w.bbox[1] for w in words]),
            )
        )
    return OcrResult(
        blocks=[Block(lines=ls, bbox=union(ln.bbox for ln in ls)) for ls in blocks.values()],
        width=width,
        height=height,
        conf=round(sum(confs) / len(confs), 3) if confs else None,
    )


@dataclass(frozen=True)
class RapidOcrEngine:
    """RapidOCR 1.x (``rapidocr-onnxruntime``: PaddleOCR's PP-OCRv4 models on onnxruntime,
    inside the wheel, so it works offline). It reads formatted figures and tables that
    tesseract garbles, at 2–3 s a page and about 1 GB of memory per process. No longer the
    default (``rapidocr3`` reads real licences better); optional (``pip install
    .[ppocr-v4]``) and chosen with ``INTAKE_OCR_ENGINE=rapidocr``."""

    name: str = "rapidocr"
    min_side: int = 0  # it scales pictures itself
    # Orientation looks (extractors.parsers.orientation): on the 160 turned real licences
    # 512 px decided all but one (0.20 CPU s median), 640 px all (0.31 s), 416 px left 16
    # to the larger look (0.22 s mean).
    looks: ClassVar[tuple[tuple[int, int], ...]] = ((512, 384), (960, 736))

    def read(self, image: Path, width: int, height: int) -> OcrResult:
        try:
            with _RAPIDOCR_LOCK:  # one page at a time: onnxruntime already uses every core
                found, _ = _rapidocr()(str(image))
        except ImportError as exc:
            raise OcrFailedError(f"rapidocr is not installed: {exc}") from exc
        except Exception as exc:  # onnxruntime and OpenCV raise their own types
            raise OcrFailedError(f"rapidocr failed: {exc}") from exc
        return result_from_quads(found or [], width, height)

    def detect_lines(self, image: Any, floor: int) -> list:
        """Text boxes (4 points each) on ``image`` (an RGB array), which the detector
        enlarges to ``floor`` px on its short side at least."""
        with _RAPIDOCR_LOCK:
            det = _rapidocr().text_det
            setting = det.limit_side_len
            det.limit_side_len = floor
            try:
                boxes = det(image)[0]
            finally:  # the reader's own setting is put back, under the same lock
                det.limit_side_len = setting
        return [] if boxes is None else list(boxes)

    def line_directions(self, crops: list) -> list[tuple[str, float]]:
        """Per line image laid flat: ("0" or "180", the classifier's score)."""
        if not crops:
            return []
        with _RAPIDOCR_LOCK:
            _, found, _ = _rapidocr().text_cls(crops)
        return [(str(label), float(score)) for label, score in found]


def result_from_quads(found, width: int, height: int) -> OcrResult:
    """RapidOCR's (quad, text, score) triplets → one block of lines sorted top to bottom
    (a line a detected box: RapidOCR has no word boxes)."""
    lines: list[Line] = []
    for quad, text, score in found:
        text = (text or "").strip()
        if not text:
            continue
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        box = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
        conf = round(float(score), 3)
        # The type's size is the box's short side: a line read down a column (a vertical
        # label, 重要提示 printed on end) is as wide as its characters, not as tall as it.
        size = min(box[3] - box[1], box[2] - box[0])
        word = Word(text=text, bbox=box, conf=conf)
        lines.append(Line(text=text, bbox=box, words=[word], conf=conf, size=size))
    lines.sort(key=lambda ln: (ln.bbox[1], ln.bbox[0]))
    confs = [ln.conf for ln in lines if ln.conf is not None]
    return OcrResult(
        blocks=[Block(lines=lines, bbox=union(ln.bbox for ln in lines))] if lines else [],
        width=width,
        height=height,
        conf=round(sum(confs) / len(confs), 3) if confs else None,
    )


_RAPIDOCR_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _rapidocr():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


ENGINES = ("auto", "rapidocr3", "rapidocr", "tesseract")


def engines(
    name: str, lang: str, psm: int, timeout: float, digits: bool = False
) -> tuple[OcrEngine, OcrEngine]:
    """The engines a setting names: (for pictures and short scans, for long scans).

    ``auto`` reads pictures and scans of up to ``ParseOptions.long_scan`` pages with
    RapidOCR and long scans with tesseract (a third of the time a page, a tenth of the
    memory). RapidOCR is ``rapidocr3`` (rapidocr 3.x, PP-OCRv6) when it is installed: on
    the 40 real licences it read more of every field than PP-OCRv4 (``rapidocr``, the
    ``rapidocr-onnxruntime`` package; see benchmarks/RESULTS.md); without either, ``auto``
    is tesseract throughout."""
    tesseract = TesseractEngine(lang=lang, psm=psm, timeout=timeout, digits=digits)
    if name == "tesseract":
        return tesseract, tesseract
    if name == "rapidocr":
        return RapidOcrEngine(), RapidOcrEngine()
    if name == "rapidocr3":
        from extractors.ocr_rapid3 import RapidOcr3Engine

        return RapidOcr3Engine(), RapidOcr3Engine()
    if name == "auto":
        if rapidocr3_available():
            from extractors.ocr_rapid3 import RapidOcr3Engine

            return RapidOcr3Engine(), tesseract
        return (RapidOcrEngine(), tesseract) if rapidocr_available() else (tesseract, tesseract)
    raise ValueError(f"unknown OCR engine {name!r} (one of {', '.join(ENGINES)})")


@lru_cache(maxsize=1)
def rapidocr_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@lru_cache(maxsize=1)
def rapidocr3_available() -> bool:
    from extractors.ocr_rapid3 import available

    return available()


def engine(name: str, lang: str, psm: int, timeout: float, digits: bool = False) -> OcrEngine:
    """The engine a setting names for pictures and short scans."""
    return engines(name, lang, psm, timeout, digits)[0]


def union(boxes: Iterable[tuple[float, float, float, float] | None]):
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return float(values[len(values) // 2])


T = TypeVar("T")
R = TypeVar("R")


def map_bounded(
    func: Callable[[T], R], items: Iterable[T], workers: int, on_done: Callable[[int], None]
) -> Iterator[R]:
    """Map ``func`` over ``items`` on a thread pool, in order, with at most ``workers``
    items in flight, so a 200-page file is never rendered all at once."""
    workers = max(1, workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr") as pool:
        pending: list[Future[R]] = []
        done = 0
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= workers:
                yield pending.pop(0).result()
                done += 1
                on_done(done)
        for fut in pending:
            yield fut.result()
            done += 1
            on_done(done)
