"""Refuse decompression bombs before a library expands them: a PDF whose compressed
streams, or a DOCX whose zipped parts, would expand past a limit (real documents stay far
below it). The expansion is counted in bounded chunks, never held in memory."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from extractors.errors import CorruptFileError, DecompressionBombError, EncryptedFileError

_STREAM = re.compile(rb"stream\r?\n")
CHUNK = 1 << 20


def check_pdf(path: Path, limit: int) -> None:
    """Expand every Flate stream of the file (to count, not keep) and refuse past
    ``limit`` bytes in total."""
    data = path.read_bytes()
    total = 0
    for m in _STREAM.finditer(data):
        if data[max(0, m.start() - 3) : m.start()] == b"end":
            continue  # "endstream"
        head = data[max(0, m.start() - 4096) : m.start()]
        head = head[head.rfind(b"obj") :]  # this object's dictionary
        layers = head.count(b"FlateDecode") + head.count(b"/Fl ") + head.count(b"/Fl]")
        if layers == 0:
            continue
        if layers > 1:  # Flate over Flate multiplies the ratio: no producer needs it
            raise DecompressionBombError("a stream compressed twice over")
        end = data.find(b"endstream", m.end())
        body = data[m.end() : end if end != -1 else len(data)]
        total += _inflated(body, limit - total)
        if total > limit:
            raise DecompressionBombError(f"pdf streams expand past {limit} bytes")


def _inflated(body: bytes, budget: int) -> int:
    """Bytes ``body`` inflates to, counting at most ``budget`` + 1."""
    inflater = zlib.decompressobj()
    size = 0
    pending = body
    try:
        while pending and size <= budget and not inflater.eof:
            out = inflater.decompress(pending, CHUNK)
            size += len(out)
            if not out and inflater.unconsumed_tail == pending:
                break  # no progress: a damaged or truncated stream
            pending = inflater.unconsumed_tail
    except zlib.error:
        return size  # a damaged stream: pdfium decides what to make of it
    return size


def check_zip_parts(path: Path, limit: int, max_ratio: int = 200) -> None:
    """A DOCX is a zip: its parts' declared sizes and ratios must be those of a document,
    and the declared sizes are checked by expanding (a bomb may lie about them)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > limit:
                raise DecompressionBombError(f"docx parts declare {declared} bytes")
            for info in infos:
                ratio = info.file_size / info.compress_size if info.compress_size else 0
                if ratio > max_ratio and info.file_size > 10 << 20:
                    raise DecompressionBombError(f"{info.filename}: ratio too high")
            total = 0
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise DecompressionBombError("docx parts expand past the limit")
    except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError) as exc:
        raise CorruptFileError(f"docx: {exc}") from exc
    except RuntimeError as exc:  # an encrypted member
        raise EncryptedFileError(f"docx: {exc}") from exc
