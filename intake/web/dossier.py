"""Applicants' list and new dossiers; one dossier's page (files, progress, checklist,
findings, corrections) for everyone who may see it; reviewers' list."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from extractors.vocabulary import field_names
from intake import access, reviews
from intake.access import CREATE_ROLES, Action
from intake.api.deps import SessionDep, SettingsDep
from intake.dossiers import DUPLICATE, DossierPurgedError, create_dossier, dossier_state, purged_on
from intake.models import Dossier, Report, Role, User
from intake.overview import overview, visible_dossiers
from intake.reports.html import ORDER, STATUS_NAMES, by_article, checklist, evidence_of, verdict
from intake.reports.privacy import report_for
from intake.reports.todo import todo_groups
from intake.web.pages import (
    FormUser,
    PageUser,
    redirect,
    render,
    require_role,
    reviewable,
    visible_dossier,
)
from validators.packs import UnknownRulePackError, available_packs, load_pack

router = APIRouter(include_in_schema=False)

# --- applicants ---------------------------------------------------------------------------


def _packs() -> list[dict[str, Any]]:
    packs = []
    for name in available_packs():
        pack = load_pack(name)
        packs.append({"name": name, "programme": pack.programme, "confirmed": pack.confirmed})
    return packs


@router.get("/applicant")
def applicant_home(
    request: Request, session: SessionDep, settings: SettingsDep, user: User = PageUser
) -> HTMLResponse:
    require_role(user, CREATE_ROLES, "进入申报单位页面")
    rows = [overview(session, d, user) for d in visible_dossiers(session, user)]
    return render(
        request,
        "applicant.html",
        user,
        dossiers=rows,
        packs=_packs(),
        default_pack=settings.default_rule_pack,
        round=settings.round,
    )


@router.post("/dossiers")
async def create_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: User = FormUser
) -> Response:
    require_role(user, CREATE_ROLES, "创建申报")
    form = await request.form()
    name = str(form.get("name", "")).strip()
    if not name:
        return redirect("/applicant", "请填写申报单位或平台名称", error=True)

    def create() -> str:
        dossier = create_dossier(
            session,
            str(form.get("rule_pack") or settings.default_rule_pack),
            name,
            owner=user,
            district=str(form.get("district", "")),
            round=settings.round,
        )
        reviews.record(session, dossier.id, user.name, "create", rule_pack=dossier.rule_pack)
        session.commit()
        return dossier.id

    try:
        dossier_id = await run_in_threadpool(create)
    except UnknownRulePackError as exc:
        return redirect("/applicant", str(exc), error=True)
    return redirect(f"/dossiers/{dossier_id}", "已创建，请上传申报材料")


# --- one dossier (applicant, reviewer and bureau alike, by what each may do) -------------


def _progress(f) -> str:
    if f.state == "failed":
        return "重复上传" if f.error_code == DUPLICATE else "失败"
    if f.state == "done":
        return "已完成"
    if f.progress == "retrying":
        return "等待重试"
    if f.progress and " " in f.progress:
        stage, _, count = f.progress.partition(" ")
        done, _, total = count.partition("/")
        if stage == "ocr":
            return f"文字识别 第 {done} / {total} 页"
        return f"解析 第 {done} / {total} 页"
    if f.state == "processing":
        return "解析中"
    return "排队中"


def _feedback(f, rule_pack: str) -> dict[str, Any] | None:
    """A done file's own feedback as its row shows it (``intake.feedback``); its checks
    only while the dossier keeps the rule pack they were judged by."""
    got = f.feedback if f.state == "done" else None
    if not got:
        return None
    pages = got.get("pages") or {}
    warnings = []
    if pages.get("unreadable"):
        warnings.append(f"{_pages(pages['unreadable'])}未能识别出文字，请上传更清晰的扫描件或照片")
    if pages.get("poor"):
        warnings.append(f"{_pages(pages['poor'])}文字识别质量较差，读取的数值可能有误")
    return {
        "materials": got.get("materials") or [],
        "read": got.get("values") or [],
        "checks": (got.get("checks") or []) if got.get("rule_pack") == rule_pack else [],
        "sealed": _pages(pages["sealed"]) if pages.get("sealed") else "",
        "warnings": warnings,
    }


def _pages(numbers: list[int]) -> str:
    return "第" + "、".join(str(n) for n in numbers) + "页"


def _announce(f, progress: str, feedback: dict[str, Any] | None) -> str:
    """What a screen reader hears when the file's row changes: its state, and once it is
    done what it was recognised as and what its own checks found."""
    if f.state == "failed" and f.error_code == DUPLICATE:
        return f"{f.name}：重复上传。{f.error_message or ''}"
    if f.state == "failed":
        return f"{f.name}：处理失败。{f.error_message or ''}"
    if f.state != "done":
        return f"{f.name}：{'文字识别中' if progress.startswith('文字识别') else progress}"
    if not feedback:
        return f"{f.name}：已完成"
    kinds = "、".join(m["name"] for m in feedback["materials"]) or "未能识别类型"
    said = f"{f.name}：已完成，识别为{kinds}，读取{len(feedback['read'])}项数值"
    counts: dict[str, int] = {}
    for check in feedback["checks"]:
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    if counts:
        said += "；" + "，".join(f"{STATUS_NAMES[k]}{n}项" for k, n in counts.items())
    return said


def _current_files(report: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    """The report with the dossier's files as they are now: a file that failed (or was
    found a duplicate) after the report was built counts in the verdict and the to-do list
    at once, and a deleted one no longer does."""
    files = []
    for f in dossier.files:
        entry: dict[str, Any] = {"file": f.name, "state": f.state}
        if f.state == "failed":
            entry["error"] = {"code": f.error_code, "message": f.error_message}
        files.append(entry)
    return {**report, "files": files}


def _file_anchors(dossier: Dossier) -> dict[str, str]:
    """The id of each file's row on the page, by file name (a to-do item links to it)."""
    return {f.name: f"file-{f.id}" for f in dossier.files}


