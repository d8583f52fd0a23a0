"""Lone characters PP-OCR's detector missed (the 室 an address wraps onto a line of its own)
are read where a line goes on, and nowhere else. The picture is drawn here; the detector's
result is given by hand as if it had missed the character, and the real recogniser reads
what is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors import lonechars
from extractors.model import Block, Line, Word
from extractors.ocr import OcrResult
from extractors.ocr_rapid3 import RapidOcr3Engine, available
from tests.fixtures.factory import FONT_PATH

pytestmark = pytest.mark.skipif(not available(), reason="rapidocr 3.x is not installed")

SIZE = 28  # px per character


def _line(text: str, x0: float, y0: float) -> Line:
    box = (x0 - 2, y0 - 4, x0 + SIZE * len(text) + 2, y0 + SIZE + 6)
    return Line(text=text, bbox=box, conf=0.99, words=[Word(text=text, bbox=box, conf=0.99)],
                size=SIZE + 10)  # fmt: skip


def _page(tmp_path: Path, extra: list[tuple[str, int, int]]) -> tuple[Path, OcrResult]:
    """Four lines of a licence drawn and 'detected', plus ``extra`` text drawn only."""
    font = ImageFont.truetype(FONT_PATH, SIZE)
    image = Image.new("RGB", (900, 420), "white")
    draw = ImageDraw.Draw(image)
    lines = [("名称西安启明电子科技有限公司", 40, 40), ("类型有限责任公司", 40, 100),
             ("住所西安市雁塔区科技路48号创业广场B座", 40, 160),
             ("法定代表人王建国", 40, 280)]  # fmt: skip
    for text, x, y in lines + extra:
        draw.text((x, y), text, font=font, fill="black")
    path = tmp_path / "page.pnm"
    image.save(path, format="PPM")
    found = [_line(text, x, y) for text, x, y in lines]
    return path, OcrResult(blocks=[Block(lines=found)], width=900, height=420, conf=0.99)


def texts(result: OcrResult) -> list[str]:
    return [ln.text for block in result.blocks for ln in block.lines]


def test_a_wrapped_lone_character_is_read(tmp_path: Path) -> None:
    # 室 on the next line, where the address's value starts (after 住所: two characters).
    path, result = _page(tmp_path, [("室", 40 + 2 * SIZE, 160 + SIZE + 12)])
    recovered = lonechars.recover(result, path, RapidOcr3Engine())
    assert "室" in texts(recovered)
    lone = next(ln for b in recovered.blocks for ln in b.lines if ln.text == "室")
    assert lone.bbox[1] > 160 + SIZE and lone.conf >= lonechars.SURE


def test_a_character_after_a_lines_end_is_read(tmp_path: Path) -> None:
    end = 40 + SIZE * len("类型有限责任公司")
    path, result = _page(tmp_path, [("号", end + 6, 100)])
    assert "号" in texts(lonechars.recover(result, path, RapidOcr3Engine()))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([("章", 700, 360)], id="far-from-any-line"),
        pytest.param([("室", 500, 160 + SIZE + 12)], id="under-a-line-but-not-at-its-start"),
        pytest.param([], id="nothing-missed"),
    ],
)
def test_nothing_is_added_elsewhere(tmp_path: Path, extra) -> None:
    path, result = _page(tmp_path, extra)
    assert lonechars.recover(result, path, RapidOcr3Engine()) == result


def test_an_engine_without_a_recogniser_is_left_alone(tmp_path: Path) -> None:
    path, result = _page(tmp_path, [("室", 40 + 2 * SIZE, 160 + SIZE + 12)])
    assert lonechars.recover(result, path, object()) is result
