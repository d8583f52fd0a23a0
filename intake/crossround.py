"""Cross-round consistency (article 19: recognised platforms re-apply and file yearly): the
same organisation (same credit code) in an earlier round declared figures for years this
dossier declares too, and the two must agree.

Compared, year by year: SMEs served (a year's figure in the application report, and the
year-by-year ones), service staff and service area as declared for the year before the
application, and revenue of the year an audit report covers. A difference beyond the rule
pack's tolerance (that of its declared-versus-evidence checks) is a ``review`` finding on
the new dossier naming both dossiers, files and pages; agreeing figures are a ``pass``;
with nothing to compare there is no finding at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors.vocabulary import field_kinds, field_names
from intake.models import Dossier, Report
from intake.overview import IDENTITY_FROM, first_value
from validators.checks import show_value
from validators.engine import Finding, Status
from validators.packs import RulePack

CRITERION = "x.cross_round_consistent"
TITLE = "与往批次申报数据一致"
ARTICLE = "材料一致性"
DEFAULT_TOLERANCE = 0.01
DECLARED = ("application_report", "recommendation_form")
AUDITED = ("audit_report",)
# Figures as of the year before the application (the year the application reports on).
LAST_YEAR = ("service.smes_served", "staff.service_staff", "premises.area_m2")
UNITS = {"count": "", "area": "平方米", "money": "元"}
NAMES = {"service.smes_served": "服务本市中小企业数量"}  # shorter than the vocabulary's


@dataclass(frozen=True)
class YearFigure:
    """A figure stated for a year: where, and which of the report's values (``field#i``)."""

    field: str
    year: int
    value: float
    file: str
    page: int
    ref: str


