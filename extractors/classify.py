"""Classify every page into a material type and group pages into materials.

The cues are data (``data/material_cues.toml``); each material records the cues that
decided it and a confidence. Pages with no cue of their own (tables, photos, notes)
continue the material before them in the same file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from extractors.model import Document, Page
from extractors.text import compact

OTHER = "other"
TITLE_LINES = 6
TITLE_WEIGHT = 5
MIN_SCORE = 2


@dataclass
class PageClass:
    type: str
    score: int
    cues: list[str]
    titled: bool  # a title cue decided it: such a page may start a new material


@dataclass
class Material:
    type: str
    file: str
    pages: tuple[int, int]
    cues: list[str] = field(default_factory=list)
    confidence: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "file": self.file,
            "pages": list(self.pages),
            "cues": self.cues,
            "confidence": round(self.confidence, 2),
        }


@cache
def cues() -> dict[str, dict[str, list[str]]]:
    data = resources.files("extractors").joinpath("data/material_cues.toml").read_text("utf-8")
    table = tomllib.loads(data)
    return {
        kind: {
            "titles": sorted((compact(t) for t in spec.get("titles", [])), key=len, reverse=True),
            "phrases": [compact(p) for p in spec.get("phrases", [])],
        }
        for kind, spec in table.items()
    }


def classify_page(page: Page) -> PageClass:
    lines = [compact(line.text) for line in page.lines]
    head = [ln for ln in lines if ln][:TITLE_LINES]
    body = "".join(lines)
    best = PageClass(OTHER, 0, [], False)
    for kind, spec in cues().items():
        found: list[str] = []
        score = 0
        titled = False
        for title in spec["titles"]:
            if any(title in ln and len(ln) <= len(title) + 24 for ln in head):
                found.append(f"标题:{title}")
                score += TITLE_WEIGHT
                titled = True
                break
        for phrase in spec["phrases"]:
            if phrase in body:
                found.append(phrase)
                score += 1
        if score > best.score:
            best = PageClass(kind, score, found, titled)
    if best.score < MIN_SCORE:
        return PageClass(OTHER, best.score, best.cues, False)
    return best


def classify_documents(documents: list[tuple[str, Document]]) -> list[Material]:
    materials: list[Material] = []
    for name, document in documents:
        current: Material | None = None
        for page in document.pages:
            verdict = classify_page(page)
            if verdict.type == OTHER and current is not None:
                current.pages = (current.pages[0], page.number)  # a page that says little
                continue
            if current is not None and verdict.type == current.type and not verdict.titled:
                current.pages = (current.pages[0], page.number)
                current.cues = sorted(set(current.cues) | set(verdict.cues))
                current.confidence = max(current.confidence, _confidence(verdict.score))
                continue
            if (
                current is not None
                and verdict.type == current.type
                and verdict.titled
                and _same_title(current, verdict)
            ):
                current.pages = (current.pages[0], page.number)
                continue
            current = Material(
                verdict.type,
                name,
                (page.number, page.number),
                verdict.cues,
                _confidence(verdict.score),
            )
            materials.append(current)
    return materials


def _same_title(material: Material, verdict: PageClass) -> bool:
    titles = {c for c in verdict.cues if c.startswith("标题:")}
    return bool(titles & set(material.cues))


def _confidence(score: int) -> float:
    return min(0.99, 0.3 + 0.1 * score)
