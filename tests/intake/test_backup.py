"""`intake backup`: the database (SQLite online backup; PostgreSQL with pg_dump into a
database this test creates and drops) and the file store copied into a new folder, with a
manifest; the copy opens and holds what was stored."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from intake.backup import BackupError, backup
from intake.db import migrate, session_scope
from intake.dossiers import create_dossier
from intake.models import Dossier
from intake.settings import Settings
from intake.storage import FileStore

PG_ADMIN = os.environ.get(
    "INTAKE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _stored(settings: Settings) -> str:
    """One dossier in the database and one upload in the file store; the upload's sha256."""
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        create_dossier(session, "xian-2018", "西安备份测试平台")
    sha, _ = FileStore(settings.data_dir).put_stream(io.BytesIO(b"%PDF-1.4 backup"), 1 << 20)
    return sha


def test_sqlite_and_the_file_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sha = _stored(settings)
    done = backup(settings, tmp_path / "backups", now=datetime(2026, 12, 7, 9, 30))
    folder = Path(done.folder)
    assert folder.name == "intake-backup-20261207-093000"
    assert done.database == "sqlite" and done.revision and done.files == 1
    assert (folder / "blobs" / sha[:2] / sha).read_bytes() == b"%PDF-1.4 backup"
    copy = create_engine(f"sqlite:///{folder / 'intake.db'}")
    with copy.connect() as connection:
        names = connection.execute(select(Dossier.name)).scalars().all()
    copy.dispose()
    assert names == ["西安备份测试平台"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == 1 and manifest["revision"] == done.revision
    with pytest.raises(BackupError, match="备份目录已存在"):
        backup(settings, tmp_path / "backups", now=datetime(2026, 12, 7, 9, 30))


def test_the_command_says_where_and_what(tmp_path: Path, monkeypatch) -> None:
    from intake import cli
    from intake.settings import get_settings

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        _stored(get_settings())
        result = CliRunner().invoke(cli.main, ["backup", str(tmp_path / "out")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and "1 个文件" in result.output


@pytest.mark.skipif(shutil.which("pg_restore") is None, reason="PostgreSQL client not installed")
def test_postgresql_with_pg_dump(tmp_path: Path) -> None:
    name = f"intake_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        _stored(settings)
        done = backup(settings, tmp_path / "backups")
        dump = Path(done.folder) / "intake.pgdump"
        assert done.database == "postgresql" and dump.stat().st_size > 0
        listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True)
        assert listed.returncode == 0 and "TABLE public dossiers" in listed.stdout
        with session_scope(url) as session:
            assert session.scalar(select(func.count()).select_from(Dossier)) == 1
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
