"""Pages built from OCR box layouts for the layout and licence reader tests: each box is
(text, x0, y0, x1, y1) in pixels, one OCR line a box, as PP-OCR returns them."""

from __future__ import annotations

from extractors.model import Block, Line, Origin, Page, Word
from extractors.readers.licence import read_licence


def page(
    *boxes: tuple[str, float, float, float, float],
    conf: float = 0.98,
    width: float = 2400,
    height: float = 3200,
) -> Page:
    lines = [
        Line(
            text=t,
            bbox=(x0, y0, x1, y1),
            conf=conf,
            words=[Word(text=t, bbox=(x0, y0, x1, y1), conf=conf)],
        )
        for t, x0, y0, x1, y1 in boxes
    ]
    return Page(number=1, width=width, height=height, unit="px", origin=Origin.OCR,
                blocks=[Block(lines=lines)])  # fmt: skip


def licence_fields(p: Page) -> dict[str, object]:
    """The licence reader's first value of each field on ``p`` (FieldValue objects)."""
    out: dict[str, object] = {}
    for v in read_licence("执照.jpg", p, "business_licence"):
        out.setdefault(v.field, v)
    return out
