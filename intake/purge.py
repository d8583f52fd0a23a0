"""Retention: ``intake purge --before ROUND`` removes the uploads and parses of the rounds
before ROUND and keeps their history: each dossier, its file rows (name, sha256, size,
state: every upload stays accounted for), its reports and their versions, its reviews and
its audit trail, which gains a ``purge`` line. A purged dossier is read-only history: what
would need its originals (a rebuilt report, a review, a page picture, an upload) is
refused (``intake.dossiers.DossierPurgedError``).

The store is content-addressed: a blob is removed only when no dossier that is not purged
and no annual summary holds the same bytes (the licence a platform uploads every year stays
for its later rounds), and with it its parse (the ``parses`` row, its page pictures and the
parsed document). The order is safe against a crash: each dossier's ``purged_at`` and its
audit line are committed first, then the store is swept. A crash between leaves blobs no
one needs, never a dossier that claims its files while they are gone; the sweep looks at
every purged dossier, so running the command again finishes a purge that stopped halfway,
and otherwise changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.orm import Session

from intake.db import session_scope
from intake.models import (
    AnnualSummary,
    Dossier,
    DossierFile,
    FileState,
    PagePicture,
    Parse,
    utcnow,
)
from intake.reviews import record
from intake.settings import Settings
from intake.storage import FileStore

BUSY = [FileState.QUEUED, FileState.PROCESSING]
# A blob stored again (the same bytes uploaded) this recently is kept by this run: the
# upload that stored it may not have committed its file row yet. Longer than an upload
# request lasts; a later run removes the blob if no dossier took it.
UPLOAD_GRACE = timedelta(hours=6)
_ROUND = re.compile(r"[^\x00-\x1f\x7f]{1,16}")


class PurgeError(RuntimeError):
    """A purge that is refused or cannot go on; the message (Chinese) says why and what to
    do."""


@dataclass(frozen=True)
class PurgedDossier:
    """One dossier a purge takes (or, dry, would take) the originals of."""

    id: str
    name: str
    round: str
    files: int  # its file rows (kept: the account of every upload)
    bytes: int  # what its uploads weighed
    shared: int  # its uploads whose bytes a dossier not purged (or a summary) keeps


@dataclass
class PurgeResult:
    """What a purge did (or, dry, would do)."""

    before: str
    dry_run: bool
    dossiers: list[PurgedDossier] = field(default_factory=list)
    blobs: int = 0  # uploads removed from the file store
    documents: int = 0  # parsed documents removed
    parses: int = 0  # parse rows removed (their page pictures with them)
    bytes: int = 0  # bytes removed: uploads and parsed documents
    shared: int = 0  # purged uploads kept: a dossier not purged or a summary has the bytes
    recent: int = 0  # purged uploads kept this time: the same bytes were stored just now

    @property
    def files(self) -> int:
        return sum(d.files for d in self.dossiers)

    @property
    def changed(self) -> bool:
        return bool(self.dossiers or self.blobs or self.documents or self.parses)


def round_key(round_: str) -> tuple[tuple[int, int | str], ...]:
    """How rounds are ordered: as numbers where they are numbers (2025 < 2026, and 999 <
    2026 too), otherwise as text, part by part ("2026" < "2026-2" < "2027"). For rounds of
    four-digit years, the order the cross-round comparison's string comparison gives."""
    parts = re.findall(r"\d+|\D+", round_)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def purge_before(settings: Settings, round_: str, actor: str, dry_run: bool) -> PurgeResult:
    """Purge the dossiers of every round before ``round_`` (never one without a round, nor
    the current round or a later one), then sweep the store of what only purged dossiers
    held. Dry, list what would go and change nothing. Refused as a whole (PurgeError,
    nothing changed) while a file of a dossier it would take is queued or being parsed."""
    before = round_.strip()
    if not _ROUND.fullmatch(before):
        raise PurgeError("批次应为不超过 16 个字符的一行文字，如 2026")
    current = settings.round
    if round_key(before) > round_key(current):
        raise PurgeError(
            f"不能清理当前批次（{current}）或以后的申报：--before 不能晚于当前批次；"
            f"清理 {current} 以前各批次请用 --before {current}"
        )
    started = utcnow()
    result = PurgeResult(before=before, dry_run=dry_run)
    with session_scope(settings.db_url) as session:
        rounds = _rounds_before(session, before)
        if rounds:
            _refuse_busy(session, rounds)
            result.dossiers = _plan(session, rounds)
    if not dry_run:
        for n, dossier in enumerate(result.dossiers):
            _mark(settings, dossier, before, actor, done=n)
    # Dry, the dossiers it would take count as purged already.
    gone = Dossier.purged_at.is_not(None)
    if dry_run and rounds:
        gone = or_(gone, Dossier.round.in_(rounds))
    _sweep(settings, FileStore(settings.data_dir), result, gone, started)
    return result


