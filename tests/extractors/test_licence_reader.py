"""The licence reader on box layouts as real licences print them and OCR returns them: each
case is a page of boxes (text, x0, y0, x1, y1), built here, and the values it must give.
Positions follow real licences (the 2015+ landscape and portrait designs, the older
企业法人营业执照 with a 注册号, 个体工商户 and branch licences); no OCR runs."""

from __future__ import annotations

import pytest

from extractors.identifiers import classify, tokens
from extractors.layout import key_values
from extractors.model import Page
from extractors.ocr import rapidocr_available
from extractors.readers.licence import read_licence, vocabulary
from tests.extractors.boxes import page as boxes_page


def page(*boxes: tuple[str, float, float, float, float], conf: float = 0.98) -> Page:
    return boxes_page(*boxes, conf=conf, width=2000, height=1400)


def read(p: Page) -> dict[str, object]:
    out: dict[str, object] = {}
    for v in read_licence("执照.jpg", p, "business_licence"):
        out.setdefault(v.field, v.value)
    return out


# 2015+ landscape design: the credit code under its label at the top left, two columns of
# labelled rows (类型 | 成立日期, 法定代表人 | 住所 …), the address wrapping under itself.
LANDSCAPE = page(
    ("统一社会信用代码", 300, 170, 630, 220),
    ("91440300MA5DNXMQ6G", 300, 225, 670, 265),
    ("营业执照", 810, 180, 1330, 315),
    ("名", 307, 420, 342, 457),
    ("称", 444, 420, 480, 457),
    ("深圳市安川测量仪器有限公司", 500, 420, 840, 457),
    ("类", 307, 490, 342, 527),
    ("型", 444, 490, 480, 527),
    ("有限责任公司（自然人独资）", 500, 490, 900, 527),
    ("成立日期", 1214, 495, 1370, 534),
    ("2016年11月10日", 1390, 497, 1550, 534),
    ("法定代表人李蔚婷", 304, 573, 590, 609),
    ("住所", 1210, 565, 1290, 609),
    ("深圳市宝安区沙井街道大王山社区沙井路4-4号五", 1320, 567, 1821, 609),
    ("层", 1322, 600, 1345, 623),
    ("登记机关", 1341, 882, 1538, 929),
)

# 2015+ portrait design: the label column read by OCR as tall boxes down the page
# ("名类住" and "称型所"), each value a line of its own.
PORTRAIT = page(
    ("营业执照", 250, 220, 700, 330),
    ("统一社会信用代码91310115MA1H8H1D7F", 360, 370, 670, 392),
    ("证照编号15000000201709210801", 430, 395, 670, 410),
    ("名类住", 60, 410, 90, 500),
    ("称型所", 150, 410, 180, 500),
    ("上海荆戈工业控制设备有限公司", 185, 412, 450, 436),
    ("有限责任公司（自然人独资）", 185, 442, 420, 466),
    ("浦东新区万祥镇宏祥北路83弄1-42号20幢118室", 185, 471, 500, 490),
    ("上海荆戈工业控制设备有限公司", 230, 492, 445, 505),  # a watermark under the address
    ("法定代表人", 60, 510, 170, 535),
    ("王炜炜", 185, 510, 245, 535),
    ("成立日期", 60, 570, 170, 595),
    ("2016年12月23日", 185, 570, 345, 595),
    ("营业期限", 60, 600, 170, 625),
    ("2016年12月23日至2036年12月22日", 185, 600, 540, 625),
)

# The older 企业法人营业执照: a 注册号 (and no credit code), 法定代表人姓名, a notes column on
# the right whose lines stand level with the values.
OLD = page(
    ("企业法人营业执照", 53, 80, 530, 155),
    ("注册号", 245, 207, 303, 231),
    ("330300000039470(3/4)", 345, 225, 518, 245),
    ("名", 62, 245, 88, 276),
    ("称", 173, 242, 208, 282),
    ("浙江正辉照明工程有限公司", 223, 262, 495, 284),
    ("住", 61, 285, 89, 317),
    ("所", 173, 282, 208, 321),
    ("温州市瓯海娄桥街道上汇村", 221, 290, 428, 309),
    ("8.办理注销登记，应当交回《企业法人营业执照》正本和副本。", 683, 292, 1070, 311),
    ("法定代表人姓名", 62, 326, 205, 360),
    ("柳晓娟", 220, 334, 291, 362),
    ("成立日期", 62, 380, 160, 410),
    ("二○○一年七月十一日", 220, 382, 400, 408),
)

