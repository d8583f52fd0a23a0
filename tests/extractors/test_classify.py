"""The page classifier: each material type on its own, merged files, pages that say
little, running headers, OCR misreads, and documents of no known kind.

Pages are built in memory (the document model) so each case states exactly what the page
says; one test goes through real PDFs, a scan and OCR. The wording is our own, not the
dev corpus's."""

from __future__ import annotations

import pytest

from extractors.classify import OTHER, CueBook, CueDataError, classify_documents, page_evidence
from extractors.model import Block, Document, Line, Page
from extractors.registry import parse_file
from tests.fixtures import factory

TITLE, BODY = 18.0, 11.0


def page(
    number: int,
    lines: list[str],
    *,
    origin: str = "text",
    header: str | None = None,
    footer: str | None = None,
    title: bool = True,
) -> Page:
    """An A4 page in points: the first line set large (a title) unless ``title`` is False,
    optional running header and footer lines in the page's top and bottom margins."""
    out: list[Line] = []
    if header:
        out.append(Line(text=header, bbox=(250, 40, 350, 50), size=9))
    y = 90.0
    for i, text in enumerate(lines):
        size = TITLE if i == 0 and title else BODY
        out.append(Line(text=text, bbox=(70, y, 70 + size * len(text), y + size), size=size))
        y += size * 2
    if footer:
        out.append(Line(text=footer, bbox=(290, 790, 310, 800), size=9))
    return Page(
        number=number, width=595, height=842, unit="pt", origin=origin, blocks=[Block(lines=out)]
    )


def document(pages: list[Page]) -> Document:
    return Document(media_type="application/pdf", parser="test", pages=pages)


def doc(*pages: list[str], **kw) -> Document:
    return document([page(i, lines, **kw) for i, lines in enumerate(pages, start=1)])


def kinds_of(materials) -> list[tuple[str, tuple[int, int]]]:
    return [(m.type, m.pages) for m in materials]


ONE_PAGE = {
    "application_report": [
        "中小企业公共服务示范平台申请报告",
        "平台名称：丰禾企业服务平台",
        "申报单位（盖章）：渭南丰禾企业管理有限公司",
        "申报日期：2019年3月2日",
    ],
    "recommendation_form": [
        "市级中小企业公共服务示范平台推荐表",
        "运营单位名称：渭南丰禾企业管理有限公司",
        "推荐单位意见：同意推荐。",
        "区县中小企业主管部门（盖章）",
    ],
    "business_licence": [
        "营业执照",
        "统一社会信用代码 91610000MA6T000000",
        "名称 渭南丰禾企业管理有限公司",
        "法定代表人 周某",
        "经营范围 企业管理咨询",
        "登记机关 西安市市场监督管理局",
    ],
    "audit_report": [
        "审计报告",
        "丰禾审字（2019）第018号",
        "我们审计了渭南丰禾企业管理有限公司财务报表，包括资产负债表、利润表。",
        "形成审计意见的基础",
        "中国注册会计师：李某",
    ],
    "service_evidence": [
        "关于举办小微企业融资对接会的通知",
        "各有关企业：",
        "为帮助企业拓宽融资渠道，定于六月举办融资对接会。",
        "报名方式：电话报名。",
        "特此通知。",
    ],
    "premises_proof": [
        "房屋租赁合同",
        "出租方（甲方）：某物业公司",
        "承租方（乙方）：渭南丰禾企业管理有限公司",
        "租赁面积：320平方米，租赁期限三年。",
    ],
    "qualification": [
        "人力资源服务许可证",
        "许可证编号：（陕）人服证字〔2016〕第0001号",
        "许可范围：职业介绍、人才推荐",
        "发证机关：西安市人力资源和社会保障局",
    ],
    "authenticity_declaration": [
        "申报材料真实性承诺书",
        "本单位承诺所报材料真实、准确、完整，",
        "不存在虚假记载、误导性陈述或重大遗漏，如有不实，愿意承担相应责任。",
        "特此承诺。",
    ],
}


