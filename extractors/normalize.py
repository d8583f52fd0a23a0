"""Numbers, money, dates, shares, areas and counts as applicants print them, into the
contract's units (元, m², a fraction, ISO dates, integers).

Each parser reads a value at the start of a text (after optional filler such as ：, 为,
约) and returns it with the span it used, so the caller can point at the source. Chinese
numerals and 大写 amounts go through cn2an; everything else is a small regular expression.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import cn2an

# What may stand between a label and its value: punctuation, a unit in brackets, a verb.
# Words between a label and its value; the longer of two alike first (达到 before 达: an
# alternation takes the first that matches, and 达 alone left 到 in the way).
FILLER = re.compile(
    r"^(?:[\s:：,，、;；=＝|]|[（(〈《][^（()）〈〉《》]{0,8}[）)〉》]|达到|为|约|达|共计|共|合计数|合计|计"
    r"|实现|了|是|有|位于|人民币|金额|总额|¥|￥)*"
)

_DIGITS = r"\d+(?:[,，]\d{3})*(?:\.\d+)?"
_GROUPED = re.compile(
    r"\d{1,3}(?:,\d{3})+\.\d{2}"
)  # 1,234,567.89: stops before a glued next figure
_CN_NUM = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬億点"
_CN_MONEY = re.compile(rf"[{_CN_NUM}元圆角分整正]+")


@dataclass(frozen=True)
class Parsed:
    value: float | int | str
    start: int  # span of the value (with its unit) in the text given
    end: int
    unit: str | None = None  # as printed: 元, 万元, %, 平方米 …
    note: str | None = None


def fold(text: str) -> str:
    """NFKC: full-width digits, letters and punctuation become ASCII (１２３，４５６ → 123,456).
    Keeps the length for all but rare ligatures, so spans stay valid."""
    return unicodedata.normalize("NFKC", text)


def skip_filler(text: str, start: int = 0) -> int:
    m = FILLER.match(text[start:])
    return start + (m.end() if m else 0)


# --------------------------------------------------------------------------- numbers


def _number(text: str, start: int) -> tuple[float, int, int] | None:
    """An Arabic number at ``start`` (thousands separators allowed, also a grouped figure
    glued to the next one, as split table cells print them)."""
    grouped = _GROUPED.match(text, start)
    if grouped:
        raw = grouped.group(0)
        value = float(raw.replace(",", ""))
        return (value, start, grouped.end()) if math.isfinite(value) and len(raw) < 30 else None
    m = re.compile(r"-?" + _DIGITS).match(text, start)
    if not m:
        return None
    raw = m.group(0).replace(",", "").replace("，", "")
    if len(raw) > 20:  # no document prints a figure of more than twenty digits
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return (value, start, m.end()) if math.isfinite(value) else None


def _chinese_number(text: str, start: int) -> tuple[float, int, int] | None:
    m = re.compile(rf"[{_CN_NUM}]+").match(text, start)
    if not m:
        return None
    raw = m.group(0)
    try:
        value = float(cn2an.cn2an(raw, "smart"))
    except (ValueError, KeyError, IndexError, OverflowError):
        return None
    return (value, start, m.end()) if math.isfinite(value) else None


def parse_number(text: str, start: int = 0) -> Parsed | None:
    text = fold(text)
    at = skip_filler(text, start)
    found = _number(text, at) or _chinese_number(text, at)
    if found is None:
        return None
    value, s, e = found
    return Parsed(value, s, e)


# --------------------------------------------------------------------------- money

_MONEY_UNIT = re.compile(r"\s*(亿元|亿|万元|万|元|圆)")
_SCALE = {"亿元": 100_000_000, "亿": 100_000_000, "万元": 10_000, "万": 10_000}


def parse_money(text: str, start: int = 0, unit: str | None = None) -> Parsed | None:
    """Yuan from 1,234,567.89 / 123.46万元 / 壹佰贰拾万元整 / ¥677,900.00. ``unit`` is the
    unit a label gave (资产总额（万元）) when the figure itself has none."""
    text = fold(text)
    at = skip_filler(text, start)
    found = _number(text, at)
    if found is not None:
        value, s, e = found
        m = _MONEY_UNIT.match(text, e)
        printed = m.group(1) if m else unit
        if m:
            e = m.end()
        scale = _SCALE.get(printed or "", 1)
        return Parsed(round(value * scale, 2), s, e, printed or "元")
    m = _CN_MONEY.match(text, at)
    if m and any(ch in m.group(0) for ch in "元圆万"):
        raw = m.group(0)
        try:
            value = float(cn2an.cn2an(raw.rstrip("整正"), "smart"))
        except (ValueError, KeyError, IndexError):
            return None
        return Parsed(round(value, 2), m.start(), m.end(), "大写")
    return None


# --------------------------------------------------------------------------- dates

_DATE_FORMS = [
    # A speck read as a mark between the parts of a printed date (2020年03月-10日); the day
    # never runs on into a digit (2016年7月-2019年6月 is two months, not 7月20日).
    re.compile(r"(\d{4})\s*年\s*[-·.,]?\s*(\d{1,2})\s*月\s*[-·.,]?\s*(\d{1,2})(?!\d)\s*[日号]?"),
    re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?!\d)"),
    re.compile(r"(\d{4})(\d{2})(\d{2})(?!\d)"),
]
# A date printed to the month only: 2018年7月 (also with the form's day left blank,
# 2018 年 7 月  日), 2018.07, 2018-07, 2018/07. Not a figure with a unit (2018.5万元).
_MONTH_FORMS = [
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*[-·.,]?\s*\d{1,2}(?!\d))"),
    re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})(?![\d./-])(?!\s*(?:万|亿|元|%|‰|平|㎡|m))"),
]
# Chinese-numeral dates as printed: the zero of the year as 〇, ○ (a circle), 零, or a
# Latin O or digit 0 in a typeface's or an OCR's hands; 廿 (20) and 卅 (30) in the day.
_CN_YEAR = r"([〇○◯零Oo0一二三四五六七八九]{4})\s*年\s*([十一二三四五六七八九]{1,3})\s*月"
_CN_DATE = re.compile(_CN_YEAR + r"\s*([十一二三四五六七八九廿卅]{1,3})\s*日")
# Word's Chinese date field (DATE \@ "EEEE年O月") prints a cover's month so: 二〇一八年七月.
_CN_MONTH = re.compile(_CN_YEAR + r"(?!\s*[十一二三四五六七八九廿卅〇○◯零\d])")
_CN_ZERO = str.maketrans({"○": "〇", "◯": "〇", "零": "〇", "O": "〇", "o": "〇", "0": "〇"})
# A month-only date is kept at its precision, as ISO 8601 writes a calendar month: YYYY-MM.
MONTH_ONLY = re.compile(r"\d{4}-\d{2}")
_YEARS = range(1900, 2100)  # a four-digit figure outside these is not a year (1234.5)


def _cn_day(text: str) -> str:
    return text.replace("廿", "二十").replace("卅", "三十")


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _month(y: int, m: int) -> str | None:
    return f"{y:04d}-{m:02d}" if y in _YEARS and 1 <= m <= 12 else None


def _cn_year_month(m: re.Match) -> tuple[int, int] | None:
    year = m[1].translate(_CN_ZERO)
    if set(year) == {"〇"}:
        return None
    try:
        return int(cn2an.cn2an(year, "smart")), int(cn2an.cn2an(m[2], "smart"))
    except (ValueError, KeyError, IndexError):
        return None


def parse_date(text: str, start: int = 0, *, month_end: bool = False) -> Parsed | None:
    """ISO date from 2017年12月31日 / 2017.12.31 / 2017-12-31 / 二〇一七年十二月三十一日.
    A date printed to the month only (2018年7月, 二〇一八年七月, 2018.07) is that month,
    ``YYYY-MM`` (ISO 8601's calendar month: the day is not made up; ``date_span`` gives
    its first and last day); with ``month_end`` it is the month's last day (a period end:
    截至2017年12月)."""
    text = fold(text)
    at = skip_filler(text, start)
    for form in _DATE_FORMS:
        m = form.match(text, at)
        if m:
            iso = _iso(int(m[1]), int(m[2]), int(m[3]))
            if iso:
                return Parsed(iso, m.start(), m.end())
    m = _CN_DATE.match(text, at)
    if m:
        ym = _cn_year_month(m)
        if ym is None:
            return None
        try:
            d = int(cn2an.cn2an(_cn_day(m[3]), "smart"))
        except (ValueError, KeyError, IndexError):
            return None
        iso = _iso(*ym, d)
        if iso:
            return Parsed(iso, m.start(), m.end())
    month = _month_at(text, at)
    if month is None:
        return None
    value, s, e = month
    if month_end:
        y, mo = int(value[:4]), int(value[5:])
        return Parsed(_iso(y, mo, calendar.monthrange(y, mo)[1]), s, e)
    return Parsed(value, s, e, note="只写到月")


def _month_at(text: str, at: int) -> tuple[str, int, int] | None:
    """A month-only date at ``at``: (YYYY-MM, start, end)."""
    for form in _MONTH_FORMS:
        m = form.match(text, at)
        if m:
            value = _month(int(m[1]), int(m[2]))
            return (value, m.start(), m.end()) if value else None
    m = _CN_MONTH.match(text, at)
    if m:
        ym = _cn_year_month(m)
        value = _month(*ym) if ym else None
        return (value, m.start(), m.end()) if value else None
    return None


def date_span(value: str) -> tuple[date, date]:
    """The first and last day a date value may be: one day for YYYY-MM-DD, the month's
    first and last for a month-only YYYY-MM."""
    if MONTH_ONLY.fullmatch(value):
        y, m = int(value[:4]), int(value[5:])
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
    day = date.fromisoformat(value)
    return day, day


def find_dates(text: str, *, months: bool = False) -> list[Parsed]:
    """Every full date in a text, in order; with ``months``, month-only dates too
    (租赁期限：2016年7月至2019年6月, a signature's 二〇一八年七月)."""
    text = fold(text)
    found: list[Parsed] = []
    pos = 0
    starts = re.compile(r"\d{4}\s*[年\-./]|\d{8}|[〇○◯零Oo0一二三四五六七八九]{4}\s*年")
    while (m := starts.search(text, pos)) is not None:
        parsed = parse_date(text, m.start())
        if parsed and (months or not MONTH_ONLY.fullmatch(parsed.value)):
            found.append(parsed)
            pos = parsed.end
        else:
            pos = m.start() + 1
    return found


# --------------------------------------------------------------------------- shares

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_PER_MILLE = re.compile(r"(\d+(?:\.\d+)?)\s*‰")
_CN_PERCENT = re.compile(rf"百分之([{_CN_NUM}]+)")


def parse_share(text: str, start: int = 0, unit: str | None = None) -> Parsed | None:
    """A fraction from 85% / 85.5 % / 0.85 / 百分之八十五; with ``unit="%"`` (the label
    said so: 用户满意度（%）：95.6) a bare number is a percentage."""
    text = fold(text)
    at = skip_filler(text, start)
    if unit == "%":
        m = re.compile(r"(\d+(?:\.\d+)?)(?![\d.])\s*%?").match(text, at)
        if m:
            return Parsed(round(float(m[1]) / 100, 6), m.start(), m.end(), "%")
    m = _PERCENT.match(text, at)
    if m:
        return Parsed(round(float(m[1]) / 100, 6), m.start(), m.end(), "%")
    m = _PER_MILLE.match(text, at)
    if m:
        return Parsed(round(float(m[1]) / 1000, 6), m.start(), m.end(), "‰")
    m = _CN_PERCENT.match(text, at)
    if m:
        try:
            value = float(cn2an.cn2an(m[1], "smart"))
        except (ValueError, KeyError, IndexError):
            return None
        return Parsed(round(value / 100, 6), m.start(), m.end(), "%")
    m = re.compile(r"(0?\.\d+|1(?:\.0+)?|0)(?![\d.%])").match(text, at)
    if m:
        return Parsed(round(float(m[1]), 6), m.start(), m.end(), None)
    return None


# --------------------------------------------------------------------------- areas

_AREA_UNIT = re.compile(r"\s*(平方米|平方公尺|平米|㎡|m²|m2|M2|sqm)")


def parse_area(text: str, start: int = 0, unit: str | None = None) -> Parsed | None:
    """Square metres from 256.5平方米 / 256.5㎡ / 256.5m² / 256.5 m2 / 256.5平米. A label
    that carries the unit (面积（m²）) lets a bare number through."""
    text = fold(text)
    found = parse_number(text, start)
    if found is None:
        return None
    value, s, e = found.value, found.start, found.end
    m = _AREA_UNIT.match(text, e)
    if m:
        return Parsed(value, s, m.end(), m.group(1))
    if unit:
        return Parsed(value, s, e, unit)
    return None


# --------------------------------------------------------------------------- counts

_COUNT_UNIT = re.compile(r"\s*(人次|家|人|个|名|场次|场|期|次|户|位|项)")


def parse_count(text: str, start: int = 0, unit: str | None = None) -> Parsed | None:
    """An integer from 274家 / 13人 / 三十六家 / a bare 274 when the label gave the unit."""
    text = fold(text)
    found = parse_number(text, start)
    if found is None:
        return None
    value, s, e = found.value, found.start, found.end
    if value != int(value) or value < 0:
        return None
    m = _COUNT_UNIT.match(text, e)
    if m:
        return Parsed(int(value), s, m.end(), m.group(1))
    if unit is not None:
        return Parsed(int(value), s, e, unit)
    return None


def label_unit(label_text: str) -> str | None:
    """The unit a label carries in brackets or after a slash: 资产总额（万元）→ 万元."""
    m = re.search(r"[（(/]\s*(万元|元|平方米|m²|m2|㎡|家|人|个|%)\s*[)）]?", fold(label_text))
    return m.group(1) if m else None
