"""Tell a file's type from its content (magic bytes), never from its name."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import filetype

from extractors.errors import (
    EmptyFileError,
    EncryptedFileError,
    PolyglotFileError,
    UnsupportedTypeError,
)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP = "application/zip"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"

_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a member's local header; the empty archive
_EOCD = b"PK\x05\x06"  # end of central directory record: 22 bytes, then its comment
_EOCD_SIZE = 22
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The directory entry of an Office file encrypted with a password (MS-OFFCRYPTO),
# stored in UTF-16LE inside an OLE container.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

_HINTS = {
    "application/msword": "这是旧版 Word（.doc）文件，请另存为 DOCX 或 PDF 后上传",
    "application/vnd.ms-excel": "这是 Excel 文件，请另存为 PDF 后上传",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "这是 Excel 文件，请另存为 PDF 后上传"
    ),
    "image/heic": "这是 HEIC 格式的手机照片，请在手机上设置为“兼容性最佳”或转换为 JPG 后上传",
    "image/heif": "这是 HEIF 格式的图片，请转换为 JPG 后上传",
    "application/x-rar-compressed": "暂不支持 RAR 压缩包，请改用 ZIP 压缩或直接上传文件",
    "application/x-7z-compressed": "暂不支持 7z 压缩包，请改用 ZIP 压缩或直接上传文件",
}


def sniff(path: Path) -> str:
    """Return the media type of ``path`` or raise a typed error for what we cannot take.

    The container is looked at first: a file that begins as a ZIP is a ZIP (a PDF stored
    uncompressed as its first member puts ``%PDF-`` in the first KiB, yet is only a
    member). A file that begins as something else but also ends in a valid ZIP central
    directory is two things at once, and refused as suspect."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(str(path))
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(_ZIP_STARTS):
        return _sniff_zip(path)
    also_zip = _ends_as_zip(path, size)
    if head.startswith(_OLE_MAGIC):
        if also_zip:
            raise PolyglotFileError("OLE and ZIP")
        with path.open("rb") as fh:
            if _ENCRYPTED_PACKAGE in fh.read(1 << 20):
                raise EncryptedFileError("password-protected Office file")
    # Some producers put junk before the PDF header; readers accept it within 1 KiB.
    if b"%PDF-" in head[:1024]:
        if also_zip:
            raise PolyglotFileError("PDF and ZIP")
        return PDF
    kind = filetype.guess(head)
    if kind is None:
        raise UnsupportedTypeError("unknown content")
    if also_zip:
        raise PolyglotFileError(f"{kind.mime} and ZIP")
    if kind.mime in (JPEG, PNG, TIFF):
        return kind.mime
    if kind.mime in ("image/bmp", "image/webp", "image/gif"):
        return kind.mime
    hint = _HINTS.get(kind.mime)
    raise UnsupportedTypeError(kind.mime, message=hint) if hint else UnsupportedTypeError(kind.mime)


def _ends_as_zip(path: Path, size: int) -> bool:
    """Does the file end in a ZIP end-of-central-directory record (its comment running
    exactly to the end) whose central directory reads? That is what ZIP readers look
    for, wherever the file starts."""
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)
    with path.open("rb") as fh:
        fh.seek(size - tail_size)
        tail = fh.read(tail_size)
    at = len(tail)
    while (at := tail.rfind(_EOCD, 0, at)) >= 0:
        if at + _EOCD_SIZE <= len(tail):
            (comment,) = struct.unpack_from("<H", tail, at + 20)
            if at + _EOCD_SIZE + comment == len(tail):
                break
    else:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return bool(zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        # A truncated DOCX or ZIP: let the parser of the most likely type say so.
        return ZIP
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        raise UnsupportedTypeError(
            "xlsx",
            message=_HINTS["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        )
    if "ppt/presentation.xml" in names:
        raise UnsupportedTypeError("pptx", message="这是 PowerPoint 文件，请另存为 PDF 后上传")
    if "[Content_Types].xml" in names:
        return DOCX  # an Office package without its document: the DOCX parser says so
    return ZIP
