"""Labels of a justified label column of which OCR kept only a piece, rows whose label OCR
lost entirely, and values partly hidden under a stamp: box layouts (text, x0, y0, x1, y1)
as OCR returns real licences, built here; no OCR runs.

Licences print short labels letter-spaced to the width of the longest (名　　称 as wide as
法定代表人), so every label of a column ends at one right edge and starts at one left edge.
PP-OCR's detector often drops the lone characters of such a label (名 of 名　称, 经 of
经　营　场　所) or reads the tail into the value's box (所北京市…)."""

from __future__ import annotations

import pytest

from extractors.layout import key_values
from extractors.readers.licence import vocabulary
from tests.extractors.boxes import licence_fields, page

values = licence_fields


# A portrait 2015+ licence whose label column (x 200–560) kept only the tails of its short
# labels: 称 and 所 end where 法定代表人 and 成立日期 end; 类　型 was lost whole, so its
# value row stands alone between the name and the address.
TAILS = page(
    ("统一社会信用代码91610131MA6TXXXX0X", 700, 250, 1500, 310),
    ("称", 488, 400, 560, 470),
    ("西安市雁塔区启明电子科技有限公司", 600, 400, 1400, 470),
    ("有限责任公司（自然人投资或控股）", 600, 520, 1300, 590),
    ("所", 488, 640, 560, 710),
    ("西安市雁塔区科技路48号创业广场B座", 600, 640, 1480, 710),
    ("1201室", 600, 718, 800, 786),
    ("法定代表人", 200, 830, 560, 900),
    ("王建国", 600, 830, 810, 900),
    ("成立日期", 200, 950, 560, 1020),
    ("2016年05月12日", 600, 950, 1050, 1020),
)

# A landscape 2015+ licence: the right column's 住 lost and 所 read into the value's box
# (所西安市…), its right edge where 注册资本 and 成立日期 end (1200 + 4 characters).
TAIL_IN_VALUE = page(
    ("名称西安启明电子科技有限公司", 200, 500, 760, 540),
    ("类型有限责任公司（自然人独资）", 200, 560, 800, 600),
    ("法定代表人李华", 200, 620, 480, 660),
    ("注册资本壹佰万元整", 1200, 500, 1560, 540),
    ("成立日期2018年03月02日", 1200, 560, 1640, 600),
    ("营业期限2018年03月02日至长期", 1200, 620, 1760, 660),
    ("所西安市高新区锦业路69号创业研发园", 1320, 680, 2000, 720),
    ("A座1101室", 1362, 724, 1560, 762),
)

# An individual business's licence (个体工商户): 经 of 经　营　场　所 lost, 营场 and 所 read
# as two boxes; 名 kept but 称 lost (a head: it starts where 经营者 starts).
PIECES = page(
    ("名", 250, 650, 310, 715),
    ("西安市碑林区示例五金商店", 640, 650, 1100, 712),
    ("营场", 348, 725, 500, 786),
    ("所", 565, 725, 628, 786),
    ("西安市碑林区南关正街12号", 640, 730, 1180, 780),
    ("经营者", 250, 805, 628, 866),
    ("赵小明", 640, 805, 760, 862),
)

