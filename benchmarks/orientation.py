"""Turned pictures: does the service find the turn, read the same fields, and how long
does it take against the bare OCR engine on the same image?

    python benchmarks/orientation.py [FOLDER] [--turns 90,180,270] [--only 0005,0211]
        [--engine auto|rapidocr3|rapidocr|tesseract] [--format png|jpg] [--work DIR] [--repeat N]
        [--json OUT.json] [--shipped]

FOLDER (default ``../shared/corpus/real/licences``) holds the pictures. Each is turned
upright by its EXIF tag (as a person sees it), then copies are written to ``--work`` (a
temporary folder by default) turned anticlockwise by 0° and each of ``--turns`` degrees,
without EXIF: nothing says they are turned. The copy turned 0° is the reference. They are
PNG by default, so a copy turned back is the reference's very pixels and a field read
differently is the orientation's doing; ``--format jpg`` writes JPEG (quality 92) as a
scanner would, each turn compressed on its own. Per copy:

* ``engine s``: the bare engine (the one the settings choose for pictures) reading the copy
  as it is: one ``read`` of the file, nothing prepared;
* ``service s``: the service's whole reading of the copy (parse, classify, extract fields:
  as ``benchmarks/ocr_engines.py`` times it), and the ratio of the two. With ``--repeat N``
  each is timed N times, in turns, and the least kept (the machine is shared); CPU seconds
  of the process and its children are given beside the wall time, steadier under load;
* ``paired``: the median of the N ratios of a service run to the engine run just before
  it. The shared machine's speed drifts by up to a third over minutes, and the least of
  each can pair a fast moment's engine with a slow moment's service; a pair is timed
  within seconds, so this is the steadier figure of the service's cost;
* ``shipped`` (with ``--shipped``): the same paired ratio against the OCR library as it
  ships, reading the file with the same models and its own default settings (RapidOCR
  3.x: ``RapidOCR(...)(path)``), timed in the same rounds. The service configures the
  engine (``RapidOcr3Engine.rec_batch``), which ``engine s`` includes; this column is the
  service against the engine anyone would call;
* ``vs upright``: the service's CPU seconds on the copy against the bare engine's on the
  reference (0°) copy. The bare engine reads a page lying on its side in less time than the
  same page upright (fewer, longer boxes), so part of the first ratio is the cost of
  reading the page the right way up, which the upright reference pays too;
* ``found``: ``Page.turned`` against the turn expected (the copy's turn plus the turn the
  service found on the original, so a picture stored on its side counts right);
* ``same``: the applicant fields read on the copy that equal those read on the original
  (normalised as ``benchmarks/licences.py`` compares), out of those read on either.

Peak memory: the process's resident high-water mark (VmHWM) after each copy (its children,
tesseract's orientation detection when it is asked, are separate processes of about 100 MB;
their ``ru_maxrss`` would count the parent's memory, which survives the fork). For one
figure per run, run it under ``/usr/bin/time -v`` and read "Maximum resident set size".
Not imported by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "real" / "licences"
IMAGES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
FIELDS = (
    "applicant.name",
    "applicant.credit_code",
    "applicant.registration_number",
    "applicant.legal_representative",
    "applicant.address",
    "applicant.established",
)


def norm(value: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def vm_hwm_mb() -> float:
    """This process's peak resident memory so far (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def turned_copies(
    folder: Path, turns: list[int], only: set[str], work: Path, suffix: str
) -> list[dict]:
    """Each picture upright by its EXIF tag, then turned anticlockwise by each of ``turns``
    degrees, written without EXIF."""
    from PIL import Image, ImageOps

    copies = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGES):
        if only and path.stem not in only and path.name not in only:
            continue
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
        for turn in turns:
            target = work / f"{path.stem}-r{turn}.{suffix}"
            copy = upright.rotate(turn, expand=True) if turn else upright
            if suffix == "png":
                copy.save(target, compress_level=1)
            else:
                copy.save(target, quality=92)
            copies.append({"source": path.name, "turn": turn, "path": target})
    return copies


def service_read(path: Path, options) -> tuple[Any, dict[str, str | None]]:
    """Parse, classify and extract as ``intake check`` does for one file."""
    from extractors.classify import classify_documents
    from extractors.fields import extract_fields
    from extractors.registry import parse_file

    documents = [(path.name, parse_file(path, options))]
    values = extract_fields(documents, classify_documents(documents))
    fields = {}
    for field in FIELDS:
        found = values.get(field, [])
        fields[field] = None if not found else str(found[0].value)
    return documents[0][1], fields


