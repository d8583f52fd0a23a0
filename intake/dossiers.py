"""Dossiers and their files: create, add uploads (expanding ZIPs), and derive state."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractors.archive import expand_zip
from extractors.errors import InputFileError, UnsafeArchiveError
from extractors.sniff import ZIP, sniff
from intake.models import (
    Assignment,
    Dossier,
    DossierFile,
    DossierState,
    FileState,
    Report,
    Role,
    User,
)
from intake.settings import Settings
from intake.storage import FileStore
from validators.packs import UnknownRulePackError, load_pack

log = logging.getLogger(__name__)


# Xi'an's districts, counties and development zones, as the bureau files dossiers.
DISTRICTS = (
    "新城区", "碑林区", "莲湖区", "灞桥区", "未央区", "雁塔区", "阎良区", "临潼区", "长安区",
    "高陵区", "鄠邑区", "蓝田县", "周至县", "西咸新区", "高新区", "经开区", "曲江新区",
    "浐灞生态区", "国际港务区", "航天基地", "航空基地",
)  # fmt: skip


def create_dossier(
    session: Session,
    rule_pack: str,
    name: str = "",
    owner: User | None = None,
    district: str = "",
    round: str = "",
) -> Dossier:
    load_pack(rule_pack)  # raises UnknownRulePackError for a name we do not have
    dossier = Dossier(
        rule_pack=rule_pack,
        name=name.strip()[:255],
        owner_id=owner.id if owner else None,
        district=district.strip()[:32],
        round=round.strip()[:16],
    )
    session.add(dossier)
    session.flush()
    return dossier


class AssignmentError(ValueError):
    """An assignment that cannot be made; the message (Chinese) says why."""


def assign(session: Session, dossier: Dossier, reviewer_name: str, by: str) -> Assignment:
    reviewer = session.scalar(select(User).where(User.name == reviewer_name))
    if reviewer is None or not reviewer.active or reviewer.role != Role.REVIEWER:
        raise AssignmentError(f"没有名为“{reviewer_name}”的评审专家账号")
    for existing in dossier.assignments:
        if existing.user_id == reviewer.id:
            return existing
    row = Assignment(dossier_id=dossier.id, user_id=reviewer.id, assigned_by=by, user=reviewer)
    dossier.assignments.append(row)
    session.flush()
    return row


def unassign(session: Session, dossier: Dossier, reviewer_name: str) -> bool:
    for existing in list(dossier.assignments):
        if existing.user.name == reviewer_name:
            dossier.assignments.remove(existing)
            session.flush()
            return True
    return False


def add_upload(
    session: Session,
    store: FileStore,
    settings: Settings,
    dossier: Dossier,
    name: str,
    stream: BinaryIO,
) -> list[DossierFile]:
    """Store one upload. A ZIP becomes its member files; a file that cannot even be stored
    (empty, too large, an unsafe archive) is recorded as failed with its reason."""
    name = clean_name(name)
    try:
        sha, size = store.put_stream(stream, settings.max_upload_bytes)
    except InputFileError as exc:
        return [_add_failed(session, dossier, name, exc)]
    return _add_stored(session, store, settings, dossier, name, sha, size)


def add_path(
    session: Session,
    store: FileStore,
    settings: Settings,
    dossier: Dossier,
    name: str,
    path: Path,
) -> list[DossierFile]:
    with path.open("rb") as fh:
        return add_upload(session, store, settings, dossier, name, fh)


def _add_stored(
    session: Session,
    store: FileStore,
    settings: Settings,
    dossier: Dossier,
    name: str,
    sha: str,
    size: int,
    depth: int = 0,
) -> list[DossierFile]:
    blob = store.blob_path(sha)
    try:
        media_type = sniff(blob)
    except InputFileError:
        media_type = None  # the parse job will report the reason
    if media_type != ZIP:
        return [_add_row(session, dossier, name, sha256=sha, size=size, media_type=media_type)]
    if depth > MAX_NESTING:
        nested = UnsafeArchiveError(
            "archive nested too deep",
            message="压缩包里又套了多层压缩包，请解压后直接上传其中的文件",
        )
        return [_add_failed(session, dossier, name, nested, sha256=sha, size=size)]
    scratch = store.scratch_dir()
    try:
        members = expand_zip(blob, scratch, settings.archive_limits())
        added: list[DossierFile] = []
        prefix = _common_folder([m.name for m in members])
        for member in members:
            member_name = clean_name(member.name[len(prefix) :])
            try:
                m_sha, m_size = store.put_path(member.path, settings.max_upload_bytes)
            except InputFileError as exc:
                added.append(_add_failed(session, dossier, member_name, exc))
                continue
            added.extend(
                _add_stored(
                    session, store, settings, dossier, member_name, m_sha, m_size, depth + 1
                )
            )
        if not added:
            added.append(
                _add_row(
                    session,
                    dossier,
                    name,
                    sha256=sha,
                    size=size,
                    media_type=ZIP,
                    state=FileState.FAILED,
                    error_code="empty",
                    error_message="压缩包中没有可处理的文件",
                )
            )
        return added
    except InputFileError as exc:
        return [_add_failed(session, dossier, name, exc, sha256=sha, size=size)]
    finally:
        store.remove_dir(scratch)


def _common_folder(names: list[str]) -> str:
    """The one top-level folder that every member sits in ("dossier/"), if there is one:
    a zipped dossier folder's files are named as they are inside that folder."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def _add_failed(
    session: Session, dossier: Dossier, name: str, exc: InputFileError, **kw
) -> DossierFile:
    return _add_row(
        session,
        dossier,
        name,
        state=FileState.FAILED,
        error_code=str(exc.code),
        error_message=exc.message,
        **kw,
    )


