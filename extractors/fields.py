"""Extract the contract's fields, every value with its file, page, box, text and confidence.

Read top to bottom:

1. ``PageText`` turns a page into normalised lines (full-width folded, spaces between Han
   characters dropped, spaces next to digits kept so that 14 6,300,572.61 stays two
   figures), with each line's box and OCR confidence.
2. Labelled values (``data/fields.toml``): spaCy matchers find the labels; the value is
   read after the label, or from the next table cell, by the typed parsers of
   ``normalize``. Overlapping labels keep the longest.
3. Readers for what labels do not carry: the audit report (firm, report number, opinion,
   period end, and from the statements the year-end 资产总计 and the year's 营业收入),
   the lease term, credit codes anywhere (repaired when one misread character breaks the
   check), the signing date, and the applicant's name wherever it is printed.

Every value is kept, one per source: the declared figure and the audited one are two
values of one field.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from itertools import accumulate, pairwise
from typing import Any

from extractors import credit_code, identifiers
from extractors.classify import Material, material_at
from extractors.model import BBox, Document, Line, Origin, Page, Word
from extractors.normalize import (
    Parsed,
    find_dates,
    fold,
    label_unit,
    parse_area,
    parse_count,
    parse_date,
    parse_money,
    parse_share,
    skip_filler,
)
from extractors.ocr import join_words, union
from extractors.phrases import GAP, PhraseIndex
from extractors.text import keep_longest, misread_limit

GAP_MAX = 10
# Label rules of a field named "not.…" read nothing: they name a look-alike quantity
# (宗地面积 is land, not the building's 面积) so that the shorter label inside it does not match.
NOT = "not."
PARSERS = ("money", "area", "share", "count", "date", "name", "person", "address", "code", "text")


@dataclass
class FieldValue:
    field: str
    value: Any
    file: str
    page: int
    text: str
    confidence: float
    material: str | None = None
    bbox: BBox | None = None
    note: str | None = None
    origin: str | None = None  # text layer, ocr or docx: an OCR'd value may be a misread

    def as_dict(self) -> dict[str, Any]:
        out = {
            "value": self.value,
            "file": self.file,
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "text": self.text,
            "confidence": round(self.confidence, 2),
            "material": self.material,
            "origin": self.origin,
        }
        if self.note:
            out["note"] = self.note
        return out


# --------------------------------------------------------------------------- page text


def norm_line(text: str) -> str:
    """Fold full-width forms and join letter-spaced runs (统 一 社 会 信 用 代 码: single
    characters between single spaces), but keep one space between words, so a form's cells
    stay apart (法定代表人 袁亮宇 成立时间) and row numbers stay apart from figures."""
    out: list[str] = []
    spaced: list[bool] = []
    for token in fold(text).split():
        single = len(token) == 1 and not token.isdigit()
        if single and out and (spaced[-1] or (len(out[-1]) == 1 and not out[-1].isdigit())):
            out[-1] += token
            spaced[-1] = True
            continue
        out.append(token)
        spaced.append(False)
    return " ".join(out)


@dataclass
class PageText:
    """A page as one string of normalised lines joined by newlines."""

    file: str
    page: Page
    material: str | None
    text: str = ""
    starts: list[int] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def of(cls, file: str, page: Page, material: str | None) -> PageText:
        out = cls(file, page, material)
        parts: list[str] = []
        pos = 0
        lines = visual_rows(page) if page.origin == Origin.OCR else page.lines
        for line in lines:
            text = norm_line(line.text)
            if not text:
                continue
            out.starts.append(pos)
            out.lines.append(line)
            parts.append(text)
            pos += len(text) + 1
        out.text = "\n".join(parts)
        return out

    def wraps(self, offset: int) -> bool:
        """Does the line at ``offset`` run to the right margin, so that its text may go on
        in the next line? (DOCX paragraphs are whole; a licence's short rows do not wrap.)"""
        if self.page.origin == Origin.DOCX:
            return False
        line = self.lines[self.line_at(offset)] if self.lines else None
        if self._margin is None or line is None or not line.bbox:
            return True
        return line.bbox[2] >= self._margin

    @cached_property
    def _margin(self) -> float | None:
        """Where a line that runs to the right margin ends (computed once per page)."""
        boxes = [ln.bbox for ln in self.lines if ln.bbox]
        if not boxes:
            return None
        left = min(b[0] for b in boxes)
        return left + 0.85 * (max(b[2] for b in boxes) - left)

    def line_at(self, offset: int) -> int:
        return max(0, bisect_right(self.starts, offset) - 1)

    def source(self, start: int, end: int) -> tuple[str, BBox | None, float]:
        """Text, box and confidence of the lines a span touches (a newline it begins or ends
        with, left by a pattern anchored at a line start, touches no line)."""
        while start < end - 1 and self.text[start] == "\n":
            start += 1
        while end - 1 > start and self.text[end - 1] == "\n":
            end -= 1
        first, last = self.line_at(start), self.line_at(max(start, end - 1))
        lines = self.lines[first : last + 1]
        bbox = union(ln.bbox for ln in lines)
        text = " ".join(ln.text.strip() for ln in lines)
        return text, bbox, self.confidence(lines)

    def confidence(self, lines: list[Line]) -> float:
        if self.page.origin != Origin.OCR:
            return 0.98
        words = [w.conf for ln in lines for w in ln.words if w.conf is not None]
        if not words:
            return 0.5
        # The weakest words decide: one misread digit spoils a figure.
        words.sort()
        low = words[: max(1, len(words) // 4)]
        return round(0.5 * (sum(low) / len(low)) + 0.5 * (sum(words) / len(words)), 3)

    def value(
        self,
        name: str,
        value: Any,
        start: int,
        end: int,
        *,
        scale: float = 1.0,
        note: str | None = None,
    ) -> FieldValue:
        text, bbox, conf = self.source(start, end)
        return FieldValue(
            field=name,
            value=value,
            file=self.file,
            page=self.page.number,
            text=text,
            confidence=round(min(0.99, conf * scale), 3),
            material=self.material,
            bbox=bbox,
            note=note,
            origin=str(self.page.origin),
        )


def visual_rows(page: Page) -> list[Line]:
    """An OCR'd page's words regrouped into the rows a reader sees. Tesseract may put a
    table's label column and its figures in different blocks (一、营业收入 in one, 2,234,403.48
    in another); words whose vertical centres are close belong to one row, read left to
    right, with a space where the gap is wide."""
    words = [w for line in page.lines for w in line.words if w.bbox and w.text.strip()]
    if not words:
        return page.lines
    heights = sorted(w.bbox[3] - w.bbox[1] for w in words)
    tolerance = 0.5 * heights[len(heights) // 2]
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.bbox[1] + w.bbox[3]) / 2):
        centre = (word.bbox[1] + word.bbox[3]) / 2
        if rows:
            last = rows[-1]
            last_centre = sum((w.bbox[1] + w.bbox[3]) / 2 for w in last) / len(last)
            if abs(centre - last_centre) <= tolerance:
                last.append(word)
                continue
        rows.append([word])
    out = []
    for row in rows:
        row.sort(key=lambda w: w.bbox[0])
        parts = [row[0].text]
        for before, word in pairwise(row):
            wide = word.bbox[0] - before.bbox[2] > 1.5 * (before.bbox[3] - before.bbox[1])
            parts.append(("  " if wide else " ") + word.text)
        confs = [w.conf for w in row if w.conf is not None]
        out.append(
            Line(
                text=join_words(["".join(parts)]),
                bbox=union(w.bbox for w in row),
                words=row,
                conf=round(sum(confs) / len(confs), 3) if confs else None,
            )
        )
    return out


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    field: str
    parse: str
    labels: tuple[str, ...]
    materials: tuple[str, ...] | None
    units: tuple[str, ...] | None = None  # the value must be printed with one of these


class FieldDataError(ValueError):
    """The field-label file is malformed; the message names the rule."""


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


def _rules_from(table: dict[str, Any]) -> list[Rule]:
    rules = []
    for i, spec in enumerate(table.get("rule", []), start=1):
        where = f"fields.toml rule {i} ({spec.get('field', '?')})"
        unknown = set(spec) - {"field", "parse", "labels", "materials", "units"}
        if unknown:
            raise FieldDataError(f"{where}: unknown keys {sorted(unknown)}")
        if spec.get("parse") not in PARSERS:
            raise FieldDataError(f"{where}: parse must be one of {PARSERS}")
        labels = spec.get("labels")
        if not labels or not all(isinstance(x, str) and x.strip() for x in labels):
            raise FieldDataError(f"{where}: labels must be a list of phrases")
        materials = spec.get("materials")
        units = spec.get("units")
        rules.append(
            Rule(
                spec["field"],
                spec["parse"],
                tuple(labels),
                tuple(materials) if materials else None,
                tuple(units) if units else None,
            )
        )
    return rules


@cache
def _phrase_start() -> re.Pattern[str]:
    from extractors.classify import cue_book

    phrases = {key for key in cue_book().index.entries if GAP not in key and len(key) >= 2}
    phrases |= {"服务范围", "经营范围", "业务范围", "许可范围", "类型", "注册资本", "有效期"}
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in ordered))


