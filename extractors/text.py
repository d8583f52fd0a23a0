"""Text normalisation shared by classification and extraction."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    """NFKC (full-width → half-width) and no whitespace: letter-spaced titles such as
    "审 计 报 告" and OCR's spaces between Han characters match their plain spelling."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))