@pytest.mark.parametrize("kind", sorted(ONE_PAGE))
def test_each_material_type_on_its_own_page(kind):
    materials = classify_documents([("file-1.pdf", doc(ONE_PAGE[kind]))])
    assert kinds_of(materials) == [(kind, (1, 1))]
    assert materials[0].cues and materials[0].confidence >= 0.6


def test_the_file_name_is_only_a_weak_hint():
    menu = ["今日菜单", "红烧肉 38元", "清炒时蔬 18元"]
    materials = classify_documents([("营业执照.pdf", doc(menu))])
    assert kinds_of(materials) == [(OTHER, (1, 1))]  # a name alone does not make a licence
    licence = ["统一社会信用代码 91610000MA6T000000", "法定代表人 周某"]
    materials = classify_documents([("营业执照.pdf", doc(licence, title=False))])
    assert materials[0].type == "business_licence"
    assert "文件名:营业执照" in materials[0].cues


def test_a_document_of_no_known_kind_is_other_never_forced():
    minutes = [
        ["会议纪要（内部）", "议题：食堂排班", "参会人员：行政部全体"],
        ["二、下周天气晴朗，组织户外团建。", "三、其他事项无。"],
    ]
    materials = classify_documents([("纪要.pdf", doc(*minutes))])
    assert [m.type for m in materials] == [OTHER]
    assert not materials[0].explicit  # nothing spoke for it: a person should look


def test_pages_that_say_little_continue_the_material_before_them():
    audit = doc(
        ONE_PAGE["audit_report"],
        ["资产负债表", "编制单位：渭南丰禾企业管理有限公司", "资产总计 3,204,118.20"],
        ["1,204,000.00", "880,118.20", "3,204,118.20"],  # numbers only
        [],  # a blank page
        [
            "财务报表附注",
            "一、公司基本情况",
            "统一社会信用代码 91610000MA6T000000",
            "注册资本 500万元",
        ],
    )
    materials = classify_documents([("a.pdf", audit)])
    assert kinds_of(materials) == [("audit_report", (1, 5))]


def test_a_photo_page_before_its_summary_joins_it():
    evidence = doc([], ["2018年度服务工作总结", "全年开展培训12场，参训企业300余家。"])
    materials = classify_documents([("s.pdf", evidence)])
    assert kinds_of(materials) == [("service_evidence", (1, 2))]


def test_titles_quoted_in_prose_do_not_begin_a_material():
    report = doc(
        ONE_PAGE["application_report"],
        [
            "一、基本情况",
            "本单位成立于2012年，统一社会信用代码91610000MA6T000000，注册资本500万元，",
            "法定代表人周某。依据审计报告，2018年末资产总额320万元；",
            "服务场所依房屋租赁合同使用，营业执照、许可证见附件。",
        ],
    )
    materials = classify_documents([("r.pdf", report)])
    assert kinds_of(materials) == [("application_report", (1, 2))]


def test_a_merged_file_is_split_into_its_materials():
    order = [
        "recommendation_form",
        "application_report",
        "business_licence",
        "audit_report",
        "premises_proof",
        "qualification",
        "service_evidence",
        "authenticity_declaration",
    ]
    merged = doc(*(ONE_PAGE[k] for k in order))
    materials = classify_documents([("合订本.pdf", merged)])
    assert kinds_of(materials) == [(k, (i, i)) for i, k in enumerate(order, start=1)]


def test_an_audit_report_then_a_special_audit_are_two_materials():
    pages = doc(
        ONE_PAGE["audit_report"],
        ["资产负债表", "资产总计 3,204,118.20"],
        [
            "关于渭南丰禾企业管理有限公司2018年度服务收支的专项审计报告",
            "丰禾专审字（2019）第3号",
            "中国注册会计师：李某",
        ],
    )
    materials = classify_documents([("a.pdf", pages)])
    assert kinds_of(materials) == [("audit_report", (1, 2)), ("audit_report", (3, 3))]


