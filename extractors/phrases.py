"""Phrases kept as data, matched in text: a blank spaCy ``zh`` pipeline (character tokens,
no model to download) with a ``PhraseMatcher`` for plain phrases and a ``Matcher`` for
phrases written with a gap (真实性…声明). Classification cues and field labels both use it."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")
GAP = "…"


def gapped_pattern(key: str, most: int) -> list[dict[str, Any]]:
    """A ``Matcher`` pattern for a phrase with gaps: each character a token, each gap up
    to ``most`` tokens of the same line."""
    pattern: list[dict[str, Any]] = []
    for i, part in enumerate(key.split(GAP)):
        if i:
            pattern.append({"ORTH": {"NOT_IN": ["\n"]}, "OP": f"{{0,{most}}}"})
        pattern.extend({"ORTH": ch} for ch in part)
    return pattern


class PhraseIndex(Generic[T]):
    """Normalised phrases → what each stands for (a cue, a field rule); ``find`` gives
    every match as (payload, start, end) in character offsets."""

    def __init__(self, gap_max: int) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.gap_max = gap_max
        self.nlp = spacy.blank("zh")
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        self.gapped = Matcher(self.nlp.vocab)
        self.entries: dict[str, list[T]] = {}
        self.gaps: list[list[str]] = []  # each gapped phrase's parts

    def add(self, key: str, payload: T) -> None:
        if key not in self.entries:
            self.entries[key] = []
            if GAP in key:
                self.gapped.add(key, [gapped_pattern(key, self.gap_max)])
                self.gaps.append([part for part in key.split(GAP) if part])
            else:
                self.phrases.add(key, [self.nlp.make_doc(key)])
        self.entries[key].append(payload)

    def find(self, text: str) -> list[tuple[T, int, int]]:
        doc = self.nlp.make_doc(text)
        found: list[tuple[T, int, int]] = []
        # The gap matcher costs more than all plain phrases together, and its few phrases
        # are absent from most pages: it runs only where every part of one of them occurs.
        gapped = any(all(part in text for part in parts) for parts in self.gaps)
        for matcher in (self.phrases, self.gapped) if gapped else (self.phrases,):
            for match_id, start, end in matcher(doc):
                span = doc[start:end]
                for payload in self.entries[self.nlp.vocab.strings[match_id]]:
                    found.append((payload, span.start_char, span.end_char))
        return found

    def starts_with(self, text: str) -> bool:
        """Does ``text`` begin with one of the plain phrases?"""
        doc = self.nlp.make_doc(text[:24])
        return any(start == 0 for _, start, _ in self.phrases(doc))