@cache
def field_kinds() -> dict[str, str]:
    """Each field's value type (money, area, share, count, date, name …), from the label
    rules and the readers that have no label rule."""
    kinds = {
        rule.field: rule.parse for rule in label_book().rules if not rule.field.startswith(NOT)
    }
    kinds.update(
        {
            "finance.total_assets": "money",
            "finance.revenue": "money",
            "finance.liabilities_and_equity": "money",
            "audit.period_end": "date",
            "premises.lease_end": "date",
            "audit.opinion": "opinion",  # unqualified, qualified, adverse or disclaimer
        }
    )
    return kinds


@cache
def label_book() -> LabelBook:
    data = resources.files("extractors").joinpath("data/fields.toml").read_text("utf-8")
    try:
        return LabelBook(_rules_from(tomllib.loads(data)))
    except tomllib.TOMLDecodeError as exc:
        raise FieldDataError(f"fields.toml: {exc}") from exc


# --------------------------------------------------------------------------- value parsers

# How an organisation's name ends (企业名称登记管理规定: 行政区划 + 字号 + 行业 + 组织形式).
# A company's legal form (有限公司 …) ends a company's name; a branch's name is its
# company's name followed by its own part (…有限公司西安分公司, …支公司, …研究院西安分院,
# …事务所（特殊普通合伙）陕西分所); an institution's word (研究院, 中心, 大学 …) may be followed
# by more of the name (…研究院有限公司, …大学科技园有限公司); a partnership's form is
# printed in brackets after the name (合伙企业法: （普通合伙）, （特殊普通合伙）, （有限合伙）).
_NAME_CHARS = r"[\u4e00-\u9fff()（）A-Za-z0-9·]"
_COMPANY_FORM = (
    r"(?:股份有限公司|有限责任公司|有限公司|集团公司|股份公司|公司|合伙企业|个人独资企业)"
)
_BRANCH_SUFFIX = (
    r"(?:中心支公司|分公司|支公司|分院|分所|分中心|办事处|分行|支行|营业部|分会|分社|分校|分店)"
)
_INSTITUTION = (
    r"(?:服务中心|中心|研究院|研究所|协会|学会|商会|促进会|联合会|事务所|合作社|孵化器|大学|学院|"
    r"研究会|基金会|园区|基金)"
)
_PARTNERSHIP = r"[(（](?:有限合伙|特殊普通合伙|普通合伙)[)）]"
_ORG_SUFFIX = rf"(?:{_COMPANY_FORM}|{_BRANCH_SUFFIX}|{_INSTITUTION})"
_ORG = re.compile(rf"{_NAME_CHARS}{{2,40}}?{_ORG_SUFFIX}")
# 个体工商户 (个体工商户名称登记管理办法 第十条: 厂、店、馆、部、行、中心 …): read only where
# no other form is and where the name ends, before a delimiter (…行者户外用品店, not …区行;
# not …旅行网).
_SOLE_TRADER = re.compile(r"(?:工作室|经营部|门市部|商行|商店|店|厂|部|行|馆)$")
# What never stands inside a name but follows one in a form or a sentence without a space:
# the next label (法定代表人, 统一社会信用代码 …), a verb (是, 成立于, 位于), a seal's place.
_NAME_STOP = re.compile(
    r"是|的|位于|成立|注册资本|注册地|与|及|在|法定代表人|法人代表|负责人|统一社会信用代码|"
    r"社会信用代码|信用代码|类型|住所|地址|经营范围|营业期限|经营场所|营业场所|联系人|电话|"
    r"日期|[(（](?:盖章|公章|签章|签字|印章|章)[)）]|以下简称"
)
# What may continue a name after each kind of ending: after a company's form, a branch's
# part or a subordinate research institute (…集团公司第二十研究所); after a branch's part or
# a partnership's form, only a further branch's part (…分行营业部); after an institution's
# word, a partnership's form or more of the name up to any ending.
_AFTER = {
    "company": re.compile(
        rf"{_PARTNERSHIP}|{_NAME_CHARS}{{0,15}}?(?:{_BRANCH_SUFFIX}|研究院|研究所)"
    ),
    "branch": re.compile(rf"{_NAME_CHARS}{{0,15}}?{_BRANCH_SUFFIX}"),
    "institution": re.compile(rf"{_PARTNERSHIP}|{_NAME_CHARS}{{0,20}}?{_ORG_SUFFIX}"),
}
_ENDING = re.compile(
    rf"(?P<branch>{_BRANCH_SUFFIX}|{_PARTNERSHIP})$|(?P<institution>{_INSTITUTION})$"
    rf"|(?P<company>{_COMPANY_FORM})$"
)