# 个体工商户: 经营者, 经营场所, 注册日期 in Chinese numerals (廿 = 20), the 经 of two labels
# read down a column, 经营者's label misread ("营#").
INDIVIDUAL = page(
    ("个体工商户营业执照", 456, 318, 1548, 548),
    ("注册号", 1229, 538, 1370, 575),
    ("440306811549288", 1393, 514, 1640, 540),
    ("名", 247, 652, 312, 723),
    ("称", 574, 658, 627, 712),
    ("深圳市宝安区西乡宏顺办公家具厂", 642, 642, 1118, 682),
    ("经", 247, 723, 312, 794),
    ("营场所", 348, 720, 629, 785),
    ("深圳市宝安区西乡街道西成工业区C栋一楼", 639, 725, 1234, 762),
    ("经", 247, 794, 312, 864),
    ("营#", 314, 805, 590, 862),
    ("者", 564, 786, 626, 861),
    ("翁志恒", 637, 797, 741, 838),
    ("成立日期二0一三年十二月廿日", 284, 880, 964, 934),
)

# A branch (分公司) licence: 营业场所 and 负责人; the name is the branch's own, whole.
BRANCH = page(
    ("营业执照", 250, 200, 700, 300),
    ("统一社会信用代码 91330782MA28DXXL0F", 300, 320, 700, 345),
    ("名称温州市恒泰工艺礼品有限公司义乌分公司", 60, 400, 560, 425),
    ("类型有限责任公司分公司（自然人投资或控股）", 60, 440, 560, 465),
    ("营业场所浙江省义乌国际商贸城一期市场9207A、9207B号商位", 60, 480, 640, 505),
    ("负责人王晓丽", 60, 520, 250, 545),
    ("成立日期2016年03月01日", 60, 560, 330, 585),
)

# A two-column row OCR read as one box across the gap: the value ends at the next label.
JOINED = page(
    ("名称西安光电产业技术研究院有限公司", 100, 100, 700, 130),
    ("法定代表人张三住所西安市高新区锦业路1号", 100, 150, 900, 180),
)

# A temporary premises note printed as part of the address: not cut at "经营场所".
TEMPORARY = page(
    ("名称广州市卓信房屋鉴定有限公司", 167, 448, 664, 484),
    ("住", 167, 555, 206, 607),
    ("所广州市荔湾区花地大道南麦村北约46号203房(临时经营", 306, 551, 894, 602),
    ("场所有效期至2017年4月28日)(仅限办公用途)", 355, 584, 809, 615),
    ("法定代表人陈毓敏", 170, 620, 480, 667),
)

# The label column's heads read down one box ("名类"), the tail 称 read into the name's box
# and the 型 of 类型 lost: the column's 类 sits under 名 and is no wrapped line of the name.
HEADS_ON_END = page(
    ("统一社会信用代码", 160, 250, 380, 275),
    ("91510100MA61R2XT3L", 160, 285, 380, 302),
    ("名类", 150, 390, 186, 480),
    ("称成都锦程网络科技有限公司", 246, 396, 470, 424),
    ("有限责任公司（自然人投资或控股）", 282, 449, 630, 474),
    ("法定代表人 周晓岚", 154, 490, 340, 517),
)

# A tilted phone photo: each box a little lower than the one to its left.
TILTED = page(
    ("名称", 100, 100, 180, 140),
    ("重庆市众力机器人有限公司", 230, 118, 560, 156),
    ("法定代表人", 100, 200, 260, 240),
    ("李辉明", 300, 221, 380, 259),
)

# A 2014 portrait licence (深圳) whose letter-spaced label column OCR split into characters:
# 名 detected taller than its row, reaching into the next one, whose value starts a few
# pixels further left than the name; 主体类型 printed where others print 类型; the title's
# characters boxed one by one.
LABEL_TALLER_THAN_ITS_ROW = page(
    ("营", 295, 268, 435, 433),
    ("业", 462, 273, 613, 425),
    ("执", 619, 270, 769, 432),
    ("照", 799, 273, 925, 427),
    ("统一社会信用代码91440300312067220D", 598, 434, 1026, 463),
    ("称", 400, 534, 452, 605),
    ("名", 216, 538, 256, 624),
    ("深圳市南方源芯电气有限公司", 475, 540, 836, 575),
    ("主体类型", 209, 585, 458, 666),
    ("有限责任公司", 474, 603, 653, 640),
    ("住", 220, 641, 265, 724),
    ("所", 404, 663, 451, 717),
    ("深圳市宝安区福海街道塘尾华丰科技园第8", 476, 669, 981, 705),
    ("幢第六层", 477, 707, 594, 743),
    ("法定代表人", 223, 733, 453, 787),
    ("常国强", 477, 736, 566, 771),
    ("成立日期", 222, 801, 454, 850),
    ("2014年09月04日", 475, 803, 687, 839),
)

