"""Image cues a page's text does not carry: red official seals (公章).

A seal is a red, roughly round or oval patch of ring, star and text, a few centimetres
across. It is found on a small colour copy of the page: pixels that are clearly red are
grouped into connected patches (``scipy.ndimage.label``), and a patch of seal size, shape
and density is a seal. Boxes come back as fractions of the image, so each parser can put
them in its page's own unit.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from extractors.model import Mark

WORK_SIDE = 600  # the long side of the copy searched; a seal is then 50–200 px across
MIN_SIDE_SHARE = 0.06  # of the page's shorter side: smaller red marks are not seals
MAX_SIDE_SHARE = 0.5
CLOSE = 7  # px on the work copy: the gaps black text leaves in a seal's ring


def _hsv(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB").convert("HSV"), dtype=np.int16)


def red_mask(hsv: np.ndarray) -> np.ndarray:
    """Pixels that are clearly red (not pink paper, not brown shadow, not black ink)."""
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((hue <= 14) | (hue >= 232)) & (sat >= 50) & (val >= 90)


def gold_mask(hsv: np.ndarray) -> np.ndarray:
    """Gold and yellow: the national emblem printed on licences and certificates is a red
    disc with gold in it; a seal has none."""
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return (hue >= 18) & (hue <= 45) & (sat >= 100) & (val >= 120)


def find_seals(image: Image.Image) -> list[Mark]:
    """Red seals on a page picture; ``bbox`` in fractions of the picture (0–1)."""
    factor = WORK_SIDE / max(image.size)
    small = image
    if factor < 1:
        small = image.resize(
            (max(1, round(image.width * factor)), max(1, round(image.height * factor))),
            Image.Resampling.BILINEAR,
        )
    hsv = _hsv(small)
    mask = red_mask(hsv)
    if mask.sum() < 50:
        return []
    # Close small gaps so a ring broken by black text stays one patch: a closing by a 7 × 7
    # square, as separable maximum and minimum filters (outside the picture counts as no ink,
    # as for ``binary_closing``; a third of its time).
    grown = ndimage.maximum_filter(mask, size=CLOSE, mode="constant", cval=0)
    joined = ndimage.minimum_filter(grown, size=CLOSE, mode="constant", cval=0)
    labels, _ = ndimage.label(joined)
    height, width = mask.shape
    short = min(width, height)
    seals: list[Mark] = []
    for found in ndimage.find_objects(labels):
        if found is None:
            continue
        rows, cols = found
        h, w = rows.stop - rows.start, cols.stop - cols.start
        if not (MIN_SIDE_SHARE * short <= max(w, h) <= MAX_SIDE_SHARE * short):
            continue
        aspect = w / h
        if not 0.6 <= aspect <= 1.8:
            continue
        patch = mask[rows, cols]
        density = float(patch.sum()) / (w * h)
        if not 0.06 <= density <= 0.65:  # a seal is ring and text, not a solid red block
            continue
        ring = _ring_share(patch)
        if ring < 0.5:
            continue
        if float(gold_mask(hsv[rows, cols]).sum()) > 0.3 * float(patch.sum()):
            continue  # an emblem
        conf = round(min(0.99, 0.5 + 0.5 * ring * (1 - abs(1 - min(aspect, 1 / aspect)))), 2)
        seals.append(
            Mark(
                kind="red_seal",
                bbox=(
                    round(cols.start / width, 4),
                    round(rows.start / height, 4),
                    round(cols.stop / width, 4),
                    round(rows.stop / height, 4),
                ),
                conf=conf,
            )
        )
    return seals


def _ring_share(patch: np.ndarray) -> float:
    """Share of the patch's outline band (its outer sixth, as an ellipse) that is red in
    at least some direction: a seal's border ring runs all the way round."""
    h, w = patch.shape
    yy, xx = np.mgrid[0:h, 0:w]
    ny = (yy + 0.5 - h / 2) / (h / 2)
    nx = (xx + 0.5 - w / 2) / (w / 2)
    radius = np.sqrt(nx * nx + ny * ny)
    band = (radius >= 0.7) & (radius <= 1.0)
    if not band.any():
        return 0.0
    angle = np.arctan2(ny, nx)[band]
    red = patch[band]
    sectors = np.floor((angle + np.pi) / (2 * np.pi) * 24).astype(int) % 24
    covered = {int(s) for s in sectors[red]}
    return len(covered) / 24


def to_page(marks: list[Mark], width: float, height: float) -> list[Mark]:
    """Fractions of the picture → the page's unit."""
    return [
        m.model_copy(
            update={
                "bbox": (
                    round(m.bbox[0] * width, 2),
                    round(m.bbox[1] * height, 2),
                    round(m.bbox[2] * width, 2),
                    round(m.bbox[3] * height, 2),
                )
            }
        )
        for m in marks
    ]
