"""Dossiers as lists show them: the ones a user may see, each with its state, verdict and
counts of findings, for the applicants', reviewers' and bureau's lists and ``GET
/api/dossiers``; and a whole round as the bureau briefs a committee on it (``round_summary``:
by state, verdict and district, the criteria that fail most, a row per dossier with its
key figures), read from the summary columns each report is stored with
(``report_summary``), never from every report's JSON."""

from __future__ import annotations

from collections import Counter, defaultdict
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from extractors.vocabulary import field_kinds, field_names
from intake.dossiers import dossier_state
from intake.models import Assignment, Dossier, DossierFile, DossierState, Report, Role, User
from intake.reports.html import STATUS_NAMES, verdict
from intake.reports.privacy import overview_for
from validators.packs import UnknownRulePackError, load_pack

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
    # The report's summary columns, not its JSON (loaded only for a report stored without
    # them): a list of a round reads a few small values per dossier.
    report = session.get(Report, dossier.id, options=[defer(Report.content)])
    state = dossier_state(dossier, report)
    if report is None:
        counts, judged = {}, "pending"
    elif report.verdict is not None:
        counts = {s: getattr(report, f"n_{s}") or 0 for s in STATUSES}
        judged = report.verdict
    else:
        counts = (report.content.get("summary", {}).get("findings", {})) or {}
        judged = verdict(report.content)["status"]
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


# --- a report in a few columns ------------------------------------------------------------

# The key figures a committee compares (contract field → the column stem on ``reports``).
KEY_FIGURES: dict[str, str] = {
    "finance.total_assets": "total_assets",
    "finance.revenue": "revenue",
    "premises.area_m2": "area_m2",
    "staff.service_staff": "service_staff",
    "service.satisfaction": "satisfaction",
    "service.smes_served": "smes_served",
}
DECLARED_IN = "application_report"  # the applicant's own declaration of its figures
# Declarations, not documents of record: never the "read" figure.
NOT_READ_FROM = ("application_report", "recommendation_form")
# Where a name or credit code is taken from first: the licence is the document of record.
IDENTITY_FROM = ("business_licence", "application_report")
VERDICTS = ("fail", "missing", "review", "pass", "pending")
STATUSES = ("fail", "review", "missing", "pass")
SUMMARY_COLUMNS = (
    "verdict", "n_pass", "n_fail", "n_missing", "n_review", "credit_code", "applicant_name",
    *(f"{stem}_{how}" for stem in KEY_FIGURES.values() for how in ("read", "declared")),
    "statuses",
)  # fmt: skip


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def first_value(values: list[dict[str, Any]], materials: tuple[str, ...]) -> Any:
    """The first value read from the first of ``materials`` that has one, else any."""
    for material in materials:
        for v in values:
            if v.get("material") == material and v.get("value") not in (None, ""):
                return v["value"]
    return next((v["value"] for v in values if v.get("value") not in (None, "")), None)


def report_summary(content: dict[str, Any]) -> dict[str, Any]:
    """The columns a report is stored with (``Report.verdict`` …): its verdict, counts per
    status, the applicant's credit code and name, each key figure as read from the
    documents of record and as declared in the application report (the first value of
    each, which is a reviewer's correction where there is one), and each criterion's
    status."""
    counts = (content.get("summary") or {}).get("findings") or {}
    fields = content.get("fields") or {}
    row: dict[str, Any] = {
        "verdict": verdict(content)["status"],
        **{f"n_{status}": int(counts.get(status, 0)) for status in STATUSES},
        "credit_code": _text(
            first_value(fields.get("applicant.credit_code") or [], IDENTITY_FROM), 32
        ),
        "applicant_name": _text(first_value(fields.get("applicant.name") or [], IDENTITY_FROM)),
        "statuses": {
            f["criterion"]: f["status"] for f in content.get("findings") or [] if "criterion" in f
        },
    }
    for name, stem in KEY_FIGURES.items():
        values = [v for v in fields.get(name) or [] if _number(v.get("value")) is not None]
        declared = [v for v in values if v.get("material") == DECLARED_IN]
        read = [v for v in values if v.get("material") not in NOT_READ_FROM]
        row[f"{stem}_declared"] = _number(declared[0]["value"]) if declared else None
        row[f"{stem}_read"] = _number(read[0]["value"]) if read else None
    return row


def _text(value: Any, limit: int = 255) -> str | None:
    return None if value is None else str(value)[:limit]


def store_summary(report: Report) -> None:
    """Write ``report_summary`` of the report's content onto its row."""
    for column, value in report_summary(report.content or {}).items():
        setattr(report, column, value)


# --- a round ------------------------------------------------------------------------------


def _figure(stem: str, value: float | None) -> float | int | None:
    """A stored figure as the API gives it: counts as integers."""
    name = next(n for n, s in KEY_FIGURES.items() if s == stem)
    if value is not None and field_kinds().get(name) == "count" and float(value).is_integer():
        return int(value)
    return value


