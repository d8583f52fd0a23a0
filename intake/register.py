"""The register of recognised platforms (article 19, 动态管理): recognition for three years,
an annual summary report due by the end of each January, re-application in the year the
recognition ends, and revocation for one of the article's reasons.

The dates are pure functions of the recognition date and ``today`` (a Beijing date), so
they are tested as a table; the rest records what bureau staff do, on the audit trail."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors import credit_code as uscc
from extractors.classify import Material
from extractors.errors import ErrorCode, InputFileError
from extractors.fields import extract_fields
from extractors.model import Document
from extractors.registry import parse_file
from extractors.vocabulary import field_kinds, field_names
from intake import reviews
from intake.crossround import DEFAULT_TOLERANCE, NAMES, tolerance
from intake.dossiers import clean_name
from intake.models import AnnualSummary, Dossier, Platform, Report
from intake.overview import report_summary
from intake.settings import Settings
from intake.storage import FileStore
from validators.checks import show_value
from validators.packs import UnknownRulePackError, load_pack

BEIJING = ZoneInfo("Asia/Shanghai")
EARLIEST_YEAR = 2000  # a recognition date before it is a typing error
VALID_YEARS = 3  # 每次认定有效期为三年
SUMMARY_DUE_MONTH, SUMMARY_DUE_DAY = 1, 31  # 每年1月底前报送年度总结报告
# An annual summary is parsed while the request waits: only a small one is taken.
SUMMARY_MAX_BYTES = 20 << 20
SUMMARY_MAX_PAGES = 30  # a scan is OCR'd while the request waits: a minute at most
# The figures a summary states that the platform's dossier also declared.
SUMMARY_FIGURES = ("service.smes_served", "staff.service_staff", "finance.revenue")
READ_AS = "application_report"  # the material type a summary is read as
YEAR_STATED = re.compile(r"(20\d{2})\s*年度")
UNITS = {"service.smes_served": "家", "staff.service_staff": "人", "finance.revenue": "元"}


class PlatformStatus(StrEnum):
    VALID = "valid"  # 有效
    EXPIRING = "expiring"  # recognition ends this calendar year: it may re-apply now
    EXPIRED = "expired"
    REVOKED = "revoked"


STATUS_NAMES = {
    PlatformStatus.VALID: "有效",
    PlatformStatus.EXPIRING: "即将到期",
    PlatformStatus.EXPIRED: "已到期",
    PlatformStatus.REVOKED: "已撤销",
}


class SummaryState(StrEnum):
    UPLOADED = "uploaded"  # 已报送
    NOT_DUE = "not_due"  # the year is not over yet
    DUE = "due"  # the year is over; due by 31 January
    OVERDUE = "overdue"  # 31 January has passed and none is uploaded


SUMMARY_STATE_NAMES = {
    SummaryState.UPLOADED: "已报送",
    SummaryState.NOT_DUE: "未到报送期",
    SummaryState.DUE: "待报送",
    SummaryState.OVERDUE: "逾期未报送",
}


class RevokeReason(StrEnum):
    """第十九条（四）: the grounds on which a recognised platform loses its title."""

    ADMINISTRATIVE_SANCTION = "administrative_sanction"
    JUDICIAL_PENALTY = "judicial_penalty"
    SKIPPED_ACTIVITIES = "skipped_activities"
    COMPLAINTS = "complaints"
    NO_ANNUAL_SUMMARY = "no_annual_summary"
    OTHER_VIOLATION = "other_violation"


REVOKE_REASON_NAMES = {
    RevokeReason.ADMINISTRATIVE_SANCTION: "受到有关行政主管机关处分",
    RevokeReason.JUDICIAL_PENALTY: "被司法机关处罚",
    RevokeReason.SKIPPED_ACTIVITIES: (
        "一年内无正当理由不参加由中小企业主管部门组织的中小企业服务活动"
    ),
    RevokeReason.COMPLAINTS: "一年内三次以上（含三次）被中小企业投诉",
    RevokeReason.NO_ANNUAL_SUMMARY: "不向中小企业主管部门报送年度总结报告",
    RevokeReason.OTHER_VIOLATION: "违反本办法其他有关规定",
}


class RegisterError(ValueError):
    """An act on the register that cannot be taken; the message (Chinese) says why, the
    ``status`` which HTTP answer fits, ``field`` the request field at fault."""

    def __init__(self, message: str, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# --- dates: pure functions of the recognition date and today ------------------------------


def beijing_date(moment: datetime) -> date:
    """The date in Beijing at an aware ``moment``: the deadlines are the bureau's, not the
    server's (17:00 UTC on 31 January is already 1 February there)."""
    return moment.astimezone(BEIJING).date()


def beijing_today() -> date:
    return beijing_date(datetime.now(UTC))


def expiry(recognised_on: date) -> date:
    """Three years after recognition (29 February → 28 February of a common year)."""
    return recognised_on + relativedelta(years=VALID_YEARS)


def platform_status(
    recognised_on: date, expires_on: date, revoked_on: date | None, today: date
) -> PlatformStatus:
    """Revoked, expired (on or after its expiry date), expiring (it ends this calendar
    year, when it may re-apply), else valid."""
    if revoked_on is not None and revoked_on <= today:
        return PlatformStatus.REVOKED
    if today >= expires_on:
        return PlatformStatus.EXPIRED
    if expires_on.year == today.year:
        return PlatformStatus.EXPIRING
    return PlatformStatus.VALID


def summary_due(year: int) -> date:
    """The last day to file the summary of ``year``: 31 January of the next year."""
    return date(year + 1, SUMMARY_DUE_MONTH, SUMMARY_DUE_DAY)


def summary_years(recognised_on: date, expires_on: date, revoked_on: date | None) -> list[int]:
    """The years whose summaries a platform owes: from its recognition year up to the year
    before its expiry year; a revoked one owes none due after its revocation."""
    years = range(recognised_on.year, expires_on.year)
    return [y for y in years if revoked_on is None or summary_due(y) < revoked_on]


def summary_state(year: int, uploaded: bool, today: date) -> SummaryState:
    """Uploaded; else not due while the year lasts; due until 31 January (inclusive) of the
    next year; overdue after."""
    if uploaded:
        return SummaryState.UPLOADED
    if today.year <= year:
        return SummaryState.NOT_DUE
    if today <= summary_due(year):
        return SummaryState.DUE
    return SummaryState.OVERDUE


# --- recognition and revocation -----------------------------------------------------------


def recognise(
    session: Session,
    dossier: Dossier,
    recognised_on: date,
    actor: str,
    credit_code: str | None = None,
    name: str | None = None,
) -> Platform:
    """Mark ``dossier`` 认定 on ``recognised_on``: a new platform row, expiring three years
    later, on the audit trail. The credit code and name are the report's (the licence's)
    unless given; a dossier already recognised (and not revoked) is refused."""
    report = session.get(Report, dossier.id)
    summary = report_summary(report.content or {}) if report is not None else {}
    code = (credit_code or summary.get("credit_code") or "").strip().upper()
    if not code:
        raise RegisterError(
            "未能从申报材料中读取统一社会信用代码，请在认定时填写 credit_code",
            field="credit_code",
        )
    if not uscc.is_valid(code):
        raise RegisterError(f"统一社会信用代码“{code}”校验不通过，请核对", field="credit_code")
    if recognised_on > beijing_today():
        raise RegisterError("认定日期不能晚于今天", field="recognised_on")
    if recognised_on.year < EARLIEST_YEAR:
        raise RegisterError(f"认定日期不能早于{EARLIEST_YEAR}年", field="recognised_on")
    current = session.scalar(
        select(Platform).where(Platform.dossier_id == dossier.id, Platform.revoked_on.is_(None))
    )
    if current is not None:
        raise RegisterError(
            f"该申报材料已于{current.recognised_on.isoformat()}认定，不能重复认定", status=409
        )
    platform = Platform(
        credit_code=code,
        name=((name or "").strip() or summary.get("applicant_name") or dossier.name or code)[:255],
        dossier_id=dossier.id,
        round=dossier.round,
        recognised_on=recognised_on,
        expires_on=expiry(recognised_on),
        recognised_by=actor,
    )
    session.add(platform)
    session.flush()
    reviews.record(
        session,
        dossier.id,
        actor,
        "recognise",
        platform=platform.id,
        credit_code=code,
        recognised_on=recognised_on.isoformat(),
        expires_on=platform.expires_on.isoformat(),
    )
    return platform


