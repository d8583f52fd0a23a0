"""The institution certificate reader on box layouts as the certificates print them: the
事业单位法人证书 (labels letter-spaced in one column — 名　　称 / 宗旨和业务范围 / 住　　所 /
法定代表人 / 经费来源 / 开办资金 / 举办单位 — values right, 有效期 自…至…), with a 统一社会信用代码
(12…) or, on older ones, only a 证书号 (事证第…号); the 民办非企业单位登记证书 and the
社会团体法人登记证书 that stand in for a licence the same way. No OCR runs here."""

from __future__ import annotations

import pytest

from extractors.model import Block, Line, Origin, Page, Word
from extractors.readers.institution import read_institution

H = 30
LABEL_X0, LABEL_X1, VALUE_X = 110, 330, 380


def page(boxes: list[tuple[str, float, float, float, float]], conf: float = 0.97) -> Page:
    lines = [
        Line(text=t, bbox=(x0, y0, x1, y1), conf=conf,
             words=[Word(text=t, bbox=(x0, y0, x1, y1), conf=conf)])
        for t, x0, y0, x1, y1 in boxes
    ]  # fmt: skip
    return Page(number=1, width=1240, height=1754, unit="px", origin=Origin.OCR,
                blocks=[Block(lines=lines)])  # fmt: skip


def certificate(
    title: str, head: list[str], rows: list[tuple[str, list[str]]], foot: list[str]
) -> Page:
    """A certificate: its title, lines above the table (the code), labelled rows (labels of
    two or three characters spread over the label column), lines below (有效期, 登记管理机关)."""
    boxes = [(title, 300, 120, 300 + len(title) * 50, 170)]
    y = 220
    for text in head:
        boxes.append((text, 380, y, 380 + len(text) * 28, y + H))
        y += 50
    y += 30
    for label, values in rows:
        if len(label) <= 3:
            step = (LABEL_X1 - LABEL_X0 - H) / (len(label) - 1)
            boxes += [(ch, LABEL_X0 + i * step, y, LABEL_X0 + i * step + H, y + H)
                      for i, ch in enumerate(label)]  # fmt: skip
        else:
            boxes.append((label, LABEL_X0, y, LABEL_X0 + len(label) * 29, y + H))
        for i, text in enumerate(values):
            vy = y + i * H * 1.3
            boxes.append((text, VALUE_X, vy, VALUE_X + len(text) * 29, vy + H))
        y += max(1, len(values)) * H * 1.3 + 40
    for text in foot:
        boxes.append((text, LABEL_X0, y, LABEL_X0 + len(text) * 29, y + H))
        y += 60
    return page(boxes)


ROWS = [
    ("名称", ["西安市中小企业服务中心"]),
    ("宗旨和业务范围", ["为中小企业提供服务。政策咨询、创业辅导、",
                       "人才培训、融资对接、信息服务、管理咨询、",
                       "市场开拓"]),
    ("住所", ["西安市雁塔区高新路25号"]),
    ("法定代表人", ["李华"]),
    ("经费来源", ["财政补助"]),
    ("开办资金", ["￥150万元"]),
    ("举办单位", ["西安市工业和信息化局"]),
]  # fmt: skip

# 事业单位法人证书 since 2015: the 统一社会信用代码 above the table.
INSTITUTION = certificate(
    "事业单位法人证书",
    ["统一社会信用代码", "12610100MB2961807U"],
    ROWS,
    ["有效期 自2018年06月01日至2023年06月01日", "登记管理机关 西安市事业单位登记管理局"],
)

# Before 2015: a 证书号 (事证第…号) and no credit code.
OLD_INSTITUTION = certificate(
    "事业单位法人证书", ["证书号：事证第161010000123号"], ROWS,
    ["有效期 自2013年06月01日至2018年06月01日"],
)  # fmt: skip

# 民办非企业单位登记证书 (法人): 业务主管单位, 业务范围, 开办资金, 有效期限; code 52…
PRIVATE_NON_ENTERPRISE = certificate(
    "民办非企业单位登记证书",
    ["统一社会信用代码 52610131MJ30123454"],
    [("名称", ["西安高新区创新创业服务中心"]), ("住所", ["西安市高新区科技二路65号"]),
     ("法定代表人", ["王建国"]), ("开办资金", ["10万元"]),
     ("业务主管单位", ["西安高新区管委会"]), ("业务范围", ["创业培训、技术咨询"])],
    ["有效期限 2019年03月01日至2024年02月28日"],
)  # fmt: skip

