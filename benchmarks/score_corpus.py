"""Check every dossier of a labelled corpus and score the reports.

    python benchmarks/score_corpus.py ../shared/corpus/dev [--data-dir .corpus-data] [--out DIR]

Parses are cached by content hash in the data dir, so a second run only re-classifies,
re-extracts and re-judges (seconds, not minutes). The corpus's own ``score.py`` (next to its
``dev`` folder) does the scoring; its summary line is printed last.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
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
    return subprocess.run(command).returncode


if __name__ == "__main__":
    raise SystemExit(main())
