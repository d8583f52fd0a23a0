"""Dates as real forms and covers print them, one row a spelling, each naming the convention
it stands for; above all the application dated to the month only (issue 17: 申报日期 2018年7月
was not read). A month-only date is kept at its precision, ISO 8601's calendar month
``YYYY-MM``: the day is never made up (the checks judge what the month leaves open)."""

from __future__ import annotations

import pytest

from extractors.classify import classify_documents
from extractors.fields import extract_fields
from extractors.model import Block, Document, Line, Origin, Page, Table
from extractors.normalize import date_span, find_dates, parse_date


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # A typed form's date field filled in to the month (申报日期：2018年7月).
        ("2018年7月", "2018-07"),
        ("2018年07月", "2018-07"),  # the month with its leading zero, as Word's yyyy年MM月
        # A printed form's "年 月 日" with the day left blank (填报时间：2022 年 6 月  日).
        ("2018 年 7 月  日", "2018-07"),
        ("2018年7月 日", "2018-07"),
        # Word's Chinese date field (DATE \@ "EEEE年O月") on a cover: 编制时间：二〇二三年六月.
        ("二〇一八年七月", "2018-07"),
        ("二〇一八年十二月", "2018-12"),
        # The zero printed as a circle (○), as covers set in 宋体 do: …制 二○一一年五月.
        ("二○一八年七月", "2018-07"),
        # A year.month date (2018.07), and its dash form as spreadsheets print it (2018-07).
        ("2018.07", "2018-07"),
        ("2018.7", "2018-07"),
        ("2018-07", "2018-07"),
        # Typed with the input method's full-width digits.
        ("２０１８年７月", "2018-07"),
    ],
)
def test_a_month_only_date_is_read_as_its_month(text, want):
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == want and parsed.end >= len(text.rstrip(" 日"))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # Full dates are still full dates, in every spelling they had.
        ("2018年7月12日", "2018-07-12"),
        ("二○一八年七月十二日", "2018-07-12"),
        ("2018.07.12", "2018-07-12"),
        ("2018-07-12", "2018-07-12"),
        ("2020年03月-10日", "2020-03-10"),  # a speck read between the parts
    ],
)
def test_a_full_date_is_not_cut_to_its_month(text, want):
    assert parse_date(text).value == want


@pytest.mark.parametrize(
    "text",
    [
        "2018.5万元",  # a figure with a unit
        "1234.5",  # not a year
        "2018.13",  # no thirteenth month
        "2017年2月30日",  # an impossible day is not a month either
        "二〇一八年二月三十日",
        "〇〇〇〇年七月",
    ],
)
def test_what_is_not_a_month_is_refused(text):
    assert parse_date(text) is None


def test_a_period_end_of_a_month_is_its_last_day():
    assert parse_date("2018年2月", month_end=True).value == "2018-02-28"
    assert parse_date("二〇一六年二月", month_end=True).value == "2016-02-29"


@pytest.mark.parametrize(
    ("text", "months", "want"),
    [
        # A licence's 营业期限 from a day to 长期: one date, month-only reading or not.
        ("营业期限 2010年1月1日至长期", True, ["2010-01-01"]),
        ("营业期限 2010年1月1日至长期", False, ["2010-01-01"]),
        # A lease term by the month (租赁期限：2016年7月至2019年6月).
        ("租赁期限：2016年7月至2019年6月", True, ["2016-07", "2019-06"]),
        # The same with a dash: 7月-20 is not the 20th of July.
        ("租赁期限：2016年7月-2019年6月", True, ["2016-07", "2019-06"]),
        # Callers that want full dates only are given full dates only.
        ("租赁期限：2016年7月至2019年6月30日", False, ["2019-06-30"]),
        ("（盖章）\n二〇一八年七月", True, ["2018-07"]),
    ],
)
def test_dates_in_a_sentence(text, months, want):
    assert [p.value for p in find_dates(text, months=months)] == want


def test_the_span_of_a_date():
    assert [d.isoformat() for d in date_span("2016-02")] == ["2016-02-01", "2016-02-29"]
    assert [d.isoformat() for d in date_span("2018-07-12")] == ["2018-07-12", "2018-07-12"]


def _application(lines: list[str], tables: list[Table] | None = None) -> dict[str, list]:
    lines = [
        "西安市中小企业公共服务示范平台申请报告",
        "申报单位：西安秦岭数据服务有限公司",
        *lines,
    ]
    page = Page(
        number=1, width=595, height=842, unit="pt", origin=Origin.TEXT,
        blocks=[Block(lines=[Line(text=t, bbox=(50, 50 + 20 * i, 500, 65 + 20 * i))
                             for i, t in enumerate(lines)])],
        tables=tables or [],
    )  # fmt: skip
    documents = [
        ("申请报告.pdf", Document(media_type="application/pdf", parser="pdf", pages=[page]))
    ]
    fields = extract_fields(documents, classify_documents(documents))
    return {name: [v.value for v in found] for name, found in fields.items()}


@pytest.mark.parametrize(
    "line",
    [
        "申报日期：2018年7月",  # the cover's date line, typed to the month
        "申报日期：二〇一八年七月",  # the cover's date as Word's Chinese date field prints it
        "填报日期：2018.07",
        "申报日期：2018 年 7 月  日",  # the form's blank day left blank
    ],
)
def test_an_application_dated_to_the_month_is_read(line):
    assert _application([line]).get("application.date") == ["2018-07"]


def test_a_form_table_dated_to_the_month_is_read():
    table = Table(rows=[["申报日期", "2018年7月"]])
    assert _application(["一、平台基本情况"], [table]).get("application.date") == ["2018-07"]


def test_a_month_only_date_in_the_report_keeps_the_contracts_form():
    """The report's dates are ISO YYYY-MM-DD (contract.md): a month-only reading is given as
    the month's first day and marked ``precision: month``, and the HTML report shows the
    month as printed (2018年7月), never a made-up day."""
    from extractors.pagetext import FieldValue
    from intake.reports.html import evidence_of

    month = FieldValue(
        "application.date", "2018-07", "申请报告.pdf", 1, "申报日期：2018年7月", 0.98
    )
    day = FieldValue("application.date", "2018-07-12", "申请报告.pdf", 1, "2018年7月12日", 0.98)
    assert month.as_dict()["value"] == "2018-07-01" and month.as_dict()["precision"] == "month"
    assert day.as_dict()["value"] == "2018-07-12" and "precision" not in day.as_dict()
    report = {"fields": {"application.date": [month.as_dict()]}}
    shown = evidence_of(report, {"evidence": ["application.date#0"]})
    assert [v["value"] for v in shown] == ["2018年7月"]