# 社会团体法人登记证书: 活动地域, 注册资金; code 51…
SOCIAL_ORGANISATION = certificate(
    "社会团体法人登记证书",
    ["统一社会信用代码：51610000MJ2900123C"],
    [("名称", ["陕西省中小企业促进会"]), ("住所", ["西安市莲湖区西华门4号"]),
     ("法定代表人", ["欧阳明华"]), ("业务范围", ["行业服务、咨询培训"]),
     ("活动地域", ["陕西省"]), ("注册资金", ["叁万元"]),
     ("业务主管单位", ["陕西省工业和信息化厅"])],
    [],
)  # fmt: skip


def read(p: Page) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in read_institution("法人证书.jpg", p, "business_licence"):
        out.setdefault(v.field, []).append(v)
    return out


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        pytest.param(INSTITUTION, {
            "applicant.name": "西安市中小企业服务中心",
            "applicant.credit_code": "12610100MB2961807U",
            "applicant.address": "西安市雁塔区高新路25号",
            "applicant.legal_representative": "李华",
            "institution.valid_until": "2023-06-01",
        }, id="institution-certificate-2015"),
        pytest.param(OLD_INSTITUTION, {
            "applicant.name": "西安市中小企业服务中心",
            "applicant.address": "西安市雁塔区高新路25号",
            "applicant.legal_representative": "李华",
        }, id="institution-certificate-before-2015"),
        pytest.param(PRIVATE_NON_ENTERPRISE, {
            "applicant.name": "西安高新区创新创业服务中心",
            "applicant.credit_code": "52610131MJ30123454",
            "applicant.address": "西安市高新区科技二路65号",
            "applicant.legal_representative": "王建国",
            "institution.valid_until": "2024-02-28",
        }, id="private-non-enterprise-unit"),
        pytest.param(SOCIAL_ORGANISATION, {
            "applicant.name": "陕西省中小企业促进会",
            "applicant.credit_code": "51610000MJ2900123C",
            "applicant.address": "西安市莲湖区西华门4号",
            "applicant.legal_representative": "欧阳明华",
        }, id="social-organisation"),
    ],
)  # fmt: skip
def test_institution_certificates(layout, expected):
    got = {name: values[0].value for name, values in read(layout).items()}
    for name, value in expected.items():
        assert got.get(name) == value, (name, got)


@pytest.mark.parametrize("layout", [INSTITUTION, OLD_INSTITUTION, PRIVATE_NON_ENTERPRISE])
def test_no_founding_date_is_read_nor_made_up(layout):
    # The 有效期 (renewed every five years) is not a founding date.
    assert "applicant.established" not in read(layout)


def test_a_certificate_number_is_no_credit_code():
    assert "applicant.credit_code" not in read(OLD_INSTITUTION)


def test_the_scope_wrapping_over_three_lines_stays_out_of_the_other_values():
    got = read(INSTITUTION)
    assert [v.value for v in got["applicant.address"]] == ["西安市雁塔区高新路25号"]
    assert [v.value for v in got["applicant.name"]] == ["西安市中小企业服务中心"]


def test_a_labelled_code_that_fails_its_check_is_doubted():
    p = certificate("事业单位法人证书", ["统一社会信用代码 12610100MB2961807V"],
                    ROWS[:1], [])  # fmt: skip
    (code,) = read(p)["applicant.credit_code"]
    assert code.confidence <= 0.6 and code.note


def test_a_value_that_ran_into_the_next_label_ends_there():
    p = page([("法定代表人李华住所西安市雁塔区高新路25号", 110, 300, 900, 330)])
    got = read(p)
    assert got["applicant.legal_representative"][0].value == "李华"


def test_a_short_label_justified_across_a_wide_column_is_one_label():
    # 名　　称 spread over the width of 宗旨和业务范围 (seven characters): its two characters
    # are read as boxes further apart than a letter-spaced label's usually are.
    p = page(
        [("名", 150, 507, 177, 532), ("称", 365, 502, 403, 536),
         ("西安市中小企业服务中心", 445, 499, 748, 534),
         ("宗旨和业务范围", 147, 583, 402, 619), ("为中小企业提供公共服务", 445, 580, 760, 616),
         ("住", 147, 748, 183, 785), ("所", 368, 748, 407, 783),
         ("西安市雁塔区高新路25号", 447, 745, 751, 780)]
    )  # fmt: skip
    got = read(p)
    assert got["applicant.name"][0].value == "西安市中小企业服务中心"
    assert got["applicant.address"][0].value == "西安市雁塔区高新路25号"
