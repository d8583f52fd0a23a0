"""Pictures (JPEG, PNG, TIFF with all its frames, BMP, WebP): turned upright by their
EXIF tag, then by what their lines say when they still lie turned (``Page.turned``),
checked against decompression bombs, then OCR'd page by page. Each frame is hashed as
stored (extractors.pictures), a single picture's file as a whole too."""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from extractors.errors import CorruptFileError, ImageTooLargeError, TooManyPagesError
from extractors.marks import find_seals, to_page
from extractors.model import Document, Page
from extractors.ocr import map_bounded
from extractors.parsers.ocrpage import MIN_SIDE, ocr_page, prepare_for_ocr, turn_upright
from extractors.pictures import file_hash, pixel_hash, unique
from extractors.registry import ParseOptions
from extractors.sniff import JPEG, PNG, TIFF

log = logging.getLogger(__name__)

_ORIENTATION = 0x0112
_ROTATION = {3: 180, 6: 270, 8: 90}  # EXIF orientation → degrees turned (PIL, anticlockwise)


class ImageParser:
    name = "image"
    types = (JPEG, PNG, TIFF, "image/bmp", "image/webp", "image/gif")

    def score(self, media_type: str) -> int:
        return 10 if media_type in self.types else 0

    def parse(self, path: Path, options: ParseOptions) -> Document:
        with tempfile.TemporaryDirectory(prefix="intake-img-") as tmp:
            frames = list(_frames(path, options, Path(tmp)))
            total = len(frames)
            reader = options.engine_for(total)
            whole = _file_hash(path) if total == 1 else []  # the file is that one picture

            def read(item) -> Page:
                number, target, size, back, width, height, rotation, marks, pixels, lie = item
                page = ocr_page(reader, target, size, back, number, width, height, "px", lie, marks)
                page.rotation = rotation
                page.images = 1
                page.pictures = unique(whole + pixels)
                target.unlink(missing_ok=True)
                return page

            pages = list(
                map_bounded(
                    read,
                    frames,
                    options.ocr_workers,
                    lambda done: options.progress("ocr", done, total),
                )
            )
        return Document(media_type="image", parser=self.name, pages=pages)


def _frames(path: Path, options: ParseOptions, tmp: Path):
    """Decode each frame safely, write an OCR-ready copy, yield what OCR needs.

    Frames are prepared before OCR starts (they are small greyscale files on disk) so a
    bad frame fails the file before any OCR time is spent."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise CorruptFileError(f"image: {exc}") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLargeError(str(exc)) from exc
        with image:
            width, height = image.size
            engine = options.engine_for(getattr(image, "n_frames", 1))
            min_side = getattr(engine, "min_side", MIN_SIDE)
            if width * height > options.max_image_pixels:
                raise ImageTooLargeError(f"{width}x{height} px")
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if number > min(options.max_pages, options.max_frames):
                    raise TooManyPagesError(
                        f"more than {options.max_frames} frames",
                        message=f"图片文件包含的页（帧）过多（超过 {options.max_frames} 页），"
                        "请把扫描件导出为 PDF 后上传",
                    )
                try:
                    rotation = _ROTATION.get(frame.getexif().get(_ORIENTATION, 1), 0)
                    upright = ImageOps.exif_transpose(frame)
                    upright.load()
                except (OSError, SyntaxError, ValueError) as exc:
                    raise CorruptFileError(f"frame {number}: {exc}") from exc
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise ImageTooLargeError(str(exc)) from exc
                pixels = _pixel_hash(frame, number)  # as stored, whatever its EXIF tag
                # Turned upright, if it lies turned with no tag to say so, before anything else.
                upright, lie = turn_upright(engine, upright)
                seals = find_seals(upright)
                marks = to_page(seals, upright.width, upright.height)
                target = tmp / f"f{number}.pnm"
                colour = getattr(engine, "colour", False)
                back = prepare_for_ocr(upright, target, seals, min_side, colour)
                size = upright.size
                yield (number, target, size, back, size[0], size[1], rotation, marks, pixels, lie)


def _pixel_hash(frame: Image.Image, number: int) -> list[str]:
    """The frame's pixel hash, or none when its mode cannot be turned into RGB."""
    try:
        return [pixel_hash(frame)]
    except Exception as exc:  # a hash is a hint: never a reason to fail the file
        log.debug("pixel hash of frame %d skipped: %s", number, exc)
        return []


def _file_hash(path: Path) -> list[str]:
    try:
        return [file_hash(path)]
    except OSError as exc:
        log.debug("raw hash of %s skipped: %s", path, exc)
        return []