def revoke(
    session: Session,
    platform: Platform,
    reason: RevokeReason,
    revoked_on: date,
    actor: str,
    note: str = "",
) -> Platform:
    """Revoke a platform's title for one of article 19's reasons, on the audit trail."""
    if platform.revoked_on is not None:
        raise RegisterError(
            f"该平台已于{platform.revoked_on.isoformat()}被撤销，不能重复撤销", status=409
        )
    if revoked_on < platform.recognised_on:
        raise RegisterError("撤销日期不能早于认定日期", field="revoked_on")
    if revoked_on > beijing_today():
        raise RegisterError("撤销日期不能晚于今天", field="revoked_on")
    platform.revoked_on = revoked_on
    platform.revoke_reason = reason.value
    platform.revoke_note = note or None
    reviews.record(
        session,
        platform.dossier_id,
        actor,
        "revoke",
        platform=platform.id,
        credit_code=platform.credit_code,
        reason=reason.value,
        reason_name=REVOKE_REASON_NAMES[reason],
        revoked_on=revoked_on.isoformat(),
        note=note,
    )
    return platform


# --- annual summaries ---------------------------------------------------------------------


def add_summary(
    session: Session,
    settings: Settings,
    platform: Platform,
    year: int,
    stream: BinaryIO,
    filename: str,
    actor: str,
) -> AnnualSummary:
    """Store an annual summary uploaded for ``platform``, parse it at once and check the
    year and figures it states against the platform's dossier. A file that cannot be read
    is refused (RegisterError); differences are reported, never refused."""
    owed = summary_years(platform.recognised_on, platform.expires_on, platform.revoked_on)
    if year not in owed:
        span = f"{owed[0]}—{owed[-1]}年度" if owed else "无"
        raise RegisterError(f"该平台无需报送{year}年度总结报告（应报送：{span}）", field="year")
    store = FileStore(settings.data_dir)
    created: set[str] = set()
    try:
        sha, size = store.put_stream(stream, SUMMARY_MAX_BYTES, created)
    except InputFileError as exc:
        too_large = exc.code == ErrorCode.TOO_LARGE
        limit = f"（年度总结报告不超过 {_size(SUMMARY_MAX_BYTES)}）" if too_large else ""
        raise RegisterError(
            f"年度总结报告无法保存：{exc.message}{limit}",
            status=413 if too_large else 422,
            field="file",
        ) from exc
    options = dataclasses.replace(settings.parse_options(), max_pages=SUMMARY_MAX_PAGES)
    try:
        document = parse_file(store.blob_path(sha), options)
    except InputFileError as exc:
        if sha in created:  # refused: take back what this upload alone stored
            store.remove_blob(sha)
        raise RegisterError(f"年度总结报告无法读取：{exc.message}", field="file") from exc
    store.save_document(sha, document)
    name = clean_name(filename).rsplit("/", 1)[-1] if filename else "年度总结报告"
    checks = check_summary(session, platform, year, name, document)
    summary = AnnualSummary(
        platform_id=platform.id,
        year=year,
        name=name,
        sha256=sha,
        size=size,
        uploaded_by=actor,
        checks=checks,
    )
    session.add(summary)
    session.flush()
    reviews.record(
        session,
        platform.dossier_id,
        actor,
        "annual_summary",
        platform=platform.id,
        summary=summary.id,
        year=year,
        file=summary.name,
        differences=len(checks["differences"]),
    )
    return summary


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} KB"


