"""DOCX: paragraphs and tables in document order, split into pages at explicit breaks
(page breaks, "page break before", and next-page section breaks), as Word prints them.

Word forms put their fill-in fields in content controls (``w:sdt``: around paragraphs and
tables, around rows and cells, inside a paragraph around runs), whose content python-docx
does not iterate. They are unwrapped on the element tree before anything is read, so every
walk below sees their paragraphs, tables, rows, cells and runs where Word shows them; a
control still showing its placeholder prompt (单击或点击此处输入文字) gives no text.

A DOCX has no geometry until it is laid out, so boxes are absent; tables appear both as
structure (``Page.tables``) and as text rows in reading order (``Page.blocks``).
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from lxml import etree

from extractors.bombs import check_zip_parts
from extractors.errors import CorruptFileError, TooManyPagesError
from extractors.model import Block, Document, Line, Origin, Page, Table
from extractors.registry import ParseOptions
from extractors.sniff import DOCX

_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_T, _BR, _TAB, _CR = qn("w:t"), qn("w:br"), qn("w:tab"), qn("w:cr")
_DRAWING, _PICT = qn("w:drawing"), qn("w:pict")
_SZ, _TYPE, _VAL = qn("w:sz"), qn("w:type"), qn("w:val")
_SDT, _SDT_PR, _SDT_CONTENT = qn("w:sdt"), qn("w:sdtPr"), qn("w:sdtContent")
_PLACEHOLDER = qn("w:showingPlcHdr")


class DocxParser:
    name = "docx"

    def score(self, media_type: str) -> int:
        return 10 if media_type == DOCX else 0

    def parse(self, path: Path, options: ParseOptions) -> Document:
        check_zip_parts(path, options.max_expanded_bytes)
        try:
            document = docx.Document(str(path))
        except (
            PackageNotFoundError,
            zipfile.BadZipFile,
            KeyError,
            etree.XMLSyntaxError,
            ValueError,
            AttributeError,  # python-docx on a malformed [Content_Types].xml
            TypeError,
        ) as exc:
            raise CorruptFileError(f"docx: {exc}") from exc
        builder = _PageBuilder(options.max_pages)
        unwrap_content_controls(document.element.body)
        for child in document.element.body.iterchildren():
            if child.tag == _P:
                builder.paragraph(child)
            elif child.tag == _TBL:
                builder.table(child)
        pages = builder.finish()
        options.progress("parsing", len(pages), len(pages))
        return Document(media_type=DOCX, parser=self.name, pages=pages)


class _PageBuilder:
    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self.pages: list[Page] = []
        self._new_page()

    def _new_page(self) -> None:
        if len(self.pages) >= self.max_pages:
            raise TooManyPagesError(f"more than {self.max_pages} pages")
        self.pages.append(Page(number=len(self.pages) + 1, origin=Origin.DOCX, unit="docx"))

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def _emit(self, text: str, size: float | None) -> None:
        text = text.strip()
        if text:
            self.page.blocks.append(Block(lines=[Line(text=text, size=size)]))

    def paragraph(self, p) -> None:
        ppr = p.find(qn("w:pPr"))
        if ppr is not None:
            before = ppr.find(qn("w:pageBreakBefore"))
            if before is not None and before.get(_VAL, "true") not in ("0", "false"):
                self._break()
        parts: list[str] = []
        sizes: list[float] = []
        for el in p.iter(_T, _BR, _TAB, _CR, _DRAWING, _PICT, _SZ):
            if el.tag == _T:
                parts.append(el.text or "")
            elif el.tag == _TAB:
                parts.append("\t")
            elif el.tag == _CR:
                parts.append("\n")
            elif el.tag == _BR:
                if el.get(_TYPE) == "page":
                    self._emit("".join(parts), max(sizes, default=None))
                    parts.clear()
                    self._break()
                else:
                    parts.append("\n")
            elif el.tag in (_DRAWING, _PICT):
                self.page.images += 1
            elif el.tag == _SZ and el.getparent().tag == qn("w:rPr"):
                with contextlib.suppress(TypeError, ValueError):
                    sizes.append(int(el.get(_VAL)) / 2)
        self._emit("".join(parts), max(sizes, default=None))
        if ppr is not None:
            sect = ppr.find(qn("w:sectPr"))
            if sect is not None:
                kind = sect.find(qn("w:type"))
                if kind is None or kind.get(_VAL) in ("nextPage", "oddPage", "evenPage"):
                    self._break()

    def _break(self) -> None:
        if self.page.blocks or self.page.tables or self.page.images:
            self._new_page()

    def table(self, tbl) -> None:
        rows: list[list[str | None]] = []
        for tr in tbl.iter(_TR):
            if _nearest(tr, _TBL) is not tbl:  # rows of a nested table
                continue
            row = []
            for tc in tr.iterchildren(_TC):
                text = "\n".join(
                    "".join(t.text or "" for t in p.iter(_T)) for p in tc.iter(_P)
                ).strip()
                row.append(text or None)
                self.page.images += sum(1 for _ in tc.iter(_DRAWING, _PICT))
            rows.append(row)
        if not rows:
            return
        self.page.tables.append(Table(rows=rows))
        lines = [Line(text=" ".join(c for c in row if c)) for row in rows if any(row)]
        if lines:
            self.page.blocks.append(Block(lines=lines))

    def finish(self) -> list[Page]:
        while len(self.pages) > 1 and not (
            self.page.blocks or self.page.tables or self.page.images
        ):
            self.pages.pop()
        return self.pages


def unwrap_content_controls(root) -> None:
    """Replace every content control under ``root`` by its content, in place and in
    document order (a control inside a control comes out too). The text of a control that
    shows its placeholder is dropped, its structure (a cell, a row) kept."""
    for sdt in list(root.iter(_SDT)):
        parent = sdt.getparent()
        if parent is None:
            continue
        content = sdt.find(_SDT_CONTENT)
        children = list(content) if content is not None else []
        if _showing_placeholder(sdt):
            for el in [t for child in children for t in child.iter(_T)]:
                el.getparent().remove(el)
        at = parent.index(sdt)
        parent.remove(sdt)
        for offset, child in enumerate(children):
            parent.insert(at + offset, child)


def _showing_placeholder(sdt) -> bool:
    props = sdt.find(_SDT_PR)
    flag = props.find(_PLACEHOLDER) if props is not None else None
    return flag is not None and flag.get(_VAL, "true") not in ("0", "false", "off")


def _nearest(el, tag):
    parent = el.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent
