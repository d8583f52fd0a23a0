"""Extract canonical fields (contract.md) with their sources.

This first cut reads the credit code, the applicant's name and the application date from
labelled lines; the full extraction per material type builds on the same FieldValue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from extractors import credit_code
from extractors.classify import Material
from extractors.model import BBox, Document, Line, Origin, Page
from extractors.text import compact


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
        return out


_NAME_LABELS = re.compile(
    r"^(?:申报单位(?:\(盖章\))?|运营单位名称|单位名称|企业名称|名称|承租方(?:\(乙方\))?|乙方)(?:名称)?[:：]?"
    r"(?P<v>.{4,40}?(?:有限责任公司|股份有限公司|有限公司|中心|研究院|研究所|协会|事务所))"
)
_DATE_LABEL = re.compile(r"^申报日期[:：]?(?P<y>\d{4})[-年./](?P<m>\d{1,2})[-月./](?P<d>\d{1,2})")


def extract_fields(
    documents: list[tuple[str, Document]], materials: list[Material]
) -> dict[str, list[FieldValue]]:
    fields: dict[str, list[FieldValue]] = {}
    for name, document in documents:
        for page in document.pages:
            kind = _material_of(materials, name, page.number)
            for line in page.lines:
                for value in _from_line(line, page, name, kind):
                    fields.setdefault(value.field, []).append(value)
    return fields


def _material_of(materials: list[Material], name: str, page: int) -> str | None:
    for m in materials:
        if m.file == name and m.pages[0] <= page <= m.pages[1]:
            return m.type
    return None


def _confidence(line: Line, page: Page) -> float:
    if page.origin != Origin.OCR:
        return 0.99
    return line.conf if line.conf is not None else 0.5


def _from_line(line: Line, page: Page, file: str, kind: str | None):
    text = compact(line.text)
    conf = _confidence(line, page)
    base = {
        "origin": str(page.origin),
        "file": file,
        "page": page.number,
        "text": line.text,
        "material": kind,
        "bbox": line.bbox,
    }
    for match in credit_code.CANDIDATE.finditer(text):
        code = match.group(0)
        yield FieldValue("applicant.credit_code", code, confidence=conf, **base)
    if m := _NAME_LABELS.match(text):
        yield FieldValue("applicant.name", m.group("v"), confidence=conf * 0.9, **base)
    if m := _DATE_LABEL.match(text):
        iso = f"{int(m['y']):04d}-{int(m['m']):02d}-{int(m['d']):02d}"
        yield FieldValue("application.date", iso, confidence=conf, **base)
