"""What is known once the labelled values are in: the applicant's name and registered
address found again wherever they are printed (a notice's signature, an audit's notes, a
licence whose 住 所 label OCR garbled), and OCR'd spellings one or two characters from the
one the text layers agree on doubted as misreads."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from itertools import accumulate

from extractors.model import Origin
from extractors.names import BRANCH_SUFFIX, NAME_STOP, name_end
from extractors.pagetext import FieldValue, PageText
from extractors.text import misread_limit

# Materials whose labelled name spells the applicant's name (its own declaration and its
# licence), and materials on whose OCR'd pages the registered address is looked for again.
NAMING = ("business_licence", "application_report")
ADDRESSED = ("business_licence", "qualification", "audit_report")


def doubt_near_misses(found: list[FieldValue]) -> None:
    """An OCR'd name one or two characters from the spelling the text layers agree on is
    most likely a misread (沣 read as 洋): keep it, but below the confidence that lets a
    check pass or fail on it, with a note."""
    from rapidfuzz.distance import Levenshtein

    for name in ("applicant.name", "premises.holder"):
        typed = Counter(
            v.value
            for v in found
            if v.field in ("applicant.name", "premises.holder") and v.origin != str(Origin.OCR)
        )
        if not typed:
            continue
        known = typed.most_common(1)[0][0]
        for v in found:
            if v.field != name or v.origin != str(Origin.OCR) or v.value == known:
                continue
            distance = Levenshtein.distance(v.value, known)
            if 0 < distance <= misread_limit(len(known)):
                v.confidence = round(min(v.confidence, 0.75), 3)
                v.note = f"与其他材料中的“{known}”相差{distance}个字，可能是识别误差，请核对"


def name_occurrences(pages: list[PageText], found: list[FieldValue]) -> list[FieldValue]:
    """The applicant's name wherever it is printed (a notice's signature, an audit's
    notes), once its spelling is known from labelled places."""
    votes = Counter(v.value for v in found if v.field == "applicant.name" and v.material in NAMING)
    if not votes:
        votes = Counter(v.value for v in found if v.field == "applicant.name")
    if not votes:
        return []
    name = votes.most_common(1)[0][0]
    out = []
    for pt in pages:
        at = _whole_name_at(pt.text, name)
        if at >= 0:
            out.append(pt.value("applicant.name", name, at, at + len(name), scale=0.98))
        elif pt.page.origin == Origin.OCR:
            out.extend(_fuzzy_occurrence(_without_branches(pt, name), "applicant.name", name))
    out.extend(_address_occurrences(pages, found))
    return out


def _whole_name_at(text: str, name: str) -> int:
    """Where ``name`` is printed as a whole name, not as the start of a longer one (its
    branch: the name followed by 西安分公司, even across a line break); -1 if nowhere."""
    at = text.find(name)
    while at >= 0:
        after = text[at + len(name) : at + len(name) + 40].replace("\n", "")
        stop = NAME_STOP.search(after)
        if name_end(name + after[: stop.start() if stop else None], len(name)) == len(name):
            return at
        at = text.find(name, at + 1)
    return -1


def _without_branches(pt: PageText, name: str) -> PageText:
    """The page with every line that names a branch (…分公司, …分院, …办事处) blanked, unless
    the name itself is a branch's: a branch's line read fuzzily would pass as its company's."""
    if re.search(BRANCH_SUFFIX, name):
        return pt
    lines = [
        " " * len(line) if re.search(BRANCH_SUFFIX, line) else line for line in pt.text.split("\n")
    ]
    return replace(pt, text="\n".join(lines))


def _address_occurrences(pages: list[PageText], found: list[FieldValue]) -> list[FieldValue]:
    """The registered address as read from text layers, found again on OCR'd pages of the
    materials that print it (a licence whose 住 所 label OCR garbled)."""
    votes = Counter(
        v.value for v in found if v.field == "applicant.address" and v.origin != str(Origin.OCR)
    )
    if not votes:
        return []
    address = votes.most_common(1)[0][0]
    have = {(v.file, v.page) for v in found if v.field == "applicant.address"}
    out = []
    for pt in pages:
        if pt.page.origin != Origin.OCR or (pt.file, pt.page.number) in have:
            continue
        if pt.material not in ADDRESSED:
            continue
        lines = pt.text.replace(" ", "").split("\n")
        starts = list(accumulate((len(x) + 1 for x in lines[:-1]), initial=0))
        compacted = replace(pt, text="\n".join(lines), starts=starts)
        out.extend(_fuzzy_occurrence(compacted, "applicant.address", address))
    return out


def _fuzzy_occurrence(pt: PageText, name: str, wanted: str) -> list[FieldValue]:
    """On an OCR'd page, the known spelling read with a character or two wrong (沣 is often
    read as 汪 or 注): reported as the known spelling, less surely, with what OCR saw."""
    from rapidfuzz import fuzz

    wrong = misread_limit(len(wanted))
    need = 100.0 * (1 - wrong / len(wanted)) - 0.01
    for i, line in enumerate(pt.text.split("\n")):
        if len(line) < len(wanted) - 1:
            continue
        aligned = fuzz.partial_ratio_alignment(wanted, line, score_cutoff=need)
        if aligned is None or aligned.src_end - aligned.src_start < len(wanted) - wrong:
            continue
        seen = line[aligned.dest_start : aligned.dest_end]
        start = pt.starts[i] + aligned.dest_start
        note = f"识别为“{seen}”，与其他材料中的“{wanted}”仅差个别字，按后者读取"
        return [pt.value(name, wanted, start, start + len(seen), scale=0.8, note=note)]
    return []
