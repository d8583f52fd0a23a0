"""Run a rule pack: every criterion is checked (nothing stops at the first failure) and
every finding carries the values and sources it used."""

from __future__ import annotations

import logging
import re
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
    title: str = ""  # the criterion's name for people (the rule pack's title)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "criterion": self.criterion,
            "title": self.title or self.criterion,
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
            outcome = Outcome(Status.REVIEW, context={"reason": "自动检查出错"})
            template = _DEFAULT[Status.REVIEW]  # the pack's names values this did not read
        else:
            template = criterion.messages.get(str(outcome.status)) or _DEFAULT[outcome.status]
        findings.append(
            Finding(
                criterion=criterion.id,
                status=outcome.status,
                message=_format(template, outcome.context),
                evidence=outcome.evidence,
                article=criterion.article,
                title=criterion.title,
            )
        )
    return findings


_DEFAULT = {
    Status.PASS: "符合要求。",
    Status.FAIL: "不符合要求：{value}。",
    Status.MISSING: "缺少判断所需的材料或数据。",
    Status.REVIEW: "无法自动确定是否符合要求：{reason}。请评审人员核对原件。",
}


# What stands for a slot with nothing to say while a message is formatted; never shown.
_EMPTY = "\x00"
_OPEN, _CLOSE = "（(“「【", "）)”」】"
_PUNCT = "，、：；:,;"
# A bracket pair holding nothing but an empty slot and punctuation: dropped whole.
_HOLLOW = re.compile(rf"[{_OPEN}][\s{_EMPTY}{_PUNCT}]*[{_CLOSE}]")
# An empty slot with the punctuation that introduced it, before a sentence's end.
_DANGLING = re.compile(rf"[{_PUNCT}]?\s*{_EMPTY}+\s*(?=[。；！？]|$)")
_LEFT_OVER = re.compile(rf"[{_PUNCT}]\s*{_EMPTY}+|{_EMPTY}+\s*[{_PUNCT}]?")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return _EMPTY


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "—", "None"))


def _format(template: str, context: dict[str, Any]) -> str:
    """The message with the context's values in its slots. A slot with nothing to say
    (absent, None, empty) never shows: it goes with the brackets around it and the
    punctuation that introduced it ("依据：{value}。" → "依据。"), never as "（—）"."""
    filled = {k: (_EMPTY if _empty(v) else v) for k, v in context.items()}
    text = template.format_map(_Blank(filled))
    if _EMPTY not in text:
        return text
    text = _HOLLOW.sub("", text)
    text = _DANGLING.sub("", text)
    text = _LEFT_OVER.sub("", text)
    text = re.sub(r"([。；])[。；]+", r"\1", text)
    return text.replace(_EMPTY, "").strip()
