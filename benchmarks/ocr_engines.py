"""Compare OCR engines on real licence images: time, peak memory and what each can see.

    python benchmarks/ocr_engines.py [FOLDER] [--engines rapidocr,rapidocr3,tesseract]
        [--input upright|prepared] [--only 0001,0002] [--json OUT.json]

FOLDER (default ``../shared/corpus/real/licences``) holds images and ``truth.json``. Every
image is first turned upright by its EXIF tag and written as PNG (``--input upright``, the
bare engine on the image as a person sees it), or prepared as the service prepares a
picture for OCR (``--input prepared``: grey, resized, ruling lines and seal ink lifted);
that is not timed. Each engine then runs in its own process (so its peak resident memory
is its own): one untimed warm-up read of the first image, then every image timed.

What an engine can see, for the printed truth values of name, credit code, registration
number, legal representative and address (the date is printed in many forms, so it is
left out), compared after NFKC and whitespace removal:

* ``verbatim``: the value occurs in the engine's lines joined in its own order;
* ``wrapped``: the value is inside one line, or is the end of one line, whole lines, and
  the start of another (a value that wraps, whatever the reading order around it);
* ``similar``: the mean best-substring similarity (rapidfuzz ``partial_ratio``) of each
  value in the joined text, a character-level figure.

Engines: ``rapidocr`` (rapidocr-onnxruntime, PP-OCRv4, as the service uses it today),
``rapidocr3`` (rapidocr 3.x, its default: the PP-OCRv6 small models in its wheel, with the
per-line 180° classifier), ``rapidocr3-nocls`` (the same without it), ``tesseract`` (as the
service configures it: ``chi_sim+eng``, psm 4, one thread). ``ENGINE+service`` also times
the service's whole reading of each file with that engine, paired with the bare read (the
peak memory is then the service's). Not imported by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "real" / "licences"
ENGINES = ("rapidocr", "rapidocr3", "rapidocr3-nocls", "tesseract")
VISIBLE_FIELDS = (
    "applicant.name",
    "applicant.credit_code",
    "applicant.registration_number",
    "applicant.legal_representative",
    "applicant.address",
)
IMAGES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}


def norm(value: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def make_engine(name: str):
    from extractors.ocr import RapidOcrEngine, TesseractEngine
    from intake.settings import Settings

    if name == "rapidocr":
        return RapidOcrEngine()
    if name in ("rapidocr3", "rapidocr3-nocls"):
        from extractors.ocr_rapid3 import RapidOcr3Engine

        return RapidOcr3Engine(use_cls=name == "rapidocr3")
    if name == "tesseract":
        s = Settings()
        return TesseractEngine(lang=s.ocr_lang, psm=s.ocr_psm, timeout=s.ocr_timeout)
    raise SystemExit(f"unknown engine {name!r} (one of {', '.join(ENGINES)})")


# --------------------------------------------------------------------------- visibility


def wrapped_in(value: str, lines: list[str]) -> bool:
    """Inside one line, or the end of one line + whole lines + the start of another."""
    if any(value in line for line in lines):
        return True
    n = len(value)
    # starts[i]: value[i:] can be finished from position i (whole lines, then a prefix)
    done = [False] * (n + 1)
    done[n] = True
    for i in range(n - 1, 0, -1):
        rest = value[i:]
        done[i] = any(line.startswith(rest) for line in lines if line) or any(
            line and rest.startswith(line) and done[i + len(line)] for line in lines
        )
    return any(done[k] and any(line.endswith(value[:k]) for line in lines) for k in range(1, n))


def visibility(lines: list[str], truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from rapidfuzz import fuzz

    normed = [norm(line) for line in lines]
    joined = "".join(normed)
    out = {}
    for field in VISIBLE_FIELDS:
        want = truth.get(field)
        if want is None:
            continue
        value = norm(want)
        out[field] = {
            "verbatim": value in joined,
            "wrapped": wrapped_in(value, normed),
            "similar": round(fuzz.partial_ratio(value, joined) / 100, 3),
        }
    return out


# --------------------------------------------------------------------------- worker


def worker(engine_name: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs in its own process: warm up, read every image, report times and memory. With
    ``+service`` after the engine's name, the service's whole reading of each original file
    (parse with that engine, classify, extract) is timed right after the bare read."""
    base, _, service = engine_name.partition("+")
    start = time.perf_counter()
    engine = make_engine(base)
    first = inputs[0]
    engine.read(Path(first["path"]), first["width"], first["height"])
    if service:
        service_read(engine, Path(first["source"]))
    warmup_s = time.perf_counter() - start
    images = []
    for item in inputs:
        t, cpu = time.perf_counter(), _cpu()
        result = engine.read(Path(item["path"]), item["width"], item["height"])
        seconds, cpu = time.perf_counter() - t, _cpu() - cpu
        lines = [line.text for block in result.blocks for line in block.lines]
        images.append(
            {
                "file": item["file"],
                "seconds": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "lines": lines,
                "conf": result.conf,
                "visible": visibility(lines, item["truth"]),
            }
        )
        if service:
            t = time.perf_counter()
            service_read(engine, Path(item["source"]))
            images[-1]["service_s"] = round(time.perf_counter() - t, 3)
    return {
        "engine": engine_name,
        "warmup_s": round(warmup_s, 3),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "images": images,
    }


