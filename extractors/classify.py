"""Classify every page into a material type and group pages into materials.

Read top to bottom:

1. ``CueBook`` compiles the material types' cues (``data/vocabulary.toml``, through
   ``extractors.vocabulary``) into spaCy matchers on a blank ``zh`` pipeline: a
   ``PhraseMatcher`` for plain cues, a ``Matcher`` for cues with a gap (真实性…声明).
2. ``page_evidence`` weighs a page's cues per type. Titles count only in the page's title
   zone (its first lines after running headers and footers, or a line set larger than the
   body), and a numbered heading (14．租赁合同 in an audit report's notes) is a section of
   the document it sits in, never a document's title; on OCR'd pages a title may match
   with one wrong character. A page that says it is not a type (本报告未经审计) loses that
   type, whatever else it resembles.
3. ``segment`` walks a file's pages in order: a titled page or strong evidence begins a
   material, a page that says little continues the one before it, a page under a numbered
   heading continues the material it belongs to, and pages without any cue at the start
   of a file join the first material after them.

Every material keeps the cues that decided it and a confidence; ``other`` is what a page
is when nothing speaks for a type, never a forced guess.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePath
from typing import Any

from extractors.model import Document, Line, Origin, Page
from extractors.phrases import GAP, PhraseIndex
from extractors.text import compact, keep_longest
from extractors.vocabulary import vocabulary

OTHER = "other"
GAP_MAX = 4
ROLES = ("starts", "sections", "strong", "weak")
TYPE_KEYS = {"label", "split", "kinds", "images", "refuted", *ROLES}
MARK_NAMES = {"red_seal": "红色印章"}
SCORING_KEYS = {
    "start",
    "section",
    "strong",
    "weak",
    "fuzzy",
    "file_name",
    "image",
    "begin",
    "anchor",
    "boundary",
    "head_lines",
    "prominent",
    "refute",
}

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^[-—–第(（]*#[-—–页)）]*(/#|共#页)?$")
_LEADER = re.compile(r"[.…·．]{4,}#?$")
# The number of a section heading inside a document: 14． 14、 5.14 （十四） （3） 十四、 第五条
# ① ⑴ 注释14. Chapters of a wrapping document (第十一节, 第三章) are not here: they may open
# a document of their own (第十一节 财务报告 in an annual report).
_CN_DIGITS = "一二三四五六七八九十百零〇"
_SECTION_NUMBER = re.compile(
    r"^\s*(?:(?:"
    rf"[(（][{_CN_DIGITS}\d]{{1,3}}[)）]"
    rf"|[{_CN_DIGITS}]{{1,3}}\s*[、.,:．，：]"
    r"|\d{1,3}(?:[.．]\d{1,3})*\s*[、,:，：](?!\d)"
    r"|\d{1,3}(?:[.．]\d{1,3})*[.．](?!\d)"
    r"|\d{1,3}(?:[.．]\d{1,3})+(?=\s+\D)"
    r"|\d{1,3}\s+(?=[^\d\s])"
    r"|注释?\s*\d{1,3}"
    rf"|第[{_CN_DIGITS}\d]{{1,4}}条"
    r"|[\u2460-\u249b\u3251-\u325f]"
    r")\s*)+"
)
# Ticked boxes as forms print them (☑ √ ✓ ✔ ☒ ■): a ☑ in a cue stands for any of them.
TICKED = "☑"
_TICKS = str.maketrans(dict.fromkeys("√✓✔☒■▣", TICKED))
HEADING_MAX = 24  # characters after its number: a section heading is short


class CueDataError(ValueError):
    """The cue data is malformed; the message names the type and key."""


# Where cue data comes from, in the errors' messages.
_SOURCE = "vocabulary.toml material cues"


@dataclass(frozen=True)
class Cue:
    type: str
    role: str  # starts | sections | strong | weak | kind | refuted
    text: str  # as written in the data (shown to people)
    kind: str | None = None

    @property
    def is_title(self) -> bool:
        return self.role in ("starts", "sections")


@dataclass
class Hit:
    cue: Cue
    start: int  # character offsets in the page's compact text
    end: int


class CueBook:
    """The cue data, compiled once per process into spaCy matchers. ``table`` is the
    vocabulary's ``cue_table()``: ``scoring`` and, per type, its cues by role, its short
    ``label``, ``split``, ``kinds`` and ``images``."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.scoring = _scoring(table.pop("scoring", {}))
        self.types: dict[str, dict[str, Any]] = {}
        self.index: PhraseIndex[Cue] = PhraseIndex(GAP_MAX)
        self.images: dict[str, list[str]] = {}  # mark kind → material types it speaks for
        for kind, spec in table.items():
            if not isinstance(spec, dict):
                raise CueDataError(f"{_SOURCE}: [{kind}] must be a table")
            unknown = set(spec) - TYPE_KEYS
            if unknown:
                raise CueDataError(f"{_SOURCE}: [{kind}] has unknown keys {sorted(unknown)}")
            self.types[kind] = {
                "label": spec.get("label", kind),
                "split": bool(spec.get("split", False)),
                "kinds": list(spec.get("kinds", {})),
            }
            for mark in _strings(spec.get("images", []), kind, "images"):
                if mark not in MARK_NAMES:
                    raise CueDataError(
                        f"{_SOURCE}: [{kind}] images: unknown mark {mark!r}"
                        f" (known: {sorted(MARK_NAMES)})"
                    )
                self.images.setdefault(mark, []).append(kind)
            for role in (*ROLES, "refuted"):
                for text in _strings(spec.get(role, []), kind, role):
                    self._add(Cue(kind, role, text))
            for sub, texts in spec.get("kinds", {}).items():
                for text in _strings(texts, kind, f"kinds.{sub}"):
                    self._add(Cue(kind, "kind", text, sub))
        self.titles = {
            key: cues
            for key, cues in self.index.entries.items()
            if GAP not in key and len(key) >= 4 and any(c.is_title for c in cues)
        }
        self.strong = {
            key: cues
            for key, cues in self.index.entries.items()
            if GAP not in key and len(key) >= 5 and any(c.role == "strong" for c in cues)
        }

    def _add(self, cue: Cue) -> None:
        self.index.add(GAP.join(compact(part) for part in cue.text.split(GAP)), cue)

    def hits(self, text: str) -> list[Hit]:
        return [Hit(cue, start, end) for cue, start, end in self.index.find(text)]


