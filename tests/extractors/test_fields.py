"""Field extraction per material type, on generated documents (text and scanned), and a
golden test on the generated sample dossier."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from extractors.classify import classify_documents
from extractors.fields import extract_fields
from extractors.registry import parse_file
from tests.fixtures import factory
from tests.fixtures.sample import write_sample

NAME = "渭南丰禾企业管理有限公司"
CODE = "91610131MA6TXK1U2Y"
GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "sample_fields.json"


def extract(paths: list[Path], options) -> dict[str, list]:
    documents = [(p.name, parse_file(p, options)) for p in paths]
    return extract_fields(documents, classify_documents(documents))


def values(fields, name, file=None) -> list:
    return [v.value for v in fields.get(name, []) if file is None or v.file == file]


def test_application_report_table_and_prose(tmp_path, options):
    report = factory.docx_file(
        tmp_path / "申请报告.docx",
        [
            [
                "中小企业公共服务示范平台申请报告",
                f"申报单位（盖章）：{NAME}",
                "申报日期：二〇一九年三月二日",
            ],
            ["基本情况表"],
            [
                "一、基本情况",
                f"{NAME}成立于2012年5月4日，截至2018年末资产总额为326.50万元，2018年度实现营业收入"
                "2,703.53万元，其中服务收入1,234,567.89元。",
                "平台现有固定服务场地1,264平方米，现有从事中小企业服务的人员26人，其中大专及以上学历"
                "和中级及以上技术职称人员22人，占比84.6%。",
                "2018年，平台共服务本市中小企业274家，服务本市中小企业取得营业收入1099.40万元，"
                "服务对象对平台服务的满意度为百分之九十三。",
                "申报单位（盖章）",
                "2019年3月2日",
            ],
        ],
        table=[
            ["单位名称", NAME, "统一社会信用代码", CODE],
            ["资产总额（万元）", "326.50", "服务场地面积（平方米）", "1264"],
            ["公益性服务占比", "35%", "集聚服务机构数（家）", "12"],
        ],
        table_page=2,
    )
    fields = extract([report], options)
    assert set(values(fields, "finance.total_assets")) == {3265000.0}
    assert values(fields, "finance.revenue") == [27035300.0]
    assert values(fields, "finance.service_revenue") == [1234567.89]
    assert set(values(fields, "premises.area_m2")) == {1264.0}
    assert values(fields, "staff.service_staff") == [26]
    assert values(fields, "staff.qualified_share") == [0.846]
    assert values(fields, "service.smes_served") == [274]
    assert values(fields, "service.sme_revenue") == [10994000.0]  # not also finance.revenue
    assert values(fields, "service.satisfaction") == [0.93]
    assert values(fields, "service.public_interest_share") == [0.35]
    assert values(fields, "service.agencies_aggregated") == [12]
    assert values(fields, "applicant.credit_code") == [CODE]
    assert values(fields, "applicant.established") == ["2012-05-04"]
    assert set(values(fields, "application.date")) == {"2019-03-02"}
    assert set(values(fields, "applicant.name")) == {NAME}
    table_value = next(v for v in fields["finance.total_assets"] if "326.50" in v.text)
    assert table_value.page == 2 and table_value.confidence >= 0.9 and table_value.origin == "docx"


LICENCE = [
    "营业执照",
    f"统一社会信用代码 {CODE}",
    f"名称 {NAME}",
    "类型 有限责任公司（自然人投资或控股）",
    "住所 西安市雁塔区科技路48号创业广场B座12层",
    "法定代表人 王建国",
    "成立日期 2013年04月18日",
    "登记机关 西安市工商行政管理局",
]


def test_licence_photo_through_ocr(tmp_path, options):
    photo = factory.photo_jpeg(tmp_path / "licence.jpg", LICENCE)
    fields = extract([photo], options)
    assert values(fields, "applicant.credit_code") == [CODE]
    assert NAME in values(fields, "applicant.name")
    assert values(fields, "applicant.legal_representative") == ["王建国"]
    assert values(fields, "applicant.established") == ["2013-04-18"]
    assert values(fields, "applicant.address") == ["西安市雁塔区科技路48号创业广场B座12层"]
    for found in fields["applicant.credit_code"]:
        assert found.origin == "ocr" and found.bbox is not None and 0 < found.confidence <= 1


AUDIT = [
    [NAME, "审计报告", "陕信达审字（2019）第0156号"],
    [
        "审计报告",
        f"{NAME}全体股东：",
        "一、审计意见",
        f"我们审计了{NAME}财务报表，包括2018年12月31日的资产负债表，",
        "2018年度的利润表以及相关财务报表附注。",
        "我们认为，后附的财务报表在所有重大方面按照企业会计准则的规定编制，",
        "公允反映了贵公司2018年12月31日的财务状况。",
        "陕西信达会计师事务所（特殊普通合伙）　中国注册会计师：李明",
    ],
    [
        "资产负债表",
        f"编制单位：{NAME}　2018年12月31日　单位：元",
        "项目　行次　期末余额　期初余额",
        "流动资产合计　7　2,465,000.00　2,101,000.00",
        "资产总计　14　3,265,000.00　2,880,000.00",
    ],
    [
        "利润表",
        f"编制单位：{NAME}　2018年度　单位：元",
        "项目　行次　本期金额　上期金额",
        "一、营业收入　1　5,182,000.55　4,035,794.25",
        "减：营业成本　2　3,636,594.05　2,497,156.71",
    ],
    ["财务报表附注", "1. 营业收入和营业成本", "营业收入 9,999,999.99"],
]


@pytest.mark.parametrize("scanned", [False, True], ids=["text", "scanned"])
def test_audit_report(tmp_path, options, scanned):
    make = factory.scanned_pdf if scanned else factory.text_pdf
    audit = make(tmp_path / "audit.pdf", AUDIT)
    fields = extract([audit], options)
    assert values(fields, "finance.total_assets") == [3265000.0]
    assert values(fields, "finance.revenue") == [5182000.55]  # the statement, not the notes
    assert values(fields, "audit.opinion") == ["unqualified"]
    assert "2018-12-31" in values(fields, "audit.period_end")
    assert "陕西信达会计师事务所（特殊普通合伙）" in {
        v.replace("(", "（").replace(")", "）") for v in values(fields, "audit.firm")
    }
    if not scanned:
        assert "陕信达审字(2019)第0156号" in values(fields, "audit.report_number")
        assert fields["finance.total_assets"][0].confidence >= 0.9


def test_a_qualified_opinion_and_the_consolidated_statement(tmp_path, options):
    pages = [
        [
            "审计报告",
            "一、保留意见",
            "我们审计了某某集团股份有限公司财务报表。",
            "我们认为，除形成保留意见的基础部分所述事项可能产生的影响外，财务报表在所有重大方面公允反映。",
        ],
        ["母公司资产负债表", "项目　期末余额　期初余额", "资产总计　1,000.00　900.00"],
        [
            "合并资产负债表",
            "项目　期末余额　期初余额",
            "资产总计　6,278,282,683.245,585,879,100.00",
        ],
    ]
    fields = extract([factory.text_pdf(tmp_path / "a.pdf", pages)], options)
    assert values(fields, "audit.opinion") == ["qualified"]
    assert values(fields, "finance.total_assets") == [6278282683.24]


def test_lease_and_property_certificate(tmp_path, options):
    lease = factory.text_pdf(
        tmp_path / "lease.pdf",
        [
            [
                "房屋租赁合同",
                "出租方（甲方）：西安高新创业广场管理有限公司",
                f"承租方（乙方）：{NAME}",
                "甲方将位于西安市高新区科技路48号创业广场B座12层的房屋出租给乙方，",
                "租赁面积为860㎡。",
                "租赁期限自2016年3月1日起至2021年2月28日止。",
            ]
        ],
    )
    certificate = factory.scanned_pdf(
        tmp_path / "cert.pdf",
        [
            [
                "不动产权证书",
                f"权利人 {NAME}",
                "坐落 西安市雁塔区科技路48号",
                "面积 256.5平方米",
                "共有情况 单独所有",
            ]
        ],
    )
    fields = extract([lease, certificate], options)
    assert values(fields, "premises.holder", "lease.pdf") == [NAME]
    assert values(fields, "premises.area_m2", "lease.pdf") == [860.0]
    assert values(fields, "premises.lease_end") == ["2021-02-28"]
    assert values(fields, "premises.address", "lease.pdf") == [
        "西安市高新区科技路48号创业广场B座12层"
    ]
    assert values(fields, "premises.holder", "cert.pdf") == [NAME]
    assert values(fields, "premises.area_m2", "cert.pdf") == [256.5]


def test_a_misread_credit_code_is_repaired_openly(tmp_path, options):
    misread = CODE[:4] + "O" + CODE[5:]  # 0 read as O
    pdf = factory.text_pdf(tmp_path / "r.pdf", [["推荐表", f"统一社会信用代码：{misread}"]])
    (found,) = extract([pdf], options)["applicant.credit_code"]
    assert found.value == CODE and misread in found.note and found.confidence <= 0.7


def test_declared_and_audited_figures_are_both_kept(tmp_path, options):
    report = factory.text_pdf(
        tmp_path / "app.pdf",
        [["示范平台申请报告", f"申报单位：{NAME}", "资产总额：3,300,000.00元"]],
    )
    audit = factory.text_pdf(tmp_path / "audit.pdf", AUDIT)
    fields = extract([report, audit], options)
    by_file = {(v.file, v.value) for v in fields["finance.total_assets"]}
    assert by_file == {("app.pdf", 3300000.0), ("audit.pdf", 3265000.0)}


def _summary(fields) -> dict[str, list[list]]:
    return {
        name: sorted({(v.file, json.dumps(v.value, ensure_ascii=False)) for v in found})
        for name, found in sorted(fields.items())
    }


def test_golden_sample_dossier(tmp_path, options):
    """Every field value of the generated sample dossier, compared with the reviewed
    golden file (``UPDATE_GOLDEN=1`` rewrites it; a missing golden file fails)."""
    folder = write_sample(tmp_path / "sample")
    got = json.loads(json.dumps(_summary(extract(sorted(folder.iterdir()), options))))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", "utf-8")
    assert GOLDEN.exists(), f"no golden file {GOLDEN}: run with UPDATE_GOLDEN=1 and review it"
    want = json.loads(GOLDEN.read_text("utf-8"))
    for name in sorted(set(want) | set(got)):
        assert got.get(name) == want.get(name), name


def _in_memory(pages: list[list[str]], origin: str = "ocr", material: str = "audit_report"):
    """Pages as a reader sees them: full-width lines (they may wrap), OCR words with boxes."""
    from extractors.classify import Material
    from extractors.model import Block, Document, Line, Page, Word

    built = []
    for number, lines in enumerate(pages, start=1):
        out = []
        for i, text in enumerate(lines):
            y = 100 + 40 * i
            box = (100.0, float(y), 1500.0, float(y + 30))
            out.append(Line(text=text, bbox=box, words=[Word(text=text, bbox=box, conf=0.97)]))
        built.append(
            Page(
                number=number,
                width=1654,
                height=2339,
                unit="px",
                origin=origin,
                blocks=[Block(lines=out)],
            )
        )
    doc = Document(media_type="image", parser="test", pages=built)
    return extract_fields([("x.pdf", doc)], [Material(material, "x.pdf", (1, len(pages)))])


def test_a_label_broken_where_the_line_wrapped():
    fields = _in_memory(
        [
            [
                "本公司注册地址：西安市莲湖区桃园南路293号，法定代表",
                "人：段晓斌。经营范围：人力资源服务。",
            ]
        ]
    )
    assert values(fields, "applicant.legal_representative") == ["段晓斌"]


def test_a_speck_inside_a_credit_code_is_dropped():
    fields = _in_memory(
        [["统一社会信用代码", CODE[:8] + "." + CODE[8:]]], material="business_licence"
    )
    assert values(fields, "applicant.credit_code") == [CODE]


def test_an_ocr_near_miss_of_the_known_name_is_doubted():
    from extractors.classify import Material
    from extractors.model import Block, Document, Line, Page

    typed = Document(
        media_type="application/pdf",
        parser="test",
        pages=[
            Page(number=1, origin="text", blocks=[Block(lines=[Line(text=f"申报单位：{NAME}")])])
        ],
    )
    misread = NAME.replace("丰禾", "丰末")
    scanned = Document(
        media_type="image",
        parser="test",
        pages=[
            Page(number=1, origin="ocr", blocks=[Block(lines=[Line(text=f"单位名称：{misread}")])])
        ],
    )
    materials = [
        Material("application_report", "a.pdf", (1, 1)),
        Material("qualification", "q.jpg", (1, 1)),
    ]
    fields = extract_fields([("a.pdf", typed), ("q.jpg", scanned)], materials)
    doubted = next(v for v in fields["applicant.name"] if v.value == misread)
    assert doubted.confidence < 0.9 and NAME in doubted.note


def test_the_boilerplate_about_modified_opinions_is_not_the_opinion():
    fields = _in_memory(
        [[
            "审计报告", "一、审计意见", "我们审计了某公司财务报表。",
            "我们认为，后附的财务报表在所有重大方面按照企业会计准则的规定编制，公允反映了财务状况。",
            "二、形成审计意见的基础", "……如果披露不充分，我们应当发表非无保留意见。",
        ]],
        origin="text",
    )  # fmt: skip
    assert values(fields, "audit.opinion") == ["unqualified"]


def test_a_note_reference_in_a_statement_row_is_not_a_figure():
    fields = _in_memory(
        [["资产负债表", "项目 附注 期末余额 期初余额", "资产总计 注5.1.2 1,000.00 900.00"]],
        origin="text",
    )
    assert values(fields, "finance.total_assets") == [1000.0]


def test_absurdly_long_numbers_are_not_values():
    fields = _in_memory(
        [["服务人员数：" + "9" * 400 + "人", "资产总额：" + "9" * 400 + "元"]],
        origin="text", material="application_report",
    )  # fmt: skip
    assert "staff.service_staff" not in fields and "finance.total_assets" not in fields


@pytest.mark.parametrize(
    ("lines", "area"),
    [
        # 不动产权证书 (2015+ unified design): land and building area in one 面积 cell.
        (
            [
                "不动产权证书",
                "权利人 西安秦岭数据服务有限公司",
                "坐落 西安市雁塔区科技路10号1幢10501室",
                "不动产单元号 610113001001GB00001F00010001",
                "权利类型 国有建设用地使用权/房屋所有权",
                "面积 共有宗地面积3000.00㎡/房屋建筑面积 865.32㎡",
            ],
            865.32,
        ),
        # 房屋所有权证 (before 2015): 建筑面积 beside 分摊面积 and the land's 土地使用权面积.
        (
            [
                "房屋所有权证",
                "房屋所有权人 西安秦岭数据服务有限公司",
                "房屋坐落 西安市碑林区南大街5号",
                "土地使用权面积 1200.00平方米",
                "建筑面积 640.50平方米",
                "分摊面积 35.20平方米",
            ],
            640.5,
        ),
    ],
    ids=["real-estate-certificate", "old-house-ownership-certificate"],
)
def test_a_property_certificate_gives_the_building_area_not_the_land(
    tmp_path, options, lines, area
):
    scan = factory.text_pdf(tmp_path / "产权证.pdf", [lines])
    fields = extract([scan], options)
    assert values(fields, "premises.area_m2") == [area]
    # The 28-character unit number holds 18-character runs: none is a credit code.
    assert values(fields, "applicant.credit_code") == []
