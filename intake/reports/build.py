"""Assemble a dossier's report in the shape of ``shared/spec/contract.md``.

Read top to bottom: load the stored documents, classify pages into materials, extract
fields, judge them with the dossier's rule pack, and lay out the report."""

from __future__ import annotations

import logging
from typing import Any

from extractors.classify import Material, classify_documents, material_at
from extractors.fields import FieldValue, extract_fields
from extractors.model import Document
from intake.models import Dossier, DossierFile, FileState, Review, ReviewAction, utcnow
from intake.storage import FileStore
from validators.engine import Facts, Finding, Status, evaluate
from validators.packs import load_pack

log = logging.getLogger(__name__)


def build_report_content(
    dossier: Dossier,
    files: list[DossierFile],
    store: FileStore,
    reviews: list[Review] | None = None,
) -> dict:
    reviews = [r for r in reviews or [] if r.active]
    documents = _load_documents(files, store)
    materials = classify_documents(documents)
    fields = extract_fields(documents, materials)
    apply_corrections(fields, materials, [r for r in reviews if r.action == ReviewAction.CORRECT])
    pack = load_pack(dossier.rule_pack)
    findings = evaluate(pack, Facts(materials=materials, fields=fields, documents=documents))
    apply_acceptances(findings, [r for r in reviews if r.action == ReviewAction.ACCEPT])
    return {
        "dossier": dossier.id,
        "name": dossier.name,
        "rule_pack": pack.name,
        "rule_pack_meta": pack.meta(),
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "files": [_file_entry(f) for f in files],
        "materials": [m.as_dict() for m in materials],
        "fields": {name: [v.as_dict() for v in values] for name, values in fields.items()},
        "findings": [f.as_dict() for f in findings],
        "summary": _summary(files, findings),
        "reviews": [review_entry(r) for r in reviews],
    }


def review_entry(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "action": review.action,
        "target": review.target,
        "comment": review.comment,
        "actor": review.actor,
        "at": review.created_at.isoformat(timespec="seconds") if review.created_at else None,
    }


def apply_corrections(
    fields: dict[str, list[FieldValue]], materials: list[Material], corrections: list[Review]
) -> None:
    """A reviewer's value replaces the reading it corrects (same field, file, page and old
    value), or joins the field when the service had not read one there."""
    for review in corrections:
        t = review.target
        note = f"评审人员 {review.actor} 更正：{review.comment}"
        values = fields.setdefault(t["field"], [])
        for i, v in enumerate(values):
            if v.file == t.get("file") and v.page == t.get("page") and v.value == t.get("old"):
                v.note = f"{note}（原读取：{v.value}）"
                v.value, v.origin, v.confidence = t["value"], "reviewer", 1.0
                values.insert(0, values.pop(i))  # the checks judge on the first value
                break
        else:
            material = material_at(materials, t.get("file") or "", t.get("page") or 0)
            values.insert(
                0,
                FieldValue(
                    field=t["field"],
                    value=t["value"],
                    file=t.get("file") or "",
                    page=t.get("page") or 0,
                    text=review.comment,
                    confidence=1.0,
                    material=material,
                    note=note,
                    origin="reviewer",
                ),
            )


def apply_acceptances(findings: list[Finding], acceptances: list[Review]) -> None:
    """An accepted review item passes, saying who accepted it and why."""
    for review in acceptances:
        for finding in findings:
            if finding.criterion == review.target.get("criterion") and finding.status == "review":
                finding.status = Status.PASS
                finding.message += f"（评审人员 {review.actor} 已确认：{review.comment}）"
                finding.reviewed = {"actor": review.actor, "comment": review.comment}


def _load_documents(files: list[DossierFile], store: FileStore) -> list[tuple[str, Document]]:
    documents = []
    for f in files:
        if f.state == FileState.DONE and f.sha256:
            documents.append((f.name, store.load_document(f.sha256)))
    return documents


def _file_entry(f: DossierFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": f.name, "sha256": f.sha256, "state": f.state}
    if f.pages is not None:
        entry["pages"] = f.pages
    if f.state == FileState.FAILED:
        entry["error"] = {"code": f.error_code, "message": f.error_message}
    return entry


def _summary(files: list[DossierFile], findings) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    return {
        "files": len(files),
        "files_failed": sum(1 for f in files if f.state == FileState.FAILED),
        "findings": counts,
    }
