"""The application report (示范平台申请报告, 附件2) and recommendation form (推荐表, 附件1)
reader: the application's date under its seal and signature, and the SMEs served year by
year. Their declared figures (资产总额, 服务场地面积, 用户满意度 …) are read by their labels
in the vocabulary."""

from __future__ import annotations

import re

from extractors.classify import Material
from extractors.labels import FUTURE
from extractors.normalize import find_dates
from extractors.pagetext import FieldValue, PageText

# Fields this reader gives (beyond its material's labels).
FIELDS = ("application.date", "service.smes_served_by_year")

_SEALS = ("盖章", "签字", "签章")
_YEARLY = re.compile(r"(20\d{2})\s*年[^。；;\n]{0,24}?服务[^。；;\n]{0,16}?(\d+)\s*家")


def read(material: Material, pages: list[PageText]) -> list[FieldValue]:
    """What one application report or recommendation form (``pages``: its pages) says
    beyond its labels. Only the application report is signed by the applicant."""
    signed = _signing_date(material, pages) if material.type == "application_report" else []
    return signed + _yearly_counts(pages)


def _signing_date(material: Material, pages: list[PageText]) -> list[FieldValue]:
    """The date under the seal and signature on the material's last page."""
    out = []
    for pt in pages:
        if pt.page.number != material.pages[1]:
            continue
        seal = max(pt.text.rfind(word) for word in _SEALS)
        if seal < 0:
            continue
        dates = find_dates(pt.text[seal:], months=True)
        if dates:
            d = dates[-1]
            out.append(pt.value("application.date", d.value, seal + d.start, seal + d.end))
    return out


def _yearly_counts(pages: list[PageText]) -> list[FieldValue]:
    """SMEs served year by year (2016年服务…180家，2017年…274家), for the growth clause:
    one value per page that gives two years or more; a year planned (新增, 力争 …) is not."""
    out = []
    for pt in pages:
        years: dict[str, int] = {}
        first = last = None
        for m in _YEARLY.finditer(pt.text):
            if FUTURE.search(pt.text[max(0, m.start() - 6) : m.end()]):
                continue
            years.setdefault(m.group(1), int(m.group(2)))
            first = m.start() if first is None else first
            last = m.end()
        if len(years) >= 2 and first is not None:
            out.append(pt.value("service.smes_served_by_year", years, first, last))
    return out
