"""PDF: pypdfium2 for the text layer (fast, with character boxes) and for rendering pages
that have no usable text, tesseract for those, pdfplumber for tables (its strength, and
only on pages that have ruling lines, since it costs ~20–400 ms a page)."""

from __future__ import annotations

import ctypes
import logging
import tempfile
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors.bombs import check_pdf
from extractors.errors import CorruptFileError, EncryptedFileError, TooManyPagesError
from extractors.marks import find_seals, to_page
from extractors.model import Block, Document, Line, Mark, Origin, Page, Table, Word
from extractors.ocr import map_bounded, union
from extractors.parsers.ocrpage import ocr_page, prepare_for_ocr, turn_box, turn_upright
from extractors.pictures import pixel_hash, raw_hash, unique
from extractors.registry import ParseOptions
from extractors.sniff import PDF
from extractors.vocabulary import form_labels

log = logging.getLogger(__name__)

# PDFium must not be entered from two threads of a process at once (pypdfium2's docs). Every
# user in a process takes this lock: this parser (around its text pass and each page it
# renders, never while OCR runs), the report's page pictures and the queue's peek into a PDF
# (intake), and the API's inline parse of an annual summary. Re-entrant, so a caller that
# holds it may call in here.
PDFIUM_LOCK = threading.RLock()

MIN_TEXT_CHARS = 12  # fewer real characters than this: treat the page as a picture
MIN_RULES_FOR_TABLE = 4
SEAL_DPI = 50  # enough for a 4 cm seal (80 px); ~10 ms a page


class PdfParser:
    name = "pdf"

    def score(self, media_type: str) -> int:
        return 10 if media_type == PDF else 0

    def parse(self, path: Path, options: ParseOptions) -> Document:
        check_pdf(path, options.max_expanded_bytes)
        with PDFIUM_LOCK:
            pdf = _open(path)
        try:
            with PDFIUM_LOCK:
                pages, to_ocr, ocr_pictures, ruled, broken = _text_pass(pdf, options)
            warnings = _add_tables(path, pages, ruled)
            warnings += [f"第 {n} 页无法读取，已跳过" for n in broken]
            if to_ocr:
                for page in _ocr_pages(pdf, to_ocr, options):
                    page.pictures = ocr_pictures[page.number]
                    pages[page.number] = page
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        return Document(
            media_type=PDF,
            parser=self.name,
            pages=[pages[n] for n in sorted(pages)],
            warnings=warnings,
        )


def _text_pass(pdf: pdfium.PdfDocument, options: ParseOptions):
    """Each page's text layer: the pages read from it, those to OCR (with their pictures'
    hashes), those ruled like a form, and those that cannot be loaded."""
    count = len(pdf)
    if count > options.max_pages:
        raise TooManyPagesError(f"{count} pages > {options.max_pages}")
    if count == 0:
        raise CorruptFileError("no pages")
    pages: dict[int, Page] = {}
    ocr_pictures: dict[int, list[str]] = {}  # page number → picture hashes
    to_ocr: list[int] = []
    ruled: list[int] = []
    broken: list[int] = []
    for index in range(count):
        try:
            page = pdf[index]
        except pdfium.PdfiumError:  # a page tree that loops, a missing page object
            broken.append(index + 1)
            continue
        try:
            parsed, rules, hashes = _text_page(page, index + 1, options.max_image_pixels)
        finally:
            page.close()
        if parsed is None:
            to_ocr.append(index)
            ocr_pictures[index + 1] = hashes
        else:
            pages[index + 1] = parsed
            if rules >= MIN_RULES_FOR_TABLE and _form_like(parsed):
                ruled.append(index)
        options.progress("parsing", index + 1, count)
    if len(broken) == count:
        raise CorruptFileError(f"no page can be loaded ({count} declared)")
    return pages, to_ocr, ocr_pictures, ruled, broken


# Labels of the forms whose tables extraction reads cell by cell (基本情况表, 推荐表). A
# ruled page with three of them is a form; a statement or an annual report's table is not,
# and pdfplumber's table finder (~0.3 s a dense page) is not run on it.
FORM_LABELS = form_labels()  # the vocabulary's: labels only a filled-in form prints