def service_read(engine, path: Path) -> None:
    """The service's reading of one picture, as ``benchmarks/licences.py`` does it."""
    from extractors.classify import classify_documents
    from extractors.fields import extract_fields
    from extractors.registry import parse_file
    from intake.settings import Settings

    options = Settings().parse_options()
    options.ocr = options.ocr_long = engine
    documents = [(path.name, parse_file(path, options))]
    extract_fields(documents, classify_documents(documents))


def _cpu() -> float:
    """CPU seconds of this process and its finished children (tesseract), all threads:
    steadier than wall time on a machine that others share."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# --------------------------------------------------------------------------- inputs


def prepare_inputs(folder: Path, only: set[str], mode: str, tmp: Path) -> list[dict[str, Any]]:
    from PIL import Image, ImageOps

    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["documents"]
    inputs = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGES):
        if path.name not in truth or (only and path.stem not in only and path.name not in only):
            continue
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
        if mode == "prepared":
            from extractors.marks import find_seals
            from extractors.parsers.ocrpage import prepare_for_ocr

            target = tmp / f"{path.stem}.pgm"
            prepare_for_ocr(upright, target, find_seals(upright))
            with Image.open(target) as written:
                size = written.size
        else:
            target = tmp / f"{path.stem}.png"
            upright.save(target, format="PNG", compress_level=1)
            size = upright.size
        inputs.append(
            {
                "file": path.name,
                "source": str(path),
                "path": str(target),
                "width": size[0],
                "height": size[1],
                "truth": truth[path.name]["fields"],
            }
        )
    return inputs


def run_engine(name: str, inputs_file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--inputs", str(inputs_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


# --------------------------------------------------------------------------- report


def summary(run: dict[str, Any]) -> dict[str, Any]:
    seconds = [i["seconds"] for i in run["images"]]
    checks = [v for i in run["images"] for v in i["visible"].values()]
    per_field = {}
    for field in VISIBLE_FIELDS:
        vals = [i["visible"][field] for i in run["images"] if field in i["visible"]]
        if vals:
            per_field[field] = sum(v["wrapped"] for v in vals) / len(vals)
    ratios = [i["service_s"] / i["seconds"] for i in run["images"] if "service_s" in i]
    service = {}
    if ratios:
        total = sum(i["service_s"] for i in run["images"])
        service = {
            "service_median_s": statistics.median(i["service_s"] for i in run["images"]),
            "service_total_s": total,
            "ratio_median": statistics.median(ratios),
            "ratio_max": max(ratios),
            "ratio_total": total / sum(seconds),
        }
    return {
        **service,
        "engine": run["engine"],
        "median_s": statistics.median(seconds),
        "median_cpu_s": statistics.median(i["cpu_s"] for i in run["images"]),
        "total_s": sum(seconds),
        "warmup_s": run["warmup_s"],
        "peak_mb": max(run["maxrss_mb"], run["children_maxrss_mb"]),
        "process_mb": run["maxrss_mb"],
        "children_mb": run["children_maxrss_mb"],
        "values": len(checks),
        "verbatim": sum(c["verbatim"] for c in checks) / max(1, len(checks)),
        "wrapped": sum(c["wrapped"] for c in checks) / max(1, len(checks)),
        "similar": sum(c["similar"] for c in checks) / max(1, len(checks)),
        "per_field": per_field,
    }


def print_table(summaries: list[dict[str, Any]], images: int) -> None:
    print(f"\n{images} images; times exclude the warm-up read (model load + first call)")
    print(
        f"{'engine':18} {'median s':>8} {'cpu s':>6} {'total s':>8} {'warm-up':>8} {'peak MB':>8}"
        f" {'verbatim':>8} {'wrapped':>8} {'similar':>8}"
    )
    for s in summaries:
        print(
            f"{s['engine']:18} {s['median_s']:8.2f} {s['median_cpu_s']:6.2f} {s['total_s']:8.1f}"
            f" {s['warmup_s']:8.1f}"
            f" {s['peak_mb']:8.0f} {s['verbatim']:8.1%} {s['wrapped']:8.1%} {s['similar']:8.3f}"
        )
    print("\nvisible (wrapped) per field:")
    print(f"{'engine':18} " + " ".join(f"{f.split('.', 1)[1][:14]:>14}" for f in VISIBLE_FIELDS))
    for s in summaries:
        cells = [
            f"{s['per_field'][f]:14.1%}" if f in s["per_field"] else f"{'-':>14}"
            for f in VISIBLE_FIELDS
        ]
        print(f"{s['engine']:18} " + " ".join(cells))
    for s in summaries:
        if "ratio_median" in s:
            print(
                f"\n{s['engine']}: the service's reading (parse, classify, extract) took "
                f"{s['service_median_s']:.2f} s median, {s['service_total_s']:.1f} s total: "
                f"{s['ratio_median']:.2f}x the bare engine per image (median; worst "
                f"{s['ratio_max']:.2f}x), {s['ratio_total']:.2f}x in total"
            )
    print(
        "\npeak MB: the engine's process, or its largest child (tesseract runs as one); "
        + ", ".join(
            f"{s['engine']}: {s['process_mb']:.0f}/{s['children_mb']:.0f}" for s in summaries
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    parser.add_argument("--engines", default="rapidocr,rapidocr3,rapidocr3-nocls,tesseract")
    parser.add_argument("--input", choices=("upright", "prepared"), default="upright")
    parser.add_argument("--only", default="", help="comma-separated numbers: 0001,0002")
    parser.add_argument("--json", type=Path, default=None, help="every engine's lines and figures")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        inputs = json.loads(args.inputs.read_text(encoding="utf-8"))
        print(json.dumps(worker(args.worker, inputs), ensure_ascii=False))
        return 0

    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    runs, summaries = [], []
    with tempfile.TemporaryDirectory(prefix="ocr-engines-") as tmp:
        inputs = prepare_inputs(args.folder, only, args.input, Path(tmp))
        inputs_file = Path(tmp) / "inputs.json"
        inputs_file.write_text(json.dumps(inputs, ensure_ascii=False), encoding="utf-8")
        print(f"{len(inputs)} images prepared ({args.input})", flush=True)
        for name in names:
            start = time.perf_counter()
            run = run_engine(name, inputs_file)
            runs.append(run)
            summaries.append(summary(run))
            print(f"{name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    print_table(summaries, len(inputs))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"input": args.input, "summaries": summaries, "runs": runs}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nper-image lines and figures: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