def org_name(text: str) -> int | None:
    """Where the organisation's name that ``text`` starts with ends: the whole name, to
    the last ending that continues it (a branch's part, a partnership's form, a company
    after an institution's word), before a delimiter, the next label or a verb."""
    stop = _NAME_STOP.search(text, 2)
    line = text[: stop.start()] if stop else text
    m = _ORG.match(line)
    if m is not None:
        return _name_end(line, m.end())
    run = re.match(rf"{_NAME_CHARS}{{3,40}}", line)
    return run.end() if run and _SOLE_TRADER.search(run.group(0)) else None


def is_branch(name: str) -> bool:
    """Is ``name`` a branch's (…分公司, …支公司, …分院, …办事处, …分中心 …)?"""
    return re.search(rf"{_BRANCH_SUFFIX}$", name) is not None


def branch_of(name: str, parent: str) -> bool:
    """Is ``name`` the name of a branch of ``parent`` (its name followed by a branch's
    part: 陕西XX有限公司 → 陕西XX有限公司西安分公司, or a branch's branch)?"""
    rest = name[len(parent) :] if name.startswith(parent) else ""
    return (
        bool(rest)
        and re.fullmatch(rf"(?:{_NAME_CHARS}{{0,15}}?{_BRANCH_SUFFIX})+", rest) is not None
    )


def _name_end(text: str, end: int) -> int:
    """``end`` moved past whatever continues the name that ends there."""
    while True:
        ending = _ENDING.search(text[max(0, end - 8) : end])
        if ending is None:
            return end
        more = _AFTER[ending.lastgroup].match(text, end)
        if more is None or more.end() == end:
            return end
        end = more.end()


