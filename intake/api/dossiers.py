"""Dossier endpoints. Integrators script against these: keep paths and shapes stable."""

from __future__ import annotations

import logging
import math
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from intake import reviews
from intake.access import BUREAU_ONLY, CREATE_ROLES, Action
from intake.api.deps import ApiUser, SessionDep, SettingsDep, dossier_for, require_role
from intake.crossref import find_reuse
from intake.dossiers import (
    AssignmentError,
    add_upload,
    assign,
    clean_name,
    create_dossier,
    current_report,
    dossier_state,
    unassign,
)
from intake.models import Dossier, DossierFile, FileState, Report, User
from intake.overview import overview, visible_dossiers
from intake.pipeline import build_report, maybe_build_report
from intake.queue import enqueue_parse, get_queue
from intake.reports.crops import evidence_crops, page_picture
from intake.reports.html import render_html, render_pdf
from intake.storage import FileStore
from validators.packs import UnknownRulePackError, load_pack

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["dossiers"])


class DossierCreated(BaseModel):
    id: str
    rule_pack: str


class FileError(BaseModel):
    code: str | None
    message: str | None


class FileStatus(BaseModel):
    id: str
    file: str
    state: str
    progress: str | None = None
    pages: int | None = None
    sha256: str | None = None
    error: FileError | None = None


class DossierStatus(BaseModel):
    id: str
    name: str
    rule_pack: str
    state: str
    files: list[FileStatus]
    report: str | None = None
    district: str = ""
    round: str = ""


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
    )


class DossierCreate(BaseModel):
    rule_pack: str | None = None
    name: str = ""
    district: str = ""


@router.post("/dossiers", status_code=201, response_model=DossierCreated)
def create(
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    body: DossierCreate | None = None,
    rule_pack: str | None = None,
) -> DossierCreated:
    """Create an empty dossier, checked against ``rule_pack`` (JSON body or query;
    default ``xian-2018``), owned by the applicant account that creates it."""
    require_role(user, CREATE_ROLES, "创建申报")
    body = body or DossierCreate()
    pack = body.rule_pack or rule_pack or settings.default_rule_pack
    dossier = create_dossier(
        session, pack, body.name, owner=user, district=body.district, round=settings.round
    )
    reviews.record(session, dossier.id, user.name, "create", rule_pack=pack, name=dossier.name)
    session.commit()
    return DossierCreated(id=dossier.id, rule_pack=dossier.rule_pack)


@router.get("/dossiers")
def list_dossiers(session: SessionDep, user: ApiUser, round: str | None = None) -> dict:
    """The dossiers this account may see (an applicant's own, a reviewer's assigned, all for
    bureau staff), newest first, each with its state, verdict and counts."""
    return {"dossiers": [overview(session, d) for d in visible_dossiers(session, user, round)]}


def _check_sizes(files: list[UploadFile], settings) -> None:
    for upload_file in files:
        if upload_file.size is not None and upload_file.size > settings.max_upload_bytes:
            limit = settings.max_upload_bytes / (1 << 20)
            raise HTTPException(
                status_code=413,
                detail=f"文件“{upload_file.filename}”过大（单个文件最多 {limit:.0f} MB），"
                "未保存任何文件；请压缩扫描件（如降低分辨率）或拆分后重新上传",
            )


def _store(
    session: Session, settings, dossier: Dossier, files: list[UploadFile]
) -> list[DossierFile]:
    """Store the uploads (a ZIP is expanded into its files)."""
    store = FileStore(settings.data_dir)
    added: list[DossierFile] = []
    for upload_file in files:
        added.extend(
            add_upload(
                session, store, settings, dossier, upload_file.filename or "", upload_file.file
            )
        )
    return added


def _queue(
    session: Session,
    settings,
    dossier: Dossier,
    added: list[DossierFile],
    user: User,
    action: str,
    **detail,
) -> UploadResult | JSONResponse:
    """Put stored files on the audit trail and queue each for parsing."""
    reviews.record(
        session, dossier.id, user.name, action, files=[f.name for f in added],
        failed=[f.name for f in added if f.state == FileState.FAILED], **detail,
    )  # fmt: skip
    session.commit()
    dossier_id = dossier.id
    to_parse = [f for f in added if f.state == FileState.QUEUED]
    try:
        queue = get_queue(settings)
        for f in to_parse:
            f.job_id = enqueue_parse(queue, f.id)
        session.commit()
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


