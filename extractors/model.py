"""The document model that every parser produces.

Document → pages → blocks → lines → words, plus tables. Coordinates are (x0, y0, x1, y1)
with the origin at the page's top-left corner, in the page's own unit: PDF points for
PDF pages, pixels for images and OCR'd renderings (``Page.unit``). The model is plain
pydantic, serialised to JSON and stored once per content hash, so a re-check never parses
or OCRs again.
"""

from __future__ import annotations

import gzip
from enum import StrEnum

from pydantic import BaseModel, Field

BBox = tuple[float, float, float, float]

# 2: seals; 3: OCR without table rules; 4: nor seal ink; 5: form tables only; 6: rule check;
# 7: picture hashes; 8: pictures lying on their side turned upright (Page.turned), small
# pictures no longer enlarged for RapidOCR; 9: scanned PDF pages turned upright too, and
# pages upside down (orientation decided before reading); 10: PP-OCR reads the colour page
# (seals lifted, ruling lines kept), a line's size is its box's short side, lone characters the
# detector missed are read (extractors.lonechars); 11: seals lifted by a stretched red filter
# (strokes crossing the ink keep their shade), PP-OCR's per-line 180° classifier off; 12:
# tesseract's greyscale copy lifts seals through the same stretched red filter
MODEL_VERSION = 12


class Origin(StrEnum):
    TEXT = "text"  # a PDF's text layer
    OCR = "ocr"
    DOCX = "docx"


class Word(BaseModel):
    text: str
    bbox: BBox | None = None
    conf: float | None = None  # OCR confidence in [0, 1]; None for born-digital text


class Line(BaseModel):
    text: str
    bbox: BBox | None = None
    words: list[Word] = Field(default_factory=list)
    conf: float | None = None
    size: float | None = None  # glyph height, in page units; a hint for titles


class Block(BaseModel):
    lines: list[Line] = Field(default_factory=list)
    bbox: BBox | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class Table(BaseModel):
    rows: list[list[str | None]]
    bbox: BBox | None = None


class Mark(BaseModel):
    """Something seen, not read, on a page: ``red_seal`` (公章)."""

    kind: str
    bbox: BBox
    conf: float


class Page(BaseModel):
    number: int  # 1-based
    width: float | None = None
    height: float | None = None
    unit: str = "pt"  # "pt" for PDF pages, "px" for images
    origin: Origin
    blocks: list[Block] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    conf: float | None = None  # mean OCR word confidence on the page
    images: int = 0  # embedded pictures (photos, seals) on the page
    rotation: int = 0  # degrees the source was turned to read it upright (its EXIF tag)
    # degrees (clockwise) the picture was turned after that, because its text lay on its
    # side (a scan turned 90° with no EXIF tag): the boxes are those of the turned picture
    turned: int = 0
    marks: list[Mark] = Field(default_factory=list)
    # hex sha256 hashes of the page's main picture(s), raw and pixel (extractors.pictures)
    pictures: list[str] = Field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        return [line for block in self.blocks for line in block.lines]

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


class Document(BaseModel):
    model_version: int = MODEL_VERSION
    media_type: str
    parser: str
    pages: list[Page] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)

    def to_gzip_json(self) -> bytes:
        return gzip.compress(self.model_dump_json(exclude_none=True).encode(), compresslevel=5)

    @classmethod
    def from_gzip_json(cls, data: bytes) -> Document:
        return cls.model_validate_json(gzip.decompress(data))
