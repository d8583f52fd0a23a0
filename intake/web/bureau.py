"""Bureau staff: every dossier of a round (filtered, sorted), reviewer assignments, reuse
across dossiers, and the round's overview with bar charts drawn here as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pypinyin import lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from intake import reviews
from intake.access import BUREAU_ONLY, Action
from intake.api.deps import SessionDep, SettingsDep
from intake.crossref import find_reuse
from intake.crossround import CRITERION as CROSS_ROUND
from intake.crossround import disagreements
from intake.dossiers import AssignmentError, assign
from intake.models import Dossier, Platform, Role, User
from intake.overview import VERDICT_NAMES, overview, round_summary, visible_dossiers
from intake.register import (
    REVOKE_REASON_NAMES,
    RegisterError,
    RevokeReason,
    add_summary,
    beijing_today,
    recognise,
    register,
    revoke,
)
from intake.reports.html import STATUS_NAMES
from intake.web.pages import (
    FormUser,
    PageUser,
    redirect,
    render,
    require_role,
    safe_next,
    visible_dossier,
)

router = APIRouter(include_in_schema=False)

# --- bureau -------------------------------------------------------------------------------

# As the verdict itself ranks them: a failure outweighs a gap, a gap a review item.
VERDICT_RANK = {"fail": 0, "missing": 1, "review": 2, "pass": 3, "pending": 4}


def _pinyin(text: str) -> list[str]:
    """Chinese names sort as people look them up: by pinyin (秦岭 before 渭水), not by
    code point."""
    return lazy_pinyin(text)


SORTS = {
    "name": lambda r: _pinyin(r["name"]),
    "district": lambda r: _pinyin(r["district"]),
    "state": lambda r: r["state"],
    "verdict": lambda r: VERDICT_RANK.get(r["verdict"], 9),
    "fail": lambda r: r["fail"],
    "review": lambda r: r["review"],
    "updated": lambda r: r["updated_at"],
}


def _rounds(session: Session, settings, asked: str | None) -> tuple[str, list[str]]:
    """The round a page shows (asked for, "" for all, else the current one) and every round
    there is, newest first."""
    chosen = settings.round if asked is None else asked
    rounds = set(session.scalars(select(Dossier.round).distinct())) - {""}
    return chosen, sorted(rounds, reverse=True)


@router.get("/bureau")
def bureau_home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
    round: str | None = None,
    state: str = "",
    district: str = "",
    verdict_is: str = "",
    sort: str = "updated",
    order: str = "desc",
) -> HTMLResponse:
    require_role(user, BUREAU_ONLY, "进入主管部门页面")
    chosen_round, rounds = _rounds(session, settings, round)
    rows = [
        overview(session, d, user) for d in visible_dossiers(session, user, chosen_round or None)
    ]
    districts = sorted({r["district"] for r in rows if r["district"]})
    if state:
        rows = [r for r in rows if r["state"] == state]
    if district:
        rows = [r for r in rows if r["district"] == district]
    if verdict_is:
        rows = [r for r in rows if r["verdict"] == verdict_is]
    rows.sort(key=SORTS.get(sort, SORTS["updated"]), reverse=order == "desc")
    reviewers = session.scalars(
        select(User).where(User.role == Role.REVIEWER, User.active).order_by(User.name)
    ).all()
    return render(
        request,
        "bureau.html",
        user,
        dossiers=rows,
        rounds=rounds,
        districts=districts,
        reviewers=reviewers,
        filters={
            "round": chosen_round,
            "state": state,
            "district": district,
            "verdict_is": verdict_is,
            "sort": sort,
            "order": order,
        },
    )


@router.post("/dossiers/{dossier_id}/assignments")
async def assign_page(
    request: Request, dossier_id: str, session: SessionDep, user: User = FormUser
) -> Response:
    form = await request.form()
    dossier = visible_dossier(session, user, dossier_id, Action.ASSIGN)
    reviewer = str(form.get("reviewer", "")).strip()
    back = safe_next(str(form.get("back") or "/bureau"))

    def run() -> None:
        assign(session, dossier, reviewer, by=user.name)
        reviews.record(session, dossier_id, user.name, "assign", reviewer=reviewer)
        session.commit()

    try:
        await run_in_threadpool(run)
    except AssignmentError as exc:
        return redirect(back, str(exc), error=True)
    return redirect(back, f"已将“{dossier.name}”分配给 {reviewer}")


@router.post("/dossiers/{dossier_id}/assignments/{reviewer}/remove")
async def unassign_page(
    request: Request, dossier_id: str, reviewer: str, session: SessionDep, user: User = FormUser
) -> Response:
    from intake.dossiers import unassign

    form = await request.form()
    dossier = visible_dossier(session, user, dossier_id, Action.ASSIGN)
    back = safe_next(str(form.get("back") or "/bureau"))

    def run() -> bool:
        removed = unassign(session, dossier, reviewer)
        if removed:
            reviews.record(session, dossier_id, user.name, "unassign", reviewer=reviewer)
        session.commit()
        return removed

    if not await run_in_threadpool(run):
        return redirect(back, f"“{reviewer}”未被分配到该申报材料", error=True)
    return redirect(back, f"已取消 {reviewer} 对“{dossier.name}”的评审分配")


@router.get("/bureau/reuse")
def reuse_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
    round: str | None = None,
) -> HTMLResponse:
    require_role(user, BUREAU_ONLY, "查看跨申报比对")
    chosen, rounds = _rounds(session, settings, round)
    return render(
        request,
        "reuse.html",
        user,
        reuse=find_reuse(session, chosen or None),
        cross_round=disagreements(session, chosen or None),
        CROSS_ROUND=CROSS_ROUND,
        round=chosen,
        rounds=rounds,
    )


# --- the round's overview -----------------------------------------------------------------

# The colours of app.css (--fail, --missing, --review, --pass), and grey for no report.
COLOURS = {
    "fail": "#c62828",
    "missing": "#b26a00",
    "review": "#1565c0",
    "pass": "#17803d",
    "pending": "#9e9e9e",
    "queued": "#9e9e9e",
    "processing": "#1565c0",
    "done": "#17803d",
}
TOP_CRITERIA = 15  # criteria shown on the overview (all of them are in the API and export)


@dataclass(frozen=True)
class Segment:
    """One part of a bar: what it counts (a verdict or status), its name, how many."""

    key: str
    name: str
    value: int


def bar_chart(
    title: str, bars: list[tuple[str, str | None, list[Segment]]], width: int = 720
) -> Markup:
    """A horizontal bar chart as inline SVG: one bar per (label, link, segments), the
    segments stacked, each bar's total at its end. Drawn here so the page needs no script
    and no library; the numbers are also in the tables beside it, for screen readers."""
    label_width, row, gap = 170, 24, 6
    top = 4
    scale_width = width - label_width - 60
    largest = max((sum(s.value for s in segs) for _, _, segs in bars), default=0) or 1
    height = top + len(bars) * (row + gap) + 4
    # A picture, unless its labels are links (an image holds no controls): then a group.
    role = "group" if any(link for _, link, _ in bars) else "img"
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="{role}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, link, segments) in enumerate(bars):
        y = top + index * (row + gap)
        shown = label if len(label) <= 12 else label[:11] + "…"
        text = (
            f'<text x="{label_width - 8}" y="{y + row * 0.7:.1f}" text-anchor="end" '
            f'font-size="13">{escape(shown)}<title>{escape(label)}</title></text>'
        )
        parts.append(f'<a href="{escape(link)}">{text}</a>' if link else text)
        x = float(label_width)
        total = 0
        for segment in segments:
            if segment.value <= 0:
                continue
            w = segment.value / largest * scale_width
            parts.append(
                f'<rect class="bar {segment.key}" x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" '
                f'height="{row}" fill="{COLOURS.get(segment.key, "#607d8b")}">'
                f"<title>{escape(label)}：{escape(segment.name)} {segment.value}</title></rect>"
            )
            x += w
            total += segment.value
        parts.append(f'<text x="{x + 6:.1f}" y="{y + row * 0.7:.1f}" font-size="13">{total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def overview_charts(summary: dict) -> dict[str, Markup]:
    """The overview's three pictures: dossiers by verdict, by district (stacked by
    verdict) and the criteria failed or sent to review most often."""
    verdicts = [k for k in VERDICT_NAMES if summary["by_verdict"].get(k)]
    by_verdict = [
        (VERDICT_NAMES[k], None, [Segment(k, VERDICT_NAMES[k], summary["by_verdict"][k])])
        for k in verdicts
    ]
    by_district = [
        (
            d["district"] or "未填写区县",
            None,
            [Segment(k, VERDICT_NAMES[k], d["by_verdict"][k]) for k in VERDICT_NAMES],
        )
        for d in summary["by_district"]
    ]
    criteria = [
        (
            c["title"],
            f"#c-{c['criterion']}",
            [Segment(s, STATUS_NAMES[s], c[s]) for s in ("fail", "review", "missing")],
        )
        for c in summary["criteria"][:TOP_CRITERIA]
        if c["fail"] or c["review"] or c["missing"]
    ]
    return {
        "verdict": bar_chart("各预审结论的申报数", by_verdict),
        "district": bar_chart("各区县的申报数（按预审结论）", by_district),
        "criteria": bar_chart("不符合、待审核与缺失最多的条款", criteria),
    }


@router.get("/bureau/overview")
def overview_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
    round: str | None = None,
) -> HTMLResponse:
    require_role(user, BUREAU_ONLY, "查看申报批次概览")
    chosen, rounds = _rounds(session, settings, round)
    chosen = chosen or settings.round
    summary = round_summary(session, chosen)
    names = {r["id"]: r["name"] or r["id"] for r in summary["rows"]}
    return render(
        request,
        "bureau_overview.html",
        user,
        summary=summary,
        charts=overview_charts(summary),
        names=names,
        round=chosen,
        rounds=rounds if chosen in rounds else [chosen, *rounds],
        top=[c for c in summary["criteria"] if c["fail"] or c["review"] or c["missing"]][
            :TOP_CRITERIA
        ],
    )


# --- the register of recognised platforms (article 19) ------------------------------------


@router.get("/bureau/register")
def register_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    round: str | None = None,
    user: User = PageUser,
) -> HTMLResponse:
    """The register; its recognition form offers the dossiers of ``round`` (default: the
    current round) not yet recognised."""
    require_role(user, BUREAU_ONLY, "查看示范平台名册")
    chosen = (round or settings.round).strip()[:16]
    recognised = set(
        session.scalars(select(Platform.dossier_id).where(Platform.revoked_on.is_(None)))
    )
    candidates = [d for d in visible_dossiers(session, user, chosen) if d.id not in recognised]
    return render(
        request,
        "bureau_register.html",
        user,
        data=register(session),
        candidates=candidates,
        candidate_round=chosen,
        reasons=REVOKE_REASON_NAMES,
    )


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


REGISTER = "/bureau/register"


@router.post("/bureau/register/recognise")
async def recognise_page(request: Request, session: SessionDep, user: User = FormUser) -> Response:
    require_role(user, BUREAU_ONLY, "认定示范平台")
    form = await request.form()
    dossier = session.get(Dossier, str(form.get("dossier_id", "")))
    day = _day(form.get("recognised_on"))
    if dossier is None:
        return redirect(REGISTER, "请选择要认定的申报", error=True)
    if day is None:
        return redirect(REGISTER, "请填写认定日期（年-月-日）", error=True)
    code = str(form.get("credit_code", "")).strip() or None

    def run() -> Platform:
        platform = recognise(session, dossier, day, user.name, code)
        session.commit()
        return platform

    try:
        platform = await run_in_threadpool(run)
    except RegisterError as exc:
        session.rollback()
        return redirect(REGISTER, exc.message, error=True)
    return redirect(REGISTER, f"已认定“{platform.name}”，有效期至 {platform.expires_on}")


@router.post("/bureau/register/{platform_id}/revoke")
async def revoke_page(
    request: Request, platform_id: str, session: SessionDep, user: User = FormUser
) -> Response:
    require_role(user, BUREAU_ONLY, "撤销示范平台称号")
    form = await request.form()
    platform = session.get(Platform, platform_id)
    if platform is None:
        return redirect(REGISTER, "示范平台不存在", error=True)
    try:
        reason = RevokeReason(str(form.get("reason", "")))
    except ValueError:
        return redirect(REGISTER, "请选择撤销理由（第十九条所列情形之一）", error=True)
    day = _day(form.get("revoked_on")) or beijing_today()
    note = str(form.get("note", "")).strip()[:500]

    def run() -> None:
        revoke(session, platform, reason, day, user.name, note)
        session.commit()

    try:
        await run_in_threadpool(run)
    except RegisterError as exc:
        session.rollback()
        return redirect(REGISTER, exc.message, error=True)
    return redirect(REGISTER, f"已撤销“{platform.name}”的示范平台称号")


@router.post("/bureau/register/{platform_id}/summaries")
async def summary_page(
    request: Request,
    platform_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = FormUser,
) -> Response:
    require_role(user, BUREAU_ONLY, "代报年度总结报告")
    form = await request.form()
    platform = session.get(Platform, platform_id)
    if platform is None:
        return redirect(REGISTER, "示范平台不存在", error=True)
    upload = form.get("file")
    year = str(form.get("year", "")).strip()
    if not isinstance(upload, UploadFile) or not upload.filename:
        return redirect(REGISTER, "请选择年度总结报告文件", error=True)
    if not year.isdigit():
        return redirect(REGISTER, "请选择报告年度", error=True)

    def run():
        summary = add_summary(
            session, settings, platform, int(year), upload.file, upload.filename, user.name
        )
        session.commit()
        return summary

    try:
        summary = await run_in_threadpool(run)
    except RegisterError as exc:
        session.rollback()
        return redirect(REGISTER, exc.message, error=True)
    found = len(summary.checks.get("differences") or [])
    told = f"，核对发现 {found} 处不一致" if found else "，核对未发现不一致"
    return redirect(REGISTER, f"已收到“{platform.name}”{year}年度总结报告{told}")
