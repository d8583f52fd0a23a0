"""A page as the readers see it: normalised lines joined into one string, each line's box
and OCR confidence kept (``PageText``), and the value a reader finds there with its file,
page, box, text and confidence (``FieldValue``).

Lines are normalised once: full-width forms folded, spaces between Han characters dropped,
spaces next to digits kept so that 14 6,300,572.61 stays two figures. An OCR'd page's words
are regrouped into the rows a reader sees (``visual_rows``)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from extractors.model import BBox, Line, Origin, Page, Word
from extractors.normalize import MONTH_ONLY, fold
from extractors.ocr import join_words, union

if TYPE_CHECKING:
    from extractors.layout import KeyValue


@dataclass
class FieldValue:
    field: str
    value: Any
    file: str
    page: int
    text: str
    confidence: float
    material: str | None = None
    bbox: BBox | None = None
    note: str | None = None
    origin: str | None = None  # text layer, ocr or docx: an OCR'd value may be a misread

    @classmethod
    def of_pair(
        cls, kv: KeyValue, field: str, value: Any, file: str, page: Page, material: str | None
    ) -> FieldValue:
        """A value a layout reader paired with its label (``extractors.layout``): the
        label and value as read are its text, the pair's box and confidence its own."""
        return cls(
            field=field,
            value=value,
            file=file,
            page=page.number,
            text=f"{kv.label} {kv.value}",
            confidence=round(min(0.99, kv.conf), 3),
            material=material,
            bbox=kv.bbox,
            origin=str(page.origin),
        )

    @classmethod
    def credit_codes(cls, file: str, page: Page, material: str | None) -> list[FieldValue]:
        """Every valid credit code printed on a page as a whole token (never a slice of a
        longer number: ``extractors.identifiers``), once each, with its line."""
        from extractors import identifiers

        out: list[FieldValue] = []
        for line in page.lines:
            for token in identifiers.tokens(line.text):
                if token.kind != "credit_code" or any(v.value == token.value for v in out):
                    continue
                conf = line.conf if line.conf is not None else 1
                out.append(
                    cls(
                        field="applicant.credit_code",
                        value=token.value,
                        file=file,
                        page=page.number,
                        text=line.text,
                        confidence=round(min(0.99, conf), 3),
                        material=material,
                        bbox=line.bbox,
                        origin=str(page.origin),
                    )
                )
        return out

    def as_dict(self) -> dict[str, Any]:
        out = {
            "value": self.value,
            "file": self.file,
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "text": self.text,
            "confidence": round(self.confidence, 2),
            "material": self.material,
            "origin": self.origin,
        }
        if self.note:
            out["note"] = self.note
        if isinstance(self.value, str) and MONTH_ONLY.fullmatch(self.value):
            # The contract's dates are YYYY-MM-DD; a date printed to the month only
            # (申报日期：2018年7月) is given as the month's first day and says so.
            out["value"] = f"{self.value}-01"
            out["precision"] = "month"
        return out


def norm_line(text: str) -> str:
    """Fold full-width forms and join letter-spaced runs (统 一 社 会 信 用 代 码: single
    characters between single spaces), but keep one space between words, so a form's cells
    stay apart (法定代表人 袁亮宇 成立时间) and row numbers stay apart from figures."""
    out: list[str] = []
    spaced: list[bool] = []
    for token in fold(text).split():
        single = len(token) == 1 and not token.isdigit()
        if single and out and (spaced[-1] or (len(out[-1]) == 1 and not out[-1].isdigit())):
            out[-1] += token
            spaced[-1] = True
            continue
        out.append(token)
        spaced.append(False)
    return " ".join(out)