def _dossier_context(session: Session, settings, user: User, dossier: Dossier) -> dict[str, Any]:
    report_row = session.get(Report, dossier.id)
    state = dossier_state(dossier, report_row)
    report = report_for(report_row.content, user.role) if report_row else None
    findings = []
    if report:
        findings = sorted(report.get("findings", []), key=lambda f: ORDER.get(f["status"], 9))
    complete = next((f for f in findings if f["criterion"] == "17.complete"), None)
    current = _current_files(report, dossier) if report else None
    files = []
    for f in dossier.files:
        progress, feedback = _progress(f), _feedback(f, dossier.rule_pack)
        item = {"row": f, "progress": progress, "feedback": feedback}
        files.append({**item, "announce": _announce(f, progress, feedback)})
    try:
        programme = load_pack(dossier.rule_pack).programme
    except UnknownRulePackError:
        programme = dossier.rule_pack
    # A purged dossier (intake purge) is read-only history: its report stays, nothing that
    # needs its originals (uploads, reviews, page pictures) is offered.
    purged = purged_on(dossier.purged_at, settings.timezone) if dossier.purged_at else None
    return {
        "dossier": dossier,
        "programme": programme,
        "state": str(state),
        "stale": report is not None and state != "done",
        "report": report,
        "verdict": verdict(current) if current else None,
        "checklist": checklist(report) if report else [],
        "complete": complete,
        "todo": todo_groups(current) if current else None,
        "file_anchors": _file_anchors(dossier),
        "titles": _titles(report) if report else {},
        "done_files": sum(1 for f in dossier.files if f.state in ("done", "failed")),
        "by_article": by_article(report.get("findings", [])) if report else [],
        "evidence_of": (lambda finding: evidence_of(report, finding)) if report else None,
        "files": files,
        "purged_on": purged,
        "can_upload": access.may(user, dossier, Action.UPLOAD) and not purged,
        "can_review": access.may(user, dossier, Action.REVIEW) and state == "done" and not purged,
        "can_assign": access.may(user, dossier, Action.ASSIGN),
        "field_labels": field_names(),
    }


@router.get("/dossiers/{dossier_id}")
def dossier_page(
    request: Request,
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
) -> HTMLResponse:
    dossier = visible_dossier(session, user, dossier_id, Action.VIEW)
    context = _dossier_context(session, settings, user, dossier)
    history = None
    if Role(user.role) != Role.APPLICANT:
        history = reviews.history(settings, dossier_id, viewer=user)
    return render(request, "dossier.html", user, history=history, **context)