def _rounds_before(session: Session, before: str) -> list[str]:
    """The rounds, not empty, that come before ``before`` and have a dossier not purged."""
    rounds = session.scalars(
        select(Dossier.round).where(Dossier.round != "", Dossier.purged_at.is_(None)).distinct()
    )
    return sorted((r for r in rounds if round_key(r) < round_key(before)), key=round_key)


def _taken(rounds: list[str]) -> ColumnElement[bool]:
    """The dossiers a purge of ``rounds`` takes."""
    return Dossier.round.in_(rounds) & Dossier.purged_at.is_(None)


def _refuse_busy(session: Session, rounds: list[str]) -> None:
    """A purge never races a parse: refuse while a file it would take is owed work."""
    busy = session.execute(
        select(Dossier.id, Dossier.name, Dossier.round, func.count())
        .join(DossierFile, DossierFile.dossier_id == Dossier.id)
        .where(_taken(rounds), DossierFile.state.in_(BUSY))
        .group_by(Dossier.id, Dossier.name, Dossier.round)
        .order_by(Dossier.round, Dossier.name)
    ).all()
    if busy:
        named = "、".join(
            f"{name or id_}（{round_} 批次，{n} 个文件）" for id_, name, round_, n in busy[:5]
        )
        more = f"等 {len(busy)} 份" if len(busy) > 5 else ""
        raise PurgeError(
            f"以下申报材料仍有文件在排队或解析中：{named}{more}。清理未进行，未删除任何内容；"
            "请待这些文件处理完成后再运行"
        )


def _plan(session: Session, rounds: list[str]) -> list[PurgedDossier]:
    """The dossiers of ``rounds`` with their files, bytes, and uploads another keeps."""
    dossiers = session.execute(
        select(Dossier.id, Dossier.name, Dossier.round)
        .where(_taken(rounds))
        .order_by(Dossier.round, Dossier.created_at, Dossier.id)
    ).all()
    files: dict[str, list[tuple[str | None, int]]] = {d.id: [] for d in dossiers}
    rows = session.execute(
        select(DossierFile.dossier_id, DossierFile.sha256, DossierFile.size)
        .join(Dossier, Dossier.id == DossierFile.dossier_id)
        .where(_taken(rounds))
    )
    for dossier_id, sha, size in rows:
        files[dossier_id].append((sha, size or 0))
    alive = ~(Dossier.round.in_(rounds)) & Dossier.purged_at.is_(None)
    kept = _kept(session, alive, _held(_taken(rounds)))
    return [
        PurgedDossier(
            id=d.id,
            name=d.name,
            round=d.round,
            files=len(files[d.id]),
            bytes=sum(size for sha, size in files[d.id] if sha),
            shared=sum(1 for sha, _ in files[d.id] if sha in kept),
        )
        for d in dossiers
    ]


def _held(which: ColumnElement[bool]) -> Select:
    """The content hashes the files of the dossiers ``which`` selects hold."""
    return (
        select(DossierFile.sha256)
        .join(Dossier, Dossier.id == DossierFile.dossier_id)
        .where(which, DossierFile.sha256.is_not(None))
        .distinct()
    )


def _kept(session: Session, alive: ColumnElement[bool], among: Select) -> set[str]:
    """Those of the hashes ``among`` that a dossier that stays (``alive``) or an annual
    summary holds."""
    by_files = _held(alive).where(DossierFile.sha256.in_(among))
    by_summaries = select(AnnualSummary.sha256).where(AnnualSummary.sha256.in_(among))
    return set(session.scalars(by_files)) | set(session.scalars(by_summaries.distinct()))