def test_an_annual_report_lends_no_pages_but_its_audit_report():
    header = "2018 年年度报告"
    pages = [
        ["渭南丰禾股份有限公司", "2018 年年度报告"],
        [
            "重要提示",
            "本公司董事会保证年度报告内容的真实、准确、完整，不存在虚假记载、误导性陈述或重大遗漏。",
            "会计师事务所为本公司出具了标准无保留意见的审计报告。",
        ],
        ["主要会计数据和财务指标", "营业收入 1,234,567.00", "资产总计 9,876,543.00", "单位：元"],
        [
            "第十一节 财务报告",
            "一、审计报告",
            "我们审计了渭南丰禾股份有限公司财务报表。",
            "形成审计意见的基础",
            "中国注册会计师：李某",
        ],
        ["合并资产负债表", "资产总计 9,876,543.00"],
        ["三、公司基本情况", "统一社会信用代码 91610000MA6T000000", "经营范围：企业管理"],
        ["第十二节 备查文件目录", "载有会计师事务所盖章的审计报告原件"],
    ]
    annual = document(
        [page(i, p, header=header, footer=f"{i} / 7") for i, p in enumerate(pages, 1)]
    )
    materials = classify_documents([("年报.pdfg", annual)])
    assert kinds_of(materials) == [(OTHER, (1, 3)), ("audit_report", (4, 6)), (OTHER, (7, 7))]
    assert materials[0].explicit and "标题:年度报告" in materials[0].cues


def test_running_headers_are_not_titles():
    # Every page of this lease carries the contract's name as a header: one material.
    pages = [
        ["第一条 房屋基本情况", "出租方将位于西安市的房屋出租给承租方。"],
        ["第二条 租赁期限", "租赁期限自2018年1月1日至2020年12月31日。"],
        ["第三条 租金", "租金每月一万元。"],
    ]
    lease = document(
        [page(i, p, header="房屋租赁合同", title=False) for i, p in enumerate(pages, 1)]
    )
    materials = classify_documents([("x.pdf", lease)])
    assert kinds_of(materials) == [("premises_proof", (1, 3))]


def test_a_table_of_contents_is_other():
    toc = [
        "申报材料目录",
        "一、示范平台申请报告 ........ 1",
        "二、营业执照 ........ 5",
        "三、审计报告 ........ 6",
        "四、房屋租赁合同 ........ 12",
    ]
    materials = classify_documents([("m.pdf", doc(toc, ONE_PAGE["application_report"]))])
    assert kinds_of(materials) == [(OTHER, (1, 1)), ("application_report", (2, 2))]


def test_ocr_misread_titles_still_count():
    lease = ["房屋租赁合后", "甲方将房屋出租给乙方使用。", "租金按季度支付。"]
    materials = classify_documents([("scan.pdf", doc(lease, origin="ocr"))])
    assert materials[0].type == "premises_proof"
    assert "标题≈房屋租赁合同" in materials[0].cues
    # On a text layer a wrong character is a different word: no fuzzy matching there.
    evidence = page_evidence(page(1, lease, origin="text"))
    assert "premises_proof" not in evidence.starts


def test_kinds_of_premises_and_licences():
    certificate = [
        "不动产权证书",
        "权利人 渭南丰禾企业管理有限公司",
        "共有情况 单独所有",
        "坐落 西安市雁塔区",
        "面积 260平方米",
    ]
    lease = ONE_PAGE["premises_proof"]
    institution = [
        "事业单位法人证书",
        "统一社会信用代码 12610000000000000X",
        "宗旨和业务范围 为中小企业提供服务",
        "举办单位 某局",
        "开办资金 100万元",
    ]
    got = classify_documents(
        [
            ("c.pdf", doc(certificate)),
            ("l.pdf", doc(lease)),
            ("i.pdf", doc(institution)),
            ("b.pdf", doc(ONE_PAGE["business_licence"])),
        ]
    )
    assert [(m.type, m.kind) for m in got] == [
        ("premises_proof", "property_certificate"),
        ("premises_proof", "lease"),
        ("business_licence", "法人证书"),
        ("business_licence", "营业执照"),
    ]
    assert got[0].as_dict()["kind"] == "property_certificate"


