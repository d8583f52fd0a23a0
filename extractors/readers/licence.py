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
    pairs = key_values(page, labels, multiline=wraps, fragments=True, misread=True)
    every_label = _every_label()
    pairs += _split_joined(pairs, labels, every_label)
    out: list[FieldValue] = []
    for kv in pairs:
        if kv.hidden_at is not None:  # a line ends under a stamp: mark where text is lost
            kv.value = f"{kv.value[: kv.hidden_at]}…{kv.value[kv.hidden_at :]}"
        value = _value(kv, every_label)
        if value is None:
            continue
        out.append(_field_value(kv, value, file, page, material))
        if kv.hidden_at is not None:
            out[-1].confidence = min(out[-1].confidence, 0.3)
            out[-1].note = "该项有一行的末尾被印章或覆盖文字遮住，“…”处可能缺字，请人工核对"
        elif kv.fragment:
            out[-1].note = "标签只识别出一部分，按版面位置对应，请人工核对"
        elif kv.misread:
            out[-1].note = f"标签识别有误（读作“{kv.label}”），按版面位置对应，请人工核对"
    out.extend(_codes(file, page, material, pairs))
    if not any(v.field == "applicant.established" for v in out):
        out.extend(_from_period(pairs, file, page, material))
    if not any(v.field == "applicant.legal_representative" for v in out):
        out.extend(_unlabelled_person(pairs, file, page, material))
    return out


# The fields whose values start the value column of a licence's label column.
_COLUMN = ("applicant.name", "applicant.type", "applicant.address", "applicant.established",
           "applicant.registered_capital", "licence.period", "licence.scope")  # fmt: skip


def _unlabelled_person(
    pairs: list[KeyValue], file: str, page: Page, material: str | None
) -> list[FieldValue]:
    """法定代表人's label lost (OCR kept none of it) but its value read: a line that is a
    person's name and nothing else, alone on its row, starting where the values of the same
    label column start, between that column's labelled rows. Doubted."""
    from extractors.fields import SURNAMES

    column = [kv for kv in pairs if kv.field in _COLUMN and kv.boxes]
    taken = {b.bbox for kv in pairs for b in kv.boxes} | {kv.bbox for kv in pairs}
    lines = [ln for ln in page.lines if ln.bbox is not None]
    for line in lines:
        text = compact(line.text)
        x0, y0, _, y1 = line.bbox
        h = max(y1 - y0, 1.0)
        if line.bbox in taken or not _PERSON.fullmatch(text) or len(text) > 4:
            continue
        if text[0] not in SURNAMES and text[:2] not in SURNAMES:
            continue
        same = [kv for kv in column if abs(kv.boxes[0].bbox[0] - x0) <= 0.7 * h]
        cys = [(kv.boxes[0].bbox[1] + kv.boxes[0].bbox[3]) / 2 for kv in same]
        if len(same) < 2 or not min(cys) < (y0 + y1) / 2 < max(cys):
            continue
        if any(
            o is not line and o.bbox[2] <= x0 + 0.2 * h and _level(o.bbox, line.bbox) for o in lines
        ):
            continue  # something left of it on its row: a label OCR misread, or a column
        kv = KeyValue("applicant.legal_representative", "", text, line.bbox,
                      line.conf if line.conf is not None else 1.0)  # fmt: skip
        found = _field_value(kv, text, file, page, material)
        found.confidence = min(found.confidence, 0.5)
        found.note = "未识别出法定代表人的标签，按版面位置与姓名形式取值，请人工核对"
        return [found]
    return []


def _level(a, b) -> bool:
    top, bottom = max(a[1], b[1]), min(a[3], b[3])
    return bottom - top >= 0.5 * min(a[3] - a[1], b[3] - b[1])


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

    found = FieldValue.of_pair(kv, kv.field, value, file, page, material)
    for name, given in extra.items():
        setattr(found, name, given)
    return found


def _codes(file: str, page: Page, material: str | None, pairs: list[KeyValue]) -> list:
    """The credit code: a valid one anywhere on the page (a licence prints one, often away
    from its label, under the national emblem); a labelled one that fails its check is
    mended only by a single OCR confusion, else given as printed at low confidence (the
    checks then ask a person). A licence with only a 注册号 has no credit code."""
    from extractors.fields import FieldValue

    out = FieldValue.credit_codes(file, page, material)
    labelled = {kv.field: kv for kv in pairs}
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