def _form_like(page: Page) -> bool:
    text = "".join(line.text for line in page.lines).replace(" ", "")
    return sum(label in text for label in FORM_LABELS) >= 3


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text or "security" in text:
            raise EncryptedFileError(str(exc)) from exc
        raise CorruptFileError(str(exc)) from exc


def _is_real(ch: str) -> bool:
    return (
        ch.isprintable()
        and not ch.isspace()
        and ch != "\ufffd"
        and not ("\ue000" <= ch <= "\uf8ff")
    )


def _text_page(
    page: pdfium.PdfPage, number: int, max_pixels: int
) -> tuple[Page | None, int, list[str]]:
    """Read a page's text layer into lines with boxes, or None when it has no usable text
    (a scan, or text whose font has no Unicode mapping). Also counts ruling lines and
    hashes the page's main pictures (for a page to OCR too).

    Boxes are those of the page as shown, its /Rotate applied, as its size and renderings
    are: pdfium gives characters' boxes in the page's own space, unturned (a landscape page
    stored portrait with /Rotate 90 had its lines at negative heights)."""
    width, height = page.get_size()
    rotation = page.get_rotation()
    unturned = (height, width) if rotation in (90, 270) else (width, height)
    textpage = page.get_textpage()
    try:
        n = textpage.count_chars()
        chars: list[tuple[str, tuple[float, float, float, float] | None]] = []
        real = 0
        rect = pdfium_c.FS_RECTF()
        for i in range(n):
            ch = _char(textpage, i)
            box = None
            if _is_real(ch):
                real += 1
                if pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, i, ctypes.byref(rect)):
                    top = unturned[1]
                    box = (rect.left, top - rect.top, rect.right, top - rect.bottom)
                    if rotation:
                        box = turn_box(box, rotation, *unturned)
            chars.append((ch, box))
    finally:
        textpage.close()
    images, rules, pictures, hashes = _count_objects(page, width * height, max_pixels)
    if _wants_ocr(real, images, chars):
        return None, rules, hashes
    return (
        Page(
            number=number,
            width=round(width, 2),
            height=round(height, 2),
            unit="pt",
            origin=Origin.TEXT,
            blocks=_blocks(_lines(chars)),
            images=max(images, pictures),
            marks=_seals(page, width, height) if pictures else [],
            pictures=hashes,
        ),
        rules,
        hashes,
    )