@dataclass
class PageText:
    """A page as one string of normalised lines joined by newlines."""

    file: str
    page: Page
    material: str | None
    text: str = ""
    starts: list[int] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def of(cls, file: str, page: Page, material: str | None) -> PageText:
        out = cls(file, page, material)
        parts: list[str] = []
        pos = 0
        lines = visual_rows(page) if page.origin == Origin.OCR else page.lines
        for line in lines:
            text = norm_line(line.text)
            if not text:
                continue
            out.starts.append(pos)
            out.lines.append(line)
            parts.append(text)
            pos += len(text) + 1
        out.text = "\n".join(parts)
        return out

    def wraps(self, offset: int) -> bool:
        """Does the line at ``offset`` run to the right margin, so that its text may go on
        in the next line? (DOCX paragraphs are whole; a licence's short rows do not wrap.)"""
        if self.page.origin == Origin.DOCX:
            return False
        line = self.lines[self.line_at(offset)] if self.lines else None
        if self._margin is None or line is None or not line.bbox:
            return True
        return line.bbox[2] >= self._margin

    @cached_property
    def _margin(self) -> float | None:
        """Where a line that runs to the right margin ends (computed once per page)."""
        boxes = [ln.bbox for ln in self.lines if ln.bbox]
        if not boxes:
            return None
        left = min(b[0] for b in boxes)
        return left + 0.85 * (max(b[2] for b in boxes) - left)

    def line_at(self, offset: int) -> int:
        return max(0, bisect_right(self.starts, offset) - 1)

    def source(self, start: int, end: int) -> tuple[str, BBox | None, float]:
        """Text, box and confidence of the lines a span touches (a newline it begins or ends
        with, left by a pattern anchored at a line start, touches no line)."""
        while start < end - 1 and self.text[start] == "\n":
            start += 1
        while end - 1 > start and self.text[end - 1] == "\n":
            end -= 1
        first, last = self.line_at(start), self.line_at(max(start, end - 1))
        lines = self.lines[first : last + 1]
        bbox = union(ln.bbox for ln in lines)
        text = " ".join(ln.text.strip() for ln in lines)
        return text, bbox, self.confidence(lines)

    def confidence(self, lines: list[Line]) -> float:
        if self.page.origin != Origin.OCR:
            return 0.98
        words = [w.conf for ln in lines for w in ln.words if w.conf is not None]
        if not words:
            return 0.5
        # The weakest words decide: one misread digit spoils a figure.
        words.sort()
        low = words[: max(1, len(words) // 4)]
        return round(0.5 * (sum(low) / len(low)) + 0.5 * (sum(words) / len(words)), 3)

    def value(
        self,
        name: str,
        value: Any,
        start: int,
        end: int,
        *,
        scale: float = 1.0,
        note: str | None = None,
    ) -> FieldValue:
        text, bbox, conf = self.source(start, end)
        return FieldValue(
            field=name,
            value=value,
            file=self.file,
            page=self.page.number,
            text=text,
            confidence=round(min(0.99, conf * scale), 3),
            material=self.material,
            bbox=bbox,
            note=note,
            origin=str(self.page.origin),
        )


def visual_rows(page: Page) -> list[Line]:
    """An OCR'd page's words regrouped into the rows a reader sees. Tesseract may put a
    table's label column and its figures in different blocks (一、营业收入 in one, 2,234,403.48
    in another); words whose vertical centres are close belong to one row, read left to
    right, with a space where the gap is wide."""
    words = [w for line in page.lines for w in line.words if w.bbox and w.text.strip()]
    if not words:
        return page.lines
    heights = sorted(w.bbox[3] - w.bbox[1] for w in words)
    tolerance = 0.5 * heights[len(heights) // 2]
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.bbox[1] + w.bbox[3]) / 2):
        centre = (word.bbox[1] + word.bbox[3]) / 2
        if rows:
            last = rows[-1]
            last_centre = sum((w.bbox[1] + w.bbox[3]) / 2 for w in last) / len(last)
            if abs(centre - last_centre) <= tolerance:
                last.append(word)
                continue
        rows.append([word])
    out = []
    for row in rows:
        row.sort(key=lambda w: w.bbox[0])
        parts = [row[0].text]
        for before, word in pairwise(row):
            wide = word.bbox[0] - before.bbox[2] > 1.5 * (before.bbox[3] - before.bbox[1])
            parts.append(("  " if wide else " ") + word.text)
        confs = [w.conf for w in row if w.conf is not None]
        out.append(
            Line(
                text=join_words(["".join(parts)]),
                bbox=union(w.bbox for w in row),
                words=row,
                conf=round(sum(confs) / len(confs), 3) if confs else None,
            )
        )
    return out