def _year(value: Any) -> int | None:
    text = str(value or "")
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def _first_year(fields: dict[str, list[dict]], name: str, materials: tuple[str, ...]) -> int | None:
    for v in fields.get(name) or []:
        if v.get("material") in materials and _year(v.get("value")):
            return _year(v["value"])
    return next(
        (_year(v.get("value")) for v in fields.get(name) or [] if _year(v.get("value"))), None
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def year_figures(fields: dict[str, list[dict]]) -> dict[tuple[str, int], YearFigure]:
    """(field, year) → the figure a report's values state for that year (the first one)."""
    out: dict[tuple[str, int], YearFigure] = {}

    def put(name: str, year: int | None, v: dict, index: int, value: Any) -> None:
        number = _number(value)
        if year is None or number is None:
            return
        out.setdefault(
            (name, year),
            YearFigure(name, year, number, v.get("file") or "", v.get("page") or 0,
                       f"{v.get('field', name)}#{index}"),
        )  # fmt: skip

    # A year named beside its figure first: the one-figure reading may be any year's.
    for i, v in enumerate(fields.get("service.smes_served_by_year") or []):
        if isinstance(v.get("value"), dict):
            for year, count in v["value"].items():
                y = _year(year)
                ref = {**v, "field": "service.smes_served_by_year"}
                put("service.smes_served", y, ref, i, count)
    applied = _first_year(fields, "application.date", DECLARED)
    for name in LAST_YEAR:
        for i, v in enumerate(fields.get(name) or []):
            if v.get("material") in DECLARED and applied:
                put(name, applied - 1, {**v, "field": name}, i, v.get("value"))
    audited = _first_year(fields, "audit.period_end", AUDITED)
    for i, v in enumerate(fields.get("finance.revenue") or []):
        if v.get("material") in AUDITED and audited:
            put("finance.revenue", audited, {**v, "field": "finance.revenue"}, i, v.get("value"))
    return out


def tolerance(pack: RulePack) -> float:
    """The pack's tolerance for two statements of one figure: that of its checks of
    declared against evidenced figures (1 % in the Xi'an measures)."""
    found = [
        float(c.params["tolerance"])
        for c in pack.criteria
        if c.check == "declared_matches" and "tolerance" in c.params
    ]
    return min(found) if found else DEFAULT_TOLERANCE


def _shown(name: str, value: float) -> str:
    kind = field_kinds().get(name)
    unit = {"count": "家" if name == "service.smes_served" else "人"}.get(kind or "")
    unit = unit or UNITS.get(kind or "", "")
    number: float | int = int(value) if value.is_integer() else value
    return f"{show_value(number, kind)}{unit}"


def _label(name: str) -> str:
    return NAMES.get(name) or field_names().get(name, name)


def _compared(c: dict[str, Any]) -> str:
    other = c["other"]
    return (
        f"{c['year']}年{_label(c['field'])}：本申报为{_shown(c['field'], c['value'])}"
        f"（{c['file']} 第{c['page']}页），{other['round']}批次的申报"
        f"为{_shown(c['field'], other['value'])}"
        f"（{other['file']} 第{other['page']}页）"
    )


def cross_round_finding(
    session: Session | None, dossier: Dossier, fields: dict[str, list[dict]], pack: RulePack
) -> tuple[Finding, list[dict[str, Any]]] | None:
    """The finding on ``dossier`` from its organisation's dossiers in earlier rounds, with
    each comparison made (for the report's JSON), or None when there is none to make."""
    if session is None or not dossier.round:
        return None
    code = _credit_code(fields)
    if not code:
        return None
    ours = year_figures(fields)
    if not ours:
        return None
    with session.no_autoflush:  # a read: the dossier being built is not written here
        earlier = _earlier(session, dossier, code)
    limit = tolerance(pack)
    compared: list[dict[str, Any]] = []
    for other_id, other_name, other_round, content in earlier:
        theirs = year_figures((content or {}).get("fields") or {})
        for key, mine in sorted(ours.items()):
            other = theirs.get(key)
            if other is None:
                continue
            agree = abs(mine.value - other.value) <= limit * max(abs(mine.value), abs(other.value))
            compared.append(
                {
                    "field": mine.field, "year": mine.year, "agree": agree,
                    "value": mine.value, "file": mine.file, "page": mine.page, "ref": mine.ref,
                    "other": {"dossier": other_id, "name": other_name, "round": other_round,
                              "value": other.value, "file": other.file, "page": other.page},
                }
            )  # fmt: skip
    if not compared:
        return None
    differ = [c for c in compared if not c["agree"]]
    shown = differ or compared
    parts = [_compared(c) for c in shown]
    if differ:
        message = (
            "同一单位（统一社会信用代码相同）在往批次申报的同年度数据与本申报不一致"
            f"（相差超过{show_value(limit, 'share')}）：" + "；".join(parts)
            + "。评审人员请核对两次申报的原件，并请申报单位说明差异。"
        )  # fmt: skip
        status = Status.REVIEW
    else:
        message = "与同一单位往批次申报的同年度数据一致：" + "；".join(parts) + "。"
        status = Status.PASS
    finding = Finding(
        criterion=CRITERION,
        status=status,
        message=message,
        evidence=sorted({c["ref"] for c in shown}),
        article=ARTICLE,
        title=TITLE,
    )
    for c in compared:
        c.pop("ref")
    return finding, compared


def _earlier(session: Session, dossier: Dossier, code: str) -> list[Any]:
    """The organisation's dossiers with a report in rounds before ``dossier``'s, newest
    first, with their reports' JSON."""
    return list(
        session.execute(
            select(Dossier.id, Dossier.name, Dossier.round, Report.content)
            .join(Report, Report.dossier_id == Dossier.id)
            .where(Report.credit_code == code, Dossier.round != "", Dossier.round < dossier.round)
            .where(Dossier.id != dossier.id)
            .order_by(Dossier.round.desc(), Dossier.created_at.desc())
        ).all()
    )


def _credit_code(fields: dict[str, list[dict]]) -> str | None:
    value = first_value(fields.get("applicant.credit_code") or [], IDENTITY_FROM)
    return str(value) if value else None


def disagreements(session: Session, round: str | None) -> list[dict[str, Any]]:
    """For the bureau's reuse view: every dossier (of ``round``, or of all rounds) whose
    figures disagree with its organisation's earlier rounds, with each difference."""
    query = (
        select(Dossier.id, Dossier.name, Dossier.round, Dossier.district, Report.statuses)
        .join(Report, Report.dossier_id == Dossier.id)
        .where(Report.credit_code.is_not(None))
    )
    if round:
        query = query.where(Dossier.round == round)
    flagged = [r for r in session.execute(query) if (r.statuses or {}).get(CRITERION) == "review"]
    if not flagged:
        return []
    contents = dict(
        session.execute(
            select(Report.dossier_id, Report.content).where(
                Report.dossier_id.in_([r.id for r in flagged])
            )
        ).all()
    )
    out = []
    for r in sorted(flagged, key=lambda r: (r.round, r.name), reverse=True):
        finding = next(
            (f for f in contents[r.id].get("findings", []) if f.get("criterion") == CRITERION),
            {},
        )
        differences = [c for c in finding.get("cross_round", []) if not c.get("agree")]
        out.append(
            {"dossier": r.id, "name": r.name, "round": r.round, "district": r.district,
             "differences": [{**c, "label": _label(c["field"]),
                              "shown": _shown(c["field"], c["value"]),
                              "other_shown": _shown(c["field"], c["other"]["value"])}
                             for c in differences]}
        )  # fmt: skip
    return out