# 法定代表人's label lost whole (a watermark over the label column): the person's name alone
# on its row, where the column's values start, between the column's labelled rows.
NO_LABEL = page(
    ("称", 1080, 1280, 1237, 1450),
    ("西安示例云控电子科技有限公司", 1230, 1353, 2231, 1452),
    ("有限责任公司", 1216, 1504, 1707, 1608),
    ("所", 1092, 1597, 1208, 1726),
    ("西安市莲湖区劳动路6号5楼", 1235, 1674, 2149, 1757),
    ("苏亮伟", 1229, 1838, 1480, 1931),
    ("成立日期", 369, 1917, 1231, 2062),
    ("二〇一〇年三月十九日", 1264, 1998, 1996, 2087),
)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        pytest.param(TAILS, {
            "applicant.name": "西安市雁塔区启明电子科技有限公司",
            "applicant.address": "西安市雁塔区科技路48号创业广场B座1201室",
            "applicant.legal_representative": "王建国",
            "applicant.established": "2016-05-12",
        }, id="label-tails-only-and-a-row-without-label"),
        pytest.param(TAIL_IN_VALUE, {
            "applicant.name": "西安启明电子科技有限公司",
            "applicant.address": "西安市高新区锦业路69号创业研发园A座1101室",
            "applicant.legal_representative": "李华",
            "applicant.established": "2018-03-02",
        }, id="label-tail-read-into-the-value-box-right-column"),
        pytest.param(PIECES, {
            "applicant.name": "西安市碑林区示例五金商店",
            "applicant.address": "西安市碑林区南关正街12号",
            "applicant.legal_representative": "赵小明",
        }, id="label-head-kept-and-a-middle-piece-joined"),
        pytest.param(NO_LABEL, {
            "applicant.name": "西安示例云控电子科技有限公司",
            "applicant.address": "西安市莲湖区劳动路6号5楼",
            "applicant.legal_representative": "苏亮伟",
            "applicant.established": "2010-03-19",
        }, id="row-whose-label-was-lost-whole"),
    ],
)  # fmt: skip
def test_values_of_labels_ocr_kept_a_piece_of(layout, expected):
    got = values(layout)
    for name, value in expected.items():
        assert name in got and got[name].value == value, (name, got.get(name))


@pytest.mark.parametrize("layout", [TAILS, PIECES])
def test_a_value_found_by_a_piece_of_its_label_says_so(layout):
    name = values(layout)["applicant.name"]
    assert name.note and name.confidence < 0.98  # never decides a fail alone


def test_a_person_found_without_any_label_is_doubted():
    person = values(NO_LABEL)["applicant.legal_representative"]
    assert person.confidence <= 0.5 and person.note


def test_the_next_row_is_not_a_wrapped_line():
    # The type row (label lost) is half a line below the name: a row of its own.
    assert "有限责任公司（" not in values(TAILS)["applicant.name"].value
    assert values(NO_LABEL)["applicant.name"].value.endswith("科技有限公司")


# Lines that start with a label's last character where no label column ends: the value
# column's text, never a label. 人 ends 法定代表人, 所 ends 住所, 称 ends 名称.
NOT_LABELS = page(
    ("名称西安示例人力资源有限公司", 200, 400, 900, 460),
    ("法定代表人", 200, 500, 560, 560),
    ("王建国", 600, 500, 800, 560),
    ("住所", 200, 600, 560, 660),
    ("西安市长安区韦曲街道物理研究", 600, 600, 1400, 660),
    ("所院内3号楼", 600, 664, 900, 722),
    ("人力资源服务；劳务派遣；", 600, 800, 1400, 860),
    ("称重设备销售。", 600, 866, 1000, 926),
)


def test_a_line_starting_with_a_labels_tail_is_not_a_label():
    got = values(NOT_LABELS)
    assert got["applicant.legal_representative"].value == "王建国"
    assert got["applicant.address"].value == "西安市长安区韦曲街道物理研究所院内3号楼"
    pairs = key_values(NOT_LABELS, vocabulary()[0], fragments=True)
    assert not any("力资源服务" in kv.value or "重设备" in kv.value for kv in pairs)


def test_no_person_is_taken_from_a_row_with_words_left_of_it():
    # The label is there but misread past knowing (法宝代表#, two characters wrong): the
    # name is not taken by its shape. (One character wrong is a misread label:
    # test_layout_misread.py.)
    p = page(*NO_LABEL.lines and [
        (ln.text, *ln.bbox) for ln in NO_LABEL.lines if ln.text != "苏亮伟"
    ], ("法宝代表#", 369, 1830, 1100, 1935), ("苏亮伟", 1229, 1838, 1480, 1931))  # fmt: skip
    assert "applicant.legal_representative" not in values(p)


