"""Pictures of the evidence: the part of a page a value was read from, with its box drawn,
for the HTML and PDF reports (a reviewer sees the source without opening the file)."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageOps

from extractors.errors import InputFileError
from extractors.sniff import PDF, sniff
from intake.storage import FileStore

log = logging.getLogger(__name__)

MAX_CROPS = 60
WIDTH = 640  # px of the picture in the report
MARGIN = 0.6  # of the box's height, around it
CONTEXT = 3.0  # box heights of context above and below


def evidence_crops(report: dict[str, Any], store: FileStore) -> dict[str, str]:
    """``field#i`` → a PNG data URI of the page region that value was read from, for every
    value a finding uses that has a box on a PDF page or a picture."""
    shas = {f["file"]: f.get("sha256") for f in report.get("files", [])}
    wanted: list[str] = []
    for finding in report.get("findings", []):
        for ref in finding.get("evidence", []):
            if "#" in ref and not ref.startswith("materials#") and ref not in wanted:
                wanted.append(ref)
    crops: dict[str, str] = {}
    pages = _Pages(store)  # each document loaded and each page rendered once per report
    for ref in wanted[:MAX_CROPS]:
        name, _, index = ref.partition("#")
        values = report.get("fields", {}).get(name, [])
        if not index.isdigit() or int(index) >= len(values):
            continue
        value = values[int(index)]
        sha = shas.get(value["file"])
        if not value.get("bbox") or not sha or not value.get("page"):
            continue
        try:
            picture = _crop(pages, sha, value["page"], value["bbox"])
        except Exception:  # a picture we cannot make is not a report we cannot make
            log.warning("no crop for %s (%s p%s)", ref, value["file"], value["page"], exc_info=True)
            continue
        if picture is not None:
            crops[ref] = picture
    return crops


class _Pages:
    """Page pictures for one report's crops: a document's JSON is read once, a page is
    rendered once, however many values it holds."""

    def __init__(self, store: FileStore) -> None:
        self.store = store
        self.types: dict[str, str | None] = {}
        self.images: dict[tuple[str, int], tuple[Image.Image | None, float]] = {}
        self.turns: dict[str, dict[int, int]] = {}

    def _turned(self, sha: str, page: int) -> int:
        """How far a page was turned upright before it was read (``Page.turned``): the
        parsed document is read once a file, and only for pages read by OCR."""
        if sha not in self.turns:
            pages = self.store.load_document(sha).pages
            self.turns[sha] = {p.number: p.turned for p in pages}
        return self.turns[sha].get(page, 0)

    def get(self, sha: str, page: int) -> tuple[Image.Image | None, float]:
        if (sha, page) in self.images:
            return self.images[(sha, page)]
        blob = self.store.blob_path(sha)
        if sha not in self.types:
            # Only what was parsed is drawn (a file that failed, a bomb or an encrypted
            # PDF, is never opened here); its type from the blob's first bytes: loading the
            # parsed document (megabytes of JSON for an annual report) to learn it was most
            # of a report's time.
            try:
                self.types[sha] = sniff(blob) if self.store.has_document(sha) else None
            except (InputFileError, OSError):
                self.types[sha] = None
        media_type = self.types[sha]
        found: tuple[Image.Image | None, float] = (None, 1.0)
        # A page OCR'd after turning it upright has its boxes in the turned picture, and is
        # shown turned the same way. A picture's parsed document is a small page a frame; a
        # PDF's is read only for a page read by OCR (a scan's lines: small), never for a
        # text page (an annual report's JSON is megabytes).
        if media_type == PDF:
            image, scale, scanned = _pdf_page(blob, page)
            turned = self._turned(sha, page) if scanned else 0
            found = (_turn(image, turned), scale)
        elif media_type is not None and media_type.startswith("image"):
            found = (_turn(_picture(blob, page), self._turned(sha, page)), 1.0)
        # DOCX: no geometry to show
        self.images[(sha, page)] = found
        return found


def _crop(pages: _Pages, sha: str, page: int, bbox: list[float]) -> str | None:
    image, scale = pages.get(sha, page)
    if image is None:
        return None
    x0, y0, x1, y1 = (v * scale for v in bbox)
    h = max(8.0, y1 - y0)
    top = max(0, y0 - CONTEXT * h)
    bottom = min(image.height, y1 + CONTEXT * h)
    left = max(0, x0 - MARGIN * h * 4)
    right = min(image.width, x1 + MARGIN * h * 4)
    region = image.crop((int(left), int(top), int(right), int(bottom))).convert("RGB")
    draw = ImageDraw.Draw(region)
    pad = MARGIN * h / 2
    draw.rectangle(
        (x0 - left - pad, y0 - top - pad, x1 - left + pad, y1 - top + pad),
        outline=(220, 38, 38),
        width=max(2, int(h / 8)),
    )
    if region.width > WIDTH:
        region = region.resize(
            (WIDTH, max(1, round(region.height * WIDTH / region.width))), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    region.save(out, "PNG")  # optimize=True: 4x the time for 4 % less
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _pdf_page(blob: Path, page: int) -> tuple[Image.Image, float, bool]:
    """The page rendered as pdfium renders it for OCR (its /Rotate applied), the scale, and
    whether the parser read it by OCR."""
    import pypdfium2 as pdfium

    from extractors.parsers.pdf import PDFIUM_LOCK, read_by_ocr

    scale = 2.0  # 144 dpi: small print stays legible
    with PDFIUM_LOCK:  # PDFium must not be entered from two threads (the API's threadpool)
        pdf = pdfium.PdfDocument(str(blob))
        try:
            source = pdf[page - 1]
            rendered = source.render(scale=scale)
            image = rendered.to_pil()
            image.load()
            rendered.close()
            scanned = read_by_ocr(source)
        finally:
            pdf.close()
    return image, scale, scanned


def _picture(blob: Path, page: int) -> Image.Image:
    with Image.open(blob) as image:
        for _ in range(page - 1):
            image.seek(image.tell() + 1)
        upright = ImageOps.exif_transpose(image)
        upright.load()
        return upright


def _turn(image: Image.Image, turned: int) -> Image.Image:
    """Turned ``turned`` degrees clockwise, as it was before it was read."""
    return image.rotate(-turned, expand=True) if turned else image


PAGE_WIDTH = 1400  # px of a whole page shown in the browser


def page_picture(
    store: FileStore, sha: str, page: int, bbox: list[float] | None = None
) -> bytes | None:
    """A whole page as PNG, with ``bbox`` (page units) drawn in red: what a reviewer sees on
    clicking a finding's evidence. None for a page without geometry (DOCX)."""
    image, scale = _Pages(store).get(sha, page)
    if image is None:
        return None
    image = image.convert("RGB")
    if bbox is not None:
        x0, y0, x1, y1 = (v * scale for v in bbox)
        pad = max(4.0, (y1 - y0) * MARGIN / 2)
        ImageDraw.Draw(image).rectangle(
            (x0 - pad, y0 - pad, x1 + pad, y1 + pad),
            outline=(220, 38, 38),
            width=max(3, image.width // 300),
        )
    if image.width > PAGE_WIDTH:
        image = image.resize(
            (PAGE_WIDTH, max(1, round(image.height * PAGE_WIDTH / image.width))),
            Image.Resampling.LANCZOS,
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