_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{2,8})?")
_NOT_PERSON = (
    "签字",
    "签章",
    "盖章",
    "姓名",
    "职务",
    "电话",
    "手机",
    "身份证",
    "联系人",
    "主管",
    "会计",
    "负责",
    "机构",
    "单位",
    "代表",
)
# Common Chinese surnames (single and double): a person's name starts with one.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满"
    "闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙"
    "浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干"
    "但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
) | {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "夏侯", "端木", "公孙"}
_ADDRESS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9\-—()（）#·]{4,60}")
_ADDRESS_HINT = re.compile(r"[省市区县镇乡街路道巷号室楼层栋座园]")
_STOP_ADDRESS = re.compile(
    r"(的房屋|的房产|房屋|单位性质|法定代表人|联系人|邮编|邮政编码|电话|面积|$)"
)


def _parse(kind: str, text: str, at: int, unit: str | None, wraps: bool = True) -> Parsed | None:
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
        m = _PERSON.match(rest)
        if not m or any(w in m.group(0) for w in _NOT_PERSON):
            return None
        person = m.group(0)
        if person[0] not in SURNAMES and person[:2] not in SURNAMES:
            return None
        return Parsed(person, start, start + m.end())
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


# --------------------------------------------------------------------------- extraction


def extract_fields(
    documents: list[tuple[str, Document]], materials: list[Material]
) -> dict[str, list[FieldValue]]:
    pages = [
        PageText.of(name, page, material_at(materials, name, page.number))
        for name, document in documents
        for page in document.pages
    ]
    from extractors.readers.licence import READS, read_licence

    found: list[FieldValue] = []
    book = label_book()
    licences: list[FieldValue] = []
    for pt in pages:
        found.extend(_labelled(pt, book))
        found.extend(_tables(pt, book))
        found.extend(_credit_codes(pt))
        if pt.material == "business_licence":
            licences.extend(read_licence(pt.file, pt.page, pt.material))
    found = _licence_first(found, licences, READS)
    found.extend(_audit(pages, materials))
    found.extend(_leases(pages))
    found.extend(_signing_dates(pages, materials))
    found.extend(_yearly_counts(pages))
    found.extend(_name_occurrences(pages, found))
    _doubt_near_misses(found)
    return _collect(found)


def _licence_first(
    found: list[FieldValue], licences: list[FieldValue], reads: tuple[str, ...]
) -> list[FieldValue]:
    """On a licence page the layout reader's values stand; a value the words alone gave
    for a field the reader did not find there stays, with the doubt said (it may be the
    next column's text or another label's value)."""
    by_page = {(v.file, v.page, v.field) for v in licences}
    kept: list[FieldValue] = []
    for v in found:
        if v.material != "business_licence" or v.field not in reads:
            kept.append(v)
        elif (v.file, v.page, v.field) not in by_page:
            v.confidence = min(v.confidence, 0.5)
            v.note = v.note or "未能按执照版面读取该项，取自文字匹配，请人工核对"
            kept.append(v)
    return kept + licences


# A figure the application plans rather than reports (新增集聚服务机构5家以上).
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
_FUTURE = re.compile(r"新增|力争|计划|预计|争取|目标|将达到|拟")


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
        if rule.parse in ("money", "count", "share", "area") and _FUTURE.search(
            _SENTENCE_END.split(pt.text[max(0, start - 12) : start])[-1]
        ):
            continue  # a plan, in the same sentence (…的目标。现有服务人员35人 is a fact)
        unit = _unit_after(pt.text, end) or label_unit(pt.text[start:end])
        parsed = _parse(rule.parse, pt.text, end, unit, pt.wraps(end))
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


def full_width_brackets(name: str) -> str:
    """Chinese names are written with full-width brackets and no spaces inside them:
    科威勒自动化（上海）有限公司, （特殊普通合伙）."""
    name = re.sub(r"\s*[(（〈《]+\s*", "（", name)
    return re.sub(r"\s*[)）〉》]+", "）", name)


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
                    parsed = _parse(rule.parse, cell, end, unit)
                    source = cell
                    if parsed is None:
                        nxt = next((c for c in cells[i + 1 :] if c), None)
                        if nxt is None:
                            continue
                        parsed = _parse(rule.parse, nxt, 0, unit)
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


# --------------------------------------------------------------------------- audit report

