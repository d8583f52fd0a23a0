"""How long classification takes beyond parsing, on a long text PDF.

    python benchmarks/classify_speed.py [FILE.pdf ...]

Without files it generates a 200-page text PDF (an audit report inside an annual-report
wrapper, as listed companies publish them). Prints the parse time once and the median of
five classification runs (the cue matchers are built before timing: a worker builds them
once per process).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors.classify import classify_documents, cue_book
from extractors.registry import ParseOptions, parse_file

RUNS = 5


def generated(folder: Path, pages: int = 200) -> Path:
    from tests.fixtures import factory

    body = [
        "本公司资产负债表日后未发生需要披露的重大事项，财务报表已按企业会计准则编制。",
        "货币资金 12,345,678.90 应收账款 2,345,678.90 存货 3,456,789.01",
        "营业收入 98,765,432.10 营业成本 76,543,210.98 期末余额 期初余额",
    ] * 8
    content = [["2019 年年度报告", "重要提示", "本公司董事会保证年度报告内容的真实、准确、完整。"]]
    content += [["第四节 经营情况讨论与分析", *body] for _ in range(pages // 3)]
    content += [["一、审计报告", "我们审计了本公司财务报表。", "形成审计意见的基础", *body]]
    content += [["合并资产负债表", *body] for _ in range(pages - len(content))]
    return factory.text_pdf(folder / "annual.pdf", content)


def main() -> None:
    cue_book()
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(p) for p in sys.argv[1:]] or [generated(Path(tmp))]
        print(f"{'file':40s} {'pages':>5s} {'parse s':>8s} {'classify ms':>12s} {'ms/page':>8s}")
        for path in paths:
            start = time.perf_counter()
            document = parse_file(path, ParseOptions(ocr_workers=2))
            parse_s = time.perf_counter() - start
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                materials = classify_documents([(path.name, document)])
                times.append(time.perf_counter() - start)
            ms = statistics.median(times) * 1000
            pages = len(document.pages)
            print(f"{path.name[:40]:40s} {pages:5d} {parse_s:8.2f} {ms:12.1f} {ms / pages:8.2f}")
            for m in materials:
                print(f"    {m.type:26s} pages {m.pages[0]}-{m.pages[1]}  {m.confidence:.2f}")


if __name__ == "__main__":
    main()