# A 2015+ landscape licence in a small photo (河北, about 770 px wide), its rows set tight:
# 营业期限's value not read, so the address printed under it, squarely on 住所's row, is
# not its; the address starts a few pixels inside its label's 所 and its wrapped line
# overlaps the first by half a line.
TIGHT_ROWS = page(
    ("统一社会信用代码", 91, 129, 212, 150),
    ("91130101689277252B", 91, 149, 187, 168),
    ("名", 94, 219, 112, 240),
    ("称河北金能电力科技股份有限公司", 144, 219, 303, 238),
    ("注册资本叁仟零叁拾万元整", 437, 219, 592, 240),
    ("型股份有限公司(非上市、自然人投资或控股)", 143, 246, 347, 268),
    ("类", 94, 247, 113, 267),
    ("成立日期 2009年05月27日", 439, 247, 581, 267),
    ("营业期限", 439, 274, 510, 294),
    ("法定代表人李旭光", 91, 275, 202, 298),
    ("经营范围电力工器具、电力技术的研发、技术咨询、技术服务、技术转让，电力工", 90, 301, 434, 330),
    ("所", 488, 303, 510, 321),
    ("石家庄高新区祁连街95号润江慧谷大厦B座", 507, 304, 690, 320),
    ("住", 442, 306, 454, 318),
    ("1001室", 509, 312, 545, 330),
    ("具、玻璃纤维增强材料制品、绝缘制品、橡胶制品、标识标牌、电气设", 163, 319, 422, 335),
)