def _scoring(spec: dict[str, Any]) -> dict[str, float]:
    missing = SCORING_KEYS - set(spec)
    unknown = set(spec) - SCORING_KEYS
    if missing or unknown:
        raise CueDataError(
            f"{_SOURCE}: [scoring] missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    return {k: float(v) for k, v in spec.items()}


def _strings(value: Any, kind: str, role: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CueDataError(f"{_SOURCE}: [{kind}] {role} must be a list of phrases")
    return value


@cache
def cue_book() -> CueBook:
    return CueBook(vocabulary().cue_table())


# --------------------------------------------------------------------------- pages


@dataclass
class PageEvidence:
    number: int
    scores: Counter[str] = field(default_factory=Counter)
    cues: dict[str, list[str]] = field(default_factory=dict)
    starts: dict[str, str] = field(default_factory=dict)  # type → start title in title zone
    sections: set[str] = field(default_factory=set)  # types with a section title here
    kinds: dict[str, Counter[str]] = field(default_factory=dict)
    refuted: dict[str, str] = field(default_factory=dict)  # type → what says it is not that
    sectioned: bool = False  # a numbered section heading in the title zone: inside a document
    toc: bool = False
    boundary: bool = False  # the layout changes here (a scan after text pages)

    def add(self, kind: str, label: str, weight: float) -> None:
        if kind in self.refuted:
            return
        found = self.cues.setdefault(kind, [])
        if label not in found:
            found.append(label)
            self.scores[kind] += weight

    def best(self) -> tuple[str, float, float]:
        """(type, its score, the runner-up's score); ``other`` when nothing scored."""
        ranked = [(s, k) for k, s in self.scores.items() if s > 0]
        if not ranked:
            return OTHER, 0.0, 0.0
        ranked.sort(reverse=True)
        runner = ranked[1][0] if len(ranked) > 1 else 0.0
        # A start title outranks phrases: an application report quoting a licence's labels
        # is still the application report.
        titled = [(s, k) for s, k in ranked if k in self.starts]
        if titled and titled[0][1] != ranked[0][1]:
            return titled[0][1], titled[0][0], ranked[0][0]
        return ranked[0][1], ranked[0][0], runner

    def refute(self, kind: str, label: str, weight: float) -> None:
        """The page says it is not ``kind`` (本半年度报告未经审计): ``kind`` loses what it
        scored here unless the page carries its start title, and the page speaks for
        ``other`` instead, so that a person sees why."""
        if kind in self.starts or kind in self.refuted:
            return
        self.add(OTHER, label, weight)
        self.refuted[kind] = label
        self.scores.pop(kind, None)
        self.cues.pop(kind, None)
        self.sections.discard(kind)
        self.kinds.pop(kind, None)


@dataclass
class _Line:
    text: str
    size: float
    number: int = 0  # characters of a section number it begins with (14．, （十四）)
    prominent: bool = False
    head: bool = False
    on_end: bool = False  # read down the page (``_on_end``)

    @property
    def heading(self) -> bool:
        """A numbered section heading (14．租赁合同), not a numbered paragraph."""
        return self.number > 0 and 0 < len(self.text) - self.number <= HEADING_MAX


def running_lines(document: Document) -> set[str]:
    """Keys of lines repeated at the top or bottom of many pages (running headers and
    footers such as 2019年年度报告 or 1/156): they say nothing about a single page."""
    pages = document.pages
    counts: Counter[str] = Counter()
    for page in pages:
        keys = {_key(line_text) for line_text in _edge_lines(page)}
        counts.update(k for k in keys if k)
    need = max(3, len(pages) // 2)
    return {k for k, n in counts.items() if n >= need}


def _key(text: str) -> str:
    return _DIGITS.sub("#", compact(text))


def _edge_lines(page: Page) -> list[str]:
    return [page.lines[i].text for i in _edge_indexes(page)]


def _edge_indexes(page: Page) -> set[int]:
    """Lines at the top or bottom tenth of the page (first and last line without geometry)."""
    lines = [(i, line) for i, line in enumerate(page.lines) if compact(line.text)]
    if not lines:
        return set()
    if page.height and all(line.bbox for _, line in lines):
        top, bottom = 0.1 * page.height, 0.9 * page.height
        return {i for i, ln in lines if ln.bbox[3] <= top or ln.bbox[1] >= bottom}
    return {lines[0][0], lines[-1][0]}


def _page_lines(page: Page, furniture: set[str], head_lines: int, prominent: float) -> list[_Line]:
    edges = _edge_indexes(page)
    lines: list[_Line] = []
    for i, line in enumerate(page.lines):
        text = compact(line.text)
        if not text:
            continue
        if i in edges and (_key(line.text) in furniture or _PAGE_NUMBER.match(_key(text))):
            continue
        number = _SECTION_NUMBER.match(line.text)
        lines.append(
            _Line(
                text.translate(_TICKS),
                line.size or 0.0,
                len(compact(number[0])) if number else 0,
                on_end=_on_end(line, text),
            )
        )
    sizes = [ln.size for ln in lines if ln.size > 0 and not ln.on_end]
    median = statistics.median(sizes) if sizes else 0.0
    for i, ln in enumerate(lines):
        if ln.on_end:
            continue  # a label column or a margin note read downwards: never a title
        ln.prominent = median > 0 and ln.size >= prominent * median
        ln.head = i < head_lines or (ln.prominent and i < 3 * head_lines)
    return lines


def page_evidence(
    page: Page, furniture: set[str] | None = None, book: CueBook | None = None
) -> PageEvidence:
    book = book or cue_book()
    weights = book.scoring
    lines = _page_lines(page, furniture or set(), int(weights["head_lines"]), weights["prominent"])
    text = "".join(ln.text for ln in lines)
    offsets = []
    pos = 0
    for ln in lines:
        offsets.append(pos)
        pos += len(ln.text)
    evidence = PageEvidence(page.number)
    evidence.sectioned = any(ln.head and ln.heading for ln in lines)
    title_types: set[str] = set()
    hits = _longest(book.hits(text))
    refutations = [h.cue for h in hits if h.cue.role == "refuted"]
    for hit in hits:
        cue = hit.cue
        if cue.role == "refuted":
            continue
        if cue.role == "kind":
            evidence.kinds.setdefault(cue.type, Counter())[cue.kind or ""] += 1
            continue
        if cue.is_title:
            title_types.add(cue.type)
            if not _in_title_zone(hit, lines, offsets):
                continue
            _title(evidence, cue, _numbered(hit, lines, offsets), weights)
        else:
            evidence.add(cue.type, cue.text, weights[cue.role])
    for mark in page.marks:
        for kind in book.images.get(mark.kind, []):
            evidence.add(kind, f"图像:{MARK_NAMES[mark.kind]}", weights["image"])
    if page.origin == Origin.OCR:
        _fuzzy_titles(evidence, lines, book)
        _fuzzy_phrases(evidence, text, book)
    for cue in refutations:
        evidence.refute(
            cue.type, f"非{book.types[cue.type]['label']}:{cue.text}", weights["refute"]
        )
    evidence.toc = len(title_types - {OTHER}) >= 4 and _looks_like_contents(lines)
    return evidence


def _title(
    evidence: PageEvidence,
    cue: Cue,
    numbered: bool,
    weights: dict[str, float],
    fuzzy: bool = False,
) -> None:
    """A title cue in the title zone (``fuzzy``: read with one character wrong). Under a
    section number (14．租赁合同, （十四）…) a start title is a section of the document it
    sits in: it weighs as a section and begins nothing."""
    start = cue.role == "starts" and not numbered
    weight = weights["start" if start else "section"] * (weights["fuzzy"] if fuzzy else 1.0)
    evidence.add(cue.type, f"标题{'≈' if fuzzy else ':'}{cue.text}", weight)
    if start:
        evidence.starts.setdefault(cue.type, cue.text)
    else:
        evidence.sections.add(cue.type)


def _numbered(hit: Hit, lines: list[_Line], offsets: list[int]) -> bool:
    """Whether the hit sits on a line that begins with a section number."""
    first = bisect_right(offsets, hit.start) - 1
    return lines[first].number > 0


def _longest(hits: list[Hit]) -> list[Hit]:
    """Of overlapping cues of one type and role family, keep the longest (示范平台申请报告,
    not also 申请报告; 服务人员数, not also 服务人员)."""
    return keep_longest(
        hits,
        lambda h: (h.start, h.end),
        lambda h: (h.cue.type, h.cue.is_title, h.cue.role in ("kind", "refuted") and h.cue.role),
    )


def _on_end(line: Line, text: str) -> bool:
    """An OCR line of two or more characters whose box stands on end: it was read down the
    page (a letter-spaced label column, 重要提示 printed in a licence's margin). Titles of the
    documents we read are printed level, so such a line is never a title; on a page that
    lies on its side every line stands so, and that page is turned upright before it is
    read."""
    if line.bbox is None or len(text) < 2:
        return False
    x0, y0, x1, y1 = line.bbox
    return (y1 - y0) > 1.5 * (x1 - x0)


def _in_title_zone(hit: Hit, lines: list[_Line], offsets: list[int]) -> bool:
    first = bisect_right(offsets, hit.start) - 1
    last = bisect_right(offsets, max(hit.start, hit.end - 1)) - 1
    if last - first > 1:
        return False
    covered = lines[first : last + 1]
    if not all(ln.head for ln in covered):
        return False
    return _title_like(
        hit.end - hit.start,
        sum(len(ln.text) for ln in covered),
        hit.end == offsets[last] + len(lines[last].text),
        any(ln.prominent for ln in covered),
    )


def _title_like(span: int, length: int, ends_line: bool, prominent: bool) -> bool:
    """Whether a title cue of ``span`` characters in a line of ``length`` reads as the
    line's title: it ends a short line (关于…的专项审计报告: a Chinese title ends with what
    the document is), or makes up a good part of it, or of a line set larger than the body.
    Exact and OCR-tolerant matches are judged alike."""
    if ends_line and length <= 40:
        return True
    share = span / length
    if prominent and (share >= 0.15 or length <= 20):
        return True
    return share >= 0.3


def _fuzzy_titles(evidence: PageEvidence, lines: list[_Line], book: CueBook) -> None:
    """OCR misreads a character of a title often (房屋租赁合后): accept a title line that
    matches a title cue of four or more characters with one character wrong."""
    from rapidfuzz import fuzz

    for ln in lines:
        if not ln.head:
            continue
        for key, cues in book.titles.items():
            if key in ln.text or len(ln.text) < len(key):
                continue  # matched exactly already (or refused), or too short to hold it
            need = 100.0 * (1 - 1 / len(key)) - 0.01
            aligned = fuzz.partial_ratio_alignment(key, ln.text, score_cutoff=need)
            if aligned is None or aligned.src_end - aligned.src_start != len(key):
                continue
            span = aligned.dest_end - aligned.dest_start
            ends = aligned.dest_end >= len(ln.text)
            if not _title_like(span, len(ln.text), ends, ln.prominent):
                continue
            for cue in cues:
                if cue.is_title:
                    _title(evidence, cue, ln.number > 0, book.scoring, fuzzy=True)


def _fuzzy_phrases(evidence: PageEvidence, text: str, book: CueBook) -> None:
    """Strong phrases of five or more characters, read with one character wrong
    (统一社会借用代码)."""
    from rapidfuzz import fuzz

    weight = book.scoring["strong"] * book.scoring["fuzzy"]
    for key, cues in book.strong.items():
        if key in text or len(text) < len(key):
            continue
        need = 100.0 * (1 - 1 / len(key)) - 0.01
        aligned = fuzz.partial_ratio_alignment(key, text, score_cutoff=need)
        if aligned is None or aligned.src_end - aligned.src_start != len(key):
            continue
        for cue in cues:
            if cue.role == "strong":
                evidence.add(cue.type, f"≈{cue.text}", weight)


def _looks_like_contents(lines: list[_Line]) -> bool:
    if any("目录" in ln.text for ln in lines if ln.head):
        return True
    return sum(1 for ln in lines if _LEADER.search(_key(ln.text))) >= 4


# --------------------------------------------------------------------------- materials


@dataclass
class Material:
    type: str
    file: str
    pages: tuple[int, int]
    cues: list[str] = field(default_factory=list)
    confidence: float = 0.0
    kind: str | None = None
    title: str | None = None  # the start title that began it, if any
    explicit: bool = True  # chosen by cues (False: ``other`` because nothing spoke)
    _sections_seen: bool = field(default=False, repr=False)
    _kinds: Counter[str] = field(default_factory=Counter, repr=False)
    _refuted: set[str] = field(default_factory=set, repr=False)  # types it said it is not

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "file": self.file,
            "pages": list(self.pages),
            "cues": self.cues,
            "confidence": round(self.confidence, 2),
        }
        if self.kind:
            out["kind"] = self.kind
        return out

    def absorb(self, evidence: PageEvidence, book: CueBook) -> None:
        self.pages = (self.pages[0], evidence.number)
        own = evidence.cues.get(self.type, [])
        self.cues.extend(c for c in own if c not in self.cues)
        if own:
            self.confidence = max(self.confidence, _confidence(evidence, self.type, book))
        self._kinds.update(evidence.kinds.get(self.type, {}))
        if self.type in evidence.sections:
            self._sections_seen = True
        self._refuted.update(evidence.refuted)


def classify_documents(documents: list[tuple[str, Document]]) -> list[Material]:
    book = cue_book()
    materials: list[Material] = []
    for name, document in documents:
        furniture = running_lines(document)
        evidence = [page_evidence(page, furniture, book) for page in document.pages]
        for ev, page, before in zip(evidence[1:], document.pages[1:], document.pages, strict=False):
            ev.boundary = _layout(page) != _layout(before)
        if evidence:
            _file_name_hint(evidence[0], name, book)
        materials.extend(segment(name, evidence, book))
    return materials


def _layout(page: Page) -> str:
    """A scanned page among text pages (or the reverse) is often another document. Page
    orientation is not used: reports turn wide tables to landscape mid-document."""
    return str(page.origin)


def _file_name_hint(evidence: PageEvidence, name: str, book: CueBook) -> None:
    stem = compact(PurePath(name).stem)
    for hit in book.hits(stem):
        if hit.cue.role == "starts" and hit.cue.type != OTHER:
            evidence.add(hit.cue.type, f"文件名:{hit.cue.text}", book.scoring["file_name"])


def segment(name: str, pages: list[PageEvidence], book: CueBook | None = None) -> list[Material]:
    """Group one file's pages into materials (see the module docstring)."""
    book = book or cue_book()
    weights = book.scoring
    out: list[Material] = []
    current: Material | None = None
    for ev in pages:
        kind, score, _ = ev.best()
        if ev.toc:
            current = Material(OTHER, name, (ev.number, ev.number), ["目录页"], 0.8)
            out.append(current)
            current.explicit = False  # the next page decides afresh
            continue
        fresh = current is None or (current.type == OTHER and not current.explicit)
        if current is not None and kind in current._refuted and kind not in ev.starts:
            begins = False  # the document said it is not this (未经审计), and no title says so
        elif fresh:
            begins = score >= weights["begin"]  # an "other" title (年度报告) begins too
        elif kind == current.type:
            begins = _splits(current, ev, book)
        else:
            needed = weights["boundary"] if ev.boundary else weights["anchor"]
            begins = kind in ev.starts or (
                _may_anchor(current, ev)
                and score >= needed
                and ev.scores.get(current.type, 0) < score / 2
            )
        if begins or current is None:
            if not begins:
                kind = OTHER
            current = Material(
                kind,
                name,
                (ev.number, ev.number),
                list(ev.cues.get(kind, [])),
                _confidence(ev, kind, book),
                title=ev.starts.get(kind),
                explicit=begins,
            )
            current._kinds.update(ev.kinds.get(kind, {}))
            current._sections_seen = kind in ev.sections
            current._refuted = set(ev.refuted)
            out.append(current)
        else:
            current.absorb(ev, book)
    out = _fill_leading(out)
    for material in out:
        material.kind = _kind(material, book)
    return out


def _may_anchor(current: Material, ev: PageEvidence) -> bool:
    """Whether evidence without a title may interrupt ``current``. A page under a numbered
    section heading (14．租赁合同, 第五条) is inside a document: it continues the material,
    however much it speaks of another type, unless the layout changes there (a scan after
    text pages). A wrapper (``other``: an annual report) lends such pages to a material."""
    return current.type == OTHER or not ev.sectioned or ev.boundary


def _splits(current: Material, ev: PageEvidence, book: CueBook) -> bool:
    """A second document of the same type begins here (专项审计报告 after 审计报告)."""
    if not book.types.get(current.type, {}).get("split"):
        return False
    title = ev.starts.get(current.type)
    if title is None:
        return False
    return title != current.title or current._sections_seen


def _fill_leading(materials: list[Material]) -> list[Material]:
    """Pages without any cue at a file's start (a photo, a cover) join the material after
    them instead of standing alone as ``other``."""
    if len(materials) >= 2 and materials[0].type == OTHER and not materials[0].explicit:
        first, second = materials[0], materials[1]
        if not first.cues:
            second.pages = (first.pages[0], second.pages[1])
            return materials[1:]
    return materials


def _kind(material: Material, book: CueBook) -> str | None:
    kinds = book.types.get(material.type, {}).get("kinds") or []
    if not kinds or not material._kinds:
        return None
    ranked = material._kinds.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _confidence(ev: PageEvidence, kind: str, book: CueBook) -> float:
    """From the page's evidence for ``kind``: more cues, and a clearer lead over the
    runner-up type, give more confidence."""
    score = ev.scores.get(kind, 0.0)
    if kind == OTHER and score == 0:
        best = max(ev.scores.values(), default=0.0)
        return round(max(0.3, 0.7 - 0.1 * best), 2)  # nothing spoke for any type
    if score <= 0:
        return 0.3
    runner = max((s for k, s in ev.scores.items() if k != kind), default=0.0)
    strength = min(1.0, 0.3 + 0.07 * score)
    lead = 1.0 - 0.5 * min(1.0, runner / score) ** 2
    if kind in ev.starts and len(ev.starts) == 1:
        lead = max(lead, 0.9)  # the only document title on the page
    return round(min(0.99, strength * lead), 2)


def material_at(materials: list[Material], file: str, page: int) -> str | None:
    """The type of the material that holds ``file``'s page ``page`` (None: no material)."""
    for m in materials:
        if m.file == file and m.pages[0] <= page <= m.pages[1]:
            return m.type
    return None
