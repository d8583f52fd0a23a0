"""The register of recognised platforms (article 19): recognise a dossier, list the
register, upload an annual summary on a platform's behalf, revoke. Bureau staff only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.access import BUREAU_ONLY
from intake.api import errors
from intake.api.deps import ApiUser, SessionDep, SettingsDep, require_role
from intake.api.hygiene import LINE_PATTERN, TEXT_PATTERN
from intake.models import Dossier, Platform
from intake.register import (
    REVOKE_REASON_NAMES,
    RegisterError,
    RevokeReason,
    add_summary,
    beijing_today,
    platform_row,
    recognise,
    register,
    revoke,
)

PlatformId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The platform's id")]
OneLine = Annotated[str, StringConstraints(pattern=LINE_PATTERN)]
Note = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
router = APIRouter(
    prefix="/api/platforms",
    tags=["platforms"],
    responses=errors.responses(400, 401, 403, 404, 409, 422),
)


class Recognition(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    dossier_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The dossier recognised")
    recognised_on: dt.date = Field(description="认定日期 (YYYY-MM-DD)")
    credit_code: OneLine | None = Field(
        default=None, max_length=32, description="Only if the report holds none (the licence's)"
    )
    name: OneLine | None = Field(default=None, max_length=255, description="Else the licence's")


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    reason: RevokeReason = Field(
        description="第十九条（四）: "
        + "; ".join(f"{r.value} = {name}" for r, name in REVOKE_REASON_NAMES.items())
    )
    revoked_on: dt.date | None = Field(default=None, description="Default: today (Beijing)")
    note: Note = Field(default="", max_length=2000, description="A note for the record")


class FigureCheck(BaseModel):
    field: str = Field(description="service.smes_served, staff.service_staff or finance.revenue")
    name: str
    summary: float | None = Field(description="As the annual summary states it")
    dossier: float | None = Field(description="As the platform's dossier declared it")
    same: bool | None = Field(description="Within the rule pack's tolerance; null: not compared")


class SummaryChecks(BaseModel):
    """What the check of an annual summary found (empty lists where nothing was checked)."""

    year: int | None = Field(default=None, description="The year it was filed for")
    year_stated: int | None = Field(default=None, description="The 20XX年度 on its first page")
    pages: int = 0
    figures: list[FigureCheck] = []
    checked: list[str] = Field(default=[], description="What was checked, in Chinese")
    differences: list[str] = Field(default=[], description="Each disagreement found, in Chinese")
    notes: list[str] = Field(default=[], description="What could not be checked, in Chinese")


class SummaryUpload(BaseModel):
    id: str
    name: str = Field(description="The uploaded file's name")
    uploaded_at: str
    uploaded_by: str
    checks: SummaryChecks


class SummaryOwed(BaseModel):
    year: int
    due: str = Field(description="31 January of the next year")
    state: str = Field(description="not_due, due, overdue (after 31 January) or uploaded")
    state_name: str
    upload: SummaryUpload | None = Field(description="The last summary uploaded for the year")


class PlatformRow(BaseModel):
    id: str
    credit_code: str
    name: str
    dossier_id: str | None
    round: str
    recognised_on: str
    expires_on: str = Field(description="Three years after recognition")
    recognised_by: str
    status: str = Field(description="valid, expiring (this calendar year), expired or revoked")
    status_name: str
    revoked_on: str | None
    revoke_reason: RevokeReason | None
    revoke_reason_name: str | None
    revoke_note: str | None
    summaries: list[SummaryOwed] = Field(description="Each annual summary owed")
    overdue: int
    due: int


class Register(BaseModel):
    today: str = Field(description="Today in Beijing, the day the states are as of")
    platforms: list[PlatformRow] = Field(description="Newest recognition first")
    expiring: list[str] = Field(description="Ids of those whose recognition ends this year")
    overdue: int = Field(description="Annual summaries overdue, over all platforms")


class UploadedSummary(SummaryUpload):
    platform: str
    year: int


def _fail(exc: RegisterError) -> HTTPException:
    """Raised ``from exc``: the error handler takes the field at fault from the cause."""
    return HTTPException(status_code=exc.status, detail=exc.message)


def _platform(session, platform_id: str) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise HTTPException(status_code=404, detail="示范平台不存在，请检查编号")
    return platform


@router.get("", response_model=Register)
def list_platforms(session: SessionDep, user: ApiUser) -> dict:
    """Every recognised platform: recognition date, expiry, status (valid, expiring this
    year, expired, revoked), each annual summary owed (not due, due, overdue, uploaded
    with what its check found), and the ids of those expiring this year."""
    require_role(user, BUREAU_ONLY, "查看示范平台名册")
    return register(session)


@router.post("", status_code=201, response_model=PlatformRow)
def recognise_dossier(body: Recognition, session: SessionDep, user: ApiUser) -> dict:
    """Mark a dossier 认定 on a date: the platform enters the register for three years;
    the act is on the dossier's audit trail."""
    require_role(user, BUREAU_ONLY, "认定示范平台")
    dossier = session.get(Dossier, body.dossier_id)
    if dossier is None:
        raise HTTPException(status_code=404, detail="申报材料不存在，请检查编号")
    try:
        platform = recognise(
            session, dossier, body.recognised_on, user.name, body.credit_code, body.name
        )
    except RegisterError as exc:
        session.rollback()
        raise _fail(exc) from exc
    session.commit()
    return platform_row(platform, beijing_today())


@router.post(
    "/{platform_id}/summaries",
    status_code=201,
    response_model=UploadedSummary,
    responses=errors.responses(408, 413),
)
def upload_summary(
    platform_id: PlatformId,
    file: Annotated[UploadFile, File(description="年度总结报告 (DOCX or PDF)")],
    year: Annotated[int, Form(ge=2000, le=2100, description="The year it reports on")],
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> dict:
    """Upload a platform's annual summary on its behalf: stored, parsed at once, and
    checked for the year and the figures it states against the platform's dossier.
    Differences are reported in ``checks``, not refused; an unreadable file is 422."""
    require_role(user, BUREAU_ONLY, "代报年度总结报告")
    platform = _platform(session, platform_id)
    try:
        summary = add_summary(
            session, settings, platform, year, file.file, file.filename or "", user.name
        )
    except RegisterError as exc:
        session.rollback()
        raise _fail(exc) from exc
    session.commit()
    return {
        "id": summary.id,
        "platform": platform.id,
        "year": summary.year,
        "name": summary.name,
        "uploaded_at": summary.uploaded_at.isoformat(timespec="seconds"),
        "uploaded_by": summary.uploaded_by,
        "checks": summary.checks,
    }


@router.post("/{platform_id}/revoke", response_model=PlatformRow)
def revoke_platform(
    platform_id: PlatformId, body: Revocation, session: SessionDep, user: ApiUser
) -> dict:
    """Revoke a platform's title for one of article 19's reasons; on the audit trail."""
    require_role(user, BUREAU_ONLY, "撤销示范平台称号")
    platform = _platform(session, platform_id)
    try:
        revoke(
            session, platform, body.reason, body.revoked_on or beijing_today(), user.name, body.note
        )
    except RegisterError as exc:
        session.rollback()
        raise _fail(exc) from exc
    session.commit()
    return platform_row(platform, beijing_today())
