"""The service's speed and memory on the machine it runs on (figures go to RESULTS.md).

    python benchmarks/benchmark.py [--scan-pages 300] [--ocr-pages 8] [--real FILE.pdf ...]

1. Text-PDF throughput, one worker: a generated 200-page report (and any real PDFs given).
2. A text-only dossier of about 40 pages: time from the last file stored to the finished
   report (every file parsed by one worker in turn, then the report built).
3. OCR: the service's pages per second against tesseract itself on the same page images
   (same languages, segmentation and thread limit), one worker; and with two workers.
4. Peak memory of a worker parsing a long scanned PDF (pages rendered one at a time).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    version = (tesseract.stdout or tesseract.stderr).splitlines()[0]
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU ({cpu}), "
        f"{mem} MB RAM, Python {platform.python_version()}, {version}"
    )


def text_throughput(folder: Path, real: list[Path]) -> None:
    from benchmarks.classify_speed import generated
    from extractors.registry import ParseOptions, parse_file

    print("\n## 1. Text-PDF throughput (one worker)")
    print("| file | pages | parse s | pages/s |\n|---|---|---|---|")
    for path in [generated(folder), *real]:
        start = time.perf_counter()
        document = parse_file(path, ParseOptions(ocr_workers=1))
        took = time.perf_counter() - start
        pages = len(document.pages)
        print(f"| {path.name[:40]} | {pages} | {took:.2f} | {pages / took:.0f} |")


def text_dossier(folder: Path) -> None:
    from intake.db import migrate, session_scope
    from intake.dossiers import add_path, create_dossier
    from intake.pipeline import process_file
    from intake.settings import Settings
    from intake.storage import FileStore
    from tests.fixtures import factory

    print("\n## 2. A text-only dossier of about 40 pages: last upload → finished report")
    body = ["本年度平台围绕信息、技术、创业、培训、融资等服务功能开展工作。"] * 20
    dossier = folder / "text-dossier"
    dossier.mkdir()
    report = [["西安市中小企业公共服务示范平台申请报告", "申报单位：西安测试有限公司",
               "申报日期：2018年6月8日"], ["基本情况表", *body], ["一、基本情况", *body],
              ["二、服务业绩", *body]]  # fmt: skip
    factory.docx_file(dossier / "申请报告.docx", report)
    audit = [["审计报告", "我们审计了西安测试有限公司财务报表。", *body]]
    audit += [["财务报表附注", *body] for _ in range(19)]
    factory.text_pdf(dossier / "审计报告.pdf", audit)
    factory.text_pdf(
        dossier / "租赁合同.pdf", [["房屋租赁合同", "出租方：甲", "承租方：乙", *body]] * 4
    )
    factory.text_pdf(dossier / "服务证明.pdf", [["关于举办培训的通知", "各有关企业：", *body]] * 10)
    factory.text_pdf(dossier / "推荐表.pdf", [["推荐表", "推荐单位意见：同意推荐"]])
    factory.text_pdf(dossier / "真实性声明.pdf", [["申报材料真实性声明", "特此声明。"]])
    settings = Settings(data_dir=folder / "data", ocr_workers=1)
    settings.data_dir.mkdir()
    migrate(settings.db_url)
    store = FileStore(settings.data_dir)
    with session_scope(settings.db_url) as session:
        created = create_dossier(session, "xian-2018")
        ids = [
            r.id
            for path in sorted(dossier.iterdir())
            for r in add_path(session, store, settings, created, path.name, path)
        ]
    start = time.perf_counter()
    for file_id in ids:  # the last file to finish builds the report
        process_file(settings, file_id)
    took = time.perf_counter() - start
    pages = sum(len(store.load_document(s.sha256).pages) for s in _rows(settings, ids))
    print(f"{len(ids)} files, {pages} pages: report ready {took:.2f} s after the last upload "
          "(one worker parsing the files in turn; target under 2 s)")  # fmt: skip


def _rows(settings, ids):
    from intake.db import session_scope
    from intake.models import DossierFile

    with session_scope(settings.db_url) as session:
        rows = [session.get(DossierFile, i) for i in ids]
        session.expunge_all()
        return rows


def ocr(folder: Path, pages: int) -> None:
    import pypdfium2 as pdfium

    from extractors.ocr import TesseractEngine
    from extractors.parsers.ocrpage import prepare_for_ocr
    from extractors.registry import ParseOptions, parse_file
    from tests.fixtures import factory

    print(
        f"\n## 3. OCR throughput ({pages} scanned A4 pages at 200 dpi, tesseract chi_sim+eng psm 4)"
    )
    lines = ["审计报告", "我们审计了西安测试有限公司财务报表，包括资产负债表、利润表。"] + [
        "货币资金 1 1,340,195.16 846,592.36 应收账款 2 760,091.37 776,452.87"
    ] * 12
    scan = factory.scanned_pdf(folder / "scan.pdf", [lines] * pages)
    pdf = pdfium.PdfDocument(str(scan))
    images = []
    for i in range(pages):
        image = pdf[i].render(scale=200 / 72, grayscale=True).to_pil()
        target = folder / f"page{i}.pgm"
        prepare_for_ocr(image, target)
        images.append(target)
    pdf.close()
    start = time.perf_counter()
    for image in images:
        subprocess.run(
            ["tesseract", str(image), "-", "-l", "chi_sim+eng", "--psm", "4", "tsv"],
            capture_output=True, check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )  # fmt: skip
    bare = time.perf_counter() - start
    results = {}
    for label, engine, workers in (
        ("service (default settings)", TesseractEngine(), 1),
        ("service, 2 workers", TesseractEngine(), 2),
        ("service with the figure pass (INTAKE_OCR_DIGITS)", TesseractEngine(digits=True), 1),
    ):
        start = time.perf_counter()
        parse_file(scan, ParseOptions(ocr=engine, ocr_workers=workers))
        results[label] = time.perf_counter() - start
    print("| run | s | pages/s | vs tesseract alone |\n|---|---|---|---|")
    print(f"| tesseract CLI alone, one at a time | {bare:.1f} | {pages / bare:.2f} | — |")
    for label, took in results.items():
        print(f"| {label} | {took:.1f} | {pages / took:.2f} | {100 * (took / bare - 1):+.0f} % |")
    one = results["service (default settings)"]
    two = results["service, 2 workers"]
    print(f"Speed-up with 2 workers: {one / two:.2f}×")


def scan_memory(folder: Path, pages: int) -> None:
    print(f"\n## 4. Peak memory of a worker on a {pages}-page scanned PDF")
    path = _long_scan(folder / "long-scan.pdf", pages)
    code = (
        "import sys, time; from pathlib import Path;"
        "from extractors.registry import ParseOptions, parse_file;"
        "from extractors.ocr import TesseractEngine;"
        "t=time.perf_counter();"
        "d=parse_file(Path(sys.argv[1]), ParseOptions(ocr=TesseractEngine(), ocr_workers=2));"
        "print(len(d.pages), round(time.perf_counter()-t,1))"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    count, took = done.stdout.split() if done.returncode == 0 else ("?", "?")
    print(f"{count} pages OCR'd in {took} s with 2 workers; peak resident memory of the worker "
          f"process {max(peak, before) / 1024:.0f} MB (target under 600 MB; tesseract runs as "
          "child processes of ~100 MB each, one per worker)")  # fmt: skip


def _long_scan(path: Path, pages: int) -> Path:
    """An image-only PDF of ``pages`` pages, built without holding the pages in memory (one
    scanned picture, placed on every page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from tests.fixtures import factory

    picture = path.with_suffix(".png")
    factory.scan_like(factory.page_image(["审计报告", "资产总计 3,265,000.00"] * 10)).save(picture)
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        c.drawImage(str(picture), 0, 0, *A4)
        c.showPage()
    c.save()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr-pages", type=int, default=8)
    parser.add_argument("--scan-pages", type=int, default=300)
    parser.add_argument("--real", nargs="*", type=Path, default=[])
    parser.add_argument("--skip", nargs="*", default=[], help="sections to skip: 1 2 3 4")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "1" not in args.skip:
            text_throughput(folder, args.real)
        if "2" not in args.skip:
            text_dossier(folder)
        if "3" not in args.skip:
            ocr(folder, args.ocr_pages)
        if "4" not in args.skip:
            scan_memory(folder, args.scan_pages)


if __name__ == "__main__":
    main()