@router.get("/dossiers/{dossier_id}/live")
def dossier_live(
    request: Request,
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
) -> HTMLResponse:
    """The part of the dossier page that changes while files are processed; the page's
    script fetches it every two seconds until the dossier is done."""
    dossier = visible_dossier(session, user, dossier_id, Action.VIEW)
    context = _dossier_context(session, settings, user, dossier)
    response = render(request, "_live.html", user, **context)
    response.headers["X-Dossier-State"] = context["state"]
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/dossiers/{dossier_id}/corrections")
async def correct_page(
    request: Request,
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = FormUser,
) -> Response:
    form = await request.form()
    reviewable(session, user, dossier_id)
    page = str(form.get("page") or "")
    old = form.get("old")
    field = str(form.get("field", ""))
    back = f"/dossiers/{dossier_id}#{form.get('anchor') or 'findings'}"

    def run() -> dict:
        return reviews.correct(
            settings,
            dossier_id,
            field,
            str(form.get("value", "")).strip(),
            str(form.get("comment", "")),
            user.name,
            str(form.get("file")) if form.get("file") else None,
            int(page) if page.isdigit() else None,
            _typed(old),
        )

    label = field_names().get(field, field)
    return await _review(back, run, lambda r: f"已更正{label}，报告已重新生成：{_title(r)}")


def _title(report: dict) -> str:
    return verdict(report)["title"]


def _titles(report: dict) -> dict[str, str]:
    """Each criterion's name as people read it, by its id: the title kept in the report,
    else the rule pack's (a history entry may name a criterion the report no longer has)."""
    titles = {f["criterion"]: f["title"] for f in report.get("findings", []) if f.get("title")}
    try:
        return load_pack(report.get("rule_pack", "")).titles() | titles
    except UnknownRulePackError:
        return titles


async def _review(back: str, action, said) -> Response:
    """Take a reviewer's action (it rebuilds the report) and go back to the page, saying
    what came of it, or why it was refused (a purged dossier's report is history)."""
    try:
        report = await run_in_threadpool(action)
    except (reviews.ReviewError, DossierPurgedError) as exc:
        return redirect(back, str(exc), error=True)
    return redirect(back, said(report))


def _typed(old: Any) -> Any:
    """The old value as the report holds it (the form carries it as JSON: a number stays a
    number, a credit code of digits stays a string), so the correction finds its reading."""
    if old is None or old == "":
        return None
    try:
        value = json.loads(str(old))
    except ValueError:
        return str(old)
    return value if isinstance(value, str | int | float) else None


@router.post("/dossiers/{dossier_id}/acceptances")
async def accept_page(
    request: Request,
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = FormUser,
) -> Response:
    form = await request.form()
    reviewable(session, user, dossier_id)
    criterion = str(form.get("criterion", ""))
    back = f"/dossiers/{dossier_id}#{form.get('anchor') or 'findings'}"
    comment = str(form.get("comment", ""))
    return await _review(
        back,
        lambda: reviews.accept(settings, dossier_id, criterion, comment, user.name),
        lambda r: f"已确认「{_titles(r).get(criterion, criterion)}」：{_title(r)}",
    )


@router.post("/dossiers/{dossier_id}/reviews/{review_id}/withdraw")
async def withdraw_page(
    request: Request,
    dossier_id: str,
    review_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = FormUser,
) -> Response:
    form = await request.form()
    reviewable(session, user, dossier_id)
    comment = str(form.get("comment", ""))
    return await _review(
        f"/dossiers/{dossier_id}#history",
        lambda: reviews.withdraw(settings, dossier_id, review_id, comment, user.name),
        lambda r: f"已撤回，报告已重新生成：{_title(r)}",
    )


# --- reviewers ----------------------------------------------------------------------------


@router.get("/reviewer")
def reviewer_home(request: Request, session: SessionDep, user: User = PageUser) -> HTMLResponse:
    require_role(user, frozenset({Role.REVIEWER}), "进入评审专家页面")
    rows = [overview(session, d, user) for d in visible_dossiers(session, user)]
    return render(request, "reviewer.html", user, dossiers=rows)
