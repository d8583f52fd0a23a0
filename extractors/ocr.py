"""OCR behind one small interface, with tesseract as the default engine.

Engines read an image file (a path: pytesseract would re-encode a PIL image on every
call) and return blocks of lines of words with boxes and confidences in pixels.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

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


@dataclass(frozen=True)
class TesseractEngine:
    """Tesseract through pytesseract's ``image_to_data`` (word boxes and confidences)."""

    lang: str = "chi_sim+eng"
    psm: int = 4  # one column of variable sizes: psm 3 dropped large titles such as 营业执照
    timeout: float = 120.0
    name: str = "tesseract"

    def read(self, image: Path, width: int, height: int) -> OcrResult:
        try:
            data = pytesseract.image_to_data(
                str(image),
                lang=self.lang,
                config=f"--psm {self.psm}",
                output_type=pytesseract.Output.DICT,
                timeout=self.timeout,
            )
        except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
            raise OcrFailedError(f"tesseract timed out after {self.timeout}s") from exc
        except (pytesseract.TesseractError, subprocess.SubprocessError, OSError) as exc:
            raise OcrFailedError(f"tesseract failed: {exc}") from exc
        return _from_tesseract_data(data, width, height)


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
