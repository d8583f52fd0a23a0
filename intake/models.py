"""Database tables: dossiers, their files, one parse per content hash, and reports."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FileState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (FileState.DONE, FileState.FAILED)


class DossierState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"


class ParseState(StrEnum):
    DONE = "done"
    FAILED = "failed"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON}


class Role(StrEnum):
    APPLICANT = "applicant"  # an applicant's clerk: its own dossiers
    REVIEWER = "reviewer"  # an expert: the dossiers assigned to them
    BUREAU = "bureau"  # bureau staff: every dossier, assignments, cross-dossier reuse


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # wrong passwords in a row
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser login: the cookie holds a random token, the table its SHA-256 (so a leaked
    table opens no session) and the session's CSRF token."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), default="")
    rule_pack: Mapped[str] = mapped_column(String(64))
    # The applicant account that created it (none for dossiers checked on the command line).
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    district: Mapped[str] = mapped_column(String(32), default="")  # 区县 / 开发区
    round: Mapped[str] = mapped_column(String(16), default="", index=True)  # 申报批次, e.g. 2026
    # Set by ``intake purge``: the uploads and parses are gone, the reports and audit stay.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    files: Mapped[list[DossierFile]] = relationship(
        back_populates="dossier", order_by="DossierFile.seq", cascade="all, delete-orphan"
    )
    report: Mapped[Report | None] = relationship(cascade="all, delete-orphan")
    owner: Mapped[User | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        cascade="all, delete-orphan", order_by="Assignment.created_at"
    )


class Assignment(Base):
    """A reviewer assigned to a dossier by bureau staff."""

    __tablename__ = "assignments"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    assigned_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class DossierFile(Base):
    __tablename__ = "dossier_files"
    __table_args__ = (UniqueConstraint("dossier_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(default=0)  # upload order within the dossier
    name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(128))
    pages: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(16), default=FileState.QUEUED)
    progress: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The file's current parse job: only its outcome is recorded; any other is superseded.
    job_id: Mapped[str | None] = mapped_column(String(64))
    # When that job was queued: the reconciler's clock (an upload may take minutes).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    # What the file alone told as soon as it was parsed (intake.feedback): its materials,
    # key values and the checks it decides; recorded with its done state.
    feedback: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    dossier: Mapped[Dossier] = relationship(back_populates="files")


class Parse(Base):
    """The outcome of parsing one content hash; the document itself is in the file store."""

    __tablename__ = "parses"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str | None] = mapped_column(String(128))
    parser: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int | None]
    ocr_pages: Mapped[int | None]  # of ``pages``, those read by OCR (none before 0012)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Parses made by an older document model are redone (e.g. before seals were detected).
    model_version: Mapped[int | None]
    ocr_config: Mapped[str | None] = mapped_column(String(128))  # engine and settings used


class PagePicture(Base):
    """A content hash of a page's main picture (a scan, a photo), per parsed content hash:
    the same picture in two dossiers is reuse a single reviewer never sees."""

    __tablename__ = "page_pictures"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("parses.sha256", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    picture: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Report(Base):
    __tablename__ = "reports"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True
    )
    rule_pack: Mapped[str] = mapped_column(String(64))
    # Which files (and their states) the report was built from; when it no longer matches
    # the dossier's files, the report is stale and the dossier is not done.
    fingerprint: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # The report in a few columns (``intake.overview.report_summary``), written with it: the
    # bureau's list, round overview and export read these instead of every report's JSON.
    verdict: Mapped[str | None] = mapped_column(String(16))  # fail, missing, review, pass
    n_pass: Mapped[int | None]
    n_fail: Mapped[int | None]
    n_missing: Mapped[int | None]
    n_review: Mapped[int | None]
    credit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(255))
    # Key figures as read from the documents of record (audit report, premises proof,
    # service evidence) and as declared in the application report.
    total_assets_read: Mapped[float | None]
    total_assets_declared: Mapped[float | None]
    revenue_read: Mapped[float | None]
    revenue_declared: Mapped[float | None]
    area_m2_read: Mapped[float | None]
    area_m2_declared: Mapped[float | None]
    service_staff_read: Mapped[float | None]
    service_staff_declared: Mapped[float | None]
    satisfaction_read: Mapped[float | None]
    satisfaction_declared: Mapped[float | None]
    smes_served_read: Mapped[float | None]
    smes_served_declared: Mapped[float | None]
    statuses: Mapped[dict[str, Any] | None]  # criterion → status, in the pack's order


class ReviewAction(StrEnum):
    CORRECT = "correct"  # a field value set by a reviewer
    ACCEPT = "accept"  # a review item accepted


class Review(Base):
    """A reviewer's correction of a field value or acceptance of a review item. Reports are
    recomputed with every active one applied; a withdrawn one stays, inactive."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    # correct: {"field", "file", "page", "old", "value"}; accept: {"criterion"}
    target: Mapped[dict[str, Any]]
    comment: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportVersion(Base):
    """Every report ever built for a dossier, numbered, with why it was built."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("dossier_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    rule_pack: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    duration_ms: Mapped[int | None]  # the build's wall time (none before migration 0011)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Who did what, when and why: uploads, re-checks, corrections, acceptances."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Platform(Base):
    """A recognised platform (article 19): one row per organisation per recognition, valid
    three years from ``recognised_on``; a revoked one keeps its row, with the reason."""

    __tablename__ = "platforms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    credit_code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # The dossier it was recognised on (kept as a plain id if that dossier is deleted).
    dossier_id: Mapped[str | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), index=True
    )
    round: Mapped[str] = mapped_column(String(16), default="")
    recognised_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recognised_by: Mapped[str] = mapped_column(String(64))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))  # intake.register.RevokeReason
    revoke_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    summaries: Mapped[list[AnnualSummary]] = relationship(
        cascade="all, delete-orphan", order_by="AnnualSummary.uploaded_at"
    )


class AnnualSummary(Base):
    """An annual summary report (年度总结报告) uploaded for a platform, stored in the file
    store by content hash, with what checking it against the dossier found."""

    __tablename__ = "annual_summaries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(1024))  # the uploaded file's name
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    checks: Mapped[dict[str, Any]]  # intake.register.check_summary's result
