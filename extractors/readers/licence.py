"""The business licence (营业执照) reader: its labelled values from the geometry of the
page's text boxes (extractors.layout), its identifiers as whole tokens
(extractors.identifiers), in the contract's fields.

A licence with only a 注册号 (before 2015) has no credit code: none is made up. A value
whose label was not found is not guessed from the words around it."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from extractors import credit_code, identifiers
from extractors.layout import KeyValue, compact, key_values
from extractors.model import Page
from extractors.normalize import find_dates

if TYPE_CHECKING:
    from extractors.fields import FieldValue

# Contract fields this reader gives (the others it reads only to bound these).
READS = (
    "applicant.name",
    "applicant.credit_code",
    "applicant.legal_representative",
    "applicant.address",
    "applicant.established",
)
_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{1,8})?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TRAIL = re.compile(r"[\s:：;；,，.。、|]+$")
# A dash between house numbers (1710—1713室) that OCR read as the character 一.
_DIGIT_DASH = re.compile(r"(?<=\d)一(?=\d)")
_COPY_MARK = re.compile(r"[(（]\d+[-/—]\d+[)）]$")  # (1-1), (1/1) after a number


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, list[str]], frozenset[str]]:
    data = tomllib.loads(
        resources.files("extractors.data").joinpath("licence.toml").read_text("utf-8")
    )
    return data["labels"], frozenset(data["wraps"]["fields"])


@lru_cache(maxsize=1)
def _every_label() -> list[str]:
    """Every label, compacted, shortest first."""
    labels, _ = vocabulary()
    return sorted({compact(x) for names in labels.values() for x in names}, key=len)


def read_licence(file: str, page: Page, material: str | None) -> list[FieldValue]:
    """The contract's applicant fields printed on one licence page."""
    labels, wraps = vocabulary()
    pairs = key_values(page, labels, multiline=wraps)
    every_label = _every_label()
    pairs += _split_joined(pairs, labels, every_label)
    out: list[FieldValue] = []
    for kv in pairs:
        value = _value(kv, every_label)
        if value is None:
            continue
        out.append(_field_value(kv, value, file, page, material))
    out.extend(_codes(file, page, material, pairs))
    if not any(v.field == "applicant.established" for v in out):
        out.extend(_from_period(pairs, file, page, material))
    return out


def _from_period(pairs: list[KeyValue], file: str, page: Page, material: str | None) -> list:
    """No 成立日期 read: a licence's 营业期限 begins on the day the business was founded
    unless its term was changed since, so its first date stands in, doubted."""
    period = next((kv for kv in pairs if kv.field == "licence.period"), None)
    dates = find_dates(period.value) if period is not None else []
    if period is None or not dates or dates[0].start > 2:
        return []
    found = _field_value(period, dates[0].value, file, page, material)
    found.field = "applicant.established"
    found.confidence = 0.5
    found.note = "执照上未读到成立日期，取营业期限的起始日，请人工核对"
    return [found]


def _split_joined(
    pairs: list[KeyValue], labels: dict[str, list[str]], every_label: list[str]
) -> list[KeyValue]:
    """A value OCR joined with the next column's label and value (法定代表人张三住所西安市…)
    gives that label's value too, when the page has no other one."""
    field_of = {compact(x): name for name, names in labels.items() for x in names}
    have = {kv.field for kv in pairs}
    extra: list[KeyValue] = []
    for kv in pairs:
        head = _cut_at_labels(kv.value, every_label)
        rest = kv.value[len(head) :]
        label = next((lab for lab in reversed(every_label) if rest.startswith(lab)), None)
        if not label or field_of[label] in have or not rest[len(label) :]:
            continue
        have.add(field_of[label])
        extra.append(KeyValue(field_of[label], label, rest[len(label) :], kv.bbox, kv.conf * 0.9))
    return extra


def _cut_at_labels(text: str, every_label: list[str]) -> str:
    """A value that ran into the next label (boxes OCR joined across a column gap) ends
    there: 李蔚婷住所深圳… → 李蔚婷."""
    cut = len(text)
    for label in every_label:
        if len(label) < 2:
            continue
        at = text.find(label, 1)
        while at > 0 and _bracketed(text, at):  # （临时经营场所有效期至…） is the value's
            at = text.find(label, at + 1)
        if 0 < at < cut:
            cut = at
    return text[:cut]


def _bracketed(text: str, at: int) -> bool:
    before = text[:at]
    return before.count("（") + before.count("(") > before.count("）") + before.count(")")


def _value(kv: KeyValue, every_label: list[str]) -> object | None:
    text = _TRAIL.sub("", _cut_at_labels(kv.value, every_label))
    if kv.field == "applicant.name":
        if len(text) < 2 or not _CJK.search(text):
            return None
        return _brackets(text)
    if kv.field == "applicant.legal_representative":
        m = _PERSON.match(text)
        return m.group(0) if m else None
    if kv.field == "applicant.address":
        if len(text) < 4 or not _CJK.search(text):
            return None
        return _brackets(_DIGIT_DASH.sub("—", text))
    if kv.field == "applicant.established":
        # The first date, within a character or two of the label (a letter-spaced label's
        # last character may be read into the value: 月2008年08月25日).
        dates = find_dates(text)
        return dates[0].value if dates and dates[0].start <= 2 else None
    return None  # codes are read as tokens (_codes); other fields only bound these


def _brackets(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _field_value(
    kv: KeyValue, value: object, file: str, page: Page, material: str | None, **extra
) -> FieldValue:
    from extractors.fields import FieldValue

    return FieldValue(
        field=kv.field,
        value=value,
        file=file,
        page=page.number,
        text=f"{kv.label} {kv.value}",
        confidence=round(min(0.99, kv.conf), 3),
        material=material,
        bbox=kv.bbox,
        origin=str(page.origin),
        **extra,
    )


def _codes(file: str, page: Page, material: str | None, pairs: list[KeyValue]) -> list:
    """The credit code: a valid one anywhere on the page (a licence prints one, often away
    from its label, under the national emblem); a labelled one that fails its check is
    mended only by a single OCR confusion, else given as printed at low confidence (the
    checks then ask a person). A licence with only a 注册号 has no credit code."""
    from extractors.fields import FieldValue

    out: list[FieldValue] = []
    seen: set[str] = set()
    labelled = {kv.field: kv for kv in pairs}
    for line in page.lines:
        for token in identifiers.tokens(line.text):
            if token.kind != "credit_code" or token.value in seen:
                continue
            seen.add(token.value)
            out.append(
                FieldValue(
                    field="applicant.credit_code",
                    value=token.value,
                    file=file,
                    page=page.number,
                    text=line.text,
                    confidence=round(min(0.99, line.conf if line.conf is not None else 1), 3),
                    material=material,
                    bbox=line.bbox,
                    origin=str(page.origin),
                )
            )
    code = labelled.get("applicant.credit_code")
    if not out and code is not None:
        raw = _COPY_MARK.sub("", code.value)
        for token in identifiers.tokens(raw):
            if len(token.value) != 18 or not identifiers.credit_code_shape(token.value):
                continue
            fixed = credit_code.repair(token.value)
            note = (
                f"识别结果“{token.value}”校验位不符，按常见误识修正为“{fixed}”"
                if fixed
                else f"识别结果“{token.value}”校验位不符，请人工核对"
            )
            out.append(_field_value(code, fixed or token.value, file, page, material, note=note))
            out[-1].confidence = 0.6 if fixed else 0.3
            break
    return out