def once(func) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds) of one call."""
    wall, used = time.perf_counter(), cpu()
    result = func()
    return result, time.perf_counter() - wall, cpu() - used


def paired(bare, service, repeat: int, shipped=None) -> tuple[Any, dict[str, float]]:
    """The bare engine and the service timed ``repeat`` times each, in turns (bare, service,
    bare, …): the least wall and CPU seconds of each, and the median of the ``repeat``
    ratios of a service run to the bare run just before it. The machine's speed drifts by
    a third over minutes (shared host): the least of each can pair a fast moment's engine
    with a slow moment's service, while each pair is timed within seconds. ``shipped``
    (the library as it ships) is timed right after the service in each round, and
    ``shipped`` is the median of the service's ratios to it."""
    keys = ("bare", "bare_cpu", "svc", "svc_cpu", "shipped")
    times: dict[str, list[float]] = {k: [] for k in keys}
    result = None
    for _ in range(repeat):
        _, wall, used = once(bare)
        times["bare"].append(wall)
        times["bare_cpu"].append(used)
        result, wall, used = once(service)
        times["svc"].append(wall)
        times["svc_cpu"].append(used)
        if shipped is not None:
            times["shipped"].append(once(shipped)[1])
    least = {k: min(v) for k, v in times.items() if v}
    least["paired"] = statistics.median(
        s / b for s, b in zip(times["svc"], times["bare"], strict=True)
    )
    if times["shipped"]:
        least["paired_shipped"] = statistics.median(
            s / b for s, b in zip(times["svc"], times["shipped"], strict=True)
        )
    return result, least


