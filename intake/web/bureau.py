"""Bureau staff: every dossier of a round (filtered, sorted), reviewer assignments, and
reuse across dossiers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pypinyin import lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import reviews
from intake.access import BUREAU_ONLY, Action
from intake.api.deps import SessionDep, SettingsDep
from intake.crossref import find_reuse
from intake.dossiers import AssignmentError, assign
from intake.models import Dossier, Role, User
from intake.overview import overview, visible_dossiers
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
        round=chosen,
        rounds=rounds,
    )
