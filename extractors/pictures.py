"""Content hashes of a page's main picture(s), so the same scan or photo reused in two
applicants' dossiers can be found (``Page.pictures``). Two kinds, kept in one list, since a
match on either is a reuse:

- pixel hash: sha256 over ``b"px:%dx%d:" % (width, height)`` followed by the picture
  converted to RGB, row after row (``image.convert("RGB").tobytes()``). A PNG, the same
  pixels stored Flate-compressed in a PDF, or a greyscale copy of it hash the same; a
  re-encoded JPEG does not (its pixels change).
- raw hash: sha256 of the picture's encoded bytes as stored: a whole image file, or a PDF
  image's stream (for a JPEG, JPEG 2000, JBIG2 or CCITT picture, the codec's own bytes, once
  transport filters such as ASCII85 are undone). A JPEG file and the same JPEG embedded
  unchanged in a PDF (reportlab, img2pdf) hash the same.

Both are lowercase hex. Per picture the raw hash comes first, then the pixel hash;
duplicates are dropped, keeping the first. A PDF image in a picture codec gets only its raw
hash (its bytes are the picture; decoding it costs 9 times as much and matches no more).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

BAND_ROWS = 256  # rows converted to RGB at a time: memory stays a band, not a second copy


def pixel_hash(image: Image.Image) -> str:
    """sha256 of ``b"px:WxH:" + image.convert("RGB").tobytes()``, computed band by band."""
    width, height = image.size
    digest = hashlib.sha256(b"px:%dx%d:" % (width, height))
    for top in range(0, height, BAND_ROWS):
        band = image.crop((0, top, width, min(top + BAND_ROWS, height)))
        band.info.pop("transparency", None)  # RGB drops it anyway; Pillow would warn
        digest.update(band.convert("RGB").tobytes())
    return digest.hexdigest()


def raw_hash(data: bytes | bytearray | memoryview) -> str:
    """sha256 of encoded picture bytes as stored (a PDF image stream's data)."""
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """The raw hash of a whole image file, read in chunks."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def unique(hashes: Iterable[str]) -> list[str]:
    """Drop repeats, keep the first occurrence's order."""
    return list(dict.fromkeys(hashes))