def shipped_reader(engine) -> Any:
    """The OCR library as it ships, with the engine's models and nothing else set: a
    function of a picture's path. RapidOCR 3.x only (None for other engines)."""
    if getattr(engine, "name", "") != "rapidocr3":
        return None
    from rapidocr import ModelType, OCRVersion, RapidOCR

    ocr = RapidOCR(
        params={
            "Global.log_level": "warning",
            "Det.ocr_version": OCRVersion(engine.ocr_version),
            "Det.model_type": ModelType(engine.model_type),
            "Rec.ocr_version": OCRVersion(engine.ocr_version),
            "Rec.model_type": ModelType(engine.model_type),
        }
    )
    return lambda path: ocr(str(path), use_cls=engine.use_cls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    parser.add_argument("--turns", default="90,180,270", help="besides 0")
    parser.add_argument("--format", choices=("png", "jpg"), default="png")
    parser.add_argument("--only", default="", help="comma-separated numbers: 0005,0211")
    parser.add_argument("--engine", default=None, help="INTAKE_OCR_ENGINE (default: settings)")
    parser.add_argument("--work", type=Path, default=None, help="where the copies are written")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="also time the OCR library as it ships (a second copy of its models in memory)",
    )
    args = parser.parse_args()

    from PIL import Image

    from intake.settings import Settings

    settings = Settings(**({"ocr_engine": args.engine} if args.engine else {}))
    options = settings.parse_options()
    engine = options.engine_for(1)
    # The copy turned 0° is the reference every other copy of the picture is compared with.
    turns = sorted({0} | {int(t) % 360 for t in args.turns.split(",") if t.strip()})
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    with tempfile.TemporaryDirectory(prefix="orientation-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        copies = turned_copies(args.folder, turns, only, work, args.format)
        if not copies:
            raise SystemExit("no pictures")
        first = copies[0]["path"]
        with Image.open(first) as image:
            engine.read(first, *image.size)  # warm-up: models loaded, not timed
        service_read(first, options)
        shipped = shipped_reader(engine) if args.shipped else None
        if shipped is not None:
            shipped(first)
        print(
            f"engine {engine.name}, {len(copies)} copies, repeat {args.repeat};"
            f" peak after warm-up {vm_hwm_mb():.0f} MB"
        )
        print(
            f"{'copy':12} {'engine s':>8} {'cpu':>6} {'service s':>9} {'cpu':>6} {'ratio':>6}"
            f" {'cpu':>5} {'paired':>6} {'shipped':>7} {'vs upright':>10} {'turn':>5} {'found':>5}"
            f" {'same':>5} {'peak MB':>7}"
        )
        originals: dict[str, dict[str, Any]] = {}
        rows = []
        for copy in sorted(copies, key=lambda c: (c["source"], c["turn"])):
            path = copy["path"]
            with Image.open(path) as image:
                size = image.size
            (document, fields), least = paired(
                lambda p=path, s=size: engine.read(p, *s),
                lambda p=path: service_read(p, options),
                args.repeat,
                None if shipped is None else (lambda p=path: shipped(p)),
            )
            bare_s, bare_cpu = least["bare"], least["bare_cpu"]
            service_s, service_cpu = least["svc"], least["svc_cpu"]
            found = document.pages[0].turned if document.pages else 0
            if copy["turn"] == 0:  # sorted first
                originals[copy["source"]] = {
                    "fields": fields,
                    "turned": found,
                    "engine_cpu_s": bare_cpu,
                }
            original = originals[copy["source"]]
            expected = (copy["turn"] + original["turned"]) % 360
            read = [f for f in FIELDS if fields[f] is not None or original["fields"][f] is not None]
            same = [f for f in read if norm(fields[f]) == norm(original["fields"][f])]
            row = {
                "copy": path.stem,
                "source": copy["source"],
                "turn": copy["turn"],
                "expected": expected,
                "found": found,
                "engine_s": round(bare_s, 3),
                "engine_cpu_s": round(bare_cpu, 3),
                "service_s": round(service_s, 3),
                "service_cpu_s": round(service_cpu, 3),
                "ratio": round(service_s / bare_s, 3),
                "ratio_cpu": round(service_cpu / max(bare_cpu, 1e-6), 3),
                "paired": round(least["paired"], 3),
                "shipped": round(least.get("paired_shipped", float("nan")), 3),
                "vs_upright_cpu": round(service_cpu / max(original["engine_cpu_s"], 1e-6), 3),
                "same": len(same),
                "read": len(read),
                "differ": {f: [original["fields"][f], fields[f]] for f in read if f not in same},
                "peak_mb": round(vm_hwm_mb()),
            }
            rows.append(row)
            mark = "" if found == expected else "  WRONG TURN"
            print(
                f"{row['copy']:12} {bare_s:8.2f} {bare_cpu:6.2f} {service_s:9.2f}"
                f" {service_cpu:6.2f} {row['ratio']:6.2f} {row['ratio_cpu']:5.2f}"
                f" {row['paired']:6.2f} {row['shipped']:7.2f} {row['vs_upright_cpu']:10.2f}"
                f" {expected:5} {found:5}"
                f" {len(same):2}/{len(read):<2} {row['peak_mb']:7}{mark}",
                flush=True,
            )
            for field, (was, now) in row["differ"].items():
                print(f"    {field.split('.', 1)[1]}: upright {was!s} | turned {now!s}")
    summarise(rows, turns)
    print(f"\npeak resident memory of this process (VmHWM): {vm_hwm_mb():.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def summarise(rows: list[dict[str, Any]], turns: list[int]) -> None:
    print(
        f"\n{'turn':>4} {'copies':>6} {'found':>6} {'same fields':>11}"
        f" {'ratio median':>12} {'max':>5} {'cpu median':>10} {'max':>5}"
        f" {'paired median':>13} {'max':>5} {'shipped median':>14} {'max':>5}"
        f" {'vs upright median':>17} {'max':>5}"
    )
    for turn in turns:
        group = [r for r in rows if r["turn"] == turn]
        if not group:
            continue
        print(
            f"{turn:4} {len(group):6} {sum(r['found'] == r['expected'] for r in group):6}"
            f" {sum(r['same'] for r in group):5}/{sum(r['read'] for r in group):<5}"
            f" {statistics.median(r['ratio'] for r in group):12.2f}"
            f" {max(r['ratio'] for r in group):5.2f}"
            f" {statistics.median(r['ratio_cpu'] for r in group):10.2f}"
            f" {max(r['ratio_cpu'] for r in group):5.2f}"
            f" {statistics.median(r['paired'] for r in group):13.2f}"
            f" {max(r['paired'] for r in group):5.2f}"
            f" {statistics.median(r['shipped'] for r in group):14.2f}"
            f" {max(r['shipped'] for r in group):5.2f}"
            f" {statistics.median(r['vs_upright_cpu'] for r in group):17.2f}"
            f" {max(r['vs_upright_cpu'] for r in group):5.2f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
