"""Dossiers and their files: create, add uploads (expanding ZIPs), and derive state."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractors.archive import ArchiveLimits, expand_zip
from extractors.errors import (
    ArchiveTooLargeError,
    InputFileError,
    TooManyArchiveMembersError,
    TooManyFilesError,
    TooManyMembersError,
    UnsafeArchiveError,
    UploadRefusedError,
    UploadTooLargeError,
)
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
    new_id,
)
from intake.queue import parse_job_id
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


class Needs(StrEnum):
    """What an action refused on a purged dossier would have needed, for its message."""

    REBUILD = "rebuild"  # the report built again (upload finished, re-check, delete)
    REVIEW = "review"  # a correction, acceptance or withdrawal (they rebuild the report)
    FILES = "files"  # an upload, replacement or deletion of a file
    PAGES = "pages"  # a page of an original, as a picture


_PURGED_TAIL = {
    Needs.REBUILD: "报告保留为历史记录，不能重新生成",
    Needs.REVIEW: "报告保留为历史记录，不能再更正、确认或撤回",
    Needs.FILES: "报告保留为历史记录，不能再上传、替换或删除文件",
    Needs.PAGES: "原页图像已不可查看，报告保留为历史记录",
}


def purged_on(purged_at: datetime, timezone: str) -> str:
    """The day a dossier was purged, as people where the bureau is read it (YYYY-MM-DD)."""
    from intake.reports.html import local_time

    return local_time(purged_at, timezone)[:10]


class DossierPurgedError(RuntimeError):
    """An action that needs the uploads or parses of a dossier ``intake purge`` cleared: its
    report and trail are history now, read-only. The message (Chinese) says when and why;
    ``code`` is stable for programs (the API answers 409, a page picture 410)."""

    code = "purged"

    def __init__(self, purged_at: datetime, needs: Needs, timezone: str):
        self.purged_at, self.needs = purged_at, needs
        self.message = (
            f"该申报材料已于 {purged_on(purged_at, timezone)} 清理原件，{_PURGED_TAIL[needs]}"
        )
        super().__init__(self.message)


def refuse_if_purged(dossier: Dossier, needs: Needs, timezone: str) -> None:
    """Raise DossierPurgedError when ``dossier`` was purged: nothing may need its originals."""
    if dossier.purged_at is not None:
        raise DossierPurgedError(dossier.purged_at, needs, timezone)


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


@dataclass
class Admission:
    """What one upload may still add, counted across all its files and every level of
    archive nesting: files in the dossier, archive members, bytes stored. Over any, the
    whole upload is refused (UploadRefusedError). Also the blobs it stored that were not
    in the store before, so a refused upload can take them back (``discard_upload``)."""

    settings: Settings
    files_left: int
    members_left: int
    bytes_left: int
    created: set[str] = field(default_factory=set)

    @classmethod
    def open(
        cls, session: Session, settings: Settings, dossier: Dossier, replacing: int = 0
    ) -> Admission:
        """The budget of one upload to ``dossier`` (``replacing`` files leave it)."""
        count = select(func.count()).select_from(DossierFile)
        have = session.scalar(count.where(DossierFile.dossier_id == dossier.id))
        return cls(
            settings=settings,
            files_left=settings.max_dossier_files - (have or 0) + replacing,
            members_left=settings.max_archive_members,
            bytes_left=settings.max_upload_stored_bytes,
        )

    def take_file(self) -> None:
        """Count one new file row."""
        self.expect_files(1)
        self.files_left -= 1

    def expect_files(self, coming: int) -> None:
        """Refuse now an upload sure to go over: ``coming`` rows at least are on their way
        (an archive's members make one each)."""
        if coming > self.files_left:
            raise TooManyFilesError(
                f"more than {self.settings.max_dossier_files} files in the dossier",
                message=f"上传后该申报材料的文件将超过 {self.settings.max_dossier_files} 个"
                "（每份申报的上限），本次上传未保存任何文件；请删除不需要的文件，"
                "或将同一材料的多页扫描合并为一个 PDF 后再上传",
            )

    def take_bytes(self, size: int) -> None:
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise self.too_large()

    def archive_limits(self) -> ArchiveLimits:
        """One archive's limits, within what is left of the upload's."""
        limits = self.settings.archive_limits()
        return replace(
            limits,
            max_members=min(limits.max_members, self.members_left),
            max_total_bytes=min(limits.max_total_bytes, max(self.bytes_left, 0)),
        )

    def too_many_members(self) -> TooManyArchiveMembersError:
        limit = self.settings.max_archive_members
        return TooManyArchiveMembersError(
            f"more than {limit} archive members in one upload",
            message=f"压缩包内的文件过多（连同其中嵌套的压缩包，一次上传最多 {limit} 个），"
            "本次上传未保存任何文件；请解压后分批上传需要的文件",
        )

    def too_large(self) -> UploadTooLargeError:
        limit = self.settings.max_upload_stored_bytes / (1 << 20)
        return UploadTooLargeError(
            f"more than {self.settings.max_upload_stored_bytes} bytes in one upload",
            message=f"本次上传的内容（含压缩包解压后的文件）超过 {limit:.0f} MB，"
            "未保存任何文件；请分批上传",
        )


def discard_upload(session: Session, store: FileStore, admission: Admission) -> None:
    """Undo an upload refused as a whole: the session is rolled back (its rows with it),
    and the blobs it stored that no remaining file row refers to are removed."""
    session.rollback()
    if not admission.created:
        return
    kept = set(
        session.scalars(select(DossierFile.sha256).where(DossierFile.sha256.in_(admission.created)))
    )
    for sha in admission.created - kept:
        store.remove_blob(sha)


def add_upload(
    session: Session,
    store: FileStore,
    settings: Settings,
    dossier: Dossier,
    name: str,
    stream: BinaryIO,
    admission: Admission | None = None,
    is_dossier: bool = False,
) -> list[DossierFile]:
    """Store one upload. A ZIP becomes its member files, named inside it ("材料压缩包.zip ›
    营业执照.jpg"; as in the archive when ``is_dossier``: a zipped dossier folder checked
    on its own); a file that cannot even be stored (empty, too large, an unsafe archive)
    is recorded as failed with its reason.

    Several uploads of one request share ``admission``. Over one of its limits this raises
    UploadRefusedError; without an ``admission`` of the caller's, the session has then
    been rolled back and what this upload alone stored removed (``discard_upload``)."""
    owned = admission is None
    admission = admission or Admission.open(session, settings, dossier)
    try:
        name = clean_name(name)
        try:
            sha, size = store.put_stream(stream, settings.max_upload_bytes, admission.created)
        except InputFileError as exc:
            return [_add_failed(session, admission, dossier, name, exc)]
        admission.take_bytes(size)
        return _add_stored(
            session, store, admission, dossier, name, sha, size, prefix=not is_dossier
        )
    except UploadRefusedError:
        if owned:
            discard_upload(session, store, admission)
        raise


def add_path(
    session: Session,
    store: FileStore,
    settings: Settings,
    dossier: Dossier,
    name: str,
    path: Path,
    admission: Admission | None = None,
    is_dossier: bool = False,
) -> list[DossierFile]:
    with path.open("rb") as fh:
        return add_upload(session, store, settings, dossier, name, fh, admission, is_dossier)


def _add_stored(
    session: Session,
    store: FileStore,
    admission: Admission,
    dossier: Dossier,
    name: str,
    sha: str,
    size: int,
    depth: int = 0,
    root: str | None = None,
    prefix: bool = True,
) -> list[DossierFile]:
    """Rows for one stored upload or archive member: a file, or an archive's members
    named inside it ("材料压缩包.zip › 营业执照.jpg"). ``root`` is the name of the upload
    the member came in (errors of archives nested too deep are reported under it)."""
    settings = admission.settings
    blob = store.blob_path(sha)
    try:
        media_type = sniff(blob)
    except InputFileError:
        media_type = None  # the parse job will report the reason
    if media_type != ZIP:
        earlier = _same_content(session, dossier, sha)
        if earlier is not None:
            return [_add_duplicate(session, admission, dossier, name, earlier, sha, size)]
        row = _new_row(
            session, admission, dossier, name, sha256=sha, size=size, media_type=media_type
        )
        return [row]
    if depth > MAX_NESTING:
        inner = name.removeprefix(root + IN_ARCHIVE) if root else name
        nested = UnsafeArchiveError(
            "archive nested too deep",
            message=f"压缩包里又套了多层压缩包（{inner}），未能处理其中的文件；"
            "请解压后直接上传其中的文件",
        )
        return [
            _add_failed(session, admission, dossier, root or name, nested, sha256=sha, size=size)
        ]
    scratch = store.scratch_dir()
    try:
        members = expand_zip(blob, scratch, admission.archive_limits())
        admission.members_left -= len(members)
        admission.expect_files(len(members))
        added: list[DossierFile] = []
        folder = _common_folder([m.name for m in members])
        for member in members:
            inside = member.name[len(folder) :]
            member_name = clean_name(name + IN_ARCHIVE + inside if prefix else inside)
            try:
                m_sha, m_size = store.put_path(
                    member.path, settings.max_upload_bytes, admission.created
                )
            except InputFileError as exc:
                added.append(_add_failed(session, admission, dossier, member_name, exc))
                continue
            admission.take_bytes(m_size)
            added.extend(
                _add_stored(
                    session,
                    store,
                    admission,
                    dossier,
                    member_name,
                    m_sha,
                    m_size,
                    depth + 1,
                    root or name,
                )
            )
        if not added:
            added.append(
                _new_row(
                    session,
                    admission,
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
    except TooManyMembersError as exc:
        raise admission.too_many_members() from exc
    except ArchiveTooLargeError as exc:
        raise admission.too_large() from exc
    except InputFileError as exc:
        return [_add_failed(session, admission, dossier, name, exc, sha256=sha, size=size)]
    finally:
        store.remove_dir(scratch)


def _same_content(session: Session, dossier: Dossier, sha: str) -> DossierFile | None:
    """The dossier's earlier file with exactly this content (same sha256), if any."""
    session.flush()
    return session.scalar(
        select(DossierFile)
        .where(
            DossierFile.dossier_id == dossier.id,
            DossierFile.sha256 == sha,
            DossierFile.error_code.is_(None) | (DossierFile.error_code != DUPLICATE),
        )
        .order_by(DossierFile.seq)
        .limit(1)
    )


def _add_duplicate(
    session: Session,
    admission: Admission,
    dossier: Dossier,
    name: str,
    earlier: DossierFile,
    sha: str,
    size: int,
) -> DossierFile:
    """A file whose content is already in the dossier: listed under its own name, said to
    be a duplicate of the earlier one, and not processed (nor counted) twice."""
    return _new_row(
        session,
        admission,
        dossier,
        name,
        sha256=sha,
        size=size,
        state=FileState.FAILED,
        error_code=DUPLICATE,
        error_message=f"与已上传的“{earlier.name}”内容完全相同（重复上传），"
        "未重复处理；如无需保留，可删除此文件",
    )


def _common_folder(names: list[str]) -> str:
    """The one top-level folder that every member sits in ("dossier/"), if there is one:
    a zipped dossier folder's files are named as they are inside that folder."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def _add_failed(
    session: Session, admission: Admission, dossier: Dossier, name: str, exc: InputFileError, **kw
) -> DossierFile:
    return _new_row(
        session,
        admission,
        dossier,
        name,
        state=FileState.FAILED,
        error_code=str(exc.code),
        error_message=exc.message,
        **kw,
    )


def _new_row(
    session: Session, admission: Admission, dossier: Dossier, name: str, **kw
) -> DossierFile:
    """A new file row, counted against the upload's admission."""
    admission.take_file()
    return _add_row(session, dossier, name, **kw)


def _add_row(session: Session, dossier: Dossier, name: str, **kw) -> DossierFile:
    """A new file row; one to be parsed is born with its job id, so no one ever sees it
    queued without one."""
    kw.setdefault("id", new_id())
    if kw.get("state", FileState.QUEUED) == FileState.QUEUED:
        kw.setdefault("job_id", parse_job_id(kw["id"]))
    taken = set(
        session.scalars(select(DossierFile.name).where(DossierFile.dossier_id == dossier.id))
    )
    last = session.scalar(
        select(func.max(DossierFile.seq)).where(DossierFile.dossier_id == dossier.id)
    )
    seq = 0 if last is None else last + 1
    named = unique_name(name, taken, duplicate=kw.get("error_code") == DUPLICATE)
    row = DossierFile(dossier_id=dossier.id, name=named, seq=seq, **kw)
    session.add(row)
    session.flush()
    return row


MAX_NAME = 240
MAX_NESTING = 1  # a zip inside the uploaded zip is expanded; one inside that is refused
# Between an archive's name and a member's: "材料压缩包.zip › 营业执照.jpg".
IN_ARCHIVE = " › "
DUPLICATE = "duplicate"  # a file row's error code: the same content as an earlier file


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


def unique_name(name: str, taken: set[str], duplicate: bool = False) -> str:
    """``name``, or where the dossier has a file of that name already, a name saying why
    there are two: "营业执照（重复上传）.jpg" for the same content, else "营业执照 (2).jpg"."""
    if name not in taken:
        return name
    path = PurePosixPath(name)
    if duplicate:
        marked = str(path.with_name(f"{path.stem}（重复上传）{path.suffix}"))
        if marked not in taken:
            return marked
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
    "Admission",
    "DossierPurgedError",
    "Needs",
    "UnknownRulePackError",
    "add_path",
    "add_upload",
    "create_dossier",
    "discard_upload",
    "dossier_state",
    "files_in",
    "fingerprint",
    "purged_on",
    "refuse_if_purged",
]
