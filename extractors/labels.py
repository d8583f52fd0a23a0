"""The label reader, shared by every material: a field's value read after one of its
labels (``data/vocabulary.toml``) on a page's text, or from the next cell of a table, by
the typed parsers of ``normalize``; and credit codes wherever they stand as whole tokens.

spaCy matchers find the labels (``LabelBook``); where labels overlap the longest wins; a
label broken where a line wrapped is matched across the seam. A figure the text plans
rather than reports (新增…, 力争…) is not a value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from extractors import credit_code, identifiers
from extractors.model import Origin
from extractors.names import full_width_brackets, org_name, person_end
from extractors.normalize import (
    Parsed,
    label_unit,
    parse_area,
    parse_count,
    parse_date,
    parse_money,
    parse_share,
    skip_filler,
)
from extractors.pagetext import FieldValue, PageText, norm_line
from extractors.phrases import GAP, PhraseIndex
from extractors.text import keep_longest
from extractors.vocabulary import vocabulary

GAP_MAX = 10
# Rules of a look-alike quantity (宗地面积 is land, not the building's 面积) are named
# "not.…": they read nothing, so that the shorter label inside them does not match.
NOT = "not."


@dataclass(frozen=True)
class Rule:
    """Labels of one field in the materials they apply to (None: every material)."""

    field: str
    parse: str  # the field's kind
    labels: tuple[str, ...]
    materials: tuple[str, ...] | None
    units: tuple[str, ...] | None = None  # the value must be printed with one of these


class LabelBook:
    """The label data compiled into spaCy matchers (once per process)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.index: PhraseIndex[Rule] = PhraseIndex(GAP_MAX)
        for rule in rules:
            for label in rule.labels:
                self.index.add(GAP.join(norm_line(part) for part in label.split(GAP)), rule)

    def starts_with_label(self, text: str) -> bool:
        """Does ``text`` begin with any field's label or any classification phrase (the
        next row of a form: 经营范围, 服务范围, 发证机关 …)?"""
        return self.index.starts_with(text) or bool(_phrase_start().match(text[:24]))

    def hits(self, text: str, material: str | None) -> list[tuple[Rule, int, int]]:
        """Label matches (rule, start, end) in ``text``, longest first where they overlap."""
        found = [
            hit
            for hit in self.index.find(text)
            if hit[0].materials is None or material in hit[0].materials
        ]
        found.sort(key=lambda h: h[1])  # equal lengths stay in reading order
        kept = keep_longest(found, lambda h: (h[1], h[2]))
        kept.sort(key=lambda h: h[1])
        return kept


def _rules() -> list[Rule]:
    """Every field's labels and the look-alikes', from the vocabulary."""
    vocab = vocabulary()
    rules = [
        Rule(f.id, f.kind, group.phrases, group.materials, group.units)
        for f in vocab.fields.values()
        for group in f.labels
    ]
    rules += [
        Rule(NOT + alike.name, alike.kind, alike.labels.phrases, alike.labels.materials)
        for alike in vocab.lookalikes
    ]
    return rules


@cache
def label_book() -> LabelBook:
    return LabelBook(_rules())


@cache
def _phrase_start() -> re.Pattern[str]:
    """Any label or cue a form's next row may begin with, the vocabulary's row labels
    (经营范围, 注册资本 …) too."""
    from extractors.classify import cue_book

    phrases = {key for key in cue_book().index.entries if GAP not in key and len(key) >= 2}
    phrases |= set(vocabulary().row_labels)
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in ordered))


# --------------------------------------------------------------------------- values

_ADDRESS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9\-—()（）#·]{4,60}")
_ADDRESS_HINT = re.compile(r"[省市区县镇乡街路道巷号室楼层栋座园]")
_STOP_ADDRESS = re.compile(
    r"(的房屋|的房产|房屋|单位性质|法定代表人|联系人|邮编|邮政编码|电话|面积|$)"
)


