"""Boxes the text detector drew over one stretch of a row overlap, and both read the
characters there: 注册日期2 | 2020年05月18日 (a real licence photo), 经营者李 | 李广. The value
continues into the overlapping box, and what both read is kept once. Box layouts (text, x0,
y0, x1, y1) are built here; no OCR runs."""

from __future__ import annotations

import pytest

from extractors.layout import key_values
from extractors.model import Block, Line, Origin, Page, Word

LABELS = {"established": ["成立日期", "注册日期"], "person": ["经营者", "法定代表人"]}


def page(*boxes: tuple[str, float, float, float, float]) -> Page:
    lines = [
        Line(text=t, bbox=(x0, y0, x1, y1), conf=0.98,
             words=[Word(text=t, bbox=(x0, y0, x1, y1), conf=0.98)])
        for t, x0, y0, x1, y1 in boxes
    ]  # fmt: skip
    return Page(number=1, width=1700, height=1280, unit="px", origin=Origin.OCR,
                blocks=[Block(lines=lines)])  # fmt: skip


CASES = [
    pytest.param(
        # The value's box starts 19 px (about half a character) before the label's ends, and
        # the label's box read the value's first digit.
        page(("注册日期2", 988, 642, 1149, 676), ("2020年05月18日", 1130, 643, 1310, 679)),
        "established", "2020年05月18日", id="digit-read-twice",
    ),
    pytest.param(
        page(("经营者李", 215, 699, 380, 739), ("李广", 350, 700, 430, 738)),
        "person", "李广", id="character-read-twice",
    ),
    pytest.param(
        # Overlapping boxes that read different characters: nothing is dropped.
        page(("成立日期2", 988, 642, 1149, 676), ("016年3月1日", 1135, 643, 1300, 679)),
        "established", "2016年3月1日", id="overlap-without-repeat",
    ),
    pytest.param(
        # A repeat across a real gap is text printed twice: kept.
        page(("经营者王", 215, 699, 380, 739), ("王明", 420, 700, 500, 738)),
        "person", "王王明", id="gap-keeps-repeat",
    ),
    pytest.param(
        # A box further left than a character's width is not this value's continuation.
        page(("注册日期", 988, 642, 1149, 676), ("2020年05月18日", 1090, 643, 1270, 679)),
        "established", None, id="far-overlap-not-taken",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("layout", "field", "expected"), CASES)
def test_overlapping_boxes(layout: Page, field: str, expected: str | None) -> None:
    found = {kv.field: kv.value for kv in key_values(layout, LABELS)}
    assert found.get(field) == expected


def test_a_watermark_across_the_rows_is_no_rows_value() -> None:
    """A diagonal watermark (one box across half the page) starts left of the name's value
    and overlaps its row: the value is the name, not the watermark."""
    layout = page(
        ("某某网专用", 268, 194, 1256, 1028),
        ("名称", 152, 474, 240, 516),
        ("深圳市福田区某某电子销售部", 275, 477, 654, 516),
        ("类型个体工商户", 152, 547, 450, 584),
        ("经营者李广", 152, 611, 405, 657),
        ("经营场所", 978, 618, 1133, 655),
        ("深圳市福田区华强北路1005号", 1147, 623, 1502, 646),
        ("成立日期", 979, 551, 1135, 588),
        ("2006年08月01日", 1139, 554, 1302, 584),
    )
    found = {kv.field: kv.value for kv in key_values(layout, {"name": ["名称"], **LABELS})}
    assert found["name"] == "深圳市福田区某某电子销售部"
    assert found["person"] == "李广"


def test_a_watermark_between_a_spaced_labels_characters() -> None:
    """住　　所 letter-spaced with a watermark's box between 住 and 所 (a real scan): the
    label is still one, its value the address, and the column beside keeps its own value."""
    layout = page(
        ("经营范围", 91, 301, 166, 323),
        ("电力工器具、电力技术的开发，技术咨询", 165, 307, 431, 323),
        ("住", 439, 304, 456, 320),
        ("某某电力科技股份有限公司", 456, 305, 598, 371),
        ("所", 489, 304, 508, 320),
        ("石家庄高新区祁连街95号润江慧谷大厦B座", 510, 305, 689, 317),
        ("1001室", 511, 315, 543, 328),
        ("具、玻璃纤维增强材料制品", 168, 321, 419, 333),
        ("备、金属工具柜的生产", 168, 333, 423, 346),
        ("名称", 94, 219, 130, 238),
        ("某某电力科技股份有限公司", 143, 219, 304, 238),
        ("法定代表人", 94, 278, 162, 295),
        ("李旭光", 166, 277, 199, 292),
    )
    labels = {"address": ["住所"], "scope": ["经营范围"], "name": ["名称"], **LABELS}
    found = {
        kv.field: kv.value for kv in key_values(layout, labels, multiline=["address", "scope"])
    }
    assert found["address"] == "石家庄高新区祁连街95号润江慧谷大厦B座1001室"
    assert "住所" not in found["scope"] and "石家庄" not in found["scope"]
