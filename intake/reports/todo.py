"""One ordered to-do list of a report, built once for the web page and the HTML/PDF report.

First what the applicant must do, each with its action: what does not meet a criterion
(不符合), what is missing (缺失; said to be a page we could not read where that is why), and
files that could not be processed. Then, apart, what reviewers will check: review items
ask nothing of the applicant. Duplicates of an uploaded file are told last: nothing to fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from extractors.vocabulary import material_names, vocabulary
from intake.dossiers import DUPLICATE
from validators.packs import UnknownRulePackError, load_pack

APPLICANT, REVIEWER = "applicant", "reviewer"
# The order of the applicant's part: failures, then gaps, then files to upload again.
KINDS = ("fail", "missing", "file", "duplicate", "review")
KIND_NAMES = {
    "fail": "不符合",
    "missing": "缺失",
    "file": "文件无法处理",
    "duplicate": "重复上传",
    "review": "待人工审核",
}
_GENERIC = {
    "fail": "请核对相关材料，如有填写或扫描错误请更正后重新上传。",
    "missing": "请补充上传相关材料。",
    "file": "请重新上传该文件。",
}
_OPEN, _CLOSE = "（(“「【", "）)”」】"


@dataclass(frozen=True)
class TodoItem:
    who: str  # APPLICANT or REVIEWER
    kind: str  # one of KINDS
    title: str  # the criterion's name, or the file's
    message: str  # what was found
    action: str  # what the applicant does ("" for a reviewer's item)
    criterion: str | None = None
    file: str | None = None
    anchor: str = ""  # the id of the finding's or file's element on a page ("f-…")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind_name": KIND_NAMES[self.kind]}


def todo(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's to-do list, the applicant's items first (fail, missing, files), then
    the reviewers' (review items), each a dict of ``TodoItem`` fields plus ``kind_name``."""
    findings = report.get("findings", [])
    items: list[TodoItem] = []
    for kind in ("fail", "missing"):
        for f in findings:
            if f.get("status") == kind:
                items.append(_finding_item(report, f))
    for entry in report.get("files", []):
        if entry.get("state") == "failed":
            items.append(_file_item(entry))
    items.extend(
        TodoItem(
            who=REVIEWER,
            kind="review",
            title=f.get("title") or f["criterion"],
            message=f.get("message", ""),
            action="",
            criterion=f["criterion"],
            anchor=f"f-{f['criterion']}",
        )
        for f in findings
        if f.get("status") == "review"
    )
    order = {kind: i for i, kind in enumerate(KINDS)}
    items.sort(key=lambda item: (item.who != APPLICANT, order[item.kind]))
    return [item.as_dict() for item in items]


def todo_groups(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The same list in its two parts: ``applicant`` (to do) and ``reviewers`` (no action)."""
    items = todo(report)
    return {
        "applicant": [i for i in items if i["who"] == APPLICANT],
        "reviewers": [i for i in items if i["who"] == REVIEWER],
    }


def actionable_count(report: dict[str, Any]) -> dict[str, int]:
    """How many of the applicant's items of each kind (duplicates ask nothing)."""
    counts = {kind: 0 for kind in ("fail", "missing", "file")}
    for item in todo(report):
        if item["kind"] in counts:
            counts[item["kind"]] += 1
    return counts


CHANGED = "（较上一版："  # how intake.reports.build.note_changes opens its note


def _finding_item(report: dict[str, Any], finding: dict[str, Any]) -> TodoItem:
    status = finding["status"]
    text = finding.get("message", "")
    change = ""
    at = text.rfind(CHANGED)
    if at > 0 and text.endswith("）"):  # what changed since the last version: a finding
        text, change = text[:at], text[at:]
    message, action = _split(text)
    message += change
    action = action or _GENERIC[status]
    if status == "missing":
        pages = _unreadable_for(report, finding["criterion"])
        if pages:
            action = "；".join(pages) + "无法识别，请上传更清晰的扫描件。" + action
    return TodoItem(
        who=APPLICANT,
        kind=status,
        title=finding.get("title") or finding["criterion"],
        message=message,
        action=action,
        criterion=finding["criterion"],
        anchor=f"f-{finding['criterion']}",
    )


def _file_item(entry: dict[str, Any]) -> TodoItem:
    error = entry.get("error") or {}
    duplicate = error.get("code") == DUPLICATE
    message, action = _split(error.get("message") or "文件无法处理")
    return TodoItem(
        who=APPLICANT,
        kind="duplicate" if duplicate else "file",
        title=entry["file"],
        message=message,
        # A failed file's message says what to do (extractors.errors); a duplicate asks
        # nothing: its content is already in the dossier.
        action="" if duplicate else (action or _GENERIC["file"]),
        file=entry["file"],
        anchor="",
    )


def _split(message: str) -> tuple[str, str]:
    """A message as what was found and what the applicant is asked to do: from the first
    request (请…, not 请评审人员…) that opens a clause outside brackets to the end. A message
    that asks nothing is all finding."""
    depth = 0
    for i, ch in enumerate(message):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif (
            ch == "请"
            and depth == 0
            and (i == 0 or message[i - 1] in "，；。：,;")
            and not message.startswith("请评审人员", i)
        ):
            found = message[:i].rstrip("，；：,;")
            if found and found[-1] not in "。！？":
                found += "。"
            return found, message[i:]
    return message, ""


def _unreadable_for(report: dict[str, Any], criterion: str) -> list[str]:
    """The unreadable pages that may be why a criterion's evidence is missing: pages of a
    material that carries its fields, or of no known type ("file 第3页")."""
    wanted = _materials_of(report.get("rule_pack", ""), criterion)
    return [
        f"{p['file']} 第{p['page']}页"
        for p in report.get("unreadable", [])
        if p.get("material") in wanted or p.get("material") in (None, "other")
    ]


@cache
def _materials_of(pack_name: str, criterion: str) -> frozenset[str]:
    """The material types a criterion reads its evidence from: named in its parameters, or
    yielding a field it reads (the vocabulary's table)."""
    try:
        pack = load_pack(pack_name)
    except UnknownRulePackError:
        return frozenset()
    found = next((c for c in pack.criteria if c.id == criterion), None)
    if found is None:
        return frozenset()
    fields, materials = _named(found.params)
    for kind in vocabulary().materials.values():
        if set(kind.fields) & fields:
            materials.add(kind.id)
    return frozenset(materials & set(material_names(contract_only=False)))


def _named(params: Any) -> tuple[set[str], set[str]]:
    """Field ids and material types named anywhere in a criterion's parameters."""
    fields, materials = set(), set()
    known_fields = set(vocabulary().fields)
    known_materials = set(vocabulary().materials)
    stack = [params]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            if item in known_fields:
                fields.add(item)
            elif item in known_materials:
                materials.add(item)
    return fields, materials
