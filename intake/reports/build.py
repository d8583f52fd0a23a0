"""Assemble a dossier's report in the shape of ``shared/spec/contract.md``.

Read top to bottom: load the stored documents, classify pages into materials, extract
fields, judge them with the dossier's rule pack, and lay out the report."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import object_session

from extractors.classify import Material, classify_documents, material_at
from extractors.fields import FieldValue, extract_fields
from extractors.model import Document
from extractors.text import compact
from extractors.vocabulary import field_kinds, field_names
from intake.crossround import cross_round_finding
from intake.dossiers import DUPLICATE
from intake.models import (
    Dossier,
    DossierFile,
    FileState,
    Report,
    Review,
    ReviewAction,
    utcnow,
)
from intake.reports.todo import CHANGED
from intake.storage import FileStore
from validators.checks import OPINIONS, show_value
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
    values = {name: [v.as_dict() for v in found] for name, found in fields.items()}
    # The same organisation's figures for the same years in earlier rounds (article 19).
    cross = cross_round_finding(object_session(dossier), dossier, values, pack)
    if cross is not None:
        findings.append(cross[0])
    apply_acceptances(findings, [r for r in reviews if r.action == ReviewAction.ACCEPT])
    judged = [f.as_dict() for f in findings]
    if cross is not None:
        judged[-1]["cross_round"] = cross[1]
    note_changes(judged, values, _previous(dossier))
    return {
        "dossier": dossier.id,
        "name": dossier.name,
        "rule_pack": pack.name,
        "rule_pack_meta": pack.meta(),
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "files": [_file_entry(f) for f in files],
        "materials": [m.as_dict() for m in materials],
        "fields": values,
        "findings": judged,
        "unreadable": unreadable_pages(documents, materials),
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


# A page whose OCR read words with a mean confidence below this was seen but not read (the
# real licences read upright at 0.72–0.87, turned over at 0.22–0.30: extractors.parsers.ocrpage).
UNREADABLE_CONFIDENCE = 0.5


def unreadable_pages(
    documents: list[tuple[str, Document]], materials: list[Material]
) -> list[dict[str, Any]]:
    """Scanned pages whose text could not be read with confidence: where a criterion's
    evidence is missing, the applicant is told which page to scan again. A page with no
    words at all (a photo, a blank page) is not one: nothing says it had text to read."""
    found = []
    for name, document in documents:
        for page in document.pages:
            if page.origin != "ocr" or page.conf is None or not compact(page.text):
                continue
            if page.conf < UNREADABLE_CONFIDENCE:
                found.append(
                    {
                        "file": name,
                        "page": page.number,
                        "material": material_at(materials, name, page.number),
                        "confidence": round(page.conf, 2),
                    }
                )
    return found


def _previous(dossier: Dossier) -> dict | None:
    """The report this build replaces (None for a first build, or outside a session)."""
    session = object_session(dossier)
    if session is None:
        return None
    with session.no_autoflush:
        report = session.get(Report, dossier.id)
    return report.content if report is not None and report.content else None


def _value_text(name: str, value: Any) -> str:
    if name == "audit.opinion":
        return OPINIONS.get(value, str(value))
    kind = field_kinds().get(name)
    unit = {"money": "元", "area": "平方米"}.get(kind or "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return show_value(value, kind, unit)
    if isinstance(value, dict):
        return "、".join(f"{k}年{v}" for k, v in value.items())
    return f"“{value}”"


def _read(finding: dict, values: dict[str, list[dict]]) -> dict[tuple, Any]:
    """(field, file, page) → value of each reading a finding rests on."""
    out = {}
    for ref in finding.get("evidence", []):
        name, _, index = ref.partition("#")
        found = values.get(name) or []
        if index.isdigit() and int(index) < len(found):
            v = found[int(index)]
            out[(name, v.get("file"), v.get("page"))] = v.get("value")
    return out


STATUS_WORDS = {"pass": "符合", "fail": "不符合", "missing": "缺失", "review": "待人工审核"}


def note_changes(
    findings: list[dict], values: dict[str, list[dict]], previous: dict | None
) -> None:
    """After a change (a file added or replaced, a correction) a finding says what changed
    since the previous version of the report: its verdict, and each value it rests on that
    was read otherwise (原为… / 已更新为…), kept as ``changed`` in the JSON too."""
    if not previous:
        return
    before = {f["criterion"]: f for f in previous.get("findings", [])}
    old_values = previous.get("fields", {})
    for finding in findings:
        old = before.get(finding["criterion"])
        if old is None:
            continue
        parts = []
        if old.get("status") != finding["status"]:
            parts.append(
                f"结论原为{STATUS_WORDS.get(old.get('status'), old.get('status'))}，"
                f"已更新为{STATUS_WORDS.get(finding['status'], finding['status'])}"
            )
        was, now = _read(old, old_values), _read(finding, values)
        for key in now:
            name, file, page = key
            label = field_names().get(name, name)
            place = f"{file} 第{page}页"
            if key in was and was[key] != now[key]:
                parts.append(
                    f"{place}的{label}原为{_value_text(name, was[key])}，"
                    f"已更新为{_value_text(name, now[key])}"
                )
            elif key not in was and was:
                parts.append(f"新读取{place}的{label}：{_value_text(name, now[key])}")
        for key in was:
            if key not in now and now:
                name, file, page = key
                label = field_names().get(name, name)
                parts.append(
                    f"{file} 第{page}页的{label}（原为{_value_text(name, was[key])}）已不再采用"
                )
        if parts:
            finding["message"] += CHANGED + "；".join(parts) + "）"
            finding["changed"] = {
                "version": previous.get("version"),
                "status": old.get("status"),
                "what": parts,
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
    failed = [f for f in files if f.state == FileState.FAILED]
    duplicates = [f for f in failed if f.error_code == DUPLICATE]
    return {
        "files": len(files),
        "files_failed": len(failed) - len(duplicates),
        "files_duplicate": len(duplicates),
        "findings": counts,
    }