_FIRM = re.compile(
    r"[\u4e00-\u9fff]{2,30}?会计师事务所"
    r"(?:\s*[(（〈《]{1,2}\s*[\u4e00-\u9fff]{2,8}\s*[)）〉》]|有限责任公司|有限公司)?"
)
# An audit report's number as the firms print it: the firm's abbreviation, the kind of report
# (审字, 审, 报字, 业字, 专审, 验字 …), the year in brackets, 第 and a serial (天健审〔2020〕1758号,
# 信会师报字[2020]第ZA10123号, 天职业字[2020]1234号, 大信审字[2020]第1-01234号); the year before
# the kind (安永华明(2025)审字第70008883_A01号); no year (毕马威华振审字第2514608号); or
# 信永中和's XYZH/2020XAA10123.
_SERIAL = r"\s*[A-Za-z0-9][A-Za-z0-9\-_]*\s*号"
_REPORT_NO = re.compile(
    r"[\u4e00-\u9fffA-Za-z]{0,12}(?:专审字|审字|报字|业字|验字|专审|审)"
    rf"\s*[\[(〔【]?\s*\d{{4}}\s*[\])〕】]?\s*第?{_SERIAL}"
    rf"|[\u4e00-\u9fffA-Za-z]{{2,12}}\s*[\[(〔【]\s*\d{{4}}\s*[\])〕】]\s*(?:专审字|审字)\s*第{_SERIAL}"
    rf"|[\u4e00-\u9fff]{{2,12}}审字\s*第{_SERIAL}"
    r"|XYZH\s*/\s*\d{4}\s*[A-Z]{2,}[A-Z0-9]*\d(?:-\d+)?(?![A-Za-z0-9])"
)
# What may stand before the number on its line: 报告文号：, 审计报告编号 …
_NUMBER_LEAD = re.compile(r"^.*?(?:文号|编号|报告号)[:：]?")
_OPINIONS = (
    ("disclaimer", re.compile(r"我们不对.{0,20}发表审计意见|(?<![或、])无法表示意见(?!的情形)")),
    ("adverse", re.compile(r"(?<![、或])否定意见(?!、|或)|未能在所有重大方面")),
    (
        "qualified",
        re.compile(r"(?<![无非])保留意见(?!、|或)|除.{1,40}(?:的影响|可能产生的影响)外"),
    ),
    ("unqualified", re.compile(r"在所有重大方面.{0,40}公允反映|(?<!非)无保留意见")),
)
# The opinion is stated between the report's start and 形成…意见的基础; what follows
# (the auditor's responsibilities: "…应当发表非无保留意见") is boilerplate.
_OPINION_END = re.compile(r"形成.{0,8}意见的基础|二、|管理层")
# An OCR'd opinion may lose 公允反映; "in all material respects" with no qualification,
# adverse or disclaimer wording is still an unqualified opinion, read less surely.
_UNQUALIFIED_WEAK = re.compile(r"在所有重大方面|一、审计意见")


def _audit(pages: list[PageText], materials: list[Material]) -> list[FieldValue]:
    out: list[FieldValue] = []
    for material in materials:
        if material.type != "audit_report":
            continue
        mine = [
            pt
            for pt in pages
            if pt.file == material.file and material.pages[0] <= pt.page.number <= material.pages[1]
        ]
        out.extend(_firms_and_numbers(mine))
        out.extend(_opinion(mine))
        out.extend(_period_end(mine))
        out.extend(_statement_figures(mine))
    return out


@dataclass(frozen=True)
class StatementRow:
    """A figure read from a statement row (``[[statement]]`` in data/fields.toml)."""

    field: str
    titles: tuple[str, ...]
    rows: tuple[str, ...]  # row labels, in order of preference
    same_statement: str | None = None


@cache
def statement_rows() -> tuple[StatementRow, ...]:
    data = resources.files("extractors").joinpath("data/fields.toml").read_text("utf-8")
    out = []
    for i, spec in enumerate(tomllib.loads(data).get("statement", []), start=1):
        where = f"fields.toml statement {i} ({spec.get('field', '?')})"
        unknown = set(spec) - {"field", "titles", "rows", "same_statement"}
        if unknown:
            raise FieldDataError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("titles", "rows"):
            if not spec.get(key) or not all(isinstance(x, str) and x for x in spec[key]):
                raise FieldDataError(f"{where}: {key} must be a list of phrases")
        titles, rows = tuple(spec["titles"]), tuple(spec["rows"])
        out.append(StatementRow(spec["field"], titles, rows, spec.get("same_statement")))
    return tuple(out)


def _firms_and_numbers(pages: list[PageText]) -> list[FieldValue]:
    out = []
    for pt in pages:
        for m in _FIRM.finditer(pt.text):
            name = full_width_brackets(re.sub(r"^(?:中国|由|经|我们|本)", "", m.group(0)))
            if len(name) >= 8 and "注册会计师" not in name:
                out.append(pt.value("audit.firm", name, m.start(), m.end()))
        for m in _REPORT_NO.finditer(pt.text):
            number = _NUMBER_LEAD.sub("", re.sub(r"\s+", "", m.group(0)))
            out.append(pt.value("audit.report_number", number, m.start(), m.end()))
    return out


def _opinion(pages: list[PageText]) -> list[FieldValue]:
    for pt in pages:
        if "审计意见" not in pt.text and "我们认为" not in pt.text:
            continue
        if "我们审计了" not in pt.text and "我们认为" not in pt.text:
            continue
        body = pt.text.replace("\n", "")
        start = max(0, body.find("我们审计了") - 30)  # the heading (一、保留意见) just before
        end = _OPINION_END.search(body, start + 10)
        body = body[start : end.start() if end else len(body)]
        for kind, pattern in _OPINIONS:
            m = pattern.search(body)
            if m:
                at = pt.text.find(m.group(0)[:4])
                return [pt.value("audit.opinion", kind, max(0, at), max(0, at) + len(m.group(0)))]
        m = _UNQUALIFIED_WEAK.search(pt.text)
        if m:
            return [pt.value("audit.opinion", "unqualified", m.start(), m.end(), scale=0.85)]
    return []


def _period_end(pages: list[PageText]) -> list[FieldValue]:
    out = []
    for pt in pages:
        if not any(k in pt.text for k in ("我们审计了", "资产负债表", "利润表")):
            continue
        body = pt.text
        m = re.search(
            r"(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-./]\d{1,2}[-./]\d{1,2})", body
        )
        for date in find_dates(body):
            out.append(pt.value("audit.period_end", date.value, date.start, date.end))
            break
        if m is None:
            year = re.search(r"(\d{4})\s*年度", body)
            if year:
                iso = f"{year.group(1)}-12-31"
                out.append(pt.value("audit.period_end", iso, year.start(), year.end(), scale=0.95))
    # Only period ends that look like one (a 31 December or a month's end)
    return [v for v in out if v.value[5:] in ("12-31", "06-30", "03-31", "09-30")]


