"""The property certificate reader on box layouts as the certificates print them and OCR
returns them: each case is a page of boxes built here, and the values it must give. The
layouts follow the 不动产权证书 of 2015 (a ruled table, labels letter-spaced in the left
column, values right; 面积 with the land's and the building's areas on one line) and the
房屋所有权证 of 2008 (建办住房〔2008〕36号: the 房屋状况 table with column headers and values
under them). No OCR runs here (test_certificate_pictures does that)."""

from __future__ import annotations

import pytest

from extractors.identifiers import classify
from extractors.model import Block, Line, Origin, Page, Word
from extractors.readers.property import read_property

H = 30  # text height, px
ROW = 76  # a table row's height
LABEL_X0, LABEL_X1, VALUE_X = 110, 330, 360


def page(boxes: list[tuple[str, float, float, float, float]], conf: float = 0.97) -> Page:
    lines = [
        Line(text=t, bbox=(x0, y0, x1, y1), conf=conf,
             words=[Word(text=t, bbox=(x0, y0, x1, y1), conf=conf)])
        for t, x0, y0, x1, y1 in boxes
    ]  # fmt: skip
    return Page(number=1, width=1240, height=1754, unit="px", origin=Origin.OCR,
                blocks=[Block(lines=lines)])  # fmt: skip


def width(text: str) -> float:
    return len(text) * H * 0.95


def label_boxes(label: str, y: float) -> list[tuple[str, float, float, float, float]]:
    """A label as the certificate prints it: a word of two or three characters spread over
    the label column (权　利　人), each character a box of its own; a longer one whole."""
    if len(label) > 3:
        return [(label, LABEL_X0, y, LABEL_X0 + width(label), y + H)]
    step = (LABEL_X1 - LABEL_X0 - H) / (len(label) - 1)
    return [(ch, LABEL_X0 + i * step, y, LABEL_X0 + i * step + H, y + H)
            for i, ch in enumerate(label)]  # fmt: skip


def table(rows: list[tuple[str, list[str]]], top: float = 260, extra: list | None = None) -> Page:
    """A ruled two-column table: each row a label and its value's lines (a wrapped value
    has more than one), each row as high as its lines need."""
    boxes: list[tuple[str, float, float, float, float]] = []
    y = top
    for label, values in rows:
        lines = max(1, len(values))
        height = max(ROW, lines * H * 1.35 + 30)
        ly = y + (height - H) / 2
        boxes += label_boxes(label, ly)
        vy = y + (height - lines * H * 1.35) / 2
        for i, text in enumerate(values):
            boxes.append((text, VALUE_X, vy + i * H * 1.35, VALUE_X + width(text),
                          vy + i * H * 1.35 + H))  # fmt: skip
        y += height
    return page(boxes + (extra or []))


NUMBER = [("陕（2019）西安市不动产权第0012345号", 110, 190, 720, 222)]

REAL_ESTATE = table(
    [
        ("权利人", ["西安秦创科技服务有限公司"]),
        ("共有情况", ["单独所有"]),
        ("坐落", ["西安市高新区锦业路69号创业研发园C区1号楼5层"]),
        ("不动产单元号", ["610113001001GB00001F00010001"]),
        ("权利类型", ["国有建设用地使用权/房屋所有权"]),
        ("权利性质", ["出让/自建房"]),
        ("用途", ["工业用地/办公"]),
        ("面积", ["共有宗地面积3000.00㎡/房屋建筑面积865.32㎡"]),
        ("使用期限", ["2010年01月01日起2060年12月31日止"]),
        ("权利其他状况", ["专有建筑面积：800.00㎡", "分摊建筑面积：65.32㎡",
                          "房屋结构：钢筋混凝土结构", "总层数：18层", "所在层：5层"]),
    ],
    extra=NUMBER,
)  # fmt: skip


def read(p: Page) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in read_property("不动产权证书.jpg", p, "premises_proof"):
        out.setdefault(v.field, []).append(v)
    return out


def value(p: Page, field: str):
    found = read(p).get(field, [])
    return found[0].value if found else None


def test_the_2015_certificate_is_read_from_its_table():
    got = read(REAL_ESTATE)
    assert got["premises.holder"][0].value == "西安秦创科技服务有限公司"
    assert got["premises.address"][0].value == "西安市高新区锦业路69号创业研发园C区1号楼5层"
    assert got["premises.area_m2"][0].value == 865.32
    assert got["premises.area_m2"][0].confidence >= 0.9 and not got["premises.area_m2"][0].note
    assert [v.value for v in got["property.land_area_m2"]] == [3000.0]
    assert got["property.unit_number"][0].value == "610113001001GB00001F00010001"
    assert got["property.certificate_number"][0].value == "陕（2019）西安市不动产权第0012345号"
    assert got["property.use"][0].value == "工业用地/办公"
    assert got["property.term_end"][0].value == "2060-12-31"
    assert "applicant.credit_code" not in got


def area_page(area_lines: list[str], right_type: str = "国有建设用地使用权/房屋所有权",
              other: list[str] | None = None) -> Page:  # fmt: skip
    rows = [("权利人", ["西安秦创科技服务有限公司"]), ("权利类型", [right_type]),
            ("面积", area_lines)]  # fmt: skip
    if other:
        rows.append(("权利其他状况", other))
    return table(rows)


# Each row: how registration systems fill 面积 (and 权利其他状况), the building's area the
# premises take, and the land's kept apart.
@pytest.mark.parametrize(
    ("lines", "other", "building", "land"),
    [
        pytest.param(["共有宗地面积3000.00㎡/房屋建筑面积865.32㎡"], None, 865.32, [3000.0],
                     id="land-then-building-slash"),
        pytest.param(["房屋建筑面积865.32㎡/共有宗地面积3000.00㎡"], None, 865.32, [3000.0],
                     id="building-then-land"),
        pytest.param(["共有宗地面积3000.00㎡／房屋建筑面积865.32㎡"], None, 865.32, [3000.0],
                     id="full-width-slash"),
        pytest.param(["宗地面积3000.00㎡；房屋建筑面积865.32㎡"], None, 865.32, [3000.0],
                     id="semicolon"),
        pytest.param(["宗地面积3000.00平方米、建筑面积865.32平方米"], None, 865.32, [3000.0],
                     id="enumeration-comma-and-pingfangmi"),
        pytest.param(["共有宗地面积：1234.56㎡/", "房屋建筑面积123.27㎡"], None, 123.27,
                     [1234.56], id="slash-then-line-break"),
        pytest.param(["共有宗地面积25984.2m²/房屋建筑面积206.97m²"], None, 206.97, [25984.2],
                     id="m-squared"),
        pytest.param(["宗地面积 3000.00 m2 房屋建筑面积 865.32 m2"], None, 865.32, [3000.0],
                     id="spaces-and-m2"),
        pytest.param(["独用土地面积120.50㎡/房屋建筑面积865.32㎡"], None, 865.32, [120.5],
                     id="sole-use-land"),
        pytest.param(["共有宗地面积3000.00㎡"], ["专有建筑面积：800.00㎡", "分摊建筑面积：65.32㎡"],
                     865.32, [3000.0], id="exclusive-plus-shared-in-other-status"),
        pytest.param(["房屋建筑面积123.27㎡"], ["分摊土地使用权面积：15.93㎡", "房屋结构：钢混"],
                     123.27, [15.93], id="shared-land-in-other-status"),
    ],
)  # fmt: skip
def test_the_land_area_is_never_the_premises_area(lines, other, building, land):
    got = read(area_page(lines, other=other))
    assert [v.value for v in got["premises.area_m2"]] == [building]
    assert sorted(v.value for v in got["property.land_area_m2"]) == sorted(land)


def test_areas_without_their_names_follow_the_right_types_doubted():
    # 面积 3000.00㎡/865.32㎡ under 国有建设用地使用权/房屋所有权: the land's, then the building's.
    got = read(area_page(["3000.00㎡/865.32㎡"]))
    (area,) = got["premises.area_m2"]
    assert area.value == 865.32 and area.confidence <= 0.6 and area.note
    assert [v.value for v in got["property.land_area_m2"]] == [3000.0]


def test_one_area_without_its_name_is_doubted():
    (area,) = read(area_page(["270.13平方米"]))["premises.area_m2"]
    assert area.value == 270.13 and area.confidence <= 0.5 and area.note


def test_a_land_only_certificate_gives_no_premises_area():
    got = read(area_page(["3000.00㎡"], right_type="国有建设用地使用权"))
    assert "premises.area_m2" not in got
    assert [v.value for v in got["property.land_area_m2"]] == [3000.0]


def test_a_floor_count_or_a_date_in_other_status_is_no_area():
    got = read(area_page(["共有宗地面积3000.00㎡"],
                         other=["总层数：18层", "房屋竣工时间：2001年12月1日"]))  # fmt: skip
    assert "premises.area_m2" not in got


# 房屋所有权证 (2008): labels and values in rows, then the 房屋状况 table whose column
# headers carry the values under them, then 土地状况.
def ownership_certificate(holder: str) -> Page:
    rows = [("房屋所有权人", [holder]), ("共有情况", ["单独所有"]),
            ("房屋坐落", ["西安市碑林区南关正街88号", "长安国际中心A座1201室"]),
            ("登记时间", ["2009年06月18日"]), ("房屋性质", ["市场化商品房"]),
            ("规划用途", ["办公"])]  # fmt: skip
    head = 260 + 4 * ROW + (H * 1.35 * 2 + 30) + ROW  # under the rows above
    y0, y1 = head + 20, head + 20 + ROW
    extra = [
        ("房屋状况", 110, y0 + 30, 250, y0 + 30 + H),
        ("总层数", 360, y0, 460, y0 + H),
        ("建筑面积（㎡）", 500, y0, 700, y0 + H),
        ("套内建筑面积（㎡）", 740, y0, 1000, y0 + H),
        ("其它", 1040, y0, 1100, y0 + H),
        ("28", 390, y1, 430, y1 + H),
        ("865.32", 540, y1, 650, y1 + H),
        ("720.10", 800, y1, 910, y1 + H),
        ("土地状况", 110, y1 + ROW + 30, 250, y1 + ROW + 30 + H),
        ("地号", 360, y1 + ROW, 430, y1 + ROW + H),
        ("土地使用权取得方式", 500, y1 + ROW, 760, y1 + ROW + H),
        ("土地使用年限", 850, y1 + ROW, 1030, y1 + ROW + H),
        ("出让", 580, y1 + 2 * ROW, 640, y1 + 2 * ROW + H),
        ("2005年05月01日至2055年04月30日止", 780, y1 + 2 * ROW, 1150, y1 + 2 * ROW + H),
        ("西安市房权证碑林区字第1100109012-3-1-1201号", 110, 190, 800, 222),
    ]
    return table(rows, extra=extra)


def test_the_2008_certificate_takes_the_area_under_its_column_header():
    got = read(ownership_certificate("西安秦创科技服务有限公司"))
    (area,) = got["premises.area_m2"]
    assert area.value == 865.32 and not area.note  # not 720.10 (套内), nor 28 (总层数)
    assert got["premises.address"][0].value == "西安市碑林区南关正街88号长安国际中心A座1201室"
    assert got["property.use"][0].value == "办公"
    assert got["property.term_end"][0].value == "2055-04-30"
    assert (
        got["property.certificate_number"][0].value == "西安市房权证碑林区字第1100109012-3-1-1201号"
    )


@pytest.mark.parametrize(
    ("holder", "expected", "person"),
    [
        pytest.param("西安秦创科技服务有限公司", "西安秦创科技服务有限公司", False, id="organisation"),
        pytest.param("西安光电产业技术研究院有限公司", "西安光电产业技术研究院有限公司", False,
                     id="organisation-with-institution-word"),
        pytest.param("王建国", "王建国", True, id="person"),
        pytest.param("欧阳明华", "欧阳明华", True, id="person-double-surname"),
    ],
)  # fmt: skip
def test_the_owner_is_a_person_or_an_organisation(holder, expected, person):
    (found,) = read(ownership_certificate(holder))["premises.holder"]
    assert found.value == expected
    assert ("自然人" in (found.note or "")) is person


def test_a_value_wrapped_onto_a_second_line_is_read_whole():
    got = read(table([("权利人", ["西安高新区创业研发园投资", "管理有限公司"]),
                      ("坐落", ["西安市高新区锦业路69号创业研发园", "C区1号楼5层501室"]),
                      ("不动产单元号", ["610113001001GB00001F00010001"])]))  # fmt: skip
    assert got["premises.holder"][0].value == "西安高新区创业研发园投资管理有限公司"
    assert got["premises.address"][0].value == "西安市高新区锦业路69号创业研发园C区1号楼5层501室"


def test_a_unit_number_split_over_two_boxes_is_one_identifier_not_a_credit_code():
    # The first 18 of its 28 characters (610113001001GB0000) pass a credit code's check.
    unit = "610113001001GB00001F00010001"
    assert classify(unit[:18]) == "credit_code" and classify(unit) == "property_unit"
    y = 260 + (ROW - H) / 2
    p = page(
        [*label_boxes("权利人", y), ("西安秦创科技服务有限公司", VALUE_X, y, 720, y + H),
         ("不动产单元号", LABEL_X0, y + ROW, 300, y + ROW + H),
         (unit[:18], VALUE_X, y + ROW, 700, y + ROW + H),
         (unit[18:], 712, y + ROW, 900, y + ROW + H)]
    )  # fmt: skip
    got = read(p)
    assert got["property.unit_number"][0].value == unit
    assert "applicant.credit_code" not in got


def test_a_unit_number_printed_in_groups_is_one_identifier():
    got = read(table([("不动产单元号", ["610113 001001 GB00001 F00010001"])]))
    assert got["property.unit_number"][0].value == "610113001001GB00001F00010001"


def test_a_unit_number_misread_keeps_its_shape_doubted():
    (found,) = read(table([("不动产单元号", ["610113001001G800001F00010001"])]))[
        "property.unit_number"
    ]
    assert found.confidence <= 0.6 and found.note


def test_several_buildings_under_the_area_header_are_added_up():
    # A 房屋所有权证 of two buildings (幢): one row each under 建筑面积（㎡）.
    p = page(
        [("房屋所有权人", 110, 200, 300, 230), ("西安秦创科技服务有限公司", 360, 200, 700, 230),
         ("幢号", 360, 300, 420, 330), ("建筑面积（㎡）", 500, 300, 700, 330),
         ("1", 380, 370, 400, 400), ("865.32", 540, 370, 650, 400),
         ("2", 380, 440, 400, 470), ("134.68", 540, 440, 650, 470)]
    )  # fmt: skip
    (area,) = read(p)["premises.area_m2"]
    assert area.value == 1000.0
