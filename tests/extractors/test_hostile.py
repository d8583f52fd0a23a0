"""Hostile and broken input: at least thirty generated files, each put through the
service's own path (store, expand, parse) in its own process under a time limit, each
ending in a clear per-file outcome: never a crash, a hang or a memory blow-up."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fixtures import hostile

TIMEOUT = 120  # seconds per file, whatever it holds
MAX_RSS_MB = 600


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, set[str]]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, hostile.build(folder)


def _run(path: Path) -> tuple[str, list[dict] | str, float]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.fixtures.hostile", str(path)],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return path.name, f"hung for more than {TIMEOUT} s", 0.0
    if done.returncode != 0:
        return path.name, f"crashed (exit {done.returncode}): {done.stderr[-800:]}", 0.0
    *_, rows, peak = done.stdout.strip().splitlines()
    return path.name, json.loads(rows), json.loads(peak)["peak_mb"]


def test_every_hostile_file_gets_a_clear_outcome(corpus):
    folder, expected = corpus
    assert len(expected) >= 30
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(_run, sorted(folder.iterdir())))
    results = {name: rows for name, rows, _ in runs}
    problems = []
    for name, outcomes in sorted(expected.items()):
        rows = results[name]
        if isinstance(rows, str):
            problems.append(f"{name}: {rows}")
            continue
        for row in rows:
            got = "done" if row["state"] == "done" else row["code"]
            if got not in outcomes:
                problems.append(f"{name}: {got} ({row['message']}), expected one of {outcomes}")
            if row["state"] == "failed":
                assert any("\u4e00" <= ch <= "\u9fff" for ch in row["message"]), name
    assert not problems, "\n".join(problems)
    # Each file's own process (and its tesseract) measured itself: what this test process's
    # children took overall includes other tests' subprocesses (intake check with RapidOCR).
    peak_mb, name = max((peak, name) for name, _, peak in runs)
    assert peak_mb < MAX_RSS_MB, f"{name} took {peak_mb:.0f} MB"


def test_an_xml_external_entity_is_never_resolved(corpus, options):
    from extractors.registry import parse_file

    folder, _ = corpus
    document = parse_file(folder / "14-docx-xxe.docx", options)
    assert "root:" not in document.text  # /etc/passwd was not read into the document


def test_a_name_no_file_system_takes_survives(corpus):
    folder, _ = corpus
    _, rows, _ = _run(folder / "31-long-name.zip")
    (row,) = rows
    assert row["state"] == "done" and len(row["name"]) <= 240 and row["name"].endswith(".pdf")
