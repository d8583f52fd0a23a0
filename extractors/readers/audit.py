"""The audit report reader (审计报告, 专项审计报告): the accounting firm, the report's
number, the opinion, the period's end, and from the statements the figures the vocabulary
names (``[field.….statement]``: the year-end 资产总计, 负债和所有者权益总计, the year's
营业收入), each in yuan by the unit its statement's header prints (单位：万元 …)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from extractors.classify import Material
from extractors.model import Origin
from extractors.names import full_width_brackets
from extractors.normalize import find_dates, fold, parse_money
from extractors.pagetext import FieldValue, PageText
from extractors.vocabulary import statement_rows, vocabulary

# Fields this reader gives (beyond its material's labels).
FIELDS = (
    "audit.firm",
    "audit.report_number",
    "audit.opinion",
    "audit.period_end",
    "finance.total_assets",
    "finance.liabilities_and_equity",
    "finance.revenue",
)


def read(material: Material, pages: list[PageText]) -> list[FieldValue]:
    """What one audit report (``pages``: its pages) says beyond its labels."""
    return (
        _firms_and_numbers(pages) + _opinion(pages) + _period_end(pages) + _statement_figures(pages)
    )


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


# A statement's column header (a scanned statement whose title OCR lost starts at one).
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
        for m in _title_line(vocabulary().statement_titles).finditer(
            pages[k].text, start if k == index else 0
        ):
            line = m.group(0).strip()
            if "续" not in line and line != own.strip():
                return k, m.start()
    return last, len(pages[last].text)


def _statement_figures(pages: list[PageText]) -> list[FieldValue]:
    """The audited figures of the vocabulary's statement rows: each from the best statement
    that has its row, or from the statement another figure came from."""
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
