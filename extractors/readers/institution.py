"""The reader of legal-person certificates that stand in for a business licence
(事业单位法人证书, 民办非企业单位登记证书, 社会团体法人登记证书): the applicant's name, credit
code, address and legal representative, from the geometry of the page's text boxes
(extractors.layout), the code as a whole token (extractors.identifiers).

These certificates print no 成立日期: none is read, and the certificate's 有效期 (renewed every
five years) never stands in for one. A certificate with only a 证书号 (事证第…号) has no
credit code: none is made up."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

from extractors import credit_code, identifiers
from extractors.layout import KeyValue, compact, key_values
from extractors.model import BBox, Block, Line, Page
from extractors.normalize import find_dates
from extractors.pagetext import FieldValue

# Contract fields this reader gives, and its own.
READS = (
    "applicant.name",
    "applicant.credit_code",
    "applicant.address",
    "applicant.legal_representative",
)
OWN = ("institution.valid_until",)

_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{1,8})?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TRAIL = re.compile(r"[\s:：;；,，.。、|]+$")


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, list[str]], frozenset[str]]:
    data = tomllib.loads(
        resources.files("extractors.data").joinpath("institution.toml").read_text("utf-8")
    )
    return data["labels"], frozenset(data["wraps"]["fields"])


@lru_cache(maxsize=1)
def _every_label() -> tuple[str, ...]:
    labels, _ = vocabulary()
    return tuple(sorted({compact(x) for names in labels.values() for x in names}, key=len))


def read_institution(file: str, page: Page, material: str | None) -> list[FieldValue]:
    """The applicant's fields printed on one certificate page (no founding date: these
    certificates print none)."""
    labels, wraps = vocabulary()
    pairs = key_values(join_spread_labels(page, _every_label()), labels, multiline=wraps)
    out: list[FieldValue] = []
    for kv in pairs:
        text = _TRAIL.sub("", _cut_at_labels(kv.value))
        if kv.field in ("applicant.name", "applicant.address"):
            if len(text) >= 4 and _CJK.search(text):
                out.append(FieldValue.of_pair(kv, kv.field, _brackets(text), file, page, material))
        elif kv.field == "applicant.legal_representative":
            m = _PERSON.match(text)
            if m:
                out.append(FieldValue.of_pair(kv, kv.field, m.group(0), file, page, material))
        elif kv.field == "institution.validity" and (dates := find_dates(text)):
            valid_until = dates[-1].value
            out.append(
                FieldValue.of_pair(kv, "institution.valid_until", valid_until, file, page, material)
            )
    out.extend(_codes(file, page, material, pairs))
    return out


def join_spread_labels(page: Page, labels: tuple[str, ...]) -> Page:
    """The page with each short label justified across a wide label column (名　　　　称 in
    the column of 宗旨和业务范围: its characters read as boxes further apart than the layout
    layer joins) read as one box. A character joins the box to its right on its row when
    together they make a label and the pair fits in the width of the column's widest
    label box (a label that starts where the character does)."""
    lines = [ln for ln in page.lines if ln.bbox is not None and compact(ln.text)]
    short = [lab for lab in labels if 2 <= len(lab) <= 4]
    joined: dict[int, Line] = {}
    dropped: set[int] = set()
    for i, left in enumerate(lines):
        head = compact(left.text)
        if id(left) in dropped or not any(lab.startswith(head) and lab != head for lab in short):
            continue
        lx0, ly0, lx1, ly1 = left.bbox
        h = ly1 - ly0
        column = max(
            (
                ln.bbox[2] - ln.bbox[0]
                for ln in lines
                if abs(ln.bbox[0] - lx0) <= h and compact(ln.text) in labels
            ),
            default=0.0,
        )
        mates = sorted(
            (
                ln
                for ln in lines
                if ln is not left and ln.bbox[0] > lx1 and _level(ln.bbox, left.bbox)
            ),
            key=lambda ln: ln.bbox[0],
        )
        if not mates or column <= 0 or mates[0].bbox[2] > lx0 + column + h:
            continue
        right = mates[0]
        text = head + compact(right.text)
        if text not in short:
            continue
        box = (lx0, min(ly0, right.bbox[1]), right.bbox[2], max(ly1, right.bbox[3]))
        confs = [c for c in (left.conf, right.conf) if c is not None]
        joined[i] = Line(text=text, bbox=box, conf=min(confs) if confs else None)
        dropped.add(id(right))
    if not joined:
        return page
    kept = [joined.get(i, ln) for i, ln in enumerate(lines) if id(ln) not in dropped]
    return page.model_copy(update={"blocks": [Block(lines=kept)]})


def _level(a: BBox, b: BBox) -> bool:
    top, bottom = max(a[1], b[1]), min(a[3], b[3])
    return bottom - top >= 0.5 * min(a[3] - a[1], b[3] - b[1])


def _cut_at_labels(text: str) -> str:
    """A value OCR joined with the next label (张三住所西安市…) ends at that label."""
    cut = len(text)
    for label in _every_label():
        at = text.find(label, 1)
        if len(label) >= 2 and 0 < at < cut:
            cut = at
    return text[:cut]


def _codes(file: str, page: Page, material: str | None, pairs: list[KeyValue]) -> list:
    """The credit code: a valid whole token anywhere on the page (the certificate prints
    only its own); else the labelled one, mended by a single OCR confusion or given as
    printed at low confidence. A 证书号 (事证第…号) is no credit code."""
    out = FieldValue.credit_codes(file, page, material)
    labelled = next((kv for kv in pairs if kv.field == "applicant.credit_code"), None)
    if out or labelled is None:
        return out
    for token in identifiers.tokens(labelled.value):
        if len(token.value) != 18 or not identifiers.credit_code_shape(token.value):
            continue
        fixed = credit_code.repair(token.value)
        value = fixed or token.value
        found = FieldValue.of_pair(labelled, "applicant.credit_code", value, file, page, material)
        found.confidence = 0.6 if fixed else 0.3
        found.note = (
            f"识别结果“{token.value}”校验位不符，按常见误识修正为“{fixed}”"
            if fixed
            else f"识别结果“{token.value}”校验位不符，请人工核对"
        )
        return [found]
    return out


def _brackets(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")
