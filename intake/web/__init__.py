"""The web pages: applicants, reviewers and bureau staff, in Chinese, served by the same
FastAPI app as the JSON API. Server-rendered (Jinja); a little plain JavaScript
(``static/app.js``) uploads files, refreshes the file states and opens page pictures.

Every page checks the user's role and the dossier's owner or assignment through
``intake.access``, as the API does; every form carries the session's CSRF token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pypinyin import lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import access, auth, reviews
from intake.access import BUREAU_ONLY, CREATE_ROLES, ROLE_NAMES, Action
from intake.api.deps import SESSION_COOKIE, SessionDep, SettingsDep, identify
from intake.crossref import find_reuse
from intake.dossiers import DISTRICTS, AssignmentError, assign, create_dossier, dossier_state
from intake.models import Dossier, Report, Role, User
from intake.overview import STATE_NAMES, VERDICT_NAMES, overview, visible_dossiers
from intake.reports.html import NAMES, ORDER, by_article, checklist, evidence_of, verdict
from validators.packs import UnknownRulePackError, available_packs, load_pack

HERE = Path(__file__).parent
STATIC = HERE / "static"


def _templates(timezone: str) -> Jinja2Templates:
    """The pages' templates for one app (its time zone in the ``when`` filter)."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        NAMES,
        ROLE_NAMES={r.value: n for r, n in ROLE_NAMES.items()},
        STATE_NAMES=STATE_NAMES,
        VERDICT_NAMES=VERDICT_NAMES,
        DISTRICTS=DISTRICTS,
    )
    tz = ZoneInfo(timezone)
    templates.env.filters["when"] = lambda value: _when(value, tz)
    return templates


router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "intake_login_csrf"
FLASH_COOKIE = "intake_flash"
HOMES = {Role.APPLICANT: "/applicant", Role.REVIEWER: "/reviewer", Role.BUREAU: "/bureau"}