def _mark(settings: Settings, planned: PurgedDossier, before: str, actor: str, done: int) -> None:
    """Commit one dossier as purged, with its line on the audit trail. The dossier's row is
    locked and its files looked at again: an upload that slipped in since the plan stops
    the purge here (those before stay purged; their store is swept by the next run)."""
    with session_scope(settings.db_url) as session:
        dossier = session.scalar(select(Dossier).where(Dossier.id == planned.id).with_for_update())
        if dossier is None or dossier.purged_at is not None:
            return  # deleted, or purged by another run meanwhile
        busy = session.scalar(
            select(func.count())
            .select_from(DossierFile)
            .where(DossierFile.dossier_id == planned.id, DossierFile.state.in_(BUSY))
        )
        if busy:
            raise PurgeError(
                f"“{planned.name or planned.id}”在清理时有文件重新排队，清理已停止："
                f"已清理 {done} 份申报，其余未清理；请待处理完成后再次运行，即可完成清理"
            )
        dossier.purged_at = utcnow()
        record(
            session,
            planned.id,
            actor,
            "purge",
            before=before,
            round=planned.round,
            files=planned.files,
            bytes=planned.bytes,
            shared=planned.shared,
        )


def _sweep(
    settings: Settings,
    store: FileStore,
    result: PurgeResult,
    gone: ColumnElement[bool],
    started: datetime,
) -> None:
    """Remove from the store what only purged (``gone``) dossiers hold: blobs, parse rows,
    page pictures and parsed documents; count it in ``result`` (dry: count only)."""
    with session_scope(settings.db_url) as session:
        candidates = set(session.scalars(_held(gone)))
        kept = _kept(session, ~gone, _held(gone)) if candidates else set()
        parsed = set()
        if result.dry_run and candidates:
            parsed = set(session.scalars(select(Parse.sha256).where(Parse.sha256.in_(_held(gone)))))
    result.shared = len(kept)
    since = started - UPLOAD_GRACE
    for sha in sorted(candidates - kept):
        if result.dry_run:
            _count(store, result, sha, since, parsed=sha in parsed)
        else:
            _remove(settings, store, result, sha, since)


def _recent(path: Path, since: datetime) -> bool:
    """Was this blob stored (or stored again by an upload of the same bytes) since?"""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC) >= since


def _count(store: FileStore, result: PurgeResult, sha: str, since, parsed: bool) -> None:
    """What removing ``sha`` would remove (a dry run; ``parsed``: it has a parse row)."""
    blob = store.blob_path(sha)
    if not blob.exists():
        blob = store.root / "tmp" / f"purging-{sha}"  # set aside by a run that stopped
    if blob.exists() and _recent(blob, since):
        result.recent += 1
        return
    if blob.exists():
        result.blobs += 1
        result.bytes += blob.stat().st_size
    document = store.document_path(sha)
    if document.exists():
        result.documents += 1
        result.bytes += document.stat().st_size
    result.parses += parsed


def _remove(settings: Settings, store: FileStore, result: PurgeResult, sha: str, since) -> None:
    """Remove one content hash nothing that stays holds. The blob is set aside first, so an
    upload of the same bytes from now on stores its own copy; one that stored them just
    before, or a dossier that took them since the sweep began, puts it back."""
    aside = store.set_aside(sha)
    if aside is not None and _recent(aside, since):
        store.put_back(sha, aside)
        result.recent += 1
        return
    with session_scope(settings.db_url) as session:
        in_use = _in_use(session, sha)
        if not in_use:
            session.execute(delete(PagePicture).where(PagePicture.sha256 == sha))
            parses = session.execute(delete(Parse).where(Parse.sha256 == sha)).rowcount
    if in_use:
        if aside is not None:
            store.put_back(sha, aside)
        result.shared += 1
        return
    result.parses += parses or 0
    if size := store.remove_document(sha):
        result.documents += 1
        result.bytes += size
    if aside is not None:
        result.blobs += 1
        result.bytes += aside.stat().st_size
        aside.unlink()


def _in_use(session: Session, sha: str) -> bool:
    """Does a dossier not purged, or an annual summary, hold ``sha`` now?"""
    by_file = session.scalar(
        select(DossierFile.id)
        .join(Dossier, Dossier.id == DossierFile.dossier_id)
        .where(DossierFile.sha256 == sha, Dossier.purged_at.is_(None))
        .limit(1)
    )
    if by_file is not None:
        return True
    return (
        session.scalar(select(AnnualSummary.id).where(AnnualSummary.sha256 == sha).limit(1))
        is not None
    )
