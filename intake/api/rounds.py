"""A round of applications as the bureau sees it: the summary a committee is briefed with
and the same as an XLSX workbook. Bureau staff only."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from intake.access import BUREAU_ONLY
from intake.api import errors
from intake.api.deps import ApiUser, SessionDep, require_role
from intake.api.hygiene import LINE_PATTERN
from intake.export import round_workbook
from intake.overview import round_summary

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RoundPath = Annotated[
    str, Path(pattern=LINE_PATTERN, max_length=16, description="申报批次, e.g. 2026")
]
router = APIRouter(
    prefix="/api/rounds", tags=["rounds"], responses=errors.responses(400, 401, 403, 404, 422)
)


class Figure(BaseModel):
    read: float | None = Field(
        description="As read from the documents of record (audit report, premises proof…)"
    )
    declared: float | None = Field(description="As declared in the application report")


class DossierRow(BaseModel):
    id: str
    name: str
    district: str
    rule_pack: str
    credit_code: str = Field(description="The licence's 统一社会信用代码 (else the report's)")
    state: str = Field(description="queued, processing or done")
    verdict: str = Field(description="fail, missing, review, pass, or pending (no report)")
    fail: int
    review: int
    missing: int
    passed: int = Field(alias="pass")
    figures: dict[str, Figure] = Field(
        description="Key figures by contract field name: finance.total_assets, "
        "finance.revenue, premises.area_m2, staff.service_staff, service.satisfaction, "
        "service.smes_served"
    )
    statuses: dict[str, str] = Field(description="Each criterion's status in the last report")
    updated_at: str


class DistrictCount(BaseModel):
    district: str
    dossiers: int
    by_verdict: dict[str, int]


class CriterionCount(BaseModel):
    criterion: str
    title: str = Field(description="The rule pack's title of the criterion")
    fail: int
    review: int
    missing: int
    passed: int = Field(alias="pass")
    dossiers: dict[str, list[str]] = Field(
        description="The ids of the dossiers in which it is fail, review or missing"
    )


class RoundSummary(BaseModel):
    round: str
    dossiers: int
    by_state: dict[str, int]
    by_verdict: dict[str, int]
    by_district: list[DistrictCount] = Field(description="Most dossiers first")
    criteria: list[CriterionCount] = Field(description="Most failed or in review first")
    titles: dict[str, str] = Field(description="Every criterion judged → its title")
    rows: list[DossierRow]


@router.get("/{round}/summary", response_model=RoundSummary)
def summary(round: RoundPath, session: SessionDep, user: ApiUser) -> JSONResponse:
    """The round's dossiers by state, verdict and district; the criteria that fail or need
    review most often, with the dossiers; and one row per dossier (verdict, counts, key
    figures read and declared, each criterion's status). Bureau staff only."""
    require_role(user, BUREAU_ONLY, "查看申报批次概览")
    # Returned as it is (the model documents it): a round's rows are many small values
    # that FastAPI's encoder would walk one by one.
    return JSONResponse(round_summary(session, round))


@router.get(
    "/{round}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The round as an XLSX workbook"}},
)
def export(round: RoundPath, session: SessionDep, user: ApiUser) -> Response:
    """The round as an XLSX workbook: a row per dossier, a column per criterion, and a
    sheet per failed criterion. Bureau staff only."""
    require_role(user, BUREAU_ONLY, "导出申报批次")
    book = round_workbook(round_summary(session, round))
    name = f"申报批次{round}.xlsx"
    return Response(
        book,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=round-{quote(round)}.xlsx; "
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )
