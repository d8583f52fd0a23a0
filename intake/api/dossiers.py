"""Dossier endpoints. Integrators script against these: keep paths and shapes stable."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors.errors import UploadRefusedError
from intake import reviews
from intake.access import BUREAU_ONLY, CREATE_ROLES, Action
from intake.api import errors
from intake.api.deps import ApiUser, SessionDep, SettingsDep, dossier_for, require_role
from intake.api.headers import content_security_policy
from intake.api.hygiene import LINE_PATTERN, MAX_INT, FilledLine, Line, Reason
from intake.crossref import find_reuse
from intake.crossround import disagreements
from intake.dossiers import (
    Admission,
    AssignmentError,
    DossierPurgedError,
    Needs,
    add_upload,
    assign,
    clean_name,
    create_dossier,
    current_report,
    discard_upload,
    dossier_state,
    refuse_if_purged,
    unassign,
)
from intake.models import (
    Dossier,
    DossierFile,
    FileState,
    Parse,
    ParseState,
    Report,
    User,
    aware,
    utcnow,
)
from intake.overview import overview, visible_dossiers
from intake.pipeline import build_report, maybe_build_report
from intake.queue import enqueue_parse, get_queue, lane_of_file
from intake.reports.crops import evidence_crops, page_picture
from intake.reports.html import render_html, render_pdf, style_hash
from intake.reports.privacy import report_for
from intake.storage import FileStore
from validators.packs import UnknownRulePackError, available_packs, load_pack

log = logging.getLogger(__name__)

# Path ids as the service makes them (uuid4 hex); anything else is refused with 422.
_ID = r"^[0-9a-f]{32}$"
DossierId = Annotated[str, Path(pattern=_ID, description="The dossier's id")]
FileId = Annotated[str, Path(pattern=_ID, description="A file's id within the dossier")]
ReviewId = Annotated[str, Path(pattern=_ID, description="A correction's or acceptance's id")]
Reviewer = Annotated[str, Path(pattern=LINE_PATTERN, max_length=64)]
# A rule pack's name: one of those installed (the document lists them).
PackName = Literal[tuple(available_packs())]
PackQuery = Annotated[PackName | None, Query()]
Round = Annotated[Line | None, Query(max_length=16, description="申报批次, e.g. 2026")]
router = APIRouter(prefix="/api", tags=["dossiers"], responses=errors.responses(400, 401, 422))


class DossierCreated(BaseModel):
    id: str
    rule_pack: str


class FileError(BaseModel):
    code: str | None
    message: str | None


class FeedbackMaterial(BaseModel):
    type: str = Field(description="Material type (the contract's code, or other)")
    name: str = Field(description="Its name for people, e.g. 营业执照副本或法人证书（复印件）")
    pages: list[int] = Field(description="First and last page in the file (1-based)")
    where: str = Field(description="The pages as people read them (第1–20页), or empty")


class FeedbackValue(BaseModel):
    field: str = Field(description="Canonical field name (contract.md)")
    name: str = Field(description="The field's name for people")
    value: Any = Field(description="The value as the report holds it")
    shown: str = Field(description="The value as the report shows it (3,265,000.00元, 93%)")
    page: int
    confidence: float


class FeedbackCheck(BaseModel):
    criterion: str
    title: str = Field(description="What the criterion asks, in the rule pack's words")
    status: Literal["pass", "fail", "review"]
    message: str


class FeedbackPages(BaseModel):
    unreadable: list[int] = Field(description="Pages on which no text could be read")
    poor: list[int] = Field(description="Pages read with low OCR confidence")
    sealed: list[int] = Field(description="Pages on which a red seal was found")


class FileFeedback(BaseModel):
    """What this file alone told as soon as it was parsed, before the dossier's report:
    what it was recognised as, the key values read from it, and the checks of the rule
    pack that this file alone decides (intake.feedback)."""

    rule_pack: str
    materials: list[FeedbackMaterial]
    values: list[FeedbackValue]
    checks: list[FeedbackCheck]
    pages: FeedbackPages
    built_at: str


class FileStatus(BaseModel):
    id: str
    file: str
    state: str
    progress: str | None = None
    pages: int | None = None
    sha256: str | None = None
    error: FileError | None = None
    feedback: FileFeedback | None = None


class DossierStatus(BaseModel):
    id: str
    name: str
    rule_pack: str
    state: str
    files: list[FileStatus]
    report: str | None = None
    district: str = ""
    round: str = ""
    purged_at: str | None = Field(
        default=None,
        description="When `intake purge` removed the dossier's uploads and parses (ISO 8601, "
        "UTC); its report stays as history, read-only. Null while they are kept",
    )


class UploadResult(BaseModel):
    files: list[FileStatus]


def _file_status(f: DossierFile) -> FileStatus:
    error = FileError(code=f.error_code, message=f.error_message) if f.error_code else None
    return FileStatus(
        id=f.id,
        file=f.name,
        state=f.state,
        progress=f.progress,
        pages=f.pages,
        sha256=f.sha256,
        error=error,
        feedback=_feedback(f),
    )


def _feedback(f: DossierFile) -> FileFeedback | None:
    """The file's own feedback (a stored one of another shape is left out, not a 500)."""
    if not f.feedback or f.state != FileState.DONE:
        return None
    try:
        return FileFeedback.model_validate(f.feedback)
    except ValidationError:
        log.warning("file %s has feedback of an unknown shape", f.id)
        return None


class DossierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    rule_pack: PackName | None = None
    name: Annotated[Line, Field(max_length=255)] = ""
    district: Annotated[Line, Field(max_length=32)] = ""


@router.post(
    "/dossiers", status_code=201, response_model=DossierCreated, responses=errors.responses(403)
)
def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    body: DossierCreate | None = None,
    rule_pack: PackQuery = None,
) -> DossierCreated:
    """Create an empty dossier, checked against ``rule_pack`` (JSON body or query;
    default ``xian-2018``), owned by the applicant account that creates it."""
    require_role(user, CREATE_ROLES, "创建申报")
    if body is None and request.headers.get("content-length", "0") != "0":
        # A JSON null (the body is optional, but when sent it is an object).
        raise errors.ApiError(422, "请求体应为 JSON 对象（或不发送请求体）", field="body")
    body = body or DossierCreate()
    pack = body.rule_pack or rule_pack or settings.default_rule_pack
    dossier = create_dossier(
        session, pack, body.name, owner=user, district=body.district, round=settings.round
    )
    reviews.record(session, dossier.id, user.name, "create", rule_pack=pack, name=dossier.name)
    session.commit()
    return DossierCreated(id=dossier.id, rule_pack=dossier.rule_pack)


@router.get("/dossiers")
def list_dossiers(session: SessionDep, user: ApiUser, round: Round = None) -> dict:
    """The dossiers this account may see (an applicant's own, a reviewer's assigned, all for
    bureau staff), newest first, each with its state, verdict and counts."""
    rows = [overview(session, d, user) for d in visible_dossiers(session, user, round)]
    return {"dossiers": rows}


def _check_sizes(files: list[UploadFile], settings, user: User) -> None:
    """Admission at the door, before anything is stored: the account's rate of uploads
    (429 with Retry-After; the command line has none), then each file's declared size."""
    verdict = settings.limiter().hit(settings.upload_rate_per_account, "upload", user.id)
    if not verdict.allowed:
        raise errors.ApiError(
            429,
            f"上传过于频繁，请 {verdict.retry_after} 秒后再试",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    for upload_file in files:
        if upload_file.size is not None and upload_file.size > settings.max_upload_bytes:
            limit = settings.max_upload_bytes / (1 << 20)
            raise HTTPException(
                status_code=413,
                detail=f"文件“{upload_file.filename}”过大（单个文件最多 {limit:.0f} MB），"
                "未保存任何文件；请压缩扫描件（如降低分辨率）或拆分后重新上传",
            )


def _store(
    session: Session, settings, dossier: Dossier, files: list[UploadFile], replacing: int = 0
) -> list[DossierFile]:
    """Store the uploads (a ZIP is expanded into its files), admitted as one: over a limit
    of the whole upload (files in the dossier, archive members at every level, bytes
    stored) it is refused with 413, its rows rolled back and the blobs it alone stored
    removed, so nothing of it is kept or queued."""
    store = FileStore(settings.data_dir)
    admission = Admission.open(session, settings, dossier, replacing)
    added: list[DossierFile] = []
    try:
        for upload_file in files:
            name = upload_file.filename or ""
            added.extend(
                add_upload(session, store, settings, dossier, name, upload_file.file, admission)
            )
    except UploadRefusedError as exc:
        discard_upload(session, store, admission)
        raise errors.ApiError(413, exc.message, code=str(exc.code)) from exc
    try:
        _lock_unpurged(session, settings, dossier)
    except DossierPurgedError:
        discard_upload(session, store, admission)  # purged while it was being stored
        raise
    return added


def _lock_unpurged(session: Session, settings, dossier: Dossier) -> None:
    """Lock the dossier's row until the change to its files is committed, and look again
    whether it was purged (DossierPurgedError): a purge committed meanwhile wins, and
    ``intake purge`` takes the same lock, so it never takes a dossier mid-change."""
    purged_at = session.scalar(
        select(Dossier.purged_at).where(Dossier.id == dossier.id).with_for_update()
    )
    if purged_at is not None:
        raise DossierPurgedError(purged_at, Needs.FILES, settings.timezone)


def _queue(
    session: Session,
    settings,
    dossier: Dossier,
    added: list[DossierFile],
    user: User,
    action: str,
    **detail,
) -> UploadResult | JSONResponse:
    """Put stored files on the audit trail and queue each for parsing. The commit that makes
    the files visible carries their job ids and the time they are queued, so the reconciler
    waits for these jobs however long the upload took."""
    to_parse = [f for f in added if f.state == FileState.QUEUED]
    for f in to_parse:
        f.queued_at = utcnow()
    reviews.record(
        session, dossier.id, user.name, action, files=[f.name for f in added],
        failed=[f.name for f in added if f.state == FileState.FAILED], **detail,
    )  # fmt: skip
    session.commit()
    dossier_id = dossier.id
    try:
        for f in to_parse:  # a DOCX or text PDF on the quick queue, scans behind (OCR)
            lane = lane_of_file(settings, f.media_type, f.sha256, f.size)
            enqueue_parse(get_queue(settings, lane), f.id, f.job_id)
    except RedisError:
        log.exception("cannot enqueue files of dossier %s", dossier_id)
        return JSONResponse(
            status_code=503,
            content={
                "detail": "文件已保存，但处理队列暂时不可用，请稍后在本页面刷新查看或联系管理员",
                "files": [_file_status(f).model_dump() for f in added],
            },
        )
    if not to_parse:  # everything failed at upload: the report can be built now
        maybe_build_report(settings, dossier_id)
    return UploadResult(files=[_file_status(f) for f in added])


@router.post(
    "/dossiers/{dossier_id}/files",
    status_code=202,
    response_model=UploadResult,
    responses=errors.responses(403, 404, 408, 409, 413, 429, 503),
)
def upload(
    dossier_id: DossierId,
    files: Annotated[list[UploadFile], File(min_length=1)],
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> UploadResult | JSONResponse:
    """Upload one or many files (a ZIP is expanded); each is queued for parsing. The upload
    is admitted or refused as a whole: too many uploads from the account are refused with
    429 (Retry-After), a file over the size limit, too many files for the dossier, too many
    archive members (across all nesting levels) or too many bytes with 413, and then
    nothing of it is stored or queued."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    refuse_if_purged(dossier, Needs.FILES, settings.timezone)
    _check_sizes(files, settings, user)
    return _queue(session, settings, dossier, _store(session, settings, dossier, files), user,
                  "upload")  # fmt: skip


def _dossier_file(session: Session, dossier: Dossier, file_id: FileId) -> DossierFile:
    row = session.get(DossierFile, file_id)
    if row is None or row.dossier_id != dossier.id:
        raise HTTPException(status_code=404, detail="该申报材料中没有这个文件")
    return row


@router.put(
    "/dossiers/{dossier_id}/files/{file_id}",
    status_code=202,
    response_model=UploadResult,
    responses=errors.responses(403, 404, 408, 409, 413, 429, 503),
)
def replace_file(
    dossier_id: DossierId,
    file_id: FileId,
    file: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> UploadResult | JSONResponse:
    """Replace a file with a new version: the old one leaves the dossier (its parse stays
    cached), the new one is queued, and the report is rebuilt when it is done. A new
    version that cannot be used (empty, an unsafe archive …) is refused with 422 and the
    old one stays; one over an upload limit with 413 or 429, as for ``upload``."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    refuse_if_purged(dossier, Needs.FILES, settings.timezone)
    old = _dossier_file(session, dossier, file_id)
    _check_sizes([file], settings, user)
    added = _store(session, settings, dossier, [file], replacing=1)
    unusable = [f for f in added if f.state == FileState.FAILED]
    if unusable:
        session.rollback()
        raise HTTPException(
            status_code=422,
            detail=f"新文件无法使用，原文件“{old.name}”未被替换：{unusable[0].error_message}",
        )
    replaced = old.name
    session.delete(old)
    session.flush()
    same_name = clean_name(file.filename or "") == replaced
    if len(added) == 1 and added[0].name != replaced and same_name:
        added[0].name = replaced  # the same name again: it was only taken by the old version
    session.expire(dossier, ["files"])
    return _queue(session, settings, dossier, added, user, "replace", replaced=replaced)


@router.delete("/dossiers/{dossier_id}/files/{file_id}", responses=errors.responses(403, 404, 409))
def delete_file(
    dossier_id: DossierId,
    file_id: FileId,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> DossierStatus:
    """Take a file out of the dossier; the report is rebuilt without it."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    _lock_unpurged(session, settings, dossier)
    row = _dossier_file(session, dossier, file_id)
    name = row.name
    reviews.record(session, dossier_id, user.name, "delete", file=name)
    session.delete(row)
    session.commit()
    maybe_build_report(settings, dossier_id, reason=f"删除文件 {name}", actor=user.name)
    session.expire_all()
    return status(dossier_id, session, user)


@router.get("/dossiers/{dossier_id}", response_model=DossierStatus, responses=errors.responses(404))
def status(dossier_id: DossierId, session: SessionDep, user: ApiUser) -> DossierStatus:
    """The dossier's state (queued, processing, done) and each file's state."""
    dossier = dossier_for(session, user, dossier_id, Action.VIEW)
    report = session.get(Report, dossier_id)
    state = dossier_state(dossier, report)
    return DossierStatus(
        id=dossier.id,
        name=dossier.name,
        rule_pack=dossier.rule_pack,
        state=state,
        files=[_file_status(f) for f in dossier.files],
        report=f"/api/dossiers/{dossier.id}/report" if state == "done" else None,
        district=dossier.district,
        round=dossier.round,
        purged_at=_iso(dossier.purged_at),
    )


def _iso(moment) -> str | None:
    return aware(moment).isoformat(timespec="seconds") if moment is not None else None


def _current_report(session: Session, dossier: Dossier) -> dict:
    report = current_report(session, dossier)
    if report is None:
        state = dossier_state(dossier, None)
        raise HTTPException(status_code=409, detail=errors.not_ready(state))
    return report.content


@router.get("/dossiers/{dossier_id}/report", responses=errors.responses(404, 409))
def report_json(
    dossier_id: DossierId,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> dict:
    """The report in the shape of the contract (materials, fields, findings); an earlier
    version with ``?version=N``. Applicants read it without reviewers' names and comments."""
    current = _current_report(session, dossier_for(session, user, dossier_id, Action.VIEW))
    if version is not None and version != current.get("version"):
        current = _reviewed(lambda: reviews.version(settings, dossier_id, version))
    return report_for(current, user.role)


class Recheck(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    rule_pack: PackName
    # ignored: the account making the request is the actor
    actor: Annotated[Line, Field(max_length=64)] | None = None


@router.post("/dossiers/{dossier_id}/recheck", responses=errors.responses(403, 404, 409))
def recheck(
    dossier_id: DossierId, body: Recheck, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> dict:
    """Judge the dossier again against another rule pack (or the same, after a pack
    update), from its stored parses: nothing is parsed or OCR'd again. The dossier keeps
    the new pack; the new report is returned."""
    dossier = dossier_for(session, user, dossier_id, Action.RECHECK)
    refuse_if_purged(dossier, Needs.REBUILD, settings.timezone)
    _current_report(session, dossier)
    try:
        load_pack(body.rule_pack)
    except UnknownRulePackError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    reviews.record(session, dossier_id, user.name, "recheck", rule_pack=body.rule_pack)
    session.commit()
    session.close()
    return build_report(
        settings,
        dossier_id,
        rule_pack=body.rule_pack,
        reason=f"按规则包 {body.rule_pack} 重新审查",
        actor=user.name,
    )


# A value as a reviewer gives it: text ("48万元") or a number within what a field can hold.
Value = (
    Annotated[FilledLine, Field(max_length=200)]
    | Annotated[int, Field(ge=-(10**15), le=10**15)]
    | Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]
)


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    field: Annotated[Line, Field(max_length=64)]
    value: Value
    comment: Reason
    # ignored: the account making the request is the actor
    actor: Annotated[Line, Field(max_length=64)] | None = None
    file: Annotated[Line, Field(max_length=1024)] | None = None
    page: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    old: Value | None = None


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    criterion: Annotated[Line, Field(max_length=64)]
    comment: Reason
    actor: Annotated[Line, Field(max_length=64)] | None = None


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    comment: Reason
    actor: Annotated[Line, Field(max_length=64)] | None = None


def _reviewed(action, *args) -> dict:
    try:
        return action(*args)
    except reviews.ReviewError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status_code=404, detail="找不到该申报材料或其报告") from exc


def _reviewable(session: Session, settings, user: User, dossier_id: str) -> None:
    dossier = dossier_for(session, user, dossier_id, Action.REVIEW)
    refuse_if_purged(dossier, Needs.REVIEW, settings.timezone)
    _current_report(session, dossier)
    session.close()


@router.post(
    "/dossiers/{dossier_id}/corrections", status_code=201, responses=errors.responses(403, 404, 409)
)
def correct(
    dossier_id: DossierId,
    body: Correction,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> dict:
    """A reviewer corrects a field value (the reading at ``file``/``page`` that read
    ``old``, or a new one): the findings are recomputed at once, nothing is parsed again."""
    _reviewable(session, settings, user, dossier_id)
    return _reviewed(
        lambda: reviews.correct(
            settings, dossier_id, body.field, body.value, body.comment, user.name,
            body.file, body.page, body.old,
        )
    )  # fmt: skip


@router.post(
    "/dossiers/{dossier_id}/acceptances", status_code=201, responses=errors.responses(403, 404, 409)
)
def accept(
    dossier_id: DossierId,
    body: Acceptance,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> dict:
    """A reviewer accepts a review item, with a comment: it passes, saying so."""
    _reviewable(session, settings, user, dossier_id)
    return _reviewed(
        lambda: reviews.accept(settings, dossier_id, body.criterion, body.comment, user.name)
    )


@router.post(
    "/dossiers/{dossier_id}/reviews/{review_id}/withdraw",
    responses=errors.responses(403, 404, 409),
)
def withdraw(
    dossier_id: DossierId,
    review_id: ReviewId,
    body: Withdrawal,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> dict:
    """Take a correction or an acceptance back; it stays on record, inactive."""
    _reviewable(session, settings, user, dossier_id)
    return _reviewed(
        lambda: reviews.withdraw(settings, dossier_id, review_id, body.comment, user.name)
    )


@router.get("/dossiers/{dossier_id}/history", responses=errors.responses(404))
def history(
    dossier_id: DossierId, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> dict:
    """The report's versions (why and by whom each was built), the reviews, the trail."""
    dossier_for(session, user, dossier_id, Action.VIEW)
    return _reviewed(lambda: reviews.history(settings, dossier_id, viewer=user))


def _crops(report: dict, dossier: Dossier, settings) -> dict[str, str]:
    """The evidence pictures of a report; none for a purged dossier (its originals are gone:
    the report shows its quotes, files and pages without them)."""
    if dossier.purged_at is not None:
        return {}
    return evidence_crops(report, FileStore(settings.data_dir))


@router.get(
    "/dossiers/{dossier_id}/report.html",
    response_class=HTMLResponse,
    responses=errors.responses(404, 409),
)
def report_html(
    dossier_id: DossierId, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> HTMLResponse:
    """The report for people: verdict, checklist, findings by article with their evidence
    (quote, file, page and a picture of the page region)."""
    dossier = dossier_for(session, user, dossier_id, Action.VIEW)
    report = report_for(_current_report(session, dossier), user.role)
    html = render_html(report, _crops(report, dossier, settings))
    # Its one inline stylesheet keeps the file self-contained; the policy allows just that.
    policy = content_security_policy(style_sources=[style_hash()])
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get(
    "/dossiers/{dossier_id}/report.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The report as a PDF"},
        **errors.responses(404, 409),
    },
)  # fmt: skip
def report_pdf(
    dossier_id: DossierId, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> Response:
    """The same report as a PDF to download (CJK font embedded)."""
    dossier = dossier_for(session, user, dossier_id, Action.VIEW)
    report = report_for(_current_report(session, dossier), user.role)
    pdf = render_pdf(report, _crops(report, dossier, settings))
    filename = quote(f"预审报告-{report.get('name') or dossier_id}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


MAX_BOX = 1e6  # page units; a box beyond is no box on any page (and inf/NaN are refused)
# x0,y0,x1,y1: four decimal numbers (as the report's evidence gives them), said in the
# schema so that a client knows what is accepted before it asks.
_NUMBER = r" *-?\d{1,6}(\.\d+)? *"  # below MAX_BOX
BOX_PATTERN = rf"^{_NUMBER}(,{_NUMBER}){{3}}$"


@router.get(
    "/dossiers/{dossier_id}/page.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The page as a PNG picture"},
        **errors.responses(404, 410),
    },
)  # fmt: skip
def page_png(
    dossier_id: DossierId,
    file: Annotated[Line, Query(max_length=1024)],
    page: Annotated[int, Query(ge=1, le=MAX_INT)],
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    box: Annotated[str | None, Query(max_length=200, pattern=BOX_PATTERN)] = None,
) -> Response:
    """A page of one of the dossier's files as a picture, with ``box`` (x0,y0,x1,y1 in the
    page's own units, as the report's evidence gives them) drawn on it."""
    dossier = dossier_for(session, user, dossier_id, Action.VIEW)
    if dossier.purged_at is not None:  # its originals are gone for good
        message = DossierPurgedError(dossier.purged_at, Needs.PAGES, settings.timezone).message
        raise errors.ApiError(410, message, code=DossierPurgedError.code)
    row = next((f for f in dossier.files if f.name == file and f.sha256), None)
    # The page count comes from the parse itself: a file whose parse is shared with
    # another upload may not have its own count yet.
    parse = session.get(Parse, row.sha256) if row is not None else None
    if parse is None or parse.state != ParseState.DONE or not 1 <= page <= (parse.pages or 0):
        raise HTTPException(status_code=404, detail="该申报材料中没有这一页")
    bbox = None
    if box:
        try:
            bbox = [float(v) for v in box.split(",")]
        except ValueError:
            bbox = None
        if bbox is None or len(bbox) != 4 or not all(abs(v) <= MAX_BOX for v in bbox):
            raise HTTPException(status_code=422, detail="box 应为 x0,y0,x1,y1 四个数")
        x0, y0, x1, y1 = bbox
        bbox = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
    picture = page_picture(FileStore(settings.data_dir), row.sha256, page, bbox)
    if picture is None:
        raise HTTPException(status_code=404, detail="这一页没有可显示的图像（如 Word 文档）")
    return Response(picture, media_type="image/png", headers={"Cache-Control": "private"})


class AssignmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    reviewer: Annotated[Line, Field(max_length=64, description="The reviewer account's name")]


@router.post(
    "/dossiers/{dossier_id}/assignments", status_code=201, responses=errors.responses(403, 404)
)
def add_assignment(
    dossier_id: DossierId, body: AssignmentBody, session: SessionDep, user: ApiUser
) -> dict:
    """Bureau staff assign a reviewer to the dossier."""
    dossier = dossier_for(session, user, dossier_id, Action.ASSIGN)
    try:
        assign(session, dossier, body.reviewer, by=user.name)
    except AssignmentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    reviews.record(session, dossier_id, user.name, "assign", reviewer=body.reviewer)
    session.commit()
    return {"reviewers": [a.user.name for a in dossier.assignments]}


@router.delete(
    "/dossiers/{dossier_id}/assignments/{reviewer}", responses=errors.responses(403, 404)
)
def remove_assignment(
    dossier_id: DossierId, reviewer: Reviewer, session: SessionDep, user: ApiUser
) -> dict:
    dossier = dossier_for(session, user, dossier_id, Action.ASSIGN)
    if not unassign(session, dossier, reviewer):
        raise HTTPException(status_code=404, detail=f"“{reviewer}”未被分配到该申报材料")
    reviews.record(session, dossier_id, user.name, "unassign", reviewer=reviewer)
    session.commit()
    return {"reviewers": [a.user.name for a in dossier.assignments]}


@router.get("/reuse", responses=errors.responses(403))
def reuse(session: SessionDep, user: ApiUser, round: Round = None) -> dict:
    """Bureau staff: the same credit code, premises address, file or page picture in more
    than one dossier (of ``round``, or of all rounds), and (``cross_round``) the dossiers
    whose figures differ from what their organisation stated in earlier rounds."""
    require_role(user, BUREAU_ONLY, "查看跨申报比对")
    return {**find_reuse(session, round), "cross_round": disagreements(session, round)}


@router.get("/me")
def me(user: ApiUser) -> dict:
    return {"name": user.name, "role": user.role}
