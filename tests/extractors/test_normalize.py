"""Every normaliser on the spellings applicants and scanners produce, ugly ones included."""

from __future__ import annotations

import pytest

from extractors.normalize import (
    find_dates,
    label_unit,
    parse_area,
    parse_count,
    parse_date,
    parse_money,
    parse_share,
)


@pytest.mark.parametrize(
    ("text", "unit", "want"),
    [
        ("5,809,810.50", None, 5809810.50),
        ("5,809,810.50元", None, 5809810.50),
        ("：1340303.54元", None, 1340303.54),
        ("580.98万元", None, 5809800.0),
        ("1099.40万", None, 10994000.0),
        ("580.98", "万元", 5809800.0),  # the label said 万元
        ("¥677,900.00", None, 677900.0),
        ("人民币677,900.00元", None, 677900.0),
        ("５，８０９，８１０．５０元", None, 5809810.50),  # full-width
        ("为2,703.53万元，", None, 27035300.0),
        ("壹佰贰拾万元整", None, 1200000.0),
        ("壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分", None, 1234567.89),
        ("6,278,282,683.245,585,879,100.00", None, 6278282683.24),  # two cells glued
        ("-4,641.75", None, -4641.75),
    ],
)
def test_money(text, unit, want):
    parsed = parse_money(text, unit=unit)
    assert parsed is not None and parsed.value == pytest.approx(want)


@pytest.mark.parametrize("text", ["", "元", "见附表", "约为", "（万元）"])
def test_money_refuses_what_is_not_money(text):
    assert parse_money(text) is None


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2017年12月31日", "2017-12-31"),
        ("2017 年 12 月 31 日", "2017-12-31"),
        ("2017.12.31", "2017-12-31"),
        ("2017-12-31", "2017-12-31"),
        ("2017/1/5", "2017-01-05"),
        ("２０１７年１２月３１日", "2017-12-31"),
        ("二〇一七年十二月三十一日", "2017-12-31"),
        ("二零一八年六月十五日", "2018-06-15"),
        ("：2018年6月15日", "2018-06-15"),
        ("20171231", "2017-12-31"),
    ],
)
def test_dates(text, want):
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == want


@pytest.mark.parametrize("text", ["2017年13月01日", "2017年2月30日", "2017年度", "12月31日"])
def test_impossible_or_partial_dates_are_refused(text):
    assert parse_date(text) is None


def test_a_month_is_its_last_day_when_a_period_end_is_wanted():
    assert parse_date("2017年12月", month_end=True).value == "2017-12-31"
    assert parse_date("2016.02", month_end=True).value == "2016-02-29"
    # otherwise it is the month, at its precision (tests/extractors/test_variants_dates.py)
    assert parse_date("2017年12月").value == "2017-12"


def test_full_dates_only_unless_months_are_asked_for():
    assert find_dates("截至2017年12月，") == []
    assert [p.value for p in find_dates("截至2017年12月，", months=True)] == ["2017-12"]


def test_every_date_in_a_sentence():
    text = "租赁期限自2017年10月1日起至2022.09.30止"
    assert [p.value for p in find_dates(text)] == ["2017-10-01", "2022-09-30"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("85%", 0.85),
        ("85.5 %", 0.855),
        ("99.0％", 0.99),
        ("0.85", 0.85),
        (".85", 0.85),
        ("百分之八十五", 0.85),
        ("百分之八十五点五", 0.855),
        ("为82%，", 0.82),
        ("1", 1.0),
    ],
)
def test_shares(text, want):
    parsed = parse_share(text)
    assert parsed is not None and parsed.value == pytest.approx(want)


@pytest.mark.parametrize("text", ["八成", "高", "85"])
def test_shares_refuse_bare_or_vague(text):
    assert parse_share(text) is None


@pytest.mark.parametrize(
    ("text", "unit", "want"),
    [
        ("256.5平方米", None, 256.5),
        ("256.5㎡", None, 256.5),
        ("256.5m²", None, 256.5),
        ("256.5 m2", None, 256.5),
        ("1,264平米", None, 1264.0),
        ("404", "平方米", 404.0),
        ("二百五十六平方米", None, 256.0),
    ],
)
def test_areas(text, unit, want):
    parsed = parse_area(text, unit=unit)
    assert parsed is not None and parsed.value == pytest.approx(want)


def test_a_bare_number_is_no_area_without_a_unit():
    assert parse_area("404") is None


@pytest.mark.parametrize(
    ("text", "unit", "want"),
    [("274家", None, 274), ("13人", None, 13), ("三十六家", None, 36), ("33", "家", 33)],
)
def test_counts(text, unit, want):
    parsed = parse_count(text, unit=unit)
    assert parsed is not None and parsed.value == want


def test_counts_refuse_fractions_and_bare_numbers():
    assert parse_count("12.5人") is None
    assert parse_count("274") is None


@pytest.mark.parametrize(
    ("label", "want"),
    [
        ("资产总额（万元）", "万元"),
        ("资产总额(元)", "元"),
        ("服务场地面积（平方米）", "平方米"),
        ("面积/m²", "m2"),
        ("集聚服务机构数（家）", "家"),
        ("资产总额", None),
    ],
)
def test_label_units(label, want):
    assert label_unit(label) == want
