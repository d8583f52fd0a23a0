"""Dossier endpoints. Integrators script against these: keep paths and shapes stable."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from intake import reviews
from intake.db import session_factory
from intake.dossiers import add_upload, create_dossier, dossier_state
from intake.models import Dossier, DossierFile, FileState, Report
from intake.pipeline import build_report, maybe_build_report
from intake.queue import enqueue_parse, get_queue
from intake.reports.crops import evidence_crops
from intake.reports.html import render_html, render_pdf
from intake.settings import Settings
from intake.storage import FileStore
from validators.packs import UnknownRulePackError, load_pack

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/dossiers", tags=["dossiers"])


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    session = session_factory(settings.db_url)()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


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


class UploadResult(BaseModel):
    files: list[FileStatus]


def _load(session: Session, dossier_id: str) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise HTTPException(status_code=404, detail="申报材料不存在，请检查编号")
    return dossier


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


@router.post("", status_code=201, response_model=DossierCreated)
def create(
    session: SessionDep,
    settings: SettingsDep,
    body: DossierCreate | None = None,
    rule_pack: str | None = None,
) -> DossierCreated:
    """Create an empty dossier, checked against ``rule_pack`` (JSON body or query;
    default ``xian-2018``)."""
    body = body or DossierCreate()
    pack = body.rule_pack or rule_pack or settings.default_rule_pack
    dossier = create_dossier(session, pack, body.name)
    session.commit()
    return DossierCreated(id=dossier.id, rule_pack=dossier.rule_pack)


@router.post("/{dossier_id}/files", status_code=202, response_model=UploadResult)
def upload(
    dossier_id: str, files: list[UploadFile], session: SessionDep, settings: SettingsDep
) -> UploadResult | JSONResponse:
    """Upload one or many files (a ZIP is expanded); each is queued for parsing. A file over
    the size limit is refused with 413 before anything is stored."""
    dossier = _load(session, dossier_id)
    for upload_file in files:
        if upload_file.size is not None and upload_file.size > settings.max_upload_bytes:
            limit = settings.max_upload_bytes / (1 << 20)
            raise HTTPException(
                status_code=413,
                detail=f"文件“{upload_file.filename}”过大（单个文件最多 {limit:.0f} MB），"
                "未保存任何文件；请压缩扫描件（如降低分辨率）或拆分后重新上传",
            )
    store = FileStore(settings.data_dir)
    added: list[DossierFile] = []
    for upload_file in files:
        added.extend(
            add_upload(
                session, store, settings, dossier, upload_file.filename or "", upload_file.file
            )
        )
    reviews.record(
        session, dossier_id, "api", "upload", files=[f.name for f in added],
        failed=[f.name for f in added if f.state == FileState.FAILED],
    )  # fmt: skip
    session.commit()
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


@router.get("/{dossier_id}", response_model=DossierStatus)
def status(dossier_id: str, session: SessionDep) -> DossierStatus:
    """The dossier's state (queued, processing, done) and each file's state."""
    dossier = _load(session, dossier_id)
    report = session.get(Report, dossier_id)
    state = dossier_state(dossier, report)
    return DossierStatus(
        id=dossier.id,
        name=dossier.name,
        rule_pack=dossier.rule_pack,
        state=state,
        files=[_file_status(f) for f in dossier.files],
        report=f"/api/dossiers/{dossier.id}/report" if state == "done" else None,
    )


def _current_report(session: Session, dossier_id: str) -> dict:
    dossier = _load(session, dossier_id)
    report = session.get(Report, dossier_id)
    state = dossier_state(dossier, report)
    if state != "done" or report is None:
        raise HTTPException(
            status_code=409, detail=f"报告尚未生成（当前状态：{state}），请稍后再试"
        )
    return report.content


@router.get("/{dossier_id}/report")
def report_json(
    dossier_id: str, session: SessionDep, settings: SettingsDep, version: int | None = None
) -> dict:
    """The report in the shape of the contract (materials, fields, findings); an earlier
    version with ``?version=N``."""
    current = _current_report(session, dossier_id)
    if version is None or version == current.get("version"):
        return current
    return _reviewed(lambda: reviews.version(settings, dossier_id, version))


class Recheck(BaseModel):
    rule_pack: str
    actor: str = "api"


@router.post("/{dossier_id}/recheck")
def recheck(dossier_id: str, body: Recheck, session: SessionDep, settings: SettingsDep) -> dict:
    """Judge the dossier again against another rule pack (or the same, after a pack
    update), from its stored parses: nothing is parsed or OCR'd again. The dossier keeps
    the new pack; the new report is returned."""
    _current_report(session, dossier_id)  # 404 / 409 as for the report itself
    try:
        load_pack(body.rule_pack)
    except UnknownRulePackError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    reviews.record(session, dossier_id, body.actor, "recheck", rule_pack=body.rule_pack)
    session.commit()
    session.close()
    return build_report(
        settings,
        dossier_id,
        rule_pack=body.rule_pack,
        reason=f"按规则包 {body.rule_pack} 重新审查",
        actor=body.actor,
    )


class Correction(BaseModel):
    field: str
    value: str | float | int
    comment: str
    actor: str  # until accounts exist (issue 6), the reviewer names themself
    file: str | None = None
    page: int | None = None
    old: str | float | int | None = None


class Acceptance(BaseModel):
    criterion: str
    comment: str
    actor: str


class Withdrawal(BaseModel):
    comment: str
    actor: str


def _reviewed(action, *args) -> dict:
    try:
        return action(*args)
    except reviews.ReviewError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status_code=404, detail="找不到该申报材料或其报告") from exc


@router.post("/{dossier_id}/corrections", status_code=201)
def correct(dossier_id: str, body: Correction, settings: SettingsDep) -> dict:
    """A reviewer corrects a field value (the reading at ``file``/``page`` that read
    ``old``, or a new one): the findings are recomputed at once, nothing is parsed again."""
    return _reviewed(
        lambda: reviews.correct(
            settings, dossier_id, body.field, body.value, body.comment, body.actor,
            body.file, body.page, body.old,
        )
    )  # fmt: skip


@router.post("/{dossier_id}/acceptances", status_code=201)
def accept(dossier_id: str, body: Acceptance, settings: SettingsDep) -> dict:
    """A reviewer accepts a review item, with a comment: it passes, saying so."""
    return _reviewed(
        lambda: reviews.accept(settings, dossier_id, body.criterion, body.comment, body.actor)
    )


@router.post("/{dossier_id}/reviews/{review_id}/withdraw")
def withdraw(dossier_id: str, review_id: str, body: Withdrawal, settings: SettingsDep) -> dict:
    """Take a correction or an acceptance back; it stays on record, inactive."""
    return _reviewed(
        lambda: reviews.withdraw(settings, dossier_id, review_id, body.comment, body.actor)
    )


@router.get("/{dossier_id}/history")
def history(dossier_id: str, settings: SettingsDep) -> dict:
    """The report's versions (why and by whom each was built), the reviews, the trail."""
    return _reviewed(lambda: reviews.history(settings, dossier_id))


@router.get("/{dossier_id}/report.html", response_class=HTMLResponse)
def report_html(dossier_id: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The report for people: verdict, checklist, findings by article with their evidence
    (quote, file, page and a picture of the page region)."""
    report = _current_report(session, dossier_id)
    return HTMLResponse(render_html(report, evidence_crops(report, FileStore(settings.data_dir))))


@router.get("/{dossier_id}/report.pdf")
def report_pdf(dossier_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The same report as a PDF to download (CJK font embedded)."""
    report = _current_report(session, dossier_id)
    pdf = render_pdf(report, evidence_crops(report, FileStore(settings.data_dir)))
    filename = quote(f"预审报告-{report.get('name') or dossier_id}.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
