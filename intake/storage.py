"""A content-addressed file store under ``$INTAKE_DATA_DIR``: uploaded bytes by SHA-256,
and each file's parsed document beside them. Shared by the API and the workers (one
volume in a deployment)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from extractors.errors import EmptyFileError, FileTooLargeError
from extractors.model import Document


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "documents").mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def document_path(self, sha256: str) -> Path:
        return self.root / "documents" / sha256[:2] / f"{sha256}.json.gz"

    def put_stream(
        self, stream: BinaryIO, max_bytes: int, created: set[str] | None = None
    ) -> tuple[str, int]:
        """Copy a stream into the store, hashing as it goes; refuse past ``max_bytes``. A
        blob that was not in the store before is added to ``created`` (so an upload refused
        as a whole can take back what it alone stored)."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLargeError(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise EmptyFileError("0 bytes")
            sha = digest.hexdigest()
            target = self.blob_path(sha)
            if _touch(target):  # stored before: marked as just used (``intake purge`` waits)
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)
                if created is not None:
                    created.add(sha)
            return sha, size
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def put_path(
        self, path: Path, max_bytes: int, created: set[str] | None = None
    ) -> tuple[str, int]:
        with path.open("rb") as fh:
            return self.put_stream(fh, max_bytes, created)

    def remove_blob(self, sha256: str) -> None:
        """Take a blob out of the store (one no file row refers to)."""
        self.blob_path(sha256).unlink(missing_ok=True)

    def set_aside(self, sha256: str) -> Path | None:
        """Move a blob out of its place before removing it (``intake purge``); where it is
        now, or None when there is none. An upload of the same bytes meanwhile finds no
        blob and stores its own copy, so a blob in use is never removed under it. One set
        aside by a run that stopped halfway is found again."""
        aside = self.root / "tmp" / f"purging-{sha256}"
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.blob_path(sha256), aside)
        return aside if aside.exists() else None

    def put_back(self, sha256: str, aside: Path) -> None:
        """Undo ``set_aside`` (the blob is wanted after all). Should an upload have stored
        the same bytes again meanwhile, they are the same bytes."""
        target = self.blob_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(aside, target)

    def remove_document(self, sha256: str) -> int:
        """Take a parsed document out of the store; its size in bytes (0: there was none)."""
        path = self.document_path(sha256)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def save_document(self, sha256: str, document: Document) -> None:
        target = self.document_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(document.to_gzip_json())
        os.replace(tmp_name, target)

    def load_document(self, sha256: str) -> Document:
        return Document.from_gzip_json(self.document_path(sha256).read_bytes())

    def has_document(self, sha256: str) -> bool:
        return self.document_path(sha256).exists()

    def scratch_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root / "tmp"))

    @staticmethod
    def remove_dir(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)


def _touch(path: Path) -> bool:
    """Set a stored file's modification time to now; False when it is not there."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    except OSError:  # not ours to mark (a read-only volume): there, all the same
        return path.exists()
    return True
