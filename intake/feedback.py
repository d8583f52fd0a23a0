"""Feedback on one file, as soon as it is parsed: what it was recognised as, the key values
read from it, and the rule pack's checks that this file alone decides. The dossier's
findings follow when every file is done (``intake.reports.build``); this never waits for
the other files.

Which checks one file decides is read from the pack, not listed here: a criterion's inputs
are the fields its parameters name (``field``, ``fields``, ``left``/``right``,
``reference``, and those of its conditions); it is the file's when every one of them was
read in the file. A criterion that names no field but the materials it looks at
(``materials``: a seal on the declaration) is the file's when the file holds one of those
materials, unless it only points a person at pages (``keywords``: a judgement). Criteria on
the dossier as a whole (materials present, every page identified) name neither and wait
for the dossier. A check that still finds its evidence missing says nothing here."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from extractors.classify import OTHER, Material, classify_documents
from extractors.fields import FieldValue, extract_fields
from extractors.model import Document
from extractors.vocabulary import field_kinds, field_names, material_names, vocabulary
from intake.models import utcnow
from validators.checks import OPINIONS, show_value
from validators.engine import LOW_CONFIDENCE, Facts, Status, evaluate
from validators.packs import Criterion, RulePack, load_pack

log = logging.getLogger(__name__)

# Parameters of a criterion that name a field it reads, or a list of conditions that do.
_FIELD_PARAMS = ("field", "left", "right", "reference")
_CONDITION_PARAMS = ("conditions", "functions", "all")
# Field values shown per file: a long application report reads dozens.
MAX_VALUES = 12


def warm_up() -> None:
    """Load what every file's feedback reads (vocabulary, cues, labels, rule packs, the
    gazetteer of places) once,
    in a worker's main process before it forks a work-horse per job: else each job pays
    a second for it."""
    from extractors.classify import cue_book
    from extractors.labels import label_book
    from validators.packs import available_packs
    from validators.region import gazetteer

    vocabulary()
    gazetteer()
    cue_book()
    label_book()
    for name in available_packs():
        load_pack(name)


def input_fields(params: dict[str, Any]) -> set[str]:
    """The fields a criterion's check reads, from its parameters (nested conditions too)."""
    found: set[str] = set()
    for key in _FIELD_PARAMS:
        if isinstance(params.get(key), str):
            found.add(params[key])
    found.update(f for f in params.get("fields") or [] if isinstance(f, str))
    for key in _CONDITION_PARAMS:
        for condition in params.get(key) or []:
            if isinstance(condition, dict):
                found |= input_fields(condition)
    return found


def decided_by_file(
    criterion: Criterion, fields: dict[str, list[FieldValue]], materials: Iterable[Material]
) -> bool:
    """Whether ``criterion`` can be judged on one file's readings alone (see the module)."""
    needed = input_fields(criterion.params)
    if needed:
        return all(fields.get(name) for name in needed)
    named = criterion.params.get("materials")
    if not named or "keywords" in criterion.params:
        return False
    return any(m.type in named for m in materials)


def file_pack(
    pack: RulePack, fields: dict[str, list[FieldValue]], materials: list[Material]
) -> RulePack:
    """The pack cut to the criteria one file decides."""
    criteria = tuple(c for c in pack.criteria if decided_by_file(c, fields, materials))
    return dataclasses.replace(pack, criteria=criteria)


def file_feedback(name: str, document: Document, rule_pack: str) -> dict[str, Any]:
    """Recognise, read and check one parsed file on its own; a JSON-ready dict."""
    documents = [(name, document)]
    materials = classify_documents(documents)
    fields = extract_fields(documents, materials)
    pack = file_pack(load_pack(rule_pack), fields, materials)
    findings = evaluate(pack, Facts(materials=materials, fields=fields, documents=documents))
    titles = {c.id: getattr(c, "title", "") or c.article_text for c in pack.criteria}
    return {
        "rule_pack": pack.name,
        "materials": [_material(m, len(document.pages)) for m in materials],
        "values": _values(fields),
        "checks": [
            {
                "criterion": f.criterion,
                "title": titles.get(f.criterion, ""),
                "status": str(f.status),
                "message": f.message,
            }
            for f in findings
            if f.status != Status.MISSING
        ],
        "pages": _pages(document),
        "built_at": utcnow().isoformat(timespec="seconds"),
    }


def _material(m: Material, pages: int) -> dict[str, Any]:
    """A material as people read it: its name, and its pages when the file has several."""
    names = material_names(contract_only=False)
    label = names.get(m.type, m.type) if m.type != OTHER or m.explicit else "未能识别类型"
    if m.type != OTHER and m.confidence < LOW_CONFIDENCE:
        label += "（把握不大）"
    first, last = m.pages
    where = "" if pages <= 1 else f"第{first}页" if first == last else f"第{first}–{last}页"
    return {"type": m.type, "name": label, "pages": [first, last], "where": where}


def _values(fields: dict[str, list[FieldValue]]) -> list[dict[str, Any]]:
    """The first reading of each field, in the vocabulary's order, shown as the report
    shows values (shares as percentages, money in 元 to the fen, opinions in words)."""
    order = {name: i for i, name in enumerate(vocabulary().fields)}
    names, kinds = field_names(), field_kinds()
    out = []
    for field in sorted(fields, key=lambda f: order.get(f, len(order))):
        values = fields[field]
        if not values or isinstance(values[0].value, dict):
            continue  # yearly tables are shown in the dossier's report
        v = values[0]
        unit = {"money": "元", "area": "平方米"}.get(kinds.get(field, ""))
        shown = OPINIONS.get(v.value, v.value) if kinds.get(field) == "opinion" else v.value
        out.append(
            {
                "field": field,
                "name": names.get(field, field),
                "value": v.as_dict()["value"],
                "shown": show_value(shown, kinds.get(field), unit),
                "page": v.page,
                "confidence": round(v.confidence, 2),
            }
        )
    return out[:MAX_VALUES]


def _pages(document: Document) -> dict[str, list[int]]:
    """Pages that could not be read (no text at all), read poorly (OCR confidence below the
    threshold a value needs to decide), and pages where a red seal was found."""
    return {
        "unreadable": [p.number for p in document.pages if not p.text.strip()],
        "poor": [
            p.number
            for p in document.pages
            if p.text.strip() and p.conf is not None and p.conf < LOW_CONFIDENCE
        ],
        "sealed": [p.number for p in document.pages if any(k.kind == "red_seal" for k in p.marks)],
    }
