"""What reviewers do to a report: correct a field value, accept a review item, withdraw
either. Each is recorded (who, when, why), the report is recomputed at once from the stored
parses, and the new report is kept as the next version."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors import credit_code
from extractors.normalize import parse_area, parse_date, parse_money, parse_share
from extractors.vocabulary import field_kinds, field_names
from intake.db import session_scope
from intake.dossiers import Needs, refuse_if_purged
from intake.models import AuditEvent, Dossier, Report, ReportVersion, Review, ReviewAction, User
from intake.pipeline import build_report
from intake.reports.build import review_entry
from intake.reports.privacy import history_for
from intake.settings import Settings
from validators.checks import OPINIONS


class ReviewError(ValueError):
    """A review that cannot be taken; the message (Chinese) says why, the ``code`` (stable,
    for programs) what kind of problem it is, ``field`` the request field at fault."""

    def __init__(self, message: str, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def record(session: Session, dossier_id: str | None, actor: str, action: str, **detail) -> None:
    """One line of the audit trail."""
    session.add(AuditEvent(dossier_id=dossier_id, actor=actor, action=action, detail=detail))


# What a reviewer types is read as the materials are: "48万元", "3,265,000.00", "85%",
# "860平方米", "2017年12月31日" (a plain number also does).
_TYPED = {"money": parse_money, "share": parse_share, "area": parse_area, "date": parse_date}


# Kinds a reviewer cannot type a value of here (a table of yearly counts).
_NOT_TYPED = ("yearly_counts",)


def coerce(field: str, value: Any) -> Any:
    """A corrected value in the contract's units, or ReviewError: the field must be one of
    the vocabulary's, and the value one its kind can take."""
    kinds = field_kinds()
    if field not in kinds:
        raise ReviewError(
            f"没有名为“{field}”的字段，无法更正；请使用报告“提取的数据”中列出的字段",
            code="unknown_field",
            field="field",
        )
    kind = kinds[field]
    label = field_names().get(field, field)
    if kind in _NOT_TYPED:
        raise ReviewError(
            f"“{label}”（{field}）不能在此更正", code="not_correctable", field="field"
        )
    try:
        return _coerce(kind, label, value)
    except ReviewError as exc:
        exc.field = "value"
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise ReviewError(
            f"“{value}”不是“{label}”（{field}）的有效取值", code="invalid_value", field="value"
        ) from exc


def _coerce(kind: str, label: str, value: Any) -> Any:
    if kind == "opinion":
        # The contract's four values, or the labels the report shows them by (a reviewer
        # confirming "标准无保留意见" means unqualified, not a fifth kind of opinion).
        by_label = {text: key for key, text in OPINIONS.items()}
        text = str(value).strip()
        if text in OPINIONS or text in by_label:
            return by_label.get(text, text)
        choices = "、".join(OPINIONS.values())
        raise ReviewError(f"审计意见请填写：{choices}", code="invalid_value")
    if isinstance(value, str) and kind in _TYPED:
        text = value.strip()
        parsed = _TYPED[kind](text)
        if parsed is not None and parsed.start == 0 and parsed.end == len(text):
            value = parsed.value
    if kind in ("count", "money", "area", "share"):
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(value)
        if kind == "count":
            if number != int(number):
                raise ValueError(value)
            return int(number)
        if kind == "share" and not 0 <= number <= 1:
            raise ReviewError(
                f"“{label}”是比例，请填写 0 到 1 之间的小数（如 0.85）或百分数（如 85%）",
                code="invalid_value",
            )
        return number
    if kind == "date":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        date.fromisoformat(value)
        return value
    if not isinstance(value, str) or not value.strip():
        raise ReviewError(f"“{label}”的更正值须为非空文字", code="invalid_value")
    text = value.strip()
    if kind == "code" and not credit_code.is_valid(text):
        raise ReviewError(
            f"“{text}”不是有效的统一社会信用代码（18位，须通过 GB 32100-2015 校验）",
            code="invalid_value",
        )
    return text


def _require(comment: str, actor: str) -> None:
    if not comment or not comment.strip():
        raise ReviewError("请填写更正或确认的理由", code="missing_reason", field="comment")
    if not actor or not actor.strip():
        raise ReviewError("请注明操作人", code="missing_actor", field="actor")


def _current(session: Session, dossier_id: str, timezone: str) -> dict:
    """The dossier's report to review; a purged dossier's is history (DossierPurgedError:
    a review rebuilds the report, and its parses are gone)."""
    report = session.get(Report, dossier_id)
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or report is None:
        raise LookupError(dossier_id)
    refuse_if_purged(dossier, Needs.REVIEW, timezone)
    return report.content


def correct(
    settings: Settings,
    dossier_id: str,
    field: str,
    value: Any,
    comment: str,
    actor: str,
    file: str | None = None,
    page: int | None = None,
    old: Any = None,
) -> dict:
    """Set a field's value (the reading at ``file``/``page`` that read ``old``, or a new
    one there); the findings are recomputed at once."""
    _require(comment, actor)
    new = coerce(field, value)
    with session_scope(settings.db_url) as session:
        report = _current(session, dossier_id, settings.timezone)
        if file is not None and file not in {f["file"] for f in report["files"]}:
            raise ReviewError(f"申报材料中没有文件“{file}”", code="unknown_file", field="file")
        target = {"field": field, "file": file, "page": page, "old": old, "value": new}
        session.add(
            Review(
                dossier_id=dossier_id,
                action=ReviewAction.CORRECT,
                target=target,
                comment=comment.strip(),
                actor=actor.strip(),
            )
        )
        record(session, dossier_id, actor, "correct", comment=comment, **target)
    label = field_names().get(field, field)
    reason = f"更正{label}：{new}" if old is None else f"更正{label}：{old} → {new}"
    return build_report(settings, dossier_id, reason=reason, actor=actor.strip())


