"""Check every dossier of a labelled corpus and score the reports.

    python benchmarks/score_corpus.py ../shared/corpus/dev [--data-dir .corpus-data] [--out DIR]

Parses are cached by content hash in the data dir, so a second run only re-classifies,
re-extracts and re-judges (seconds, not minutes). The corpus's own ``score.py`` (next to its
``dev`` folder) does the scoring; its summary line is printed last.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder with dossiers/ and truth/")
    parser.add_argument("--data-dir", type=Path, default=Path(".corpus-data"))
    parser.add_argument("--out", type=Path, default=None, help="where reports go")
    parser.add_argument("--only", nargs="*", default=None, help="dossier ids to run")
    parser.add_argument("--details", type=Path, default=None, help="score.py --json output")
    args = parser.parse_args()

    corpus = args.corpus.resolve()
    out = (args.out or args.data_dir / "reports-scored").resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "INTAKE_DATA_DIR": str(args.data_dir.resolve())}
    intake = Path(sys.executable).with_name("intake")
    dossiers = sorted(p for p in (corpus / "dossiers").iterdir() if p.is_dir())
    if args.only:
        dossiers = [d for d in dossiers if d.name in args.only]
    for dossier in dossiers:
        start = time.perf_counter()
        done = subprocess.run(
            [
                str(intake),
                "check",
                str(dossier),
                "--json",
                str(out / f"{dossier.name}.json"),
                "--html",
                str(out / f"{dossier.name}.html"),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        status = "ok" if done.returncode == 0 else f"rc={done.returncode}"
        print(f"{dossier.name}: {status} in {time.perf_counter() - start:.1f} s", flush=True)
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
    truth = corpus / "truth"
    if args.only:  # score only what ran
        subset = out / "_truth"
        subset.mkdir(exist_ok=True)
        for old in subset.glob("*.json"):
            old.unlink()
        for d in dossiers:
            (subset / f"{d.name}.json").write_text((truth / f"{d.name}.json").read_text("utf-8"))
        truth = subset
    score = corpus.parent / "score.py"
    command = [sys.executable, str(score), str(truth), str(out)]
    if args.details:
        command += ["--json", str(args.details)]
    calibration(score, truth, out)
    return subprocess.run(command).returncode


BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)


def calibration(score_py: Path, truth_dir: Path, reports: Path) -> None:
    """How often a reported value is right, by its confidence: a value is right when the
    truth lists the same field in the same file with a matching value (score.py's rule).
    Only the contract's fields that the truth labels in that file are judged."""
    spec = importlib.util.spec_from_file_location("corpus_score", score_py)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    tally = {b: [0, 0] for b in BUCKETS[:-1]}
    for truth_file in sorted(truth_dir.glob("*.json")):
        truth = json.loads(truth_file.read_text("utf-8"))
        report_file = reports / truth_file.name
        if not report_file.exists():
            continue
        report = json.loads(report_file.read_text("utf-8"))
        want: dict[tuple[str, str], list] = {}
        for name, values in truth["fields"].items():
            for v in values:
                want.setdefault((name, v["file"]), []).append(v["value"])
        for name, values in report.get("fields", {}).items():
            for v in values:
                key = (name, v["file"])
                if key not in want:
                    continue
                right = any(scorer.value_match(name, t, v["value"]) for t in want[key])
                if not right and v["confidence"] >= 0.9 and os.environ.get("SHOW_WRONG"):
                    print(
                        "  wrong:",
                        truth["id"],
                        name,
                        v["file"],
                        v["page"],
                        v["value"],
                        "want",
                        want[key],
                        "|",
                        v["text"][:60],
                    )
                bucket = max(b for b in BUCKETS[:-1] if v["confidence"] >= b)
                tally[bucket][0 if right else 1] += 1
    print("confidence   right  wrong  share right")
    for low, high in pairwise(BUCKETS):
        right, wrong = tally[low]
        if right + wrong:
            share = right / (right + wrong)
            print(f"[{low:.2f}, {min(high, 1):.2f})  {right:5d}  {wrong:5d}  {share:.3f}")
    high = [tally[b] for b in BUCKETS[:-1] if b >= 0.9]
    right, wrong = sum(r for r, _ in high), sum(w for _, w in high)
    if right + wrong:
        print(f"confidence >= 0.9: {right}/{right + wrong} right = {right / (right + wrong):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
