"""Score the service's reading of real business licences against their truth.

    python benchmarks/licences.py [FOLDER] [--engine rapidocr|tesseract|rapidocr3]
        [--json OUT.json] [--cache DIR | --no-cache] [--only 0001,0002]

FOLDER (default ``../shared/corpus/real/licences``) holds images and ``truth.json``
(its README says how values compare). Each image goes the way ``intake check`` takes one
file: parsed with the default settings (the chosen engine for pictures), classified,
fields extracted; the first value of each ``applicant.*`` field is what the checks judge
on, so that is the value scored. Per field: right, wrong, missing (printed, nothing read),
invented (read, but truth is null: not printed or not legible). ``sure-bad`` counts the
wrong and invented values given without doubt (confidence at least 0.6 and no note): those
a check may decide a ``fail`` on.

The parsed Document is cached per (image sha256, engine, document-model version) under
``--cache`` as the file store keeps it (gzip JSON), so re-running after a change to
classification or extraction does not OCR again; a change to image preparation needs
``--no-cache``. Not imported by tests.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.classify import classify_documents  # noqa: E402
from extractors.fields import extract_fields  # noqa: E402
from extractors.model import MODEL_VERSION, Document  # noqa: E402
from extractors.ocr import OcrEngine, OcrResult, RapidOcrEngine, TesseractEngine  # noqa: E402
from extractors.registry import parse_file  # noqa: E402
from intake.settings import Settings  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "real" / "licences"
FIELDS = [
    "applicant.name",
    "applicant.credit_code",
    "applicant.legal_representative",
    "applicant.address",
    "applicant.established",
]
OPTIONAL = ["applicant.registration_number"]  # scored only if the service reads it
IMAGES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
ENGINES = ("rapidocr", "tesseract", "rapidocr3")
STATUSES = ("right", "wrong", "missing", "invented", "absent")  # absent: null, nothing read
DOUBT = 0.6  # validators.engine.LOW_CONFIDENCE: below it a value never decides a fail


def norm(value: Any) -> str:
    """As the corpus README and ``score.py`` compare: NFKC, whitespace removed, upper."""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


@dataclass
class TimedEngine:
    """Passes reads to an engine and adds up the seconds they take (reads only: an
    orientation look, which uses the engine's line models, is parse time, not OCR time)."""

    engine: OcrEngine
    seconds: float = 0.0

    def __getattr__(self, name: str) -> Any:
        """Everything but ``read`` is the engine's own (its name, how pictures are prepared
        for it, its line models for orientation), so the service treats it as the engine."""
        if name == "engine":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.engine, name)

    def read(self, image: Path, width: int, height: int) -> OcrResult:
        start = time.perf_counter()
        try:
            return self.engine.read(image, width, height)
        finally:
            self.seconds += time.perf_counter() - start


def make_engine(name: str, settings: Settings) -> tuple[OcrEngine, str]:
    """The engine and a label of everything its output depends on (the cache key)."""
    if name == "rapidocr":
        version = importlib.metadata.version("rapidocr-onnxruntime")
        return RapidOcrEngine(), f"rapidocr-onnxruntime-{version}"
    if name == "tesseract":
        engine = TesseractEngine(
            lang=settings.ocr_lang,
            psm=settings.ocr_psm,
            timeout=settings.ocr_timeout,
            digits=settings.ocr_digits,
        )
        return engine, f"tesseract-{engine.lang}-psm{engine.psm}-digits{int(engine.digits)}"
    if name == "rapidocr3":
        from extractors.ocr_rapid3 import RapidOcr3Engine

        engine = RapidOcr3Engine()
        version = importlib.metadata.version("rapidocr")
        return engine, f"rapidocr-{version}-{engine.config.replace(':', '-')}"
    raise SystemExit(f"unknown engine {name!r}")


def read_document(
    path: Path, sha: str, engine: OcrEngine, label: str, settings: Settings, cache: Path | None
) -> tuple[Document, dict[str, Any]]:
    """Parse the image (or load the parse cached for this image and engine)."""
    key = f"{sha}-{label}-m{MODEL_VERSION}".replace("/", "_")
    stored = cache / f"{key}.json.gz" if cache else None
    meta_path = cache / f"{key}.meta.json" if cache else None
    if stored is not None and stored.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return Document.from_gzip_json(stored.read_bytes()), {**meta, "cached": True}
    timed = TimedEngine(engine)
    options = settings.parse_options()
    options.ocr = options.ocr_long = timed
    start = time.perf_counter()
    document = parse_file(path, options)
    meta = {"parse_s": round(time.perf_counter() - start, 3), "ocr_s": round(timed.seconds, 3)}
    if stored is not None:
        cache.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(document.to_gzip_json())
        meta_path.write_text(json.dumps(meta))
    return document, {**meta, "cached": False}


