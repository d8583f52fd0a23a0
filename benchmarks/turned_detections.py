"""Variant box layouts of real licences for the licence reader: each licence's prepared
picture (seals lifted, as the service prepares it) is detected turned 90°, 180° and 270°,
the boxes are turned back and recognised on the upright picture, and the service's reader
(lone characters, classification, extraction) is run on them.

    python benchmarks/turned_detections.py [FOLDER] [--only 0001,0363] [--turns 90,180,270]
        [--dump OUT.json]

PP-OCR's detector finds other boxes on a turned page: a title boxed character by character,
a label column in pieces, a label taller than its row, rows set tighter. Real photos give
such layouts too, so they are a cheap source of variants the reader has not seen (three
reader fixes of session 8 came from them; RESULTS §13). A field read on the upright picture
and not on a variant is a reading worth a look, not necessarily a reader fault: a line the
detector missed on the turned page is simply not there. Pictures stored on their side
(0357, 0370) are turned upright first by the service's own look. ``--dump`` writes each
variant's boxes (text, box) for table cases. Not imported by tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "real" / "licences"
FIELDS = (
    "applicant.name",
    "applicant.credit_code",
    "applicant.legal_representative",
    "applicant.address",
    "applicant.established",
)


def norm(value) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def turned_quads(quads: np.ndarray, turn: int, width: float, height: float) -> np.ndarray:
    """Boxes found on a picture ``width`` × ``height`` where they are once it is turned
    ``turn`` degrees clockwise, each listed from its new top-left point, clockwise."""
    x, y = quads[..., 0], quads[..., 1]
    if turn == 90:
        moved = np.stack([height - y, x], axis=-1)
    elif turn == 180:
        moved = np.stack([width - x, height - y], axis=-1)
    else:
        moved = np.stack([y, width - x], axis=-1)
    return np.ascontiguousarray(np.roll(moved, turn // 90, axis=1))


def variant(ocr, upright: np.ndarray, turn: int):
    """The upright picture read with the boxes the detector finds on it stored turned
    ``turn`` degrees anticlockwise: (quad, text, score) triplets in upright pixels."""
    from rapidocr.ch_ppocr_rec import TextRecInput

    stored = np.ascontiguousarray(np.rot90(upright, turn // 90))  # anticlockwise
    img, _ = ocr.preprocess_img(stored)
    quads = ocr._load_det_model()(img).boxes
    if quads is None or not len(quads):
        return []
    quads = np.asarray(quads, dtype=np.float32)
    quads[..., 0] *= stored.shape[1] / img.shape[1]
    quads[..., 1] *= stored.shape[0] / img.shape[0]
    back = turned_quads(quads, turn, stored.shape[1], stored.shape[0])
    read = ocr._load_rec_model()(TextRecInput(img=ocr.crop_text_regions(upright, back)))
    return [
        (quad.tolist(), text, score)
        for quad, text, score in zip(back, read.txts or (), read.scores or (), strict=True)
        if text.strip() and score >= ocr.text_score
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    parser.add_argument("--only", default="", help="comma-separated numbers: 0001,0363")
    parser.add_argument("--turns", default="90,180,270")
    parser.add_argument("--dump", type=Path, default=None, help="each variant's boxes")
    args = parser.parse_args()

    from PIL import Image, ImageOps

    from extractors import lonechars
    from extractors.classify import classify_documents
    from extractors.fields import extract_fields
    from extractors.marks import find_seals
    from extractors.model import Document, Origin, Page
    from extractors.ocr_rapid3 import _rapidocr3, to_result
    from extractors.parsers.ocrpage import prepare_for_ocr, turn_upright
    from intake.settings import Settings

    engine = Settings(ocr_engine="rapidocr3").parse_options().engine_for(1)
    ocr = _rapidocr3(engine.ocr_version, engine.model_type, engine.rec_batch)
    truth = json.loads((args.folder / "truth.json").read_text("utf-8"))["documents"]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    turns = [int(t) % 360 for t in args.turns.split(",") if t.strip()]
    right = {f: [0, 0] for f in FIELDS}
    dump: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="variants-") as tmp:
        prepared = Path(tmp) / "page.ppm"
        for name in sorted(truth):
            path = args.folder / name
            if (only and path.stem not in only) or not path.exists():
                continue
            with Image.open(path) as image:
                picture, _ = turn_upright(engine, ImageOps.exif_transpose(image).convert("RGB"))
            prepare_for_ocr(picture, prepared, find_seals(picture), 0, colour=True)
            with Image.open(prepared) as copy:
                upright = np.asarray(copy.convert("RGB"))
            height, width = upright.shape[:2]  # boxes are in the prepared picture's pixels
            for turn in turns:
                result = to_result(variant(ocr, upright, turn), width, height)
                result = lonechars.recover(result, prepared, engine)
                page = Page(number=1, width=width, height=height, unit="px",
                            origin=Origin.OCR, blocks=result.blocks, conf=result.conf)  # fmt: skip
                documents = [(name, Document(media_type="image", parser="image", pages=[page]))]
                values = extract_fields(documents, classify_documents(documents))
                lost = []
                for field in FIELDS:
                    want = truth[name]["fields"].get(field)
                    if want is None:
                        continue
                    got = values.get(field)
                    got = str(got[0].value) if got else None
                    ok = got is not None and norm(got) == norm(want)
                    right[field][0] += ok
                    right[field][1] += 1
                    if not ok:
                        lost.append(f"{field.split('.', 1)[1]}: {want} | {got}")
                said = "; ".join(lost) or "ok"
                print(f"{path.stem}-{turn:<3} {said}", flush=True)
                dump[f"{path.stem}-{turn}"] = [
                    (line.text, [round(v) for v in line.bbox]) for line in page.lines
                ]
    print()
    for field, (good, total) in right.items():
        print(f"{field:32} {good:4}/{total}")
    if args.dump:
        args.dump.write_text(json.dumps(dump, ensure_ascii=False, indent=0), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
