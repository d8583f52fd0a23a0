"""How the bureau's pages hold up with a whole round: the list of dossiers, the JSON list,
and the cross-dossier reuse view, with N dossiers of a realistic size.

    python benchmarks/round_pages.py [N ...]        (default: 100 500)

The generated sample dossier is parsed once and checked; its files and report are then
copied N times (as many applicants with the same materials, which is also the worst case
for the reuse view: everything matches). Each page is fetched 5 times through the app
(in-process, SQLite) and the median is printed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from intake.api import create_app
from intake.db import migrate, session_scope
from intake.dossiers import DISTRICTS, add_path, create_dossier, files_in, fingerprint
from intake.models import Dossier, DossierFile, Report
from intake.pipeline import process_file
from intake.settings import Settings
from intake.storage import FileStore
from tests.accounts import account

RUNS = 5


def _copies(settings: Settings, template: str, n: int) -> None:
    with session_scope(settings.db_url) as session:
        source = session.get(Dossier, template)
        report = session.get(Report, template)
        for i in range(n):
            dossier = Dossier(
                name=f"西安第{i}号科技服务有限公司", rule_pack="xian-2018", round="2026",
                district=DISTRICTS[i % len(DISTRICTS)],
            )  # fmt: skip
            session.add(dossier)
            session.flush()
            rows = [
                DossierFile(dossier_id=dossier.id, seq=f.seq, name=f.name, sha256=f.sha256,
                            pages=f.pages, media_type=f.media_type, state=f.state)
                for f in source.files
            ]  # fmt: skip
            session.add_all(rows)
            session.flush()
            session.add(
                Report(dossier_id=dossier.id, rule_pack="xian-2018",
                       fingerprint=fingerprint(rows), content=report.content)
            )  # fmt: skip


def _median(client: TestClient, path: str) -> tuple[float, int]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:200]
    return statistics.median(times) * 1000, len(answer.content)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 500]
    with tempfile.TemporaryDirectory() as tmp:
        from tests.fixtures.sample import write_sample

        folder = write_sample(Path(tmp) / "sample")
        settings = Settings(data_dir=Path(tmp) / "data", current_round="2026")
        settings.data_dir.mkdir(parents=True)
        migrate(settings.db_url)
        store = FileStore(settings.data_dir)
        with session_scope(settings.db_url) as session:
            dossier = create_dossier(session, "xian-2018", "样例", round="2026")
            ids = [r.id for name, p in files_in(folder)
                   for r in add_path(session, store, settings, dossier, name, p)]  # fmt: skip
            template = dossier.id
        for file_id in ids:
            process_file(settings, file_id)
        _, token = account(settings, "bureau", "bench")
        client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
        with session_scope(settings.db_url) as session:
            size = len(str(session.get(Report, template).content))
        print(f"one report: {size / 1024:.0f} KB of JSON")
        made = 0
        for n in sizes:
            _copies(settings, template, n - made)
            made = n
            for path in ("/bureau", "/api/dossiers", "/api/reuse", "/bureau/reuse"):
                ms, length = _median(client, path)
                print(f"{n:5d} dossiers  {path:15s} {ms:8.0f} ms  {length / 1024:8.0f} KB")


if __name__ == "__main__":
    main()
