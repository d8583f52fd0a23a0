"""Dossiers as lists show them: the ones a user may see, each with its state, verdict and
counts of findings, for the applicants', reviewers' and bureau's lists and ``GET
/api/dossiers``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.dossiers import dossier_state
from intake.models import Assignment, Dossier, Report, Role, User
from intake.reports.html import verdict
from intake.reports.privacy import overview_for

STATE_NAMES = {"queued": "排队中", "processing": "处理中", "done": "已完成"}
VERDICT_NAMES = {
    "fail": "有不符合项",
    "missing": "缺材料或数据",
    "review": "待人工审核",
    "pass": "全部符合",
    "pending": "尚无报告",
}


def visible_dossiers(session: Session, user: User, round: str | None = None) -> list[Dossier]:
    query = select(Dossier).options(
        selectinload(Dossier.files),
        selectinload(Dossier.assignments).selectinload(Assignment.user),
        selectinload(Dossier.owner),
    )
    role = Role(user.role)
    if role == Role.APPLICANT:
        query = query.where(Dossier.owner_id == user.id)
    elif role == Role.REVIEWER:
        query = query.join(Assignment).where(Assignment.user_id == user.id)
    if round:
        query = query.where(Dossier.round == round)
    return list(session.scalars(query.order_by(Dossier.created_at.desc())))


def overview(session: Session, dossier: Dossier, viewer: User) -> dict[str, Any]:
    """The dossier's row as ``viewer`` may read it (applicants: without its reviewers)."""
    report = session.get(Report, dossier.id)
    state = dossier_state(dossier, report)
    counts = (report.content.get("summary", {}).get("findings", {}) if report else {}) or {}
    judged = verdict(report.content)["status"] if report else "pending"
    row = {
        "id": dossier.id,
        "name": dossier.name,
        "rule_pack": dossier.rule_pack,
        "district": dossier.district,
        "round": dossier.round,
        "owner": dossier.owner.name if dossier.owner else None,
        "reviewers": [a.user.name for a in dossier.assignments],
        "state": str(state),
        # The last report's verdict; while files are being processed again it may be stale.
        "verdict": judged,
        "fail": counts.get("fail", 0),
        "review": counts.get("review", 0),
        "missing": counts.get("missing", 0),
        "files": len(dossier.files),
        "created_at": dossier.created_at.isoformat(timespec="seconds"),
        "updated_at": (report.built_at if report else dossier.created_at).isoformat(
            timespec="seconds"
        ),
    }
    return overview_for(row, viewer.role)
