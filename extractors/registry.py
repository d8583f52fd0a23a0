"""The parser registry: each parser says how well it handles a media type; the best wins.

Adding a format is adding a parser and registering it here, not another branch in an
if-chain.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from extractors.errors import (
    FileTooLargeError,
    InputFileError,
    InternalParseError,
    UnsupportedTypeError,
)
from extractors.model import Document
from extractors.ocr import OcrEngine, TesseractEngine
from extractors.sniff import sniff

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stage is ``parsing`` or ``ocr``."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class ParseOptions:
    """What a parser needs from its caller: the OCR engine, limits and a progress hook."""

    ocr: OcrEngine = field(default_factory=TesseractEngine)
    ocr_long: OcrEngine | None = None  # for scans of more than ``long_scan`` pages
    long_scan: int = 30
    ocr_dpi: int = 200
    ocr_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_pages: int = 1000
    max_frames: int = 50  # pictures in one image file (TIFF, GIF)
    max_image_pixels: int = 64_000_000
    max_expanded_bytes: int = 512 << 20  # a PDF's streams or a DOCX's parts, expanded
    progress: Progress = _no_progress

    def engine_for(self, pages: int) -> OcrEngine:
        """The OCR engine for a scan of ``pages`` pages to OCR."""
        if self.ocr_long is not None and pages > self.long_scan:
            return self.ocr_long
        return self.ocr


class Parser(Protocol):
    name: str

    def score(self, media_type: str) -> int:
        """0 when the parser cannot read this type; higher is a better fit."""
        ...

    def parse(self, path: Path, options: ParseOptions) -> Document: ...


class ParserRegistry:
    def __init__(self) -> None:
        self._parsers: list[Parser] = []

    def register(self, parser: Parser) -> Parser:
        self._parsers.append(parser)
        return parser

    def for_type(self, media_type: str) -> Parser:
        scored = [(p.score(media_type), i, p) for i, p in enumerate(self._parsers)]
        best = max(scored, default=(0, 0, None), key=lambda t: (t[0], -t[1]))
        if best[0] <= 0 or best[2] is None:
            raise UnsupportedTypeError(media_type)
        return best[2]


def default_registry() -> ParserRegistry:
    from extractors.parsers.docx import DocxParser
    from extractors.parsers.image import ImageParser
    from extractors.parsers.pdf import PdfParser

    registry = ParserRegistry()
    for parser in (PdfParser(), DocxParser(), ImageParser()):
        registry.register(parser)
    return registry


def parse_file(
    path: Path, options: ParseOptions | None = None, registry: ParserRegistry | None = None
) -> Document:
    """Sniff, pick a parser and parse. Every failure comes out as an InputFileError."""
    options = options or ParseOptions()
    registry = registry or default_registry()
    media_type = sniff(path)
    parser = registry.for_type(media_type)
    try:
        document = parser.parse(path, options)
    except InputFileError:
        raise
    except MemoryError as exc:
        raise FileTooLargeError("out of memory while parsing") from exc
    except Exception as exc:
        log.exception("parser %s crashed on %s", parser.name, path)
        raise InternalParseError(f"{parser.name}: {type(exc).__name__}: {exc}") from exc
    document.media_type = media_type
    return document