def _add_row(session: Session, dossier: Dossier, name: str, **kw) -> DossierFile:
    taken = set(
        session.scalars(select(DossierFile.name).where(DossierFile.dossier_id == dossier.id))
    )
    last = session.scalar(
        select(func.max(DossierFile.seq)).where(DossierFile.dossier_id == dossier.id)
    )
    seq = 0 if last is None else last + 1
    row = DossierFile(dossier_id=dossier.id, name=unique_name(name, taken), seq=seq, **kw)
    session.add(row)
    session.flush()
    return row


MAX_NAME = 240
MAX_NESTING = 1  # a zip inside the uploaded zip is expanded; one inside that is refused


def clean_name(name: str) -> str:
    """A display name for an upload: a relative "/"-path with no empty or dot parts, no
    control characters, and at most MAX_NAME characters (the extension kept)."""
    name = "".join(ch for ch in name if ch.isprintable())
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    name = "/".join(parts) or "未命名文件"
    if len(name) > MAX_NAME:
        _, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 8 else ""
        name = name[: MAX_NAME - len(ext) - 1] + "…" + ext
    return name


def unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    path = PurePosixPath(name)
    n = 2
    while (candidate := str(path.with_name(f"{path.stem} ({n}){path.suffix}"))) in taken:
        n += 1
    return candidate


def fingerprint(files: Iterable[DossierFile]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.id):
        digest.update(f"{f.id}:{f.sha256}:{f.state}\n".encode())
    return digest.hexdigest()


def is_current(report: Report | None, files: list[DossierFile]) -> bool:
    """Was ``report`` built from exactly these files, all finished? (Else a file was added,
    replaced, deleted or is being processed since.)"""
    return (
        report is not None
        and bool(files)
        and all(FileState(f.state).terminal for f in files)
        and report.fingerprint == fingerprint(files)
    )


def current_report(session: Session, dossier: Dossier) -> Report | None:
    """The dossier's report, if it is current (``is_current``)."""
    report = session.get(Report, dossier.id)
    return report if is_current(report, dossier.files) else None


def dossier_state(dossier: Dossier, report: Report | None) -> DossierState:
    files = dossier.files
    if is_current(report, files):
        return DossierState.DONE
    if files and all(FileState(f.state).terminal for f in files):
        return DossierState.PROCESSING
    if all(f.state == FileState.QUEUED for f in files):
        return DossierState.QUEUED
    return DossierState.PROCESSING


def files_in(folder: Path) -> list[tuple[str, Path]]:
    """A dossier folder's files as (relative name, path), hidden files left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") for p in rel.parts):
            found.append((rel.as_posix(), path))
    return found


__all__ = [
    "UnknownRulePackError",
    "add_path",
    "add_upload",
    "create_dossier",
    "dossier_state",
    "files_in",
    "fingerprint",
]