@router.post("/dossiers/{dossier_id}/files", status_code=202, response_model=UploadResult)
def upload(
    dossier_id: str,
    files: list[UploadFile],
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> UploadResult | JSONResponse:
    """Upload one or many files (a ZIP is expanded); each is queued for parsing. A file over
    the size limit is refused with 413 before anything is stored."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    _check_sizes(files, settings)
    return _queue(session, settings, dossier, _store(session, settings, dossier, files), user,
                  "upload")  # fmt: skip


def _dossier_file(session: Session, dossier: Dossier, file_id: str) -> DossierFile:
    row = session.get(DossierFile, file_id)
    if row is None or row.dossier_id != dossier.id:
        raise HTTPException(status_code=404, detail="该申报材料中没有这个文件")
    return row


@router.put("/dossiers/{dossier_id}/files/{file_id}", status_code=202, response_model=UploadResult)
def replace_file(
    dossier_id: str,
    file_id: str,
    file: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> UploadResult | JSONResponse:
    """Replace a file with a new version: the old one leaves the dossier (its parse stays
    cached), the new one is queued, and the report is rebuilt when it is done. A new
    version that cannot be used (empty, an unsafe archive …) is refused with 422 and the
    old one stays."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    old = _dossier_file(session, dossier, file_id)
    _check_sizes([file], settings)
    added = _store(session, settings, dossier, [file])
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


@router.delete("/dossiers/{dossier_id}/files/{file_id}")
def delete_file(
    dossier_id: str, file_id: str, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> DossierStatus:
    """Take a file out of the dossier; the report is rebuilt without it."""
    dossier = dossier_for(session, user, dossier_id, Action.UPLOAD)
    row = _dossier_file(session, dossier, file_id)
    name = row.name
    reviews.record(session, dossier_id, user.name, "delete", file=name)
    session.delete(row)
    session.commit()
    maybe_build_report(settings, dossier_id, reason=f"删除文件 {name}", actor=user.name)
    session.expire_all()
    return status(dossier_id, session, user)


@router.get("/dossiers/{dossier_id}", response_model=DossierStatus)
def status(dossier_id: str, session: SessionDep, user: ApiUser) -> DossierStatus:
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
    )


def _current_report(session: Session, dossier: Dossier) -> dict:
    report = current_report(session, dossier)
    if report is None:
        state = dossier_state(dossier, None)
        raise HTTPException(
            status_code=409, detail=f"报告尚未生成（当前状态：{state}），请稍后再试"
        )
    return report.content


@router.get("/dossiers/{dossier_id}/report")
def report_json(
    dossier_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    version: int | None = None,
) -> dict:
    """The report in the shape of the contract (materials, fields, findings); an earlier
    version with ``?version=N``."""
    current = _current_report(session, dossier_for(session, user, dossier_id, Action.VIEW))
    if version is None or version == current.get("version"):
        return current
    return _reviewed(lambda: reviews.version(settings, dossier_id, version))


class Recheck(BaseModel):
    rule_pack: str
    actor: str | None = None  # ignored: the account making the request is the actor


@router.post("/dossiers/{dossier_id}/recheck")
def recheck(
    dossier_id: str, body: Recheck, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> dict:
    """Judge the dossier again against another rule pack (or the same, after a pack
    update), from its stored parses: nothing is parsed or OCR'd again. The dossier keeps
    the new pack; the new report is returned."""
    _current_report(session, dossier_for(session, user, dossier_id, Action.RECHECK))
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


class Correction(BaseModel):
    field: str
    value: str | float | int
    comment: str
    actor: str | None = None  # ignored: the account making the request is the actor
    file: str | None = None
    page: int | None = None
    old: str | float | int | None = None


class Acceptance(BaseModel):
    criterion: str
    comment: str
    actor: str | None = None


class Withdrawal(BaseModel):
    comment: str
    actor: str | None = None


def _reviewed(action, *args) -> dict:
    try:
        return action(*args)
    except reviews.ReviewError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status_code=404, detail="找不到该申报材料或其报告") from exc


def _reviewable(session: Session, user: User, dossier_id: str) -> None:
    _current_report(session, dossier_for(session, user, dossier_id, Action.REVIEW))
    session.close()


@router.post("/dossiers/{dossier_id}/corrections", status_code=201)
def correct(
    dossier_id: str, body: Correction, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> dict:
    """A reviewer corrects a field value (the reading at ``file``/``page`` that read
    ``old``, or a new one): the findings are recomputed at once, nothing is parsed again."""
    _reviewable(session, user, dossier_id)
    return _reviewed(
        lambda: reviews.correct(
            settings, dossier_id, body.field, body.value, body.comment, user.name,
            body.file, body.page, body.old,
        )
    )  # fmt: skip


@router.post("/dossiers/{dossier_id}/acceptances", status_code=201)
def accept(
    dossier_id: str, body: Acceptance, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> dict:
    """A reviewer accepts a review item, with a comment: it passes, saying so."""
    _reviewable(session, user, dossier_id)
    return _reviewed(
        lambda: reviews.accept(settings, dossier_id, body.criterion, body.comment, user.name)
    )


@router.post("/dossiers/{dossier_id}/reviews/{review_id}/withdraw")
def withdraw(
    dossier_id: str,
    review_id: str,
    body: Withdrawal,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
) -> dict:
    """Take a correction or an acceptance back; it stays on record, inactive."""
    _reviewable(session, user, dossier_id)
    return _reviewed(
        lambda: reviews.withdraw(settings, dossier_id, review_id, body.comment, user.name)
    )


@router.get("/dossiers/{dossier_id}/history")
def history(dossier_id: str, session: SessionDep, settings: SettingsDep, user: ApiUser) -> dict:
    """The report's versions (why and by whom each was built), the reviews, the trail."""
    dossier_for(session, user, dossier_id, Action.VIEW)
    return _reviewed(lambda: reviews.history(settings, dossier_id))


@router.get("/dossiers/{dossier_id}/report.html", response_class=HTMLResponse)
def report_html(
    dossier_id: str, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> HTMLResponse:
    """The report for people: verdict, checklist, findings by article with their evidence
    (quote, file, page and a picture of the page region)."""
    report = _current_report(session, dossier_for(session, user, dossier_id, Action.VIEW))
    return HTMLResponse(render_html(report, evidence_crops(report, FileStore(settings.data_dir))))


@router.get("/dossiers/{dossier_id}/report.pdf")
def report_pdf(
    dossier_id: str, session: SessionDep, settings: SettingsDep, user: ApiUser
) -> Response:
    """The same report as a PDF to download (CJK font embedded)."""
    report = _current_report(session, dossier_for(session, user, dossier_id, Action.VIEW))
    pdf = render_pdf(report, evidence_crops(report, FileStore(settings.data_dir)))
    filename = quote(f"预审报告-{report.get('name') or dossier_id}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@router.get("/dossiers/{dossier_id}/page.png")
def page_png(
    dossier_id: str,
    file: str,
    page: int,
    session: SessionDep,
    settings: SettingsDep,
    user: ApiUser,
    box: str | None = None,
) -> Response:
    """A page of one of the dossier's files as a picture, with ``box`` (x0,y0,x1,y1 in the
    page's own units, as the report's evidence gives them) drawn on it."""
    dossier = dossier_for(session, user, dossier_id, Action.VIEW)
    row = next((f for f in dossier.files if f.name == file and f.sha256), None)
    if row is None or page < 1 or (row.pages is not None and page > row.pages):
        raise HTTPException(status_code=404, detail="该申报材料中没有这一页")
    bbox = None
    if box:
        try:
            bbox = [float(v) for v in box.split(",")]
        except ValueError:
            bbox = None
        if bbox is None or len(bbox) != 4 or not all(math.isfinite(v) for v in bbox):
            raise HTTPException(status_code=422, detail="box 应为 x0,y0,x1,y1 四个数")
        x0, y0, x1, y1 = bbox
        bbox = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
    picture = page_picture(FileStore(settings.data_dir), row.sha256, page, bbox)
    if picture is None:
        raise HTTPException(status_code=404, detail="这一页没有可显示的图像（如 Word 文档）")
    return Response(picture, media_type="image/png", headers={"Cache-Control": "private"})


class AssignmentBody(BaseModel):
    reviewer: str = Field(description="The reviewer account's name")


@router.post("/dossiers/{dossier_id}/assignments", status_code=201)
def add_assignment(
    dossier_id: str, body: AssignmentBody, session: SessionDep, user: ApiUser
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


@router.delete("/dossiers/{dossier_id}/assignments/{reviewer}")
def remove_assignment(dossier_id: str, reviewer: str, session: SessionDep, user: ApiUser) -> dict:
    dossier = dossier_for(session, user, dossier_id, Action.ASSIGN)
    if not unassign(session, dossier, reviewer):
        raise HTTPException(status_code=404, detail=f"“{reviewer}”未被分配到该申报材料")
    reviews.record(session, dossier_id, user.name, "unassign", reviewer=reviewer)
    session.commit()
    return {"reviewers": [a.user.name for a in dossier.assignments]}


@router.get("/reuse")
def reuse(session: SessionDep, user: ApiUser, round: str | None = None) -> dict:
    """Bureau staff: the same credit code, premises address, file or page picture in more
    than one dossier (of ``round``, or of all rounds)."""
    require_role(user, BUREAU_ONLY, "查看跨申报比对")
    return find_reuse(session, round)


@router.get("/me")
def me(user: ApiUser) -> dict:
    return {"name": user.name, "role": user.role}
