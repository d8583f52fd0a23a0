"""Run a rule pack: every criterion is checked (nothing stops at the first failure) and
every finding carries the values and sources it used."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from extractors.classify import Material
from extractors.fields import FieldValue
from extractors.model import Document
from validators.packs import RulePack

log = logging.getLogger(__name__)

# A reading below this confidence never decides a fail (validators.checks.doubt says why
# a reading cannot decide: this, an unclaimed page, or a value inferred rather than read).
LOW_CONFIDENCE = 0.6


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"
    REVIEW = "review"


@dataclass
class Facts:
    materials: list[Material]
    fields: dict[str, list[FieldValue]]
    documents: list[tuple[str, Document]] = field(default_factory=list)

    def values(self, name: str, materials: list[str] | None = None) -> list[tuple[str, FieldValue]]:
        """(reference, value) pairs of a field, optionally from some material types only."""
        return [
            (f"{name}#{i}", v)
            for i, v in enumerate(self.fields.get(name, []))
            if materials is None or v.material in materials
        ]

    def has_material(self, kind: str) -> bool:
        return any(m.type == kind for m in self.materials)


@dataclass
class Outcome:
    status: Status
    evidence: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finding:
    criterion: str
    status: Status
    message: str
    evidence: list[str]
    article: str
    reviewed: dict[str, Any] | None = None  # a reviewer accepted this review item

    def as_dict(self) -> dict[str, Any]:
        out = {
            "criterion": self.criterion,
            "status": str(self.status),
            "message": self.message,
            "evidence": self.evidence,
            "article": self.article,
        }
        if self.reviewed:
            out["reviewed"] = self.reviewed
        return out


def evaluate(pack: RulePack, facts: Facts) -> list[Finding]:
    from validators.checks import CHECKS

    findings = []
    for criterion in pack.criteria:
        check = CHECKS[criterion.check]
        try:
            outcome = check(facts, **criterion.params)
        except Exception:
            log.exception("check %s failed on criterion %s", criterion.check, criterion.id)
            outcome = Outcome(
                Status.REVIEW, context={"value": "（自动检查出错）", "reason": "自动检查出错"}
            )
        template = criterion.messages.get(str(outcome.status)) or _DEFAULT[outcome.status]
        findings.append(
            Finding(
                criterion=criterion.id,
                status=outcome.status,
                message=_format(template, outcome.context),
                evidence=outcome.evidence,
                article=criterion.article,
            )
        )
    return findings


_DEFAULT = {
    Status.PASS: "符合要求。",
    Status.FAIL: "不符合要求：{value}。",
    Status.MISSING: "缺少判断所需的材料或数据。",
    Status.REVIEW: "无法自动确定是否符合要求：{reason}。请评审人员核对原件。",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def _format(template: str, context: dict[str, Any]) -> str:
    return template.format_map(_Blank({k: v for k, v in context.items() if v is not None}))