def score_image(name: str, document: Document, truth: dict[str, Any], fields: list[str]):
    """Classify and extract as the report does; one status per field."""
    start = time.perf_counter()
    materials = classify_documents([(name, document)])
    values = extract_fields([(name, document)], materials)
    extract_s = time.perf_counter() - start
    out: dict[str, Any] = {}
    for field in fields:
        found = [v for v in values.get(field, []) if v.file == name]
        read = found[0].value if found else None
        want = truth.get(field)
        if want is None:
            status = "invented" if found else "absent"
        elif not found:
            status = "missing"
        else:
            status = "right" if norm(read) == norm(want) else "wrong"
        out[field] = {
            "status": status,
            "truth": want,
            "read": read,
            "others": [v.value for v in found[1:]],
            "right_among_others": status == "wrong"
            and any(norm(v.value) == norm(want) for v in found[1:]),
            "material": found[0].material if found else None,
            "text": found[0].text if found else None,
            # Given with a doubt the checks heed (low confidence or a note): never a fail.
            "doubted": bool(found) and (found[0].confidence < DOUBT or bool(found[0].note)),
        }
    kinds = [m.type for m in materials]
    return out, kinds, extract_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    parser.add_argument("--engine", choices=ENGINES, default="rapidocr3", help="OCR for pictures")
    parser.add_argument("--json", type=Path, default=None, help="per-image results")
    parser.add_argument("--cache", type=Path, default=Path(".corpus-data/licence-ocr"))
    parser.add_argument("--no-cache", action="store_true", help="OCR again; cache nothing")
    parser.add_argument("--only", default="", help="comma-separated numbers: 0001,0002")
    args = parser.parse_args()

    truth = json.loads((args.folder / "truth.json").read_text(encoding="utf-8"))["documents"]
    images = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGES)
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
        images = [p for p in images if p.stem in wanted or p.name in wanted]
    settings = Settings()
    engine, label = make_engine(args.engine, settings)
    cache = None if args.no_cache else args.cache
    print(f"engine {args.engine} ({label}), {len(images)} images, cache {cache or 'off'}")

    results = []
    for path in images:
        if path.name not in truth:
            print(f"{path.name}: no truth, skipped", file=sys.stderr)
            continue
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        document, meta = read_document(path, sha, engine, label, settings, cache)
        results.append({"file": path.name, "sha256": sha, **meta, "document": document})
        print(
            f"{path.name}: parse {meta['parse_s']:.2f} s (OCR {meta['ocr_s']:.2f} s)"
            + (" cached" if meta["cached"] else ""),
            flush=True,
        )
    for r in results:
        r["fields"], r["materials"], r["extract_s"] = score_image(
            r["file"], r.pop("document"), truth[r["file"]]["fields"], FIELDS + OPTIONAL
        )
        r["extract_s"] = round(r["extract_s"], 3)
    read = {f for r in results for f, v in r["fields"].items() if v["read"] is not None}
    fields = FIELDS + [f for f in OPTIONAL if f in read]
    for r in results:
        r["fields"] = {f: r["fields"][f] for f in fields}
    report(results, fields)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"engine": args.engine, "label": label, "images": results},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        print(f"\nper-image results: {args.json}")
    return 0


def report(results: list[dict[str, Any]], fields: list[str]) -> None:
    n = len(results)
    print(
        f"\n{'field':32} {'right':>5} {'wrong':>5} {'miss':>5} {'invent':>6} {'absent':>6}"
        f" {'right/printed':>13} {'correct/all':>11} {'any-value':>9} {'sure-bad':>8}"
    )
    for field in fields:
        counts = {s: 0 for s in STATUSES}
        among = sure_bad = 0
        for r in results:
            f = r["fields"][field]
            counts[f["status"]] += 1
            among += f["right_among_others"]
            sure_bad += f["status"] in ("wrong", "invented") and not f["doubted"]
        printed = counts["right"] + counts["wrong"] + counts["missing"]
        correct = counts["right"] + counts["absent"]
        print(
            f"{field:32} {counts['right']:5} {counts['wrong']:5} {counts['missing']:5}"
            f" {counts['invented']:6} {counts['absent']:6}"
            f" {counts['right'] / max(1, printed):12.1%} {correct / max(1, n):11.1%}"
            f" {(counts['right'] + among) / max(1, printed):9.1%} {sure_bad:8}"
        )
    licence = sum(1 for r in results if "business_licence" in r["materials"])
    print(f"classified business_licence: {licence}/{n}")

    print("\nmistakes (file, field, status, truth, read [other values]):")
    for r in results:
        for field in fields:
            f = r["fields"][field]
            if f["status"] in ("right", "absent"):
                continue
            others = f" [{' | '.join(map(str, f['others']))}]" if f["others"] else ""
            doubted = " (doubted)" if f["doubted"] else ""
            print(
                f"  {r['file']} {field.split('.', 1)[1]:22} {f['status']:8} "
                f"{f['truth']!s:30} {f['read']!s}{doubted}{others}"
            )

    parse = [r["parse_s"] for r in results]
    ocr = [r["ocr_s"] for r in results]
    print("\nseconds per image (as measured when parsed; cached parses keep their time):")
    cells = [f"{Path(r['file']).stem}:{r['ocr_s']:.1f}/{r['parse_s']:.1f}" for r in results]
    print("  (image: OCR s/parse s) " + "  ".join(cells))
    if results:
        extract = sum(r["extract_s"] for r in results)
        print(
            f"OCR total {sum(ocr):.1f} s, median {statistics.median(ocr):.2f} s; parse total "
            f"{sum(parse):.1f} s, median {statistics.median(parse):.2f} s; "
            f"classify+extract total {extract:.2f} s"
        )


if __name__ == "__main__":
    raise SystemExit(main())