@dataclass(frozen=True)
class Statement:
    """Where one statement is printed: from its title line (or, on a scan whose title OCR
    lost, from the top of a page with a statement's column header) to the next statement's
    title, at most two pages on (its rows may continue there)."""

    rank: int  # 0 consolidated (合并), 1 plain, 2 parent company (母公司), 3 untitled scan
    first: int  # index of the page where it starts
    head: int  # offset of its title line there
    start: int  # offset after the title line
    stop: tuple[int, int]  # (page index, offset) where the next statement starts

    def segments(self, pages: list[PageText]):
        """(page index, page, from, to) for each page the statement covers."""
        for k in range(self.first, min(self.stop[0], len(pages) - 1) + 1):
            pt = pages[k]
            lo = self.start if k == self.first else 0
            hi = self.stop[1] if k == self.stop[0] else len(pt.text)
            yield k, pt, lo, hi


# Any statement's title: where the one before it ends.
_STATEMENT_TITLES = (
    "资产负债表", "利润表", "损益表", "现金流量表", "所有者权益变动表", "股东权益变动表",
    "业务活动表",
)  # fmt: skip
_COLUMNS = re.compile(r"行次|期末余额|本期金额|期末数|本年累计|本期发生额")


@cache
def _title_line(titles: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?:^|\n)[^\n]{{0,8}}(?:{'|'.join(titles)})[^\n]{{0,8}}(?=\n|$)")


def _statements(pages: list[PageText], titles: tuple[str, ...]) -> list[Statement]:
    """The statements with one of ``titles``, best first (合并 before plain before 母公司)."""
    title = _title_line(titles)
    found: list[Statement] = []
    for index, pt in enumerate(pages):
        starts = [
            (0 if "合并" in m.group(0) else 2 if "母公司" in m.group(0) else 1, m)
            for m in title.finditer(pt.text)
            if "续" not in m.group(0)  # 资产负债表（续）: the same statement's next page
        ]
        if not starts and _COLUMNS.search(pt.text[:400]):
            # A scanned statement whose title OCR lost: a page with a column header.
            found.append(Statement(3, index, 0, 0, _statement_stop(pages, index, 0, "")))
        for rank, m in starts:
            stop = _statement_stop(pages, index, m.end(), m.group(0))
            found.append(Statement(rank, index, m.start(), m.end(), stop))
    return sorted(found, key=lambda s: (s.rank, s.first, s.start))


def _statement_stop(pages: list[PageText], index: int, start: int, own: str) -> tuple[int, int]:
    """Where the statement whose title ``own`` ends at (``index``, ``start``) stops: at the
    next statement's title, two pages on at most. Its own title printed again, or with
    （续）, is its next page."""
    last = min(index + 2, len(pages) - 1)
    for k in range(index, last + 1):
        for m in _title_line(_STATEMENT_TITLES).finditer(pages[k].text, start if k == index else 0):
            line = m.group(0).strip()
            if "续" not in line and line != own.strip():
                return k, m.start()
    return last, len(pages[last].text)


def _statement_figures(pages: list[PageText]) -> list[FieldValue]:
    """The audited figures of ``data/fields.toml``'s ``[[statement]]`` rows: each from the
    best statement that has its row, or from the statement another figure came from."""
    out: list[FieldValue] = []
    read_from: dict[str, Statement] = {}
    for spec in statement_rows():
        if spec.same_statement:
            source = read_from.get(spec.same_statement)
            candidates = [source] if source else []
        else:
            candidates = _statements(pages, spec.titles)
        for statement in candidates:
            found = _statement_row(pages, statement, spec.rows, spec.field)
            if found is not None:
                out.append(found)
                read_from[spec.field] = statement
                break
    return out


@cache
def _row_label(label: str) -> re.Pattern[str]:
    """A row label as a statement prints it: after a line start, an enumerator
    (一、营业收入) or 其中：; spaces allowed; wrapped in its cell (负债和所有者权益（或 /
    股东权益）总计), the figures beside its first line or beneath its last."""
    chars = [re.escape(ch) for ch in fold(label) if not ch.isspace()]
    figures = r"[ ]-?\(?\d[\d,.]*\)?"
    wrap = rf"(?:[ ]?\n?[ ]?|(?:{figures})+[ ]?\n)"
    return re.compile(
        r"(?:^|\n|[一二三四五六七八九十]、|其中[:：])[ ]?"
        + wrap.join(chars)
        + r"(?![\u4e00-\u9fff])"
    )