def accept(settings: Settings, dossier_id: str, criterion: str, comment: str, actor: str) -> dict:
    """Accept a review item: it passes, saying who accepted it and why."""
    _require(comment, actor)
    with session_scope(settings.db_url) as session:
        report = _current(session, dossier_id, settings.timezone)
        statuses = {f["criterion"]: f["status"] for f in report["findings"]}
        title = _titles(report).get(criterion, criterion)
        if criterion not in statuses:
            raise ReviewError(
                f"报告中没有检查项“{criterion}”", code="unknown_criterion", field="criterion"
            )
        if statuses[criterion] != "review":
            raise ReviewError(
                f"只有“待人工审核”的检查项可以确认，「{title}」当前为"
                f"“{STATUS_NAMES.get(statuses[criterion], statuses[criterion])}”",
                code="not_reviewable",
                field="criterion",
            )
        session.add(
            Review(
                dossier_id=dossier_id,
                action=ReviewAction.ACCEPT,
                target={"criterion": criterion},
                comment=comment.strip(),
                actor=actor.strip(),
            )
        )
        record(session, dossier_id, actor, "accept", criterion=criterion, comment=comment)
    return build_report(settings, dossier_id, reason=f"确认「{title}」", actor=actor.strip())


def withdraw(settings: Settings, dossier_id: str, review_id: str, comment: str, actor: str) -> dict:
    """Take a correction or acceptance back (it stays on record, inactive)."""
    _require(comment, actor)
    with session_scope(settings.db_url) as session:
        report = _current(session, dossier_id, settings.timezone)
        review = session.get(Review, review_id)
        if review is None or review.dossier_id != dossier_id or not review.active:
            raise ReviewError("没有这条可撤回的更正或确认", code="unknown_review")
        review.active = False
        what = _described(review, _titles(report))
        record(session, dossier_id, actor, "withdraw", review=review_id, comment=comment)
    return build_report(settings, dossier_id, reason=f"撤回{what}", actor=actor.strip())


STATUS_NAMES = {"pass": "符合", "fail": "不符合", "missing": "缺失", "review": "待人工审核"}


def _titles(report: dict) -> dict[str, str]:
    """Criterion id → the name people are shown (the rule pack's title, kept in the report;
    the pack's own for a report built before titles were kept)."""
    from validators.packs import UnknownRulePackError, load_pack

    titles = {f["criterion"]: f["title"] for f in report.get("findings", []) if f.get("title")}
    try:
        return load_pack(report.get("rule_pack", "")).titles() | titles
    except UnknownRulePackError:
        return titles


def _described(review: Review, titles: dict[str, str]) -> str:
    """A review in words for the history: 对「加盖公章」的确认, 对单位名称的更正."""
    target = review.target or {}
    if review.action == ReviewAction.ACCEPT:
        criterion = target.get("criterion", "")
        return f"对「{titles.get(criterion, criterion)}」的确认"
    field = target.get("field", "")
    return f"对{field_names().get(field, field)}的更正"


def history(settings: Settings, dossier_id: str, viewer: User | None = None) -> dict:
    """The report's versions (why and by whom each was built), the reviews, the trail; as
    ``viewer`` may read it (``intake.reports.privacy``), or whole without one."""
    with session_scope(settings.db_url) as session:
        if session.get(Dossier, dossier_id) is None:
            raise LookupError(dossier_id)
        versions = session.scalars(
            select(ReportVersion)
            .where(ReportVersion.dossier_id == dossier_id)
            .order_by(ReportVersion.version)
        )
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.dossier_id == dossier_id)
            .order_by(AuditEvent.created_at)
        )
        reviews = session.scalars(
            select(Review).where(Review.dossier_id == dossier_id).order_by(Review.created_at)
        )
        full = {
            "versions": [
                {
                    "version": v.version,
                    "reason": v.reason,
                    "actor": v.actor,
                    "rule_pack": v.rule_pack,
                    "at": v.created_at.isoformat(timespec="seconds"),
                    "summary": v.content.get("summary"),
                }
                for v in versions
            ],
            "reviews": [{**review_entry(r), "active": r.active} for r in reviews],
            "events": [
                {
                    "actor": e.actor,
                    "action": e.action,
                    "detail": e.detail,
                    "at": e.created_at.isoformat(timespec="seconds"),
                }
                for e in events
            ],
        }
        if viewer is None:
            return full
        names = {v["actor"] for v in full["versions"]} | {e["actor"] for e in full["events"]}
        found = session.execute(select(User.name, User.role).where(User.name.in_(names - {None})))
        roles = {name: role for name, role in found}
        return history_for(full, viewer.role, viewer.name, roles)


def version(settings: Settings, dossier_id: str, number: int) -> dict:
    with session_scope(settings.db_url) as session:
        found = session.scalar(
            select(ReportVersion).where(
                ReportVersion.dossier_id == dossier_id, ReportVersion.version == number
            )
        )
        if found is None:
            raise LookupError(f"{dossier_id} v{number}")
        return found.content