def round_rows(session: Session, round: str) -> list[dict[str, Any]]:
    """One row per dossier of ``round``: name, district, credit code, state, verdict,
    counts, key figures (read and declared) and each criterion's status, from the summary
    columns (a report stored without them, e.g. by an older build, is summarised here)."""
    columns = [getattr(Report, c) for c in SUMMARY_COLUMNS]
    query = (
        select(
            Dossier.id,
            Dossier.name,
            Dossier.district,
            Dossier.rule_pack,
            Dossier.created_at,
            Report.fingerprint,
            Report.built_at,
            *columns,
        )
        .outerjoin(Report, Report.dossier_id == Dossier.id)
        .where(Dossier.round == round)
        .order_by(Dossier.created_at, Dossier.id)
    )
    found = session.execute(query).all()
    files: dict[str, list[Any]] = defaultdict(list)
    in_round = select(Dossier.id).where(Dossier.round == round)
    for f in session.execute(
        select(DossierFile.dossier_id, DossierFile.id, DossierFile.sha256, DossierFile.state).where(
            DossierFile.dossier_id.in_(in_round)
        )
    ):
        files[f.dossier_id].append(f)
    unsummarised = [r.id for r in found if r.fingerprint is not None and r.verdict is None]
    late: dict[str, dict[str, Any]] = {}
    if unsummarised:
        for dossier_id, content in session.execute(
            select(Report.dossier_id, Report.content).where(Report.dossier_id.in_(unsummarised))
        ):
            late[dossier_id] = report_summary(content or {})
    rows = []
    for r in found:
        has_report = r.fingerprint is not None
        values = late.get(r.id) or {c: getattr(r, c) for c in SUMMARY_COLUMNS}
        state = dossier_state(
            SimpleNamespace(files=files.get(r.id, [])),
            SimpleNamespace(fingerprint=r.fingerprint) if has_report else None,
        )
        rows.append(
            {
                "id": r.id,
                "name": r.name or values["applicant_name"] or "",
                "district": r.district,
                "rule_pack": r.rule_pack,
                "credit_code": values["credit_code"] or "",
                "state": str(state),
                # The last report's verdict; while files are processed again it may be stale.
                "verdict": (values["verdict"] or "pending") if has_report else "pending",
                **{s: (values[f"n_{s}"] or 0) if has_report else 0 for s in STATUSES},
                "figures": {
                    name: {
                        how: _figure(stem, values[f"{stem}_{how}"]) if has_report else None
                        for how in ("read", "declared")
                    }
                    for name, stem in KEY_FIGURES.items()
                },
                "statuses": dict(values["statuses"] or {}) if has_report else {},
                "updated_at": (r.built_at or r.created_at).isoformat(timespec="seconds"),
            }
        )
    return rows


def criterion_titles(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Every criterion judged in the round → its title in the rule pack, in the order of
    the round's most used pack (then any other pack's own criteria)."""
    titles: dict[str, str] = {}
    for pack_name, _ in Counter(r["rule_pack"] for r in rows).most_common():
        try:
            for criterion, title in load_pack(pack_name).titles().items():
                titles.setdefault(criterion, title)
        except UnknownRulePackError:  # a pack since removed: its criteria keep their ids
            continue
    from intake.crossround import CRITERION, TITLE  # (it reads this module's helpers)

    for row in rows:
        for criterion in row["statuses"]:
            titles.setdefault(criterion, TITLE if criterion == CRITERION else criterion)
    return titles


def round_summary(session: Session, round: str) -> dict[str, Any]:
    """A round as the bureau briefs a committee on it: how many dossiers, by state, verdict
    and district; the criteria that fail or need review most often (with the dossiers);
    and one row per dossier."""
    rows = round_rows(session, round)
    titles = criterion_titles(rows)
    by_district: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by_district[row["district"]][row["verdict"]] += 1
    criteria = []
    for criterion, title in titles.items():
        ids: dict[str, list[str]] = {s: [] for s in STATUSES}
        for row in rows:
            status = row["statuses"].get(criterion)
            if status in ids:
                ids[status].append(row["id"])
        if not any(ids.values()):
            continue
        criteria.append(
            {
                "criterion": criterion,
                "title": title,
                **{s: len(ids[s]) for s in STATUSES},
                "dossiers": {s: ids[s] for s in ("fail", "review", "missing")},
            }
        )
    order = {c: i for i, c in enumerate(titles)}
    criteria.sort(key=lambda c: (-(c["fail"] + c["review"]), -c["fail"], order[c["criterion"]]))
    return {
        "round": round,
        "dossiers": len(rows),
        "by_state": {s: sum(r["state"] == s for r in rows) for s in DossierState},
        "by_verdict": {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS},
        "by_district": [
            {"district": d, "dossiers": sum(c.values()), "by_verdict": {v: c[v] for v in VERDICTS}}
            for d, c in sorted(by_district.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        ],
        "criteria": criteria,
        "titles": titles,
        "rows": rows,
    }


def figure_names() -> dict[str, str]:
    """Each key figure's name for people (the vocabulary's)."""
    return {name: field_names().get(name, name) for name in KEY_FIGURES}


__all__ = [
    "KEY_FIGURES",
    "STATE_NAMES",
    "STATUS_NAMES",
    "VERDICT_NAMES",
    "figure_names",
    "overview",
    "report_summary",
    "round_rows",
    "round_summary",
    "store_summary",
    "visible_dossiers",
]