# A 2020 个体工商户 licence (合肥): 经营场所 as tall as its address's two lines, the
# wrapped line starting a pixel further left than the first and half on the label's row.
WRAPPED_LINE_FURTHER_LEFT = page(
    ("统一社会信用代码", 219, 380, 475, 425),
    ("92340104MA2URUBD33(1-1)", 227, 431, 485, 459),
    ("(副本)", 783, 469, 909, 515),
    ("名类", 214, 572, 252, 679),
    ("称 合肥市蜀山区金功汽车用品店", 323, 576, 687, 615),
    ("组成形式个人经营", 988, 578, 1255, 620),
    ("型个体工商户", 321, 637, 509, 678),
    ("注册日期", 987, 640, 1133, 681),
    ("2020年05月18日", 1139, 647, 1311, 681),
    ("经营者李广", 216, 700, 430, 737),
    ("经营场所", 987, 701, 1132, 742),
    ("安徽省合肥市蜀山区望江西路268号红鑫新", 1137, 704, 1525, 732),
    ("村7幢201室", 1136, 727, 1244, 754),
    ("经营范围", 216, 764, 363, 801),
)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        pytest.param(LANDSCAPE, {
            "applicant.name": "深圳市安川测量仪器有限公司",
            "applicant.credit_code": "91440300MA5DNXMQ6G",
            "applicant.legal_representative": "李蔚婷",
            "applicant.address": "深圳市宝安区沙井街道大王山社区沙井路4-4号五层",
            "applicant.established": "2016-11-10",
        }, id="landscape-two-columns-wrapped-address"),
        pytest.param(PORTRAIT, {
            "applicant.name": "上海荆戈工业控制设备有限公司",
            "applicant.credit_code": "91310115MA1H8H1D7F",
            "applicant.legal_representative": "王炜炜",
            "applicant.address": "浦东新区万祥镇宏祥北路83弄1-42号20幢118室",
            "applicant.established": "2016-12-23",
        }, id="portrait-vertical-label-column-watermark-below"),
        pytest.param(OLD, {
            "applicant.name": "浙江正辉照明工程有限公司",
            "applicant.legal_representative": "柳晓娟",
            "applicant.address": "温州市瓯海娄桥街道上汇村",
            "applicant.established": "2001-07-11",
        }, id="old-licence-registration-number-notes-column"),
        pytest.param(INDIVIDUAL, {
            "applicant.name": "深圳市宝安区西乡宏顺办公家具厂",
            "applicant.address": "深圳市宝安区西乡街道西成工业区C栋一楼",
            "applicant.established": "2013-12-20",
        }, id="individual-business-chinese-date"),
        pytest.param(BRANCH, {
            "applicant.name": "温州市恒泰工艺礼品有限公司义乌分公司",
            "applicant.legal_representative": "王晓丽",
            "applicant.address": "浙江省义乌国际商贸城一期市场9207A、9207B号商位",
            "applicant.established": "2016-03-01",
        }, id="branch-licence"),
        pytest.param(JOINED, {
            "applicant.name": "西安光电产业技术研究院有限公司",
            "applicant.legal_representative": "张三",
            "applicant.address": "西安市高新区锦业路1号",
        }, id="value-ran-into-the-next-label"),
        pytest.param(TEMPORARY, {
            "applicant.address": "广州市荔湾区花地大道南麦村北约46号203房（临时经营场所有效期至"
                                 "2017年4月28日）（仅限办公用途）",
            "applicant.legal_representative": "陈毓敏",
        }, id="temporary-premises-note-in-the-address"),
        pytest.param(HEADS_ON_END, {
            "applicant.name": "成都锦程网络科技有限公司",
            "applicant.legal_representative": "周晓岚",
        }, id="label-heads-read-down-one-box-a-tail-lost"),
        pytest.param(TILTED, {
            "applicant.name": "重庆市众力机器人有限公司",
            "applicant.legal_representative": "李辉明",
        }, id="tilted-photo-rows-slope"),
        pytest.param(LABEL_TALLER_THAN_ITS_ROW, {
            "applicant.name": "深圳市南方源芯电气有限公司",
            "applicant.credit_code": "91440300312067220D",
            "applicant.legal_representative": "常国强",
            "applicant.address": "深圳市宝安区福海街道塘尾华丰科技园第8幢第六层",
            "applicant.established": "2014-09-04",
        }, id="label-taller-than-its-row-next-value-further-left"),
        pytest.param(TIGHT_ROWS, {
            "applicant.name": "河北金能电力科技股份有限公司",
            "applicant.credit_code": "91130101689277252B",
            "applicant.legal_representative": "李旭光",
            "applicant.address": "石家庄高新区祁连街95号润江慧谷大厦B座1001室",
            "applicant.established": "2009-05-27",
        }, id="small-photo-tight-rows-a-value-lost-above-the-address"),
        pytest.param(WRAPPED_LINE_FURTHER_LEFT, {
            "applicant.name": "合肥市蜀山区金功汽车用品店",
            "applicant.credit_code": "92340104MA2URUBD33",
            "applicant.legal_representative": "李广",
            "applicant.address": "安徽省合肥市蜀山区望江西路268号红鑫新村7幢201室",
            "applicant.established": "2020-05-18",
        }, id="individual-2020-wrapped-line-a-pixel-further-left"),
    ],
)  # fmt: skip
def test_licence_layouts(layout, expected):
    got = read(layout)
    for name, value in expected.items():
        assert got.get(name) == value, (name, got)


@pytest.mark.parametrize("layout", [OLD, INDIVIDUAL])
def test_a_licence_with_only_a_registration_number_has_no_credit_code(layout):
    assert "applicant.credit_code" not in read(layout)


def test_a_misread_label_is_known_by_its_tail_and_doubted():
    # 经营者's label misread as "经 营# 者": its tail 者, where the column's labels end,
    # still names it; the value is given with the doubt said, and is not the address's.
    values = {v.field: v for v in read_licence("执照.jpg", INDIVIDUAL, "business_licence")}
    person = values["applicant.legal_representative"]
    assert person.value == "翁志恒" and person.note and person.confidence < 0.98
    assert "翁志恒" not in str(values["applicant.address"].value)


def test_a_labelled_credit_code_that_fails_its_check_is_doubted():
    p = page(("统一社会信用代码", 100, 100, 400, 130), ("91440300MA5DNXMQ6H", 420, 100, 800, 130))
    (code,) = [v for v in read_licence("x.jpg", p, "business_licence")
               if v.field == "applicant.credit_code"]  # fmt: skip
    assert code.confidence <= 0.6 and code.note


