"""统一社会信用代码 (GB 32100-2015): the check character, and OCR repairs."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# 18 characters: registering authority and kind, 6-digit area code, 9-character
# organisation code, check character. Letters OCR confuses are allowed here and
# repaired (or reported) afterwards.
CANDIDATE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{2}\d{6}[0-9A-Z]{10}(?![0-9A-Z])")


def check_character(first17: str) -> str | None:
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    except (KeyError, ValueError):
        return None
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    return len(code) == 18 and check_character(code[:17]) == code[17]


# Characters OCR confuses in codes, and what each may really be. Codes never use I, O, S,
# V or Z, so a read one is certainly wrong; the others are wrong only if the check fails.
CONFUSABLE: dict[str, str] = {
    "O": "0D",
    "0": "D",
    "D": "0",
    "I": "1",
    "1": "",
    "L": "1",
    "Z": "2",
    "2": "Z",
    "S": "5",
    "5": "",
    "B": "8",
    "8": "B",
    "G": "6",
    "6": "G",
    "Q": "0",
    "U": "",
    "V": "Y",
}


def repair(code: str) -> str | None:
    """The one code that a single OCR confusion away passes the check, or None when there
    is none or more than one (then a person must read the document)."""
    code = code.upper()
    if len(code) != 18:
        return None
    found: set[str] = set()
    for i, ch in enumerate(code):
        for other in CONFUSABLE.get(ch, ""):
            candidate = code[:i] + other + code[i + 1 :]
            if all(c in _VALUE for c in candidate) and is_valid(candidate):
                found.add(candidate)
    return found.pop() if len(found) == 1 else None
