"""Extract the contract's fields, every value with its file, page, box, text and confidence.

Read top to bottom:

1. ``PageText`` (``extractors.pagetext``) turns each page into normalised lines with their
   boxes and OCR confidences.
2. The label reader (``extractors.labels``), shared by every material, reads each field's
   value after one of its labels (``data/vocabulary.toml``) or from the next table cell,
   and credit codes wherever they stand as whole tokens.
3. Each material's reader (``extractors/readers/``, named by its type in the vocabulary)
   reads what labels do not carry: a licence by its layout, an audit report's firm,
   opinion and statements, a lease's end, an application's date. A reader may say which
   of the label reader's values on its pages stand beside its own (``settle``).
4. What is known once these are in (``extractors.occurrences``): the applicant's name and
   address found again wherever printed, and OCR'd near-misses of them doubted.

Every value is kept, one per source: the declared figure and the audited one are two
values of one field.

A reader is a module in ``extractors/readers/`` with ``FIELDS`` (what it gives beyond its
material's labels), ``read(material, pages)`` and optionally ``settle(labelled, own)``.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from types import ModuleType

from extractors import labels, occurrences
from extractors.classify import Material, material_at
from extractors.labels import label_book
from extractors.model import Document
from extractors.names import SURNAMES, branch_of, full_width_brackets, is_branch, org_name
from extractors.pagetext import FieldValue, PageText, norm_line, visual_rows
from extractors.vocabulary import field_kinds, vocabulary

__all__ = [
    "SURNAMES",
    "FieldValue",
    "PageText",
    "branch_of",
    "extract_fields",
    "field_kinds",
    "full_width_brackets",
    "is_branch",
    "label_book",
    "norm_line",
    "org_name",
    "reader_for",
    "visual_rows",
]


@cache
def reader_for(material_type: str) -> ModuleType | None:
    """The reader the vocabulary names for a material type (None: its labels are all)."""
    kind = vocabulary().materials.get(material_type)
    if kind is None or kind.reader is None:
        return None
    return import_module(f"extractors.readers.{kind.reader}")


def extract_fields(
    documents: list[tuple[str, Document]], materials: list[Material]
) -> dict[str, list[FieldValue]]:
    pages = [
        PageText.of(name, page, material_at(materials, name, page.number))
        for name, document in documents
        for page in document.pages
    ]
    book = label_book()
    labelled = [v for pt in pages for v in labels.read_page(pt, book)]
    own: list[FieldValue] = []
    dropped: set[int] = set()
    for material in materials:
        reader = reader_for(material.type)
        if reader is None:
            continue
        mine = [pt for pt in pages if _holds(material, pt)]
        got = reader.read(material, mine)
        own.extend(got)
        settle = getattr(reader, "settle", None)
        if settle is not None:
            theirs = [v for v in labelled if _holds_value(material, v)]
            kept = {id(v) for v in settle(theirs, got)}
            dropped.update(id(v) for v in theirs if id(v) not in kept)
    found = [v for v in labelled if id(v) not in dropped] + own
    found.extend(occurrences.name_occurrences(pages, found))
    occurrences.doubt_near_misses(found)
    return _collect(found)


def _holds(material: Material, pt: PageText) -> bool:
    return pt.file == material.file and material.pages[0] <= pt.page.number <= material.pages[1]


def _holds_value(material: Material, v: FieldValue) -> bool:
    return v.file == material.file and material.pages[0] <= v.page <= material.pages[1]


def _collect(found: list[FieldValue]) -> dict[str, list[FieldValue]]:
    """One value per field, file, page and value: the most confident reading. A text that
    is the start of a longer value of the same field on the same page (a table cell's text
    cut where its line wrapped) gives way to the whole."""
    texts: dict[tuple[str, str, int], list[str]] = {}
    for v in found:
        if isinstance(v.value, str):
            texts.setdefault((v.field, v.file, v.page), []).append(v.value)
    found = [
        v
        for v in found
        if not isinstance(v.value, str)
        or not any(
            other != v.value and other.startswith(v.value)
            for other in texts[(v.field, v.file, v.page)]
        )
    ]
    best: dict[tuple[str, str, int, str], FieldValue] = {}
    for v in found:
        key = (v.field, v.file, v.page, repr(v.value))
        if key not in best or v.confidence > best[key].confidence:
            best[key] = v
    fields: dict[str, list[FieldValue]] = {}
    for v in sorted(best.values(), key=lambda v: (v.field, v.file, v.page)):
        fields.setdefault(v.field, []).append(v)
    return fields
