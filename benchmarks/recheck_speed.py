"""How long re-checking a parsed dossier takes: rules and report, nothing parsed again.

    python benchmarks/recheck_speed.py [DOSSIER_FOLDER]

Without a folder it checks the generated sample dossier. The files are parsed once (not
timed); then the report is rebuilt against each rule pack, 10 times each, and the median
is printed (target: under 100 ms): wall-clock time, and the process's CPU time, which a
busy machine (other jobs sharing the cores) inflates far less. The load average is printed
with them.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.db import migrate, session_scope
from intake.dossiers import add_path, create_dossier, files_in
from intake.pipeline import build_report, process_file
from intake.settings import Settings
from intake.storage import FileStore
from validators.packs import available_packs

RUNS = 10


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
        if folder is None:
            from tests.fixtures.sample import write_sample

            folder = write_sample(Path(tmp) / "sample")
        settings = Settings(data_dir=Path(tmp) / "data")
        settings.data_dir.mkdir(parents=True)
        migrate(settings.db_url)
        store = FileStore(settings.data_dir)
        with session_scope(settings.db_url) as session:
            dossier = create_dossier(session, "xian-2018")
            rows = [
                r
                for name, path in files_in(folder)
                for r in add_path(session, store, settings, dossier, name, path)
            ]
            dossier_id, ids = dossier.id, [r.id for r in rows]
        start = time.perf_counter()
        for file_id in ids:
            process_file(settings, file_id)
        pages = sum(
            len(store.load_document(r.sha256).pages)
            for r in rows
            if r.sha256 and store.has_document(r.sha256)
        )
        print(
            f"{folder.name}: {len(ids)} files, {pages} pages, parsed in "
            f"{time.perf_counter() - start:.1f} s (not part of the figure)"
        )
        build_report(settings, dossier_id)  # warm: spaCy matchers, cue data
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'rule pack':16s} {'median ms':>10s} {'max ms':>8s} {'median cpu ms':>14s}")
        for pack in available_packs():
            times, cpu = [], []
            for _ in range(RUNS):
                start, start_cpu = time.perf_counter(), time.process_time()
                build_report(settings, dossier_id, rule_pack=pack)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            print(
                f"{pack:16s} {statistics.median(times):10.1f} {max(times):8.1f}"
                f" {statistics.median(cpu):14.1f}"
            )


if __name__ == "__main__":
    main()
