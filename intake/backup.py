"""A backup of everything the service keeps: the database and the file store.

``intake backup DEST`` writes one folder ``DEST/intake-backup-YYYYMMDD-HHMMSS/``:

* the database: SQLite through its online backup API (a consistent copy while the service
  runs), PostgreSQL with ``pg_dump --format=custom`` (restore with ``pg_restore``);
* the file store: every upload (``blobs/``) and parsed document (``documents/``). They are
  named by their content's sha256 and never change once written, so a copy taken while
  uploads go on holds whole files; one stored after the database was copied is simply not
  referenced by it;
* ``manifest.json``: when, which database and schema revision, how many files and bytes.

The database is copied first, then the files: whatever the copied database refers to was
stored before it was copied, so it is in the copy (unless deleted in between: a file an
applicant deletes while the backup runs may be missing from it, as it is from the service).
Restoring is the reverse (README).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from intake.settings import Settings

STORE = ("blobs", "documents")  # what the file store keeps (tmp/ is scratch, not kept)


class BackupError(RuntimeError):
    """A backup that cannot be made; the message (Chinese) says why."""


@dataclass(frozen=True)
class Backup:
    folder: str
    database: str  # sqlite or postgresql
    revision: str | None  # the schema's Alembic revision
    files: int
    bytes: int
    seconds: float


def backup(settings: Settings, dest: Path, now: datetime | None = None) -> Backup:
    """Copy the database, then the file store, into a new folder under ``dest``."""
    started = datetime.now()
    stamp = (now or started).strftime("%Y%m%d-%H%M%S")
    folder = dest / f"intake-backup-{stamp}"
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError as exc:
        raise BackupError(f"备份目录已存在：{folder}") from exc
    except OSError as exc:
        raise BackupError(f"无法创建备份目录 {folder}：{exc.strerror or exc}") from exc
    url = make_url(settings.db_url)
    revision = _revision(settings.db_url)
    if url.get_backend_name() == "sqlite":
        kind = "sqlite"
        _sqlite(Path(url.database or ""), folder / "intake.db")
    elif url.get_backend_name() == "postgresql":
        kind = "postgresql"
        _postgres(url, folder / "intake.pgdump")
    else:
        raise BackupError(f"不支持备份此类数据库：{url.get_backend_name()}")
    files, size = 0, 0
    for name in STORE:
        source = settings.data_dir / name
        if not source.is_dir():
            continue
        for path in sorted(source.rglob("*")):
            if not path.is_file():
                continue
            target = folder / name / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            files += 1
            size += path.stat().st_size
    done = Backup(
        folder=str(folder),
        database=kind,
        revision=revision,
        files=files,
        bytes=size,
        seconds=round((datetime.now() - started).total_seconds(), 2),
    )
    manifest = {**asdict(done), "made_at": started.isoformat(timespec="seconds")}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return done


def _revision(db_url: str) -> str | None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no schema yet: nothing was ever stored
        return None
    finally:
        engine.dispose()


def _sqlite(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"找不到数据库文件：{source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page, consistent while writers go on
    except sqlite3.Error as exc:
        raise BackupError(f"数据库备份失败：{exc}") from exc
    finally:
        dst.close()
        src.close()


def _postgres(url, target: Path) -> None:
    if shutil.which("pg_dump") is None:
        raise BackupError("未找到 pg_dump：请安装 PostgreSQL 客户端（Debian：postgresql-client）")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where ps would show it
    args = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    args.append(url.database or "")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"pg_dump 失败：{done.stderr.strip()[:500]}")