def stated_year(document: Document) -> int | None:
    """The year a summary says it covers: the first "20XX年度" on its first page."""
    if not document.pages:
        return None
    found = YEAR_STATED.search(document.pages[0].text)
    return int(found.group(1)) if found else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def check_summary(
    session: Session, platform: Platform, year: int, filename: str, document: Document
) -> dict[str, Any]:
    """What an annual summary states, against what is known: the year in its title or
    first page against the year it is filed for, and each figure it states that the
    platform's dossier declared too (SMEs served, service staff, revenue), within the rule
    pack's tolerance. Every check done is listed (``checked``); every disagreement and
    every check that could not be done is said in Chinese."""
    checked: list[str] = []
    differences: list[str] = []
    notes: list[str] = []
    said = stated_year(document)
    checked.append(f"年度：首页标明的年度与报送年度（{year}年度）是否一致")
    if said is None:
        notes.append("首页未找到“20XX年度”字样，未能核对年度")
    elif said != year:
        differences.append(f"首页标明为{said}年度，报送的是{year}年度总结报告")
    # The summary is the platform's own statement, as its application report is: read it
    # as one whatever it looks like (the classifier calls a plain summary "other", and
    # nothing is read from an "other").
    name = filename or "年度总结报告"
    statement = Material(
        type=READ_AS, file=name, pages=(1, max(len(document.pages), 1)), confidence=1.0
    )
    fields = extract_fields([(name, document)], [statement])
    report = session.get(Report, platform.dossier_id) if platform.dossier_id else None
    declared = report_summary(report.content or {}) if report is not None else None
    dossier = session.get(Dossier, platform.dossier_id) if platform.dossier_id else None
    try:
        limit = tolerance(load_pack(dossier.rule_pack)) if dossier else DEFAULT_TOLERANCE
    except UnknownRulePackError:
        limit = DEFAULT_TOLERANCE
    names, kinds = {**field_names(), **NAMES}, field_kinds()
    figures: list[dict[str, Any]] = []
    if declared is None:
        notes.append("认定所依据的申报材料没有预审报告，未能核对数值")
    for name in SUMMARY_FIGURES:
        label = names.get(name, name)
        stated = next(
            (n for v in fields.get(name, []) if (n := _number(v.value)) is not None), None
        )
        stem = name.split(".", 1)[1]
        before = _number(declared.get(f"{stem}_declared")) if declared else None
        unit = UNITS[name]
        same: bool | None = None
        if stated is None:
            notes.append(f"年度总结报告中未读到{label}")
        elif before is None:
            if declared is not None:
                notes.append(f"申报材料未申报{label}，未能核对")
        else:
            checked.append(f"{label}：年度总结报告所报与认定时申报材料所报是否一致")
            same = abs(stated - before) <= limit * max(abs(stated), abs(before))
            if not same:
                differences.append(
                    f"{label}：年度总结报告为{show_value(stated, kinds.get(name, ''))}{unit}，"
                    f"认定时申报材料为{show_value(before, kinds.get(name, ''))}{unit}"
                )
        figures.append(
            {"field": name, "name": label, "summary": stated, "dossier": before, "same": same}
        )
    return {
        "year": year,
        "year_stated": said,
        "pages": len(document.pages),
        "figures": figures,
        "checked": checked,
        "differences": differences,
        "notes": notes,
    }


# --- the register -------------------------------------------------------------------------


def platform_row(platform: Platform, today: date) -> dict[str, Any]:
    """A platform as the register shows it: dates, status, each owed summary's state."""
    status = platform_status(
        platform.recognised_on, platform.expires_on, platform.revoked_on, today
    )
    uploaded: dict[int, AnnualSummary] = {}
    for s in platform.summaries:  # oldest first: the last upload of a year is its summary
        uploaded[s.year] = s
    summaries = []
    for year in summary_years(platform.recognised_on, platform.expires_on, platform.revoked_on):
        state = summary_state(year, year in uploaded, today)
        latest = uploaded.get(year)
        summaries.append(
            {
                "year": year,
                "due": summary_due(year).isoformat(),
                "state": state.value,
                "state_name": SUMMARY_STATE_NAMES[state],
                "upload": None
                if latest is None
                else {
                    "id": latest.id,
                    "name": latest.name,
                    "uploaded_at": latest.uploaded_at.isoformat(timespec="seconds"),
                    "uploaded_by": latest.uploaded_by,
                    "checks": latest.checks,
                },
            }
        )
    reason = RevokeReason(platform.revoke_reason) if platform.revoke_reason else None
    return {
        "id": platform.id,
        "credit_code": platform.credit_code,
        "name": platform.name,
        "dossier_id": platform.dossier_id,
        "round": platform.round,
        "recognised_on": platform.recognised_on.isoformat(),
        "expires_on": platform.expires_on.isoformat(),
        "recognised_by": platform.recognised_by,
        "status": status.value,
        "status_name": STATUS_NAMES[status],
        "revoked_on": platform.revoked_on.isoformat() if platform.revoked_on else None,
        "revoke_reason": reason.value if reason else None,
        "revoke_reason_name": REVOKE_REASON_NAMES[reason] if reason else None,
        "revoke_note": platform.revoke_note,
        "summaries": summaries,
        "overdue": sum(s["state"] == SummaryState.OVERDUE for s in summaries),
        "due": sum(s["state"] == SummaryState.DUE for s in summaries),
    }


def register(session: Session, today: date | None = None) -> dict[str, Any]:
    """Every recognised platform, newest recognition first, and those whose recognition
    ends this calendar year listed apart (本年度到期: they may re-apply now)."""
    today = today or beijing_today()
    platforms = session.scalars(
        select(Platform).order_by(Platform.recognised_on.desc(), Platform.name)
    ).all()
    rows = [platform_row(p, today) for p in platforms]
    return {
        "today": today.isoformat(),
        "platforms": rows,
        "expiring": [r["id"] for r in rows if r["status"] == PlatformStatus.EXPIRING],
        "overdue": sum(r["overdue"] for r in rows),
    }