def read_by_ocr(page: pdfium.PdfPage) -> bool:
    """Whether the parser reads ``page`` by OCR, decided as ``_text_page`` decides it but
    without boxes, hashes or seals: a page's picture needs it (an OCR'd page may have been
    turned upright, ``Page.turned``, a text page never is)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        chars = [(_char(textpage, i), None) for i in range(textpage.count_chars())]
    finally:
        textpage.close()
    real = sum(1 for ch, _ in chars if _is_real(ch))
    images = 0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        images += _page_sized(right - left, top - bottom, width * height)
    return _wants_ocr(real, images, chars)


def _char(textpage: pdfium.PdfTextPage, index: int) -> str:
    code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
    return chr(code) if 0 < code < 0x110000 else "\ufffd"


def _wants_ocr(real: int, images: int, chars: list[tuple[str, object]]) -> bool:
    """No usable text layer: too few characters, a few beside a page-sized picture (a scan
    with a little text on it), or mostly characters without a Unicode mapping."""
    return real < MIN_TEXT_CHARS or (real < 60 and images > 0) or _garbled(chars, real)


def _page_sized(width: float, height: float, area: float) -> bool:
    """A picture over a quarter of the page: a scanned or photographed page."""
    return width * height > 0.25 * area


def _garbled(chars: list[tuple[str, object]], real: int) -> bool:
    bad = sum(1 for ch, _ in chars if ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff")
    return bad > 0.2 * max(real + bad, 1)


def _count_objects(
    page: pdfium.PdfPage, area: float, max_pixels: int
) -> tuple[int, int, int, list[str]]:
    """(large images, ruling paths, pictures, hashes of the large images): a big picture
    means a scanned or photographed page, and is the page's main picture; thin paths are
    table rules; a picture of 30 pt or more may be a seal or a photo."""
    images = rules = pictures = 0
    hashes: list[str] = []
    for obj in page.get_objects(
        filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH), max_depth=4
    ):
        left, bottom, right, top = obj.get_bounds()
        w, h = right - left, top - bottom
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            if _page_sized(w, h, area):
                images += 1
                hashes += _picture_hashes(obj, max_pixels)
            if min(w, h) >= 30:
                pictures += 1
        elif (min(w, h) < 3 and max(w, h) > 20) or (w > 20 and h > 8):
            rules += 1
    return images, rules, pictures, unique(hashes)


# Filters that are a picture's own encoding: the stream stripped down to them is the bytes
# of a .jpg (.jp2, …) file. ASCII85, Flate and the like are only how the PDF carries it.
PICTURE_CODECS = {"DCTDecode", "JPXDecode", "JBIG2Decode", "CCITTFaxDecode"}


def _picture_hashes(image: pdfium.PdfImage, max_pixels: int) -> list[str]:
    """The raw and pixel hashes (extractors.pictures) of an image object, one picture in
    memory at a time. A hash that cannot be computed (a broken stream, a colour space pdfium
    cannot decode) is left out: it never fails the parse."""
    hashes: list[str] = []
    codec = False
    try:
        # Undo transport filters only in front of a picture codec: reportlab wraps a JPEG
        # in ASCII85; with no codec, "decoded" would be bare samples, so keep what's stored.
        codec = any(f in PICTURE_CODECS for f in image.get_filters())
        data = image.get_data(decode_simple=codec)
        if len(data):
            hashes.append(raw_hash(data))
    except Exception as exc:
        log.debug("raw hash of an image object skipped: %s", exc)
    if codec and hashes:
        # A JPEG's (JPEG 2000's …) own bytes are its identity, and what a .jpg file of it
        # holds: decoding it for a pixel hash too cost ~115 ms a 300 dpi page, 9 times the
        # raw hash, on every page of a scanned PDF with a text layer, and matched nothing more.
        return hashes
    try:
        width, height = ctypes.c_uint(), ctypes.c_uint()
        if not pdfium_c.FPDFImageObj_GetImagePixelSize(
            image.raw, ctypes.byref(width), ctypes.byref(height)
        ):
            log.debug("pixel hash of an image object skipped: no pixel size")
        elif width.value * height.value > max_pixels:
            log.debug("pixel hash of a %dx%d px image skipped", width.value, height.value)
        else:
            bitmap = image.get_bitmap(render=False)  # the stored pixels, before any mask
            try:
                hashes.append(pixel_hash(bitmap.to_pil()))
            finally:
                bitmap.warn_on_close = False  # pdfium's buffer: the PIL view above is gone
                bitmap.close()
    except Exception as exc:
        log.debug("pixel hash of an image object skipped: %s", exc)
    return hashes


def _seals(page: pdfium.PdfPage, width: float, height: float) -> list[Mark]:
    """Red seals on a text page that holds pictures, from a small colour rendering."""
    bitmap = page.render(scale=SEAL_DPI / 72)
    try:
        image = bitmap.to_pil()
        return to_page(find_seals(image), width, height)
    finally:
        bitmap.close()


def _lines(chars: list[tuple[str, tuple[float, float, float, float] | None]]) -> list[Line]:
    """pdfium inserts \\r\\n between the lines it finds; split there, then into words at
    spaces, keeping the union of the character boxes."""
    lines: list[Line] = []
    text: list[str] = []
    words: list[Word] = []
    word_chars: list[str] = []
    word_boxes: list[tuple[float, float, float, float]] = []

    def end_word() -> None:
        if word_chars:
            words.append(Word(text="".join(word_chars), bbox=_round(union(word_boxes))))
            word_chars.clear()
            word_boxes.clear()

    def end_line() -> None:
        end_word()
        line_text = "".join(text).strip()
        if line_text:
            box = union(w.bbox for w in words)
            lines.append(
                Line(
                    text=line_text,
                    bbox=box,
                    words=list(words),
                    size=None if box is None else round(box[3] - box[1], 2),
                )
            )
        text.clear()
        words.clear()

    for ch, box in chars:
        if ch in "\r\n":
            if ch == "\n" or not text:
                end_line()
            continue
        text.append(ch)
        if box is None:
            end_word()
        else:
            word_chars.append(ch)
            word_boxes.append(box)
    end_line()
    return lines


def _blocks(lines: list[Line]) -> list[Block]:
    """Group lines into blocks at vertical gaps larger than a line's height."""
    blocks: list[list[Line]] = []
    prev: Line | None = None
    for line in lines:
        gap_break = (
            prev is not None
            and prev.bbox is not None
            and line.bbox is not None
            and line.bbox[1] - prev.bbox[3] > 1.2 * max(prev.size or 0, line.size or 0, 1)
        )
        if prev is None or gap_break:
            blocks.append([])
        blocks[-1].append(line)
        prev = line
    return [Block(lines=ls, bbox=union(ln.bbox for ln in ls)) for ls in blocks]