def test_a_capital_in_words_is_not_a_person():
    p = page(*[(ln.text, *ln.bbox) for ln in NO_LABEL.lines if ln.text != "苏亮伟"],
             ("壹仟万元", 1229, 1838, 1480, 1931))  # fmt: skip
    assert "applicant.legal_representative" not in values(p)


# The older 企业法人营业执照 with a red 审核用 stamp (type three times the size) over the
# end of the address's first line: the characters under it are lost, the value says where.
STAMPED = page(
    ("名", 77, 215, 109, 254),
    ("称", 202, 217, 235, 249),
    ("上海示例贸易有限公司", 257, 225, 487, 251),
    ("审核用", 427, 132, 718, 394),
    ("住", 78, 258, 109, 293),
    ("所", 204, 261, 235, 294),
    ("浦东新区芦潮港镇芦潮港路", 253, 266, 481, 290),
    ("幢11-12室", 252, 292, 351, 314),
    ("法定代表人姓名", 77, 330, 235, 362),
    ("黄俊杰", 250, 332, 326, 360),
)

# The same address under a seal whose ink lets the text through: the line runs past it
# and on to its end, so nothing is hidden.
SEALED = page(
    ("住", 78, 258, 109, 293),
    ("所", 204, 261, 235, 294),
    ("浦东新区芦潮港镇芦潮港路1588号B1", 253, 266, 700, 290),
    ("幢11-12室", 252, 292, 351, 314),
    ("审核用", 427, 132, 600, 394),
    ("法定代表人姓名", 77, 330, 235, 362),
)


def test_a_line_ending_under_a_stamp_marks_where_text_is_lost():
    address = values(STAMPED)["applicant.address"]
    assert address.value == "浦东新区芦潮港镇芦潮港路…幢11-12室"
    assert address.confidence <= 0.3 and "遮" in address.note


def test_a_line_running_past_a_stamp_is_whole():
    address = values(SEALED)["applicant.address"]
    assert address.value == "浦东新区芦潮港镇芦潮港路1588号B1幢11-12室" and not address.note


# The portrait 2015+ design read with the heads of its label column lost and the tails read
# down one tall box (称型所); 法定代表人 read with a speck before it (·法定代表人), its value
# at the address's line spacing below the address.
TAIL_COLUMN = page(
    ("称型所", 260, 430, 300, 572),
    ("西安市示例创业服务有限公司", 386, 430, 740, 466),
    ("有限责任公司（自然人投资或控股）", 386, 480, 830, 516),
    ("西安市新城区解放路88号", 387, 530, 740, 566),
    ("张卫东", 384, 578, 482, 620),
    ("·法定代表人", 114, 582, 294, 617),
    ("注册资本", 146, 630, 269, 669),
    ("叁佰万元人民币", 387, 628, 593, 667),
)


def test_tails_read_down_a_column_and_a_speck_before_a_label():
    got = values(TAIL_COLUMN)
    assert got["applicant.name"].value == "西安市示例创业服务有限公司"
    assert got["applicant.address"].value == "西安市新城区解放路88号"  # not …88号张卫东
    assert got["applicant.legal_representative"].value == "张卫东"
    assert not got["applicant.legal_representative"].note  # its label was read whole


def test_a_line_right_after_a_label_is_not_a_wrapped_line():
    # Labels set flush right (住所 shorter than 法定代表人, not spread): 住所's value line,
    # then the next row at the line spacing of a wrapped line, starting right after its own
    # label (法定代表人), so it is that label's value.
    p = page(
        ("住所", 176, 100, 250, 136),
        ("西安市新城区解放路88号", 260, 100, 700, 136),
        ("法定代表人", 100, 142, 250, 178),
        ("张卫东", 262, 142, 380, 178),
    )
    pairs = key_values(p, vocabulary()[0], multiline=vocabulary()[1])
    got = {kv.field: kv.value for kv in pairs}
    assert got["applicant.address"] == "西安市新城区解放路88号"
    assert got["applicant.legal_representative"] == "张卫东"