class LoginRequired(Exception):
    def __init__(self, next_url: str = "/") -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown to this user: rendered as a Chinese error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def page_user(request: Request, session: SessionDep) -> User:
    user = identify(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


async def form_user(request: Request, session: SessionDep) -> User:
    """The user behind a form post, after its CSRF token is checked."""
    form = await request.form()
    user = await run_in_threadpool(identify, request, session)
    if user is None:
        raise LoginRequired("/")
    csrf = getattr(request.state, "csrf", None)
    if csrf is not None and not auth.same_secret(str(form.get("csrf_token", "")), csrf):
        raise PageError(403, "页面已过期（安全校验失败），请返回后刷新页面再提交")
    return user


PageUser = Depends(page_user)
FormUser = Depends(form_user)


def _render(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    flash = request.cookies.get(FLASH_COOKIE)
    response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "role": user.role if user else None,
            "csrf": getattr(request.state, "csrf", None),
            "flash": _unflash(flash) if flash else None,
            **context,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _redirect(url: str, flash: str | None = None, error: bool = False) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        value = ("!" if error else "") + flash
        response.set_cookie(
            FLASH_COOKIE, quote(value), max_age=60, httponly=True, samesite="lax", path="/"
        )
    return response


def _unflash(value: str) -> dict[str, Any]:
    from urllib.parse import unquote

    text = unquote(value)[:500]
    return {"error": text.startswith("!"), "text": text.lstrip("!")}


def _dossier(session: Session, user: User, dossier_id: str, action: Action) -> Dossier:
    try:
        return access.check(user, session.get(Dossier, dossier_id), action)
    except access.AccessError as exc:
        raise PageError(exc.status, exc.message) from exc


def _reviewable(session: Session, user: User, dossier_id: str) -> Dossier:
    """A dossier the user may review now: its report is built and current (as the API's
    409 says, no correction lands on a report that is being rebuilt)."""
    dossier = _dossier(session, user, dossier_id, Action.REVIEW)
    state = dossier_state(dossier, session.get(Report, dossier.id))
    if state != "done":
        raise PageError(409, "材料仍在处理中，报告生成后才能更正或确认，请稍后刷新页面再试")
    return dossier


def _role(user: User, roles, what: str) -> None:
    try:
        access.check_role(user, roles, what)
    except access.AccessError as exc:
        raise PageError(exc.status, exc.message) from exc


# --- signing in ---------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): an open redirect is a phishing aid."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    token = auth.new_secret()
    response = _render(request, "login.html", None, next=_safe_next(next), login_csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not auth.same_secret(str(form.get("csrf_token", "")), expected):
        return _redirect(f"/login?next={quote(target)}", "页面已过期，请重新登录", error=True)

    presented = request.cookies.get(SESSION_COOKIE)

    def sign_in() -> str | None:
        try:
            user = auth.authenticate(session, name, password)
        finally:
            session.commit()  # the wrong-password count, whatever happened
        if user is None:
            return None
        if presented:  # a new login never continues an earlier session (no fixation)
            auth.end_session(session, presented)
        cookie, _ = auth.start_session(session, user, settings.session_hours)
        session.commit()
        return cookie

    try:
        cookie = await run_in_threadpool(sign_in)
        error = f"用户名或密码不正确（连续输错 {auth.MAX_FAILURES} 次，账号将锁定 15 分钟）"
    except auth.LockedOut as locked:
        cookie = None
        until = _when(locked.until, ZoneInfo(settings.timezone))[11:]
        error = f"该账号因多次输错密码已暂时锁定，请于 {until} 后再试，或联系主管部门"
    if cookie is None:
        token = auth.new_secret()
        response = _render(
            request,
            "login.html",
            None,
            status_code=401,
            next=target,
            login_csrf=token,
            error=error,
            typed_name=name,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login"
        )
        return response
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: User = FormUser) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.end_session(session, cookie)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(user: User = PageUser) -> RedirectResponse:
    return RedirectResponse(HOMES[Role(user.role)], status_code=303)


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
    _role(user, CREATE_ROLES, "进入申报单位页面")
    rows = [overview(session, d) for d in visible_dossiers(session, user)]
    return _render(
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
    _role(user, CREATE_ROLES, "创建申报")
    form = await request.form()
    name = str(form.get("name", "")).strip()
    if not name:
        return _redirect("/applicant", "请填写申报单位或平台名称", error=True)

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
        return _redirect("/applicant", str(exc), error=True)
    return _redirect(f"/dossiers/{dossier_id}", "已创建，请上传申报材料")


# --- one dossier (applicant, reviewer and bureau alike, by what each may do) -------------


def _progress(f) -> str:
    if f.state == "failed":
        return "失败"
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


def _dossier_context(session: Session, settings, user: User, dossier: Dossier) -> dict[str, Any]:
    report_row = session.get(Report, dossier.id)
    state = dossier_state(dossier, report_row)
    report = report_row.content if report_row else None
    findings = []
    if report:
        findings = sorted(report.get("findings", []), key=lambda f: ORDER.get(f["status"], 9))
    complete = next((f for f in findings if f["criterion"] == "17.complete"), None)
    try:
        programme = load_pack(dossier.rule_pack).programme
    except UnknownRulePackError:
        programme = dossier.rule_pack
    return {
        "dossier": dossier,
        "programme": programme,
        "state": str(state),
        "stale": report is not None and state != "done",
        "report": report,
        "verdict": verdict(report) if report else None,
        "checklist": checklist(report) if report else [],
        "complete": complete,
        "attention": [f for f in findings if f["status"] in ("fail", "missing", "review")],
        "by_article": by_article(report.get("findings", [])) if report else [],
        "evidence_of": (lambda finding: evidence_of(report, finding)) if report else None,
        "files": [{"row": f, "progress": _progress(f)} for f in dossier.files],
        "can_upload": access.may(user, dossier, Action.UPLOAD),
        "can_review": access.may(user, dossier, Action.REVIEW) and state == "done",
        "can_assign": access.may(user, dossier, Action.ASSIGN),
        "field_labels": NAMES["FIELD_LABELS"],
    }


@router.get("/dossiers/{dossier_id}")
def dossier_page(
    request: Request,
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
) -> HTMLResponse:
    dossier = _dossier(session, user, dossier_id, Action.VIEW)
    context = _dossier_context(session, settings, user, dossier)
    history = None
    if Role(user.role) != Role.APPLICANT:
        history = reviews.history(settings, dossier_id)
    return _render(request, "dossier.html", user, history=history, **context)


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
    dossier = _dossier(session, user, dossier_id, Action.VIEW)
    context = _dossier_context(session, settings, user, dossier)
    response = _render(request, "_live.html", user, **context)
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
    _reviewable(session, user, dossier_id)
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

    label = NAMES["FIELD_LABELS"].get(field, field)
    return await _review(back, run, lambda r: f"已更正{label}，报告已重新生成：{_title(r)}")


def _title(report: dict) -> str:
    return verdict(report)["title"]


async def _review(back: str, action, said) -> Response:
    """Take a reviewer's action (it rebuilds the report) and go back to the page, saying
    what came of it, or why it was refused."""
    try:
        report = await run_in_threadpool(action)
    except reviews.ReviewError as exc:
        return _redirect(back, str(exc), error=True)
    return _redirect(back, said(report))


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
    _reviewable(session, user, dossier_id)
    criterion = str(form.get("criterion", ""))
    back = f"/dossiers/{dossier_id}#{form.get('anchor') or 'findings'}"
    comment = str(form.get("comment", ""))
    return await _review(
        back,
        lambda: reviews.accept(settings, dossier_id, criterion, comment, user.name),
        lambda r: f"已确认 {criterion}：{_title(r)}",
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
    _reviewable(session, user, dossier_id)
    comment = str(form.get("comment", ""))
    return await _review(
        f"/dossiers/{dossier_id}#history",
        lambda: reviews.withdraw(settings, dossier_id, review_id, comment, user.name),
        lambda r: f"已撤回，报告已重新生成：{_title(r)}",
    )


# --- reviewers ----------------------------------------------------------------------------


@router.get("/reviewer")
def reviewer_home(request: Request, session: SessionDep, user: User = PageUser) -> HTMLResponse:
    _role(user, frozenset({Role.REVIEWER}), "进入评审专家页面")
    rows = [overview(session, d) for d in visible_dossiers(session, user)]
    return _render(request, "reviewer.html", user, dossiers=rows)


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
    _role(user, BUREAU_ONLY, "进入主管部门页面")
    chosen_round = settings.round if round is None else round
    rows = [overview(session, d) for d in visible_dossiers(session, user, chosen_round or None)]
    districts = sorted({r["district"] for r in rows if r["district"]})
    if state:
        rows = [r for r in rows if r["state"] == state]
    if district:
        rows = [r for r in rows if r["district"] == district]
    if verdict_is:
        rows = [r for r in rows if r["verdict"] == verdict_is]
    rows.sort(key=SORTS.get(sort, SORTS["updated"]), reverse=order == "desc")
    rounds = sorted(set(session.scalars(select(Dossier.round).distinct())) - {""}, reverse=True)
    reviewers = session.scalars(
        select(User).where(User.role == Role.REVIEWER, User.active).order_by(User.name)
    ).all()
    return _render(
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
    dossier = _dossier(session, user, dossier_id, Action.ASSIGN)
    reviewer = str(form.get("reviewer", "")).strip()
    back = _safe_next(str(form.get("back") or "/bureau"))

    def run() -> None:
        assign(session, dossier, reviewer, by=user.name)
        reviews.record(session, dossier_id, user.name, "assign", reviewer=reviewer)
        session.commit()

    try:
        await run_in_threadpool(run)
    except AssignmentError as exc:
        return _redirect(back, str(exc), error=True)
    return _redirect(back, f"已将“{dossier.name}”分配给 {reviewer}")


@router.post("/dossiers/{dossier_id}/assignments/{reviewer}/remove")
async def unassign_page(
    request: Request, dossier_id: str, reviewer: str, session: SessionDep, user: User = FormUser
) -> Response:
    from intake.dossiers import unassign

    form = await request.form()
    dossier = _dossier(session, user, dossier_id, Action.ASSIGN)
    back = _safe_next(str(form.get("back") or "/bureau"))

    def run() -> bool:
        removed = unassign(session, dossier, reviewer)
        if removed:
            reviews.record(session, dossier_id, user.name, "unassign", reviewer=reviewer)
        session.commit()
        return removed

    if not await run_in_threadpool(run):
        return _redirect(back, f"“{reviewer}”未被分配到该申报材料", error=True)
    return _redirect(back, f"已取消 {reviewer} 对“{dossier.name}”的评审分配")


@router.get("/bureau/reuse")
def reuse_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = PageUser,
    round: str | None = None,
) -> HTMLResponse:
    _role(user, BUREAU_ONLY, "查看跨申报比对")
    chosen = settings.round if round is None else round
    rounds = sorted(set(session.scalars(select(Dossier.round).distinct())) - {""}, reverse=True)
    return _render(
        request,
        "reuse.html",
        user,
        reuse=find_reuse(session, chosen or None),
        round=chosen,
        rounds=rounds,
    )


def _when(value: Any, tz: ZoneInfo) -> str:
    """A stored time (UTC, ISO text or datetime) as local "YYYY-MM-DD HH:MM"."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def install(app) -> None:
    """Add the pages, their static files and their error pages to the app."""
    from fastapi.staticfiles import StaticFiles

    app.state.templates = _templates(app.state.settings.timezone)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> HTMLResponse:
        return app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"user": None, "role": None, "csrf": None, "flash": None, "message": exc.message,
             "status": exc.status},
            status_code=exc.status,
        )  # fmt: skip
