"""One error tree for everything that can go wrong with an input file.

Library exceptions are turned into these where they happen. Each carries a stable reason
code (part of the report contract), a message in Chinese that tells the applicant what to
do, and whether trying again can help. The API, the CLI and the worker map them in one
place each.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    EMPTY = "empty"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_LARGE = "too_large"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_PAGES = "too_many_pages"
    UNSAFE_ARCHIVE = "unsafe_archive"
    BOMB = "bomb"
    OCR_FAILED = "ocr_failed"
    INTERNAL = "internal"
    POLYGLOT = "polyglot"
    # A whole upload refused at admission (UploadRefusedError), not one file's outcome.
    TOO_MANY_FILES = "too_many_files"
    TOO_MANY_MEMBERS = "too_many_members"
    UPLOAD_TOO_LARGE = "upload_too_large"


class CodedError(Exception):
    """An error with a reason code and a Chinese message for the user (a subclass fixes
    both; ``message=`` overrides the message for one instance); ``detail`` is for logs."""

    code: ErrorCode = ErrorCode.CORRUPT
    message: str = "文件无法读取，请检查文件是否完整后重新上传"

    def __init__(self, detail: str = "", *, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        self.detail = detail
        super().__init__(f"{self.code}: {detail or self.message}")

    def as_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


class InputFileError(CodedError):
    """A file that cannot be read. Subclasses fix the code, message and retryability."""

    retryable: bool = False


class EmptyFileError(InputFileError):
    code = ErrorCode.EMPTY
    message = "文件是空的（0 字节），请重新导出或扫描后上传"


class CorruptFileError(InputFileError):
    code = ErrorCode.CORRUPT
    message = "文件已损坏或不完整，无法打开，请重新导出或扫描后上传"


class EncryptedFileError(InputFileError):
    code = ErrorCode.ENCRYPTED
    message = "文件已加密，请上传未加密的版本"


class UnsupportedTypeError(InputFileError):
    code = ErrorCode.UNSUPPORTED_TYPE
    message = "不支持的文件类型，请上传 PDF、DOCX、JPG、PNG、TIFF 或 ZIP 文件"


class FileTooLargeError(InputFileError):
    code = ErrorCode.TOO_LARGE
    message = "文件过大，请压缩或拆分后上传"


class ImageTooLargeError(InputFileError):
    code = ErrorCode.IMAGE_TOO_LARGE
    message = "图片尺寸过大，无法安全处理，请缩小分辨率（建议不超过 6000×6000 像素）后上传"


class TooManyPagesError(InputFileError):
    code = ErrorCode.TOO_MANY_PAGES
    message = "文件页数过多，请拆分后分别上传"


class UnsafeArchiveError(InputFileError):
    code = ErrorCode.UNSAFE_ARCHIVE
    message = "压缩包无法安全解压（路径异常、文件过多或解压后过大），请直接上传其中的文件"


class TooManyMembersError(UnsafeArchiveError):
    """More members in the central directory than may be expanded: refused unread."""

    message = "压缩包内文件过多，请解压后分批上传需要的文件"


class ArchiveTooLargeError(UnsafeArchiveError):
    """The members expand past the bytes allowed, counted while reading."""

    message = "压缩包解压后过大，请解压后分批上传需要的文件"


class PolyglotFileError(InputFileError):
    """A file that is two formats at once (a PDF or a picture that is also a valid ZIP):
    each reader would see different content, so neither is trusted."""

    code = ErrorCode.POLYGLOT
    message = (
        "文件同时具有两种文件格式的特征（例如既是 PDF 又是 ZIP 压缩包），疑似经过特殊构造，"
        "已拒绝处理；请用办公软件重新导出后上传"
    )


class OcrFailedError(InputFileError):
    code = ErrorCode.OCR_FAILED
    message = "文字识别失败，请上传更清晰的扫描件后重试"
    retryable = True


class InternalParseError(InputFileError):
    """A parser crashed on a file it claimed to support: a defect of ours, not the user's."""

    code = ErrorCode.INTERNAL
    message = "处理该文件时发生内部错误，我们已记录，请稍后重试或联系管理员"


class DecompressionBombError(InputFileError):
    """Content that expands far beyond any real document (a PDF stream or a DOCX part of
    gigabytes): refused before it is expanded."""

    code = ErrorCode.BOMB
    message = "文件内容解压后异常庞大（疑似恶意构造），已拒绝处理；请上传由办公软件正常导出的文件"


class UploadRefusedError(CodedError):
    """A whole upload over an admission limit (files in the dossier, archive members across
    all nesting levels, bytes stored): refused as one, nothing of it kept. Not an
    InputFileError: no single file is at fault, so no file row records it."""

    code = ErrorCode.UPLOAD_TOO_LARGE
    message = "上传内容超出限制，未保存任何文件，请分批上传"


class TooManyFilesError(UploadRefusedError):
    code = ErrorCode.TOO_MANY_FILES
    message = "该申报材料的文件数已达上限，本次上传未保存任何文件；请删除不需要的文件后再上传"


class TooManyArchiveMembersError(UploadRefusedError):
    code = ErrorCode.TOO_MANY_MEMBERS
    message = "压缩包内的文件过多（含嵌套的压缩包），本次上传未保存任何文件；请解压后分批上传"


class UploadTooLargeError(UploadRefusedError):
    code = ErrorCode.UPLOAD_TOO_LARGE
    message = "本次上传的内容（含压缩包解压后的文件）过大，未保存任何文件；请分批上传"