def parse_value(
    kind: str, text: str, at: int, unit: str | None, wraps: bool = True
) -> Parsed | None:
    """The value of ``kind`` that ``text`` gives at ``at`` (after a label), in ``unit`` when
    the label names one."""
    if kind == "money":
        return parse_money(text, at, unit=unit if unit in ("元", "万元", "亿元") else None)
    if kind == "area":
        return parse_area(text, at, unit=unit if unit in ("平方米", "m2", "m²", "㎡") else None)
    if kind == "share":
        return parse_share(text, at, unit=unit if unit == "%" else None)
    if kind == "count":
        return parse_count(text, at, unit=unit if unit in ("家", "人", "个") else "")
    if kind == "date":
        return parse_date(text, at)
    start = skip_filler(text, at)
    rest = text[start:]
    if kind in ("name", "address"):
        # a value broken over two lines (注册地址位 / 于西安市…)
        rest = _unwrapped(text[at:]) if wraps else text[at:]
        skipped = skip_filler(rest)
        rest, start = rest[skipped:], at + skipped
    if kind == "name":
        end = org_name(rest)
        return Parsed(full_width_brackets(rest[:end]), start, start + end) if end else None
    if kind == "person":
        end = person_end(rest)
        return Parsed(rest[:end], start, start + end) if end else None
    if kind == "address":
        rest = rest.split("\n", 1)[0].replace(" ", "")  # 未央路 36 号 14 层: spaces by digits
        m = _ADDRESS.match(rest)
        if not m:
            return None
        raw = m.group(0)
        stop = _STOP_ADDRESS.search(raw)
        raw = raw[: stop.start()] if stop else raw
        if len(raw) < 6 or not _ADDRESS_HINT.search(raw):
            return None
        return Parsed(raw, start, start + len(raw))
    if kind == "code":
        m = re.compile(r"[0-9A-Za-z]{18}(?![0-9A-Za-z])").match(rest.replace(" ", ""))
        return Parsed(m.group(0).upper(), start, start + 18) if m else None
    if kind == "text":
        line = rest.split("\n", 1)[0].strip()
        return Parsed(line, start, start + len(line)) if line else None
    return None


def _unwrapped(rest: str) -> str:
    """A value that runs to the end of its line and on at the start of the next (a PDF
    line wrapped mid-address) is joined; a line that ends in punctuation is not."""
    first, _, after = rest.partition("\n")
    if (
        after
        and first
        and first[-1] not in "，,。.；;：:）)"
        and not _LABEL_START.match(after)
        and not label_book().starts_with_label(after)
    ):
        cont = re.match(r"[^，,。；;：:\n]{1,30}", after)
        if cont:
            return first + cont.group(0) + "\n" + after[cont.end() :]
    return rest


_LABEL_START = re.compile(r"[一二三四五六七八九十\d]+[、.]|第[一二三四五六七八九十]+条")


def _unit_after(text: str, end: int) -> str | None:
    """A unit printed in brackets right after a label: 资产总额（万元）."""
    m = re.compile(r"\s*[(（][^()（）]{0,8}[)）]").match(text, end)
    return label_unit(m.group(0)) if m else None


# --------------------------------------------------------------------------- reading


def read_page(pt: PageText, book: LabelBook | None = None) -> list[FieldValue]:
    """Every labelled value on a page (its text and its tables) and its credit codes."""
    book = book or label_book()
    return _labelled(pt, book) + _tables(pt, book) + _credit_codes(pt)


# A figure the application plans rather than reports (新增集聚服务机构5家以上).
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
FUTURE = re.compile(r"新增|力争|计划|预计|争取|目标|将达到|拟")


def _seam_hits(pt: PageText, book: LabelBook) -> list[tuple[Rule, int, int]]:
    """Labels broken where a line wrapped (法定代表 / 人：段晓斌): matched across the seam,
    as offsets into the page text (the end falls on the next line)."""
    found = []
    for i in range(len(pt.starts) - 1):
        newline = pt.starts[i + 1] - 1
        if pt.text[newline] != "\n" or not pt.wraps(pt.starts[i]):
            continue
        left = max(pt.starts[i], newline - 10)
        seam = pt.text[left:newline] + pt.text[newline + 1 : newline + 11]
        for rule, start, end in book.hits(seam, pt.material):
            if start < newline - left < end:  # the label straddles the line break
                found.append((rule, left + start, left + end + 1))
    return found


def _labelled(pt: PageText, book: LabelBook) -> list[FieldValue]:
    out = []
    for rule, start, end in book.hits(pt.text, pt.material) + _seam_hits(pt, book):
        if rule.field.startswith(NOT):
            continue  # another quantity's label (共有宗地面积): it only keeps 面积 from matching
        if rule.parse in ("money", "count", "share", "area") and FUTURE.search(
            _SENTENCE_END.split(pt.text[max(0, start - 12) : start])[-1]
        ):
            continue  # a plan, in the same sentence (…的目标。现有服务人员35人 is a fact)
        unit = _unit_after(pt.text, end) or label_unit(pt.text[start:end])
        parsed = parse_value(rule.parse, pt.text, end, unit, pt.wraps(end))
        if parsed is None or parsed.start - end > 16:
            continue
        value = _checked(rule, parsed)
        if value is None:
            continue
        note, scale = None, 1.0
        if rule.parse == "code":
            coded = code_value(value)
            if coded is None:
                continue
            value, note, scale = _doubted(pt, *coded)
        out.append(pt.value(rule.field, value, start, parsed.end, scale=scale, note=note))
    return out