def test_the_value_boxes_are_the_evidence():
    (name,) = [kv for kv in key_values(LANDSCAPE, vocabulary()[0]) if kv.field == "applicant.name"]
    assert name.bbox[0] <= 307 and name.bbox[2] >= 840  # label and value boxes


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("统一社会信用代码 91440300MA5DNXMQ6G", ["credit_code"]),
        # A 20-digit licence serial holds 18-character runs; none of them is a code.
        ("证照编号 15000000201709210801", ["serial"]),
        ("编号 S0312015020761", ["unknown"]),
        ("身份证号码：11010519491231002X", ["id_card"]),
        ("账号 6222021001115678901", ["account"]),
        ("不动产单元号 610113001001GB00001F00010001", ["property_unit"]),
        ("注册号 430111000287680", ["registration_number"]),
        ("注册号 4406822003922", ["account"]),  # 13 digits: only a label makes it one
        ("91610404.755857926W", ["credit_code"]),  # a speck inside a code
        ("９１４４０３００ＭＡ５ＤＮＸＭＱ６Ｇ", ["credit_code"]),  # full-width
        ("91440300MA5DNXMQ6G1234", ["unknown"]),  # longer: not a slice
    ],
)
def test_identifiers_are_whole_tokens(text, kinds):
    assert [t.kind for t in tokens(text)] == kinds


def test_an_id_card_is_not_a_credit_code():
    assert classify("11010519491231002X") == "id_card"
    assert classify("91440300MA5DNXMQ6G") == "credit_code"


def test_without_a_founding_date_the_term_start_stands_in_doubted():
    p = page(
        ("名称科威勒自动化（上海）有限公司", 100, 100, 700, 130),
        ("营业期限2020年03月10日至2040年03月09日", 100, 150, 700, 180),
    )
    (found,) = [v for v in read_licence("x.jpg", p, "business_licence")
                if v.field == "applicant.established"]  # fmt: skip
    assert found.value == "2020-03-10" and found.confidence <= 0.5 and found.note


@pytest.mark.parametrize("turn", [90, 270])
@pytest.mark.parametrize("engine", [
    "rapidocr3",
    pytest.param("rapidocr", marks=pytest.mark.skipif(
        not rapidocr_available(), reason="the ppocr-v4 extra is not installed")),
    "tesseract",
])  # fmt: skip
def test_a_licence_scanned_on_its_side_is_turned_upright_and_read(tmp_path, settings, turn, engine):
    """No EXIF tag: the OCR boxes come back as columns, tesseract's orientation detection
    says which way it lies, the page is read again upright."""
    from extractors.registry import parse_file
    from tests.fixtures import factory

    lines = [
        "营业执照",
        "统一社会信用代码 91610131MA6U5XYB24",
        "名称 西安秦岭数据服务有限公司",
        "类型 有限责任公司（自然人投资或控股）",
        "住所 西安市高新区锦业路69号创业研发园C区1号",
        "法定代表人 王建国",
        "成立日期 2018年05月03日",
        "营业期限 2018年05月03日至长期",
    ]
    scan = factory.sideways_scan(tmp_path / "licence.jpg", lines, turn=turn)
    options = settings.model_copy(update={"ocr_engine": engine}).parse_options()
    (p,) = parse_file(scan, options).pages
    assert p.turned == turn  # stored turned anticlockwise: turned back clockwise
    got = read(p)
    assert got["applicant.name"] == "西安秦岭数据服务有限公司"
    assert got["applicant.legal_representative"] == "王建国"
    assert got["applicant.established"] == "2018-05-03"


def test_a_portrait_licence_is_not_turned(tmp_path, settings):
    from extractors.registry import parse_file
    from tests.fixtures import factory

    scan = factory.sideways_scan(
        tmp_path / "up.jpg",
        [
            "营业执照",
            "名称 西安秦岭数据服务有限公司",
            "法定代表人 王建国",
            "成立日期 2018年05月03日",
        ],
        turn=0,
    )
    (p,) = parse_file(scan, settings.parse_options()).pages
    assert p.turned == 0


def test_a_dash_between_house_numbers_read_as_a_character_is_a_dash():
    p = page(("住所深圳市福田区福明路嘉汇新城汇商中心1710一1713室", 100, 100, 800, 130))
    assert read(p)["applicant.address"] == "深圳市福田区福明路嘉汇新城汇商中心1710—1713室"


def test_a_picture_with_no_text_is_read_as_nothing(tmp_path, settings):
    """A blank scan: nothing read, the orientation check cannot tell and turns nothing,
    and no value is made up."""
    from PIL import Image

    from extractors.registry import parse_file

    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (1654, 2339), "white").save(blank, "JPEG")
    (p,) = parse_file(blank, settings.parse_options()).pages
    assert p.turned == 0 and not p.lines
    assert read_licence("blank.jpg", p, "business_licence") == []