def test_letter_spaced_and_two_line_titles():
    spaced = ["申 报 材 料 真 实 性 声 明", "我单位保证所报材料真实、准确、完整。"]
    broken = document(
        [
            Page(
                number=1,
                width=595,
                height=842,
                unit="pt",
                origin="text",
                blocks=[
                    Block(
                        lines=[
                            Line(
                                text="关于丰禾公司2018年度服务收支情况的专项审计报",
                                bbox=(60, 70, 520, 86),
                                size=16,
                            ),
                            Line(text="告", bbox=(280, 95, 297, 110), size=16),
                            Line(
                                text="我们接受委托，对服务收支进行了专项审计。",
                                bbox=(60, 150, 500, 161),
                                size=11,
                            ),
                        ]
                    )
                ],
            )
        ]
    )
    got = classify_documents([("d.pdf", doc(spaced)), ("s.pdf", broken)])
    assert [m.type for m in got] == ["authenticity_declaration", "audit_report"]
    assert "标题:专项审计报…告" in got[1].cues or "标题:审计报告" in got[1].cues


def test_bad_cue_data_names_the_place():
    table = {"scoring": {}, "audit_report": {"starts": ["审计报告"]}}
    with pytest.raises(CueDataError, match="scoring"):
        CueBook(table)
    from extractors.classify import cue_book

    scoring = dict(cue_book().scoring)
    with pytest.raises(CueDataError, match=r"\[audit_report\].*titles"):
        CueBook({"scoring": scoring, "audit_report": {"titles": ["审计报告"]}})
    with pytest.raises(CueDataError, match=r"\[audit_report\] weak"):
        CueBook({"scoring": scoring, "audit_report": {"weak": "审计报告"}})
    with pytest.raises(CueDataError, match=r"\[audit_report\] refuted"):
        CueBook({"scoring": scoring, "audit_report": {"refuted": "未经审计"}})


def test_merged_pdf_with_text_and_scanned_pages(tmp_path, options):
    """Through the real parsers: text pages, a scanned licence (OCR) and a text audit."""
    text = factory.text_pdf(tmp_path / "t.pdf", [ONE_PAGE["application_report"]])
    scan = factory.scanned_pdf(tmp_path / "s.pdf", [ONE_PAGE["business_licence"]])
    audit = factory.text_pdf(
        tmp_path / "a.pdf", [ONE_PAGE["audit_report"], ["资产负债表", "资产总计 3,204,118.20"]]
    )
    merged = factory.merged_pdf(tmp_path / "m.pdf", [text, scan, audit])
    document = parse_file(merged, options)
    materials = classify_documents([("m.pdf", document)])
    assert kinds_of(materials) == [
        ("application_report", (1, 1)),
        ("business_licence", (2, 2)),
        ("audit_report", (3, 4)),
    ]


def test_a_red_seal_speaks_where_the_text_is_poor():
    from extractors.model import Mark

    poor = page(1, ["特此声明。", "2019年3月"], origin="ocr", title=False)
    assert classify_documents([("x.jpg", document([poor]))])[0].type == OTHER
    poor.marks = [Mark(kind="red_seal", bbox=(380, 600, 500, 720), conf=0.9)]
    material = classify_documents([("x.jpg", document([poor]))])[0]
    assert material.type == "authenticity_declaration" and "图像:红色印章" in material.cues


def test_a_title_quoted_mid_sentence_on_a_scan_does_not_split_a_report():
    # OCR reads 审计报告。 near 审计报告书; in the middle of a sentence it is no title,
    # even where OCR set the line larger than the rest.
    opinion = page(1, ONE_PAGE["audit_report"], origin="ocr")
    later = page(
        2,
        [
            "我们的目标是对财务报表整体是否不存在重大错报获取合理保证，并出具包含审计意见的审计报告。合理保证",
            "是高水平的保证。",
            "注册会计师",
        ],
        origin="ocr",
    )  # first line set as large as a title
    materials = classify_documents([("scan.pdf", document([opinion, later]))])
    assert kinds_of(materials) == [("audit_report", (1, 2))]
