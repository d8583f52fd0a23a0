"""Text normalisation shared by classification and extraction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    """NFKC (full-width → half-width) and no whitespace: letter-spaced titles such as
    "审 计 报 告" and OCR's spaces between Han characters match their plain spelling."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


T = TypeVar("T")


def keep_longest(
    items: Iterable[T],
    span: Callable[[T], tuple[int, int]],
    family: Callable[[T], Hashable] = lambda _: None,
) -> list[T]:
    """Of matches that overlap within one family, the longest (示范平台申请报告, not also
    申请报告); matches on the very same span all stay. In order of length, longest first."""
    kept: list[T] = []
    taken: dict[Hashable, list[tuple[int, int]]] = {}
    for item in sorted(items, key=lambda i: span(i)[0] - span(i)[1]):
        start, end = span(item)
        spans = taken.setdefault(family(item), [])
        if any(start < e and s < end and (s, e) != (start, end) for s, e in spans):
            continue
        spans.append((start, end))
        kept.append(item)
    return kept


def misread_limit(length: int) -> int:
    """How many characters OCR may get wrong in a name of ``length`` characters before two
    spellings are taken for two different names."""
    return 1 if length < 10 else 2