def _statement_row(
    pages: list[PageText], statement: Statement, labels: tuple[str, ...], name: str
) -> FieldValue | None:
    """The current-period figure on a statement's row, the first label of ``labels`` found
    deciding: the first figure after the label (期末/本期 comes first unless the header says
    otherwise), in yuan by the unit the statement's header gives."""
    previous_first = _previous_first(_header(pages, statement))
    for label in labels:
        pattern = _row_label(label)
        for index, pt, lo, hi in statement.segments(pages):
            ocr = pt.page.origin == Origin.OCR
            for m in pattern.finditer(pt.text, lo, hi):
                figures, end = _figures_of(pt, m, ocr)
                if not figures:
                    continue
                first = 1 if previous_first and len(figures) > 1 else 0
                value, note, scale = figures[first]
                value = abs(value)  # totals are never negative; a dash before is OCR noise
                unit = _statement_unit(pages, statement, index, m.start())
                if unit is None:
                    scale = min(scale, 0.55)
                    note = note or "报表未注明金额单位（如“单位：元”），按元读取，请核对"
                elif unit != "元":
                    value = round(value * _UNIT_SCALE[unit], 2)
                    note = note or f"报表金额单位为{unit}，已换算为元"
                return pt.value(name, value, m.start(), end, scale=scale, note=note)
    return None


def _figures_of(
    pt: PageText, m: re.Match[str], ocr: bool
) -> tuple[list[tuple[float, str | None, float]], int]:
    """A row's figures and where they end: after the label on its line; beside the first
    line of a wrapped label; or on the line beneath it, when that line holds only figures."""
    line_end = pt.text.find("\n", m.end())
    line_end = len(pt.text) if line_end == -1 else line_end
    figures = _row_figures(pt.text[m.end() : line_end], ocr)
    if not figures and "\n" in m.group(0).strip("\n"):
        figures = _row_figures(re.sub(r"[^-\d,.() \n]", " ", m.group(0)), ocr)
    if not figures and line_end < len(pt.text):
        below_end = pt.text.find("\n", line_end + 1)
        below_end = len(pt.text) if below_end == -1 else below_end
        below = pt.text[line_end + 1 : below_end]
        if not re.search(r"[\u4e00-\u9fff]{2}", below):
            figures = _row_figures(below, ocr)
            line_end = below_end
    return figures, line_end


# A statement's unit as its header prints it: 单位：元, 金额单位：人民币万元, 单位:千元,
# 货币单位：人民币百万元, 金额单位为人民币元, （除另有注明外，金额均以人民币百万元列示）.
# Not 编制单位：….
_UNIT = re.compile(
    r"(?<!编制)(?<!报送)单位\s*[:：为]?\s*(?:人民币|RMB)?\s*(百万元|千元|万元|亿元|元)"
    r"|以人民币(百万元|千元|万元|亿元|元)(?:为单位)?列示"
)
_UNIT_SCALE = {"元": 1, "千元": 1_000, "万元": 10_000, "百万元": 1_000_000, "亿元": 100_000_000}
_LEAD_LINES = 3  # lines above a statement's title that still belong to its header


def _statement_unit(pages: list[PageText], statement: Statement, index: int, at: int) -> str | None:
    """The unit last declared before the row at (``index``, ``at``): in the lines just
    above the statement's title, its header, or its first rows, on the row's page or the
    pages before it. None when the statement names none."""
    unit = None
    for k, pt, lo, hi in statement.segments(pages):
        if k > index:
            break
        if k == statement.first:
            lo = _lead_in(pages, statement)
        for m in _UNIT.finditer(pt.text, lo, at if k == index else hi):
            unit = m.group(1) or m.group(2)
    return unit


def _lead_in(pages: list[PageText], statement: Statement) -> int:
    """Where the header lines above the statement's title begin on its first page."""
    text = pages[statement.first].text
    at = statement.head
    for _ in range(_LEAD_LINES):
        at = text.rfind("\n", 0, max(0, at - 1) if at else 0)
        if at <= 0:
            return 0
    return at


def _header(pages: list[PageText], statement: Statement) -> str:
    """A statement's title and column header: up to its first amount."""
    pt = pages[statement.first]
    text = pt.text[statement.head : statement.head + 600]
    amount = re.search(r"\d,\d{3}", text)
    return text[: amount.start()] if amount else text


def _previous_first(head: str) -> bool:
    """Does the header put the previous period's column first (年初余额 期末余额)?"""
    later = re.search(r"期末|年末|本期|本年", head)
    earlier = re.search(r"期初|年初|上期|上年", head)
    return bool(later and earlier and earlier.start() < later.start())


def _row_figures(row: str, ocr: bool) -> list[tuple[float, str | None, float]]:
    """Amounts on a statement row, skipping the 行次 (line number) column."""
    figures: list[tuple[float, str | None, float]] = []
    at = 0
    while at < len(row):
        money = parse_money(row, at) if not ocr else None
        if (
            money is not None
            and isinstance(money.value, float)
            and ("." in row[money.start : money.end] or "," in row[money.start : money.end])
        ):
            figures.append((money.value, None, 1.0))
            at = money.end
            continue
        m = re.compile(r"-?\d[\d,.]*\d|\d").search(row, at)
        if m is None:
            break
        token = m.group(0)
        at = m.end()
        amount = _amount(token) if ocr else None
        if amount is not None:
            figures.append(amount)
        elif not ocr and ("," in token or "." in token):
            try:
                figures.append((float(token.replace(",", "")), None, 1.0))
            except ValueError:  # a note reference (注5.1.2), not an amount
                continue
    return figures