def _round(box):
    return None if box is None else tuple(round(v, 2) for v in box)


def _add_tables(path: Path, pages: dict[int, Page], ruled: list[int]) -> list[str]:
    """pdfplumber's table finder on the text pages that have ruling lines."""
    if not ruled:
        return []
    import pdfplumber

    warnings: list[str] = []
    try:
        with pdfplumber.open(path) as pl:
            for index in ruled:
                page = pl.pages[index]
                try:
                    for table in page.find_tables():
                        rows = [[_cell(c) for c in row] for row in table.extract()]
                        if len(rows) >= 2 and any(any(c for c in row) for row in rows):
                            pages[index + 1].tables.append(
                                Table(rows=rows, bbox=_round(table.bbox))
                            )
                except Exception as exc:  # a table we cannot read is not a failed file
                    log.warning("tables on page %d of %s: %s", index + 1, path, exc)
                    warnings.append(f"第 {index + 1} 页的表格未能识别")
                finally:
                    page.close()
    except Exception as exc:
        log.warning("pdfplumber could not open %s: %s", path, exc)
        warnings.append("表格结构未能识别")
    return warnings


def _cell(value: str | None) -> str | None:
    return None if value is None else " ".join(value.split())


def _rendering(pdf: pdfium.PdfDocument, index: int, scale: float):
    """One page's size (as /Rotate turns it, as it renders) and its rendering in colour
    (seals are red), a picture of its own: PDFium's bitmap is freed here."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        bitmap = page.render(scale=scale)
        try:
            rendering = bitmap.to_pil().copy()  # to_pil shares the bitmap's memory
        finally:
            bitmap.close()
    finally:
        page.close()
    return width, height, rendering


def _ocr_pages(pdf: pdfium.PdfDocument, indices: list[int], options: ParseOptions):
    """Render pages one at a time (at most ``ocr_workers`` in flight) and OCR them in
    parallel; boxes are converted back to PDF points. pdfium renders a page as its /Rotate
    entry turns it (and gives its size so); a scan still lying on its side or upside down
    after that is turned upright before it is prepared and read (``turn_upright``;
    ``Page.turned`` counts from the rendering)."""
    scale = options.ocr_dpi / 72
    total = len(indices)
    reader = options.engine_for(total)
    with tempfile.TemporaryDirectory(prefix="intake-ocr-") as tmp:

        def rendered():
            for index in indices:
                with PDFIUM_LOCK:  # only while PDFium renders; not while OCR reads
                    width, height, rendering = _rendering(pdf, index, scale)
                image, lie = turn_upright(reader, rendering)
                if image is not rendering and lie.turn in (90, 270):
                    width, height = height, width
                seals = find_seals(image)
                marks = to_page(seals, width, height)
                target = Path(tmp) / f"p{index + 1}.pnm"
                colour = getattr(reader, "colour", False)
                back = prepare_for_ocr(image, target, seals, colour=colour)
                size = image.size
                image.close()
                rendering.close()
                yield index, target, size, back, width, height, marks, lie

        def read(item) -> Page:
            index, target, size, back, width, height, marks, lie = item
            try:
                page = ocr_page(
                    reader,
                    target,
                    size,
                    back / scale,
                    index + 1,
                    round(width, 2),
                    round(height, 2),
                    "pt",
                    lie,
                    marks,
                )
                return page
            finally:
                target.unlink(missing_ok=True)

        yield from map_bounded(
            read,
            rendered(),
            options.ocr_workers,
            lambda done: options.progress("ocr", done, total),
        )