def _doubted(pt: PageText, value: str, note: str | None, scale: float):
    """A credit code whose check fails on a picture is more likely misread than wrong."""
    if not credit_code.is_valid(value) and pt.page.origin == Origin.OCR:
        scale = min(scale, 0.5)
        note = note or f"识别结果“{value}”校验位不符，可能为识别错误，请人工核对"
    return value, note, scale


def _checked(rule: Rule, parsed: Parsed) -> Any:
    """Plausibility per field: a share above 1 or a negative area is a misread."""
    value = parsed.value
    if rule.units and parsed.unit not in rule.units:
        return None
    if rule.parse == "share" and not 0 <= value <= 1:
        return None
    if rule.parse in ("area", "money") and value < 0:
        return None
    return value


def code_value(raw: str) -> tuple[str, str | None, float] | None:
    """A credit code as read: valid; or repaired when one confusable character broke the
    check (said in the note, with less confidence); or kept as printed when it has the
    code's shape (the checks then report the bad check character)."""
    raw = raw.upper()
    if credit_code.is_valid(raw):
        return raw, None, 1.0
    fixed = credit_code.repair(raw)
    if fixed is not None:
        note = f"识别结果“{raw}”校验位不符，按常见误识（如 O/0、S/5）修正为“{fixed}”"
        return fixed, note, 0.7
    if credit_code.CANDIDATE.fullmatch(raw):
        return raw, None, 1.0
    return None


def _tables(pt: PageText, book: LabelBook) -> list[FieldValue]:
    """Label cell → value in the next cell (pdfplumber tables of text PDFs and DOCX)."""
    out = []
    for table in pt.page.tables:
        for row in table.rows:
            cells = [norm_line(c or "") for c in row]
            for i, cell in enumerate(cells):
                if not cell:
                    continue
                for rule, start, end in book.hits(cell, pt.material):
                    if rule.field.startswith(NOT):
                        continue
                    if end - start < 0.5 * len(re.sub(r"[(（].*?[)）]", "", cell)):
                        continue  # the cell says more than the label
                    unit = _unit_after(cell, end) or label_unit(cell)
                    parsed = parse_value(rule.parse, cell, end, unit)
                    source = cell
                    if parsed is None:
                        nxt = next((c for c in cells[i + 1 :] if c), None)
                        if nxt is None:
                            continue
                        parsed = parse_value(rule.parse, nxt, 0, unit)
                        source = f"{cell} {nxt}"
                    if parsed is None:
                        continue
                    value = _checked(rule, parsed)
                    if value is None:
                        continue
                    found = pt.value(rule.field, value, 0, 0)
                    found.text = source
                    found.bbox = table.bbox
                    out.append(found)
    return out


# --------------------------------------------------------------------------- credit codes


_CODE_LABEL = re.compile(r"(统一)?社会信用代码|信用代码|统一代码")


def _credit_codes(pt: PageText) -> list[FieldValue]:
    """Credit codes as whole tokens (extractors.identifiers): a valid one wherever it
    stands; one whose check fails only right after a credit-code label (mended by one OCR
    confusion, or kept as printed for the checks to query). A slice of a longer number (a
    licence serial, a 不动产单元号, a bank account) or a 身份证号码 is never one."""
    out = []
    for token in identifiers.tokens(pt.text):
        if token.kind == "credit_code":
            out.append(pt.value("applicant.credit_code", token.value, token.start, token.end))
            continue
        if token.kind != "unknown" or not identifiers.credit_code_shape(token.value):
            continue
        line_start = pt.text.rfind("\n", 0, token.start) + 1
        before = pt.text[max(line_start, token.start - 16) : token.start]
        if not _CODE_LABEL.search(before):
            continue
        coded = code_value(token.value)
        if coded is None:
            continue
        value, note, scale = _doubted(pt, *coded)
        out.append(
            pt.value("applicant.credit_code", value, token.start, token.end, scale=scale, note=note)
        )
    return out
