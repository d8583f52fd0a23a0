"""RapidOCR 3.x (the ``rapidocr`` package) behind the same interface as
``extractors.ocr.RapidOcrEngine``: the engine ``auto`` reads pictures and short scans with
(``extractors.ocr.engines``; the figures in benchmarks/RESULTS.md, section 8).

The 3.10 wheel carries PP-OCRv6 *small* detection and recognition models and the v2.0
text-line direction classifier (0°/180° per line, not page orientation), so it works
offline with the defaults. Other model versions or sizes (PP-OCRv5, PP-OCRv6 tiny/medium)
are downloaded at first use, which this service never does: asking for one that is not in
the wheel is an ``OcrFailedError``, not a network call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from extractors.errors import OcrFailedError
from extractors.ocr import OcrResult, result_from_quads

# What the 3.x wheel ships (rapidocr/models); anything else would be downloaded.
SHIPPED = {("PP-OCRv6", "small")}


@dataclass(frozen=True)
class RapidOcr3Engine:
    """PP-OCRv6 (rapidocr 3.x on onnxruntime): one line per detected text box, as
    ``RapidOcrEngine`` gives, with the box's score as its confidence."""

    ocr_version: str = "PP-OCRv6"
    model_type: str = "small"
    # The per-line 0°/180° classifier stays off: pages are turned upright before they are
    # read (extractors.parsers.orientation), and on an upright page it can only turn a line
    # over. It did so to short lines: 0001's wrapped "1001室" (180° at 0.96) then read
    # "1001", and 0150's legal representative's line was lost the same way.
    use_cls: bool = False
    name: str = "rapidocr3"
    # Lines the recogniser reads at once (RapidOCR's rec_batch_num, 6 by default). A batch
    # is padded to its widest line, so a long line makes its five neighbours as costly as
    # itself; in twos, the 40 real licences read 13 % faster (median; up to 28 % on a small
    # photo with one long line, and no slower beyond noise) with every field as in sixes
    # (benchmarks/RESULTS.md, section 13).
    rec_batch: int = 2
    min_side: int = 0  # it scales pictures itself
    colour: ClassVar[bool] = True  # reads the colour page, seals lifted (ocrpage.prepare_for_ocr)
    # Orientation looks (extractors.parsers.orientation): the v6 detector costs 2.4 times
    # v4's; on the 160 turned real licences 512 px decided all (0.45 CPU s median), 416 px
    # all but 3 (0.33 s), which the larger look then decided.
    looks: ClassVar[tuple[tuple[int, int], ...]] = ((416, 320), (960, 736))

    def read(self, image: Path, width: int, height: int) -> OcrResult:
        try:
            ocr = self._loaded()
            with _LOCK:  # one page at a time: onnxruntime already uses every core
                found = ocr(str(image), use_cls=self.use_cls)
        except OcrFailedError:
            raise
        except ImportError as exc:
            raise OcrFailedError(f"rapidocr 3.x is not installed: {exc}") from exc
        except Exception as exc:  # onnxruntime, OpenCV and omegaconf raise their own types
            raise OcrFailedError(f"rapidocr3 failed: {exc}") from exc
        boxes = [] if found.boxes is None else found.boxes.tolist()
        found = zip(boxes, found.txts or (), found.scores or (), strict=True)
        return to_result(found, width, height)

    def detect_lines(self, image: Any, floor: int) -> list:
        """Text boxes (4 points each) on ``image`` (an RGB array), which the detector
        enlarges to ``floor`` px on its short side at least."""
        ocr = self._loaded()
        with _LOCK:
            det = ocr._load_det_model()  # rapidocr 3 has no public accessor for its detector
            setting = det.limit_side_len
            det.limit_side_len = floor
            try:
                boxes = det(image).boxes
            finally:  # the reader's own setting is put back, under the same lock
                det.limit_side_len = setting
        return [] if boxes is None else list(boxes)

    def line_directions(self, crops: list) -> list[tuple[str, float]]:
        """Per line image laid flat: ("0" or "180", the classifier's score)."""
        if not crops:
            return []
        ocr = self._loaded()
        with _LOCK:
            found = ocr._load_cls_model()(crops).cls_res or []
        return [(str(label), float(score)) for label, score in found]

    def recognise_lines(self, crops: list) -> list[tuple[str, float]]:
        """The recogniser alone, on line images (RGB arrays): (text, score) each
        (``extractors.lonechars`` gives it what the detector missed)."""
        if not crops:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        ocr = self._loaded()
        with _LOCK:
            found = ocr._load_rec_model()(TextRecInput(img=crops))
        read = zip(found.txts or (), found.scores or (), strict=True)
        return [(str(text), float(score)) for text, score in read]

    def _loaded(self):
        if (self.ocr_version, self.model_type) not in SHIPPED:
            raise OcrFailedError(
                f"rapidocr3: {self.ocr_version} {self.model_type} is not in the wheel"
            )
        return _rapidocr3(self.ocr_version, self.model_type, self.rec_batch)

    @property
    def config(self) -> str:
        """What a parse made with this engine depended on (for caches)."""
        return (
            f"{self.name}:{self.ocr_version}:{self.model_type}:cls{int(self.use_cls)}"
            f":batch{self.rec_batch}"
        )


def to_result(found, width: int, height: int) -> OcrResult:
    """As ``RapidOcrEngine.read`` builds its result."""
    return result_from_quads(found, width, height)


_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _rapidocr3(ocr_version: str, model_type: str, rec_batch: int):
    from rapidocr import ModelType, OCRVersion, RapidOCR

    return RapidOCR(
        params={
            "Global.log_level": "warning",
            "Det.ocr_version": OCRVersion(ocr_version),
            "Det.model_type": ModelType(model_type),
            "Rec.ocr_version": OCRVersion(ocr_version),
            "Rec.model_type": ModelType(model_type),
            "Rec.rec_batch_num": rec_batch,
        }
    )


def available() -> bool:
    """Is rapidocr 3.x importable (not the 1.x ``rapidocr_onnxruntime``)?"""
    import importlib.metadata

    try:
        return int(importlib.metadata.version("rapidocr").split(".")[0]) >= 3
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
