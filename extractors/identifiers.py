"""Identifiers as tokens: recognise what a run of letters and digits is before deciding
what it means (python-stdnum's way: one check per number format).

A token is a whole run of ASCII letters and digits, bounded by anything else, never a
slice of a longer run: the 18 characters inside a 20-digit licence serial, a 28-character
不动产单元号 or a 19-digit bank account are not a credit code. What a token is:

- ``credit_code`` 统一社会信用代码 (GB 32100-2015): 18 characters whose check passes;
- ``id_card`` 居民身份证号码 (GB 11643): 18 characters, a birth date inside, its check passes;
- ``registration_number`` 注册号 (GB/T 17710, ISO 7064 MOD 11,10): 15 digits whose check
  passes (the 13-digit numbers of before 2007 have no check: they count only where a label
  says so);
- ``property_unit`` 不动产单元号 (GB/T 37346): 28 characters, 12 digits, two letters …;
- ``serial`` a certificate's own number (编号, 证照编号: 20–21 digits), ``account`` a bank
  account or other long number (12–30 digits): neither names the company;
- ``unknown`` anything else, e.g. an 18-character run with the code's shape whose check
  fails: a misread code where a label says "credit code", nothing otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import ric
from stdnum.iso7064 import mod_11_10

from extractors import credit_code

_TOKEN = re.compile(r"[0-9A-Za-z]+")
_PROPERTY_UNIT = re.compile(r"\d{12}[A-Z]{2}\d{5}[A-Z]\d{8}")
# A speck or stray mark read inside a code (91610404.755857926W): dropped between two
# characters of a run when the joined run is a valid identifier.
_SPECK = re.compile(r"(?<=[0-9A-Za-z])[.,·'’`](?=[0-9A-Za-z])")


# Full-width digits and letters (０-９, Ａ-Ｚ, ａ-ｚ) as ASCII, one character for one.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                           *range(0xFF41, 0xFF5B))}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str
    value: str  # upper case, as printed (or with a speck dropped)
    start: int  # offsets in the text given
    end: int


def classify(raw: str) -> str:
    """What a whole token is (see the module's list)."""
    value = raw.upper()
    n = len(value)
    if n == 18:
        if credit_code.is_valid(value):
            return "credit_code"
        if ric.is_valid(value):
            return "id_card"
        return "unknown"
    if n == 15 and value.isdigit() and mod_11_10.is_valid(value):
        return "registration_number"
    if n == 28 and _PROPERTY_UNIT.fullmatch(value):
        return "property_unit"
    if n in (20, 21) and value.isdigit():
        return "serial"
    if 12 <= n <= 30 and value.isdigit():
        return "account"
    return "unknown"


def tokens(text: str) -> list[Token]:
    """Every identifier-like token of ``text`` (letters and digits, 6 characters or more),
    with what it is. Full-width forms are folded first (offsets stay those of ``text``:
    folding letters and digits keeps one character each)."""
    folded = text.translate(_FULL_WIDTH)
    found: list[Token] = []
    for m in _TOKEN.finditer(folded):
        raw = m.group(0)
        if len(raw) < 6:
            continue
        found.append(Token(classify(raw), raw.upper(), m.start(), m.end()))
    return _join_specks(folded, found)


def _join_specks(text: str, found: list[Token]) -> list[Token]:
    """Two runs split by a speck (one stray mark) that together make a valid credit code or
    registration number are that one token."""
    out: list[Token] = []
    i = 0
    while i < len(found):
        a = found[i]
        if i + 1 < len(found):
            b = found[i + 1]
            gap = text[a.end : b.start]
            joined = a.value + b.value
            if len(gap) == 1 and _SPECK.match(text, a.end) and classify(joined) in (
                "credit_code", "registration_number"
            ):  # fmt: skip
                out.append(Token(classify(joined), joined, a.start, b.end))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def credit_code_shape(value: str) -> bool:
    """An 18-character token shaped like a credit code (authority, area code …), whatever
    its check says: a misread code where a label says it is one."""
    return bool(credit_code.CANDIDATE.fullmatch(value.upper()))