def _amount(token: str) -> tuple[float, str | None, float] | None:
    """An amount as OCR prints it: 6.561.836.81 (dots for commas), 340,195.16, or
    253999849 (separators lost: statements print two decimals)."""
    digits = token.replace(",", "").replace(".", "")
    if len(digits) < 3 or not digits.lstrip("-").isdigit():
        return None
    seps = [i for i, ch in enumerate(token) if ch in ",."]
    if seps:
        last = seps[-1]
        if len(token) - last - 1 == 2:
            whole = re.sub(r"[,.]", "", token[:last])
            return float(f"{whole}.{token[last + 1 :]}"), None, 0.95
        if all(len(part) == 3 for part in re.split(r"[,.]", token)[1:]):
            return float(digits), None, 0.9
        return None
    if len(digits) >= 5:
        return float(f"{digits[:-2]}.{digits[-2:]}"), "小数点未识别出，按报表两位小数推断", 0.6
    return None


# --------------------------------------------------------------------------- leases


def _leases(pages: list[PageText]) -> list[FieldValue]:
    out = []
    for pt in pages:
        if pt.material != "premises_proof":
            continue
        for m in re.finditer(r"租赁期限|租赁期|租期|使用期限|有效期", pt.text):
            tail = pt.text[m.end() : m.end() + 80]
            dates = find_dates(tail)
            ends = [d for d in dates if re.search(r"至|到|-|—|~", tail[: d.start])]
            if len(dates) >= 2 or ends:
                end = (ends or dates)[-1]
                out.append(pt.value("premises.lease_end", end.value, m.start(), m.end() + end.end))
                break
    return out


# --------------------------------------------------------------------------- signing date


def _signing_dates(pages: list[PageText], materials: list[Material]) -> list[FieldValue]:
    """The date under the application report's seal and signature (its last page)."""
    out = []
    for material in materials:
        if material.type != "application_report":
            continue
        last = [
            pt for pt in pages if pt.file == material.file and pt.page.number == material.pages[1]
        ]
        for pt in last:
            seal = max(pt.text.rfind("盖章"), pt.text.rfind("签字"), pt.text.rfind("签章"))
            if seal < 0:
                continue
            dates = find_dates(pt.text[seal:])
            if dates:
                d = dates[-1]
                out.append(pt.value("application.date", d.value, seal + d.start, seal + d.end))
    return out


# --------------------------------------------------------------------------- growth

_YEARLY = re.compile(r"(20\d{2})\s*年[^。；;\n]{0,24}?服务[^。；;\n]{0,16}?(\d+)\s*家")


def _yearly_counts(pages: list[PageText]) -> list[FieldValue]:
    """SMEs served year by year (2016年服务…180家，2017年…274家), for the growth clause:
    one value per page that gives two years or more."""
    out = []
    for pt in pages:
        if pt.material not in ("application_report", "recommendation_form"):
            continue
        years: dict[str, int] = {}
        first = last = None
        for m in _YEARLY.finditer(pt.text):
            if _FUTURE.search(pt.text[max(0, m.start() - 6) : m.end()]):
                continue
            years.setdefault(m.group(1), int(m.group(2)))
            first = m.start() if first is None else first
            last = m.end()
        if len(years) >= 2 and first is not None:
            out.append(pt.value("service.smes_served_by_year", years, first, last))
    return out


# --------------------------------------------------------------------------- names


def _doubt_near_misses(found: list[FieldValue]) -> None:
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


def _name_occurrences(pages: list[PageText], found: list[FieldValue]) -> list[FieldValue]:
    """The applicant's name wherever it is printed (a notice's signature, an audit's
    notes), once its spelling is known from labelled places."""
    votes = Counter(
        v.value
        for v in found
        if v.field == "applicant.name" and v.material in ("business_licence", "application_report")
    )
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
        stop = _NAME_STOP.search(after)
        if _name_end(name + after[: stop.start() if stop else None], len(name)) == len(name):
            return at
        at = text.find(name, at + 1)
    return -1


def _without_branches(pt: PageText, name: str) -> PageText:
    """The page with every line that names a branch (…分公司, …分院, …办事处) blanked, unless
    the name itself is a branch's: a branch's line read fuzzily would pass as its company's."""
    if re.search(_BRANCH_SUFFIX, name):
        return pt
    lines = [
        " " * len(line) if re.search(_BRANCH_SUFFIX, line) else line for line in pt.text.split("\n")
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
        if pt.material not in ("business_licence", "qualification", "audit_report"):
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


# --------------------------------------------------------------------------- collect


def _collect(found: list[FieldValue]) -> dict[str, list[FieldValue]]:
    """One value per field, file, page and value: the most confident reading. A text that
    is the start of a longer value of the same field on the same page (a table cell's text
    cut where its line wrapped) gives way to the whole."""
    texts: dict[tuple[str, str, int], list[str]] = {}
    for v in found:
        if isinstance(v.value, str):
            texts.setdefault((v.field, v.file, v.page), []).append(v.value)
    found = [
        v
        for v in found
        if not isinstance(v.value, str)
        or not any(
            other != v.value and other.startswith(v.value)
            for other in texts[(v.field, v.file, v.page)]
        )
    ]
    best: dict[tuple[str, str, int, str], FieldValue] = {}
    for v in found:
        key = (v.field, v.file, v.page, repr(v.value))
        if key not in best or v.confidence > best[key].confidence:
            best[key] = v
    fields: dict[str, list[FieldValue]] = {}
    for v in sorted(best.values(), key=lambda v: (v.field, v.file, v.page)):
        fields.setdefault(v.field, []).append(v)
    return fields
