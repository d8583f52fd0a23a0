"""Expand an uploaded ZIP safely: no path escapes, no links, bounded count and size
(checked while reading, not trusted from the headers), Chinese names decoded whether the
archive was made on Windows (GBK, no UTF-8 flag) or elsewhere."""

from __future__ import annotations

import posixpath
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from extractors.errors import (
    ArchiveTooLargeError,
    CorruptFileError,
    EncryptedFileError,
    TooManyMembersError,
    UnsafeArchiveError,
)

_UTF8_FLAG = 0x800
_SKIP_PARTS = ("__MACOSX",)


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may expand to. Over ``max_members`` (read from the central
    directory, before anything is written) raises TooManyMembersError; past
    ``max_total_bytes`` (counted while reading) ArchiveTooLargeError: a caller counting a
    whole upload passes what is left of its own budget."""

    max_members: int = 500
    max_total_bytes: int = 1 << 30  # 1 GiB expanded
    max_member_bytes: int = 300 << 20
    max_ratio: int = 200  # expanded / compressed, per member


@dataclass(frozen=True)
class Member:
    name: str  # the member's path inside the archive, "/"-separated
    path: Path  # where it was written


def member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def safe_name(name: str) -> str | None:
    """The member's normalised relative path, or None for what must not be written."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    norm = posixpath.normpath(name)
    if norm in (".", "") or norm.startswith("../") or norm == ".." or "/../" in f"/{norm}/":
        return None
    return norm


def expand_zip(archive: Path, dest: Path, limits: ArchiveLimits | None = None) -> list[Member]:
    """Write the archive's regular files under ``dest`` and list them in archive order."""
    limits = limits or ArchiveLimits()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(f"zip: {exc}") from exc
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > limits.max_members:
            raise TooManyMembersError(f"{len(members)} members > {limits.max_members}")
        written: list[Member] = []
        total = 0
        for info in members:
            name = member_name(info)
            rel = safe_name(name)
            if rel is None:
                raise UnsafeArchiveError(f"unsafe member path {name!r}")
            parts = rel.split("/")
            if any(p in _SKIP_PARTS or p.startswith(".") for p in parts):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeArchiveError(f"symbolic link {name!r}")
            if info.flag_bits & 0x1:
                raise EncryptedFileError(f"encrypted member {name!r}")
            if info.file_size > limits.max_member_bytes:
                raise UnsafeArchiveError(f"{name!r} is {info.file_size} bytes")
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise UnsafeArchiveError(f"{name!r} compression ratio too high")
            # Written under a plain numbered name: a member's own name may be anything a
            # file system refuses (300 characters, odd scripts); it is kept in Member.name.
            dest.mkdir(parents=True, exist_ok=True)
            target = dest / f"member-{len(written):05d}"
            total += _copy_bounded(zf, info, target, limits, total)
            written.append(Member(name=rel, path=target))
        return written


def _copy_bounded(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: ArchiveLimits, so_far: int
) -> int:
    size = 0
    try:
        with zf.open(info) as src, target.open("wb") as out:
            for chunk in _chunks(src):
                size += len(chunk)
                if size > limits.max_member_bytes:
                    raise UnsafeArchiveError(f"{info.filename!r} expands past its limit")
                if so_far + size > limits.max_total_bytes:
                    raise ArchiveTooLargeError("expanded size exceeds the limit")
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise CorruptFileError(f"zip member {info.filename!r}: {exc}") from exc
    except RuntimeError as exc:  # zipfile raises RuntimeError for password-protected members
        raise EncryptedFileError(str(exc)) from exc
    return size


def _chunks(src) -> Iterator[bytes]:
    while chunk := src.read(1 << 20):
        yield chunk
