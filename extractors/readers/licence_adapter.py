"""The business licence (营业执照, 法人证书) in the readers' shape: ``readers.licence`` reads
each page by its layout, and its values stand over the label reader's on those pages.

(``readers.licence`` is being rebuilt on its own; once it offers ``read`` and ``settle``
itself, the vocabulary's ``reader`` for business_licence can name it and this file go.)"""

from __future__ import annotations

from extractors.classify import Material
from extractors.pagetext import FieldValue, PageText
from extractors.readers import institution
from extractors.readers.licence import READS, read_licence

# Fields this reader gives (beyond its material's labels).
FIELDS = (*READS, *institution.OWN)


def read(material: Material, pages: list[PageText]) -> list[FieldValue]:
    """The applicant's fields as each page of the licence prints them; a legal person
    certificate (事业单位法人证书 …, kind 法人证书) by its own labels, with no founding date."""
    reader = institution.read_institution if material.kind == "法人证书" else read_licence
    return [v for pt in pages for v in reader(pt.file, pt.page, pt.material)]


def settle(labelled: list[FieldValue], own: list[FieldValue]) -> list[FieldValue]:
    """Which of the label reader's values on the licence's pages stay beside the layout
    reader's (``own``): a value the words alone gave for a field the layout reader did
    not find on that page stays, with the doubt said (it may be the next column's text or
    another label's value); one it did find, it gives."""
    by_page = {(v.file, v.page, v.field) for v in own}
    kept: list[FieldValue] = []
    for v in labelled:
        if v.field not in READS:
            kept.append(v)
        elif (v.file, v.page, v.field) not in by_page:
            v.confidence = min(v.confidence, 0.5)
            v.note = v.note or "未能按执照版面读取该项，取自文字匹配，请人工核对"
            kept.append(v)
    return kept
