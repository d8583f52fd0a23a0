"""Assemble a dossier's report in the shape of ``shared/spec/contract.md``.

Read top to bottom: load the stored documents, classify pages into materials, extract
fields, judge them with the dossier's rule pack, and lay out the report."""

from __future__ import annotations

import logging
from typing import Any

from extractors.classify import classify_documents
from extractors.fields import extract_fields
from extractors.model import Document
from intake.models import Dossier, DossierFile, FileState, utcnow
from intake.storage import FileStore
from validators.engine import Facts, evaluate
from validators.packs import load_pack

log = logging.getLogger(__name__)


def build_report_content(dossier: Dossier, files: list[DossierFile], store: FileStore) -> dict:
    documents = _load_documents(files, store)
    materials = classify_documents(documents)
    fields = extract_fields(documents, materials)
    pack = load_pack(dossier.rule_pack)
    findings = evaluate(pack, Facts(materials=materials, fields=fields, documents=documents))
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
    }


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
