"""How the bureau's round overview and export hold up with a whole round: the summary API,
the XLSX export and the overview page, with N dossiers (goal: under 2 s each at 1,000).

    python benchmarks/round_overview.py [N ...]        (default: 1000)

As ``round_pages.py`` does, the generated sample dossier is parsed and checked once and
its files and report copied N times; here each copy's report is varied as a round varies
(seeded): some criteria fail or go to review, key figures are scaled, districts rotate,
one dossier in twenty is still queued. Each copy's summary columns are written as a build
writes them (``store_summary``). Each request is made 5 times through the app
(in-process, SQLite) and the median printed.
"""

from __future__ import annotations

import copy
import random
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
from intake.overview import KEY_FIGURES, store_summary
from intake.pipeline import process_file
from intake.settings import Settings
from intake.storage import FileStore
from tests.accounts import account

RUNS = 5
ROUND = "2026"
# Criteria that fail or go to review in real rounds, with how often (a made-up but
# plausible spread: thresholds fail now and then, seals and judgement items need review).
OFTEN = {
    "12.1.total_assets": ("fail", 0.08),
    "12.2.service_volume": ("fail", 0.12),
    "12.3.service_area": ("fail", 0.10),
    "12.5.service_staff": ("fail", 0.15),
    "x.assets_match": ("review", 0.20),
    "x.area_match": ("fail", 0.06),
    "x.seal": ("review", 0.35),
    "x.revenue_match": ("missing", 0.25),
}


def _varied(content: dict, dossier_id: str, rng: random.Random) -> dict:
    """The template report as another applicant's: statuses and key figures varied."""
    content = copy.deepcopy(content)
    content["dossier"] = dossier_id
    counts: dict[str, int] = {}
    for finding in content["findings"]:
        status, share = OFTEN.get(finding["criterion"], (None, 0.0))
        if status and rng.random() < share:
            finding["status"] = status
        counts[finding["status"]] = counts.get(finding["status"], 0) + 1
    content["summary"] = {**content["summary"], "findings": counts}
    for name in KEY_FIGURES:
        scale = rng.uniform(0.3, 3.0)
        for value in content["fields"].get(name, []):
            if isinstance(value.get("value"), int | float):
                value["value"] = round(value["value"] * scale, 2)
    return content


def _copies(settings: Settings, template: str, n: int, start: int) -> None:
    rng = random.Random(20261207 + start)
    with session_scope(settings.db_url) as session:
        source = session.get(Dossier, template)
        content = session.get(Report, template).content
        for i in range(start, start + n):
            dossier = Dossier(
                name=f"西安第{i}号科技服务有限公司", rule_pack="xian-2018", round=ROUND,
                district=DISTRICTS[i % len(DISTRICTS)],
            )  # fmt: skip
            session.add(dossier)
            session.flush()
            queued = i % 20 == 19
            rows = [
                DossierFile(dossier_id=dossier.id, seq=f.seq, name=f.name, sha256=f.sha256,
                            pages=f.pages, media_type=f.media_type,
                            state="queued" if queued else f.state)
                for f in source.files
            ]  # fmt: skip
            session.add_all(rows)
            session.flush()
            if queued:
                continue
            report = Report(
                dossier_id=dossier.id, rule_pack="xian-2018", fingerprint=fingerprint(rows),
                content=_varied(content, dossier.id, rng),
            )  # fmt: skip
            store_summary(report)
            session.add(report)


def _median(client: TestClient, path: str) -> tuple[float, int]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:200]
    return statistics.median(times) * 1000, len(answer.content)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000]
    with tempfile.TemporaryDirectory() as tmp:
        from tests.fixtures.sample import write_sample

        folder = write_sample(Path(tmp) / "sample")
        settings = Settings(data_dir=Path(tmp) / "data", current_round=ROUND)
        settings.data_dir.mkdir(parents=True)
        migrate(settings.db_url)
        store = FileStore(settings.data_dir)
        with session_scope(settings.db_url) as session:
            dossier = create_dossier(session, "xian-2018", "样例", round="template")
            ids = [r.id for name, p in files_in(folder)
                   for r in add_path(session, store, settings, dossier, name, p)]  # fmt: skip
            template = dossier.id
        for file_id in ids:
            process_file(settings, file_id)
        _, token = account(settings, "bureau", "bench")
        client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
        made = 0
        for n in sizes:
            started = time.perf_counter()
            _copies(settings, template, n - made, made)
            print(f"{n - made} dossiers made in {time.perf_counter() - started:.1f} s")
            made = n
            for path in (
                f"/api/rounds/{ROUND}/summary",
                f"/api/rounds/{ROUND}/export.xlsx",
                f"/bureau/overview?round={ROUND}",
                f"/bureau?round={ROUND}",  # the list, for comparison (round_pages.py)
            ):
                ms, length = _median(client, path)
                print(f"{n:5d} dossiers  {path:32s} {ms:8.0f} ms  {length / 1024:8.0f} KB")


if __name__ == "__main__":
    main()
