"""Labels OCR read with one character wrong (``layout.misread_labels``): box layouts
(text, x0, y0, x1, y1) as OCR returns licences, built here; no OCR runs.

The recogniser's commonest error on a clear line is one character taken for a look-alike
(曹 for 营, 入 for 人, 曰 for 日, 听 for 所, 夲 for 本). A label of three or more characters
with one of them wrong is still that label where a label column is (its left edge lines up
with the other labels'); its value is given doubted, with the label as read in the note.
Elsewhere the same characters are text: a scope line 经营性… is one character from 经营者."""

from __future__ import annotations

import pytest

from extractors.layout import key_values
from extractors.model import Page
from extractors.readers.licence import vocabulary
from tests.extractors.boxes import licence_fields, page


# A 2015+ portrait licence, its label column at x 60 read whole, label by label.
def portrait(*rows: tuple[str, float, float, float, float]) -> Page:
    return page(
        ("营业执照", 250, 220, 700, 330),
        ("统一社会信用代码91310115MA1H8H1D7F", 360, 370, 670, 392),
        ("名称", 60, 410, 170, 435),
        ("上海荆戈工业控制设备有限公司", 185, 410, 450, 435),
        ("类型", 60, 450, 170, 475),
        ("有限责任公司（自然人独资）", 185, 450, 420, 475),
        *rows,
    )


PERSON = ("王炜炜", 185, 530, 245, 555)
ADDRESS = ("住所", 60, 490, 170, 515), ("浦东新区万祥镇宏祥北路83弄20幢118室", 185, 490, 500, 515)
DATE = ("成立日期", 60, 570, 170, 595), ("2016年12月23日", 185, 570, 345, 595)


@pytest.mark.parametrize(
    ("rows", "field", "value", "as_read"),
    [
        pytest.param(
            [*ADDRESS, ("法定代表入", 60, 530, 170, 555), PERSON, *DATE],
            "applicant.legal_representative",
            "王炜炜",
            "法定代表入",
            id="last-character-a-look-alike",
        ),
        pytest.param(
            [
                *ADDRESS,
                ("法定代表人", 60, 530, 170, 555),
                PERSON,
                ("成立曰期", 60, 570, 170, 595),
                DATE[1],
            ],
            "applicant.established",
            "2016-12-23",
            "成立曰期",
            id="middle-character-a-look-alike",
        ),
        pytest.param(
            [
                ("营业场听", 60, 490, 170, 515),
                ADDRESS[1],
                ("负责人", 60, 530, 170, 555),
                PERSON,
                *DATE,
            ],
            "applicant.address",
            "浦东新区万祥镇宏祥北路83弄20幢118室",
            "营业场听",
            id="branch-premises-label",
        ),
        pytest.param(
            [*ADDRESS, ("经曹者王炜炜", 60, 530, 245, 555), *DATE],
            "applicant.legal_representative",
            "王炜炜",
            "经曹者",
            id="label-and-value-one-box",
        ),
    ],
)
def test_a_label_read_with_one_character_wrong_is_that_label_doubted(rows, field, value, as_read):
    got = licence_fields(portrait(*rows))[field]
    assert got.value == value
    assert got.confidence < 0.98 and as_read in got.note


def test_the_other_values_are_unchanged_and_undoubted():
    got = licence_fields(portrait(*ADDRESS, ("法定代表入", 60, 530, 170, 555), PERSON, *DATE))
    assert got["applicant.name"].value == "上海荆戈工业控制设备有限公司"
    assert got["applicant.address"].note is None
    assert got["applicant.established"].value == "2016-12-23"


def test_two_characters_wrong_is_no_label():
    got = licence_fields(portrait(*ADDRESS, ("汰定代表入", 60, 530, 170, 555), PERSON, *DATE))
    assert "applicant.legal_representative" not in got or got["applicant.legal_representative"].note


def test_a_start_as_near_to_two_fields_labels_is_no_label():
    # 经营场限: one character from 经营场所 (an address) and from 经营期限 (the term).
    labels = vocabulary()[0]
    p = portrait(("经营场限", 60, 490, 170, 515), ADDRESS[1], *DATE)
    assert not any(kv.misread for kv in key_values(p, labels, fragments=True, misread=True))


def test_a_line_away_from_the_label_column_is_text():
    # A scope line starting 经营性… where the values start, and one in the middle of a row.
    labels = vocabulary()[0]
    p = portrait(
        *ADDRESS,
        ("经营范围", 60, 610, 170, 635),
        ("经营性互联网信息服务；软件开发", 185, 610, 600, 635),
        ("经营性演出经纪", 185, 640, 400, 665),
        *DATE,
    )
    pairs = key_values(p, labels, multiline=vocabulary()[1], fragments=True, misread=True)
    assert not any(kv.misread for kv in pairs)
    assert "applicant.legal_representative" not in licence_fields(p)


def test_a_field_whose_label_was_found_is_not_looked_for_again():
    # 法定代表人 read whole; a line below at the label column one character from 经营者
    # (a scope wrapped to the margin) is not a second label of the same field.
    p = portrait(
        *ADDRESS,
        ("法定代表人", 60, 530, 170, 555),
        PERSON,
        *DATE,
        ("经营性演出经纪", 60, 610, 400, 635),
    )
    assert licence_fields(p)["applicant.legal_representative"].value == "王炜炜"
    pairs = key_values(p, vocabulary()[0], fragments=True, misread=True)
    assert not any(kv.misread for kv in pairs)


def test_without_the_option_nothing_is_read_from_a_misread_label():
    labels = vocabulary()[0]
    p = portrait(*ADDRESS, ("法定代表入", 60, 530, 170, 555), PERSON, *DATE)
    got = {kv.field for kv in key_values(p, labels, fragments=True)}
    assert "applicant.legal_representative" not in got
