"""Real-world variants the classifier must read as their writers meant them (issue 17: a
``fail`` of 17.complete only on what was truly read).

Each case names the convention it stands for: how audit reports number the headings of
their notes, how incubators, parks and landlords title a premises proof, how applicants
title their declaration, and how interim reports say they are not audited. The wording
of every page is our own; nothing comes from the dev corpus."""

from __future__ import annotations

import pytest

from extractors.classify import OTHER, classify_documents
from extractors.registry import parse_file
from tests.extractors.test_classify import document, kinds_of, page
from tests.fixtures import factory
from validators.checks import materials_present
from validators.engine import Facts, Status

COMPANY = "西安汉唐企业服务有限公司"

AUDIT_OPINION = [
    "审计报告",
    "汉唐审字（2019）第071号",
    f"我们审计了{COMPANY}财务报表，包括2018年12月31日的资产负债表、2018年度的利润表。",
    "形成审计意见的基础",
    "中国注册会计师：赵某",
]
BALANCE_SHEET = [
    "资产负债表",
    f"编制单位：{COMPANY}",
    "单位：元",
    "货币资金 1,106,450.20 年初余额 986,300.00",
    "应收账款 612,008.00 期末余额 612,008.00",
    "未分配利润 420,117.36",
    "资产总计 2,388,640.75",
]


def lease_note(heading: str) -> list[str]:
    """A page of an audit report's notes: the end of one note, then a numbered note on the
    company's own lease, written as notes are (the lessee, the term, the area, the rent)."""
    return [
        "本公司期末应付职工薪酬余额为86,200.00元，已于次月发放。",
        heading,
        "本公司作为承租方与西安曲江物业管理有限公司签订房屋租赁合同，",
        "租赁期限自2018年1月1日至2020年12月31日，租赁面积260平方米，",
        "年租金156,000.00元，按季度支付。",
    ]


def audit_with_note(heading: str, origin: str = "text"):
    return document(
        [
            page(1, AUDIT_OPINION, origin=origin),
            page(2, BALANCE_SHEET, origin=origin),
            page(3, lease_note(heading), origin=origin, title=False),
        ]
    )


# --------------------------------------------------------------------------- numbered notes


@pytest.mark.parametrize(
    "heading",
    [
        # Notes numbered 1、2、… under 五、财务报表项目注释 (listed companies' notes).
        pytest.param("14、租赁合同", id="note-arabic-dunhao"),
        # Notes numbered 14. / 14． (Word's automatic numbering in small firms' reports).
        pytest.param("14．租赁合同", id="note-arabic-fullwidth-period"),
        pytest.param("14. 租赁合同", id="note-arabic-period-space"),
        # GB/T 9704 second level, （十四）, common in small-company notes.
        pytest.param("（十四）租赁合同", id="note-cn-parenthesised"),
        # GB/T 9704 first level, 十四、.
        pytest.param("十四、租赁合同", id="note-cn-dunhao"),
        # GB/T 9704 fourth level, （1）, under 十、承诺事项.
        pytest.param("（1）房屋租赁合同", id="note-arabic-parenthesised"),
        # Hierarchical numbers, 5.14 (notes numbered by chapter).
        pytest.param("5.14 租赁合同", id="note-hierarchical"),
    ],
)
def test_a_numbered_note_of_an_audit_report_begins_no_material(heading):
    materials = classify_documents([("2018年度审计报告.pdf", audit_with_note(heading))])
    assert kinds_of(materials) == [("audit_report", (1, 3))]


def test_a_numbered_note_misread_on_a_scanned_audit_report_begins_no_material():
    # A scanned audit report: OCR reads 合同 as 合后, the tolerant title match must not
    # turn the numbered note into a lease either.
    materials = classify_documents([("审计报告扫描件.pdf", audit_with_note("14.租赁合后", "ocr"))])
    assert kinds_of(materials) == [("audit_report", (1, 3))]


def test_without_a_premises_proof_17_complete_says_it_is_missing():
    """The point of issue 17: the note is no premises proof, so the check names it."""
    materials = classify_documents([("审计报告.pdf", audit_with_note("14．租赁合同"))])
    outcome = materials_present(Facts(materials, {}), ["audit_report", "premises_proof"])
    assert outcome.status == Status.FAIL
    assert "经营服务场所证明" in outcome.context["missing"]


def test_a_numbered_note_in_a_real_audit_pdf_begins_no_material(tmp_path, options):
    """Through the text-PDF parser: the notes page carries 财务报表附注（续） as its running
    title, as continuation pages of notes do."""
    pdf = factory.text_pdf(
        tmp_path / "审计报告.pdf",
        [AUDIT_OPINION, BALANCE_SHEET, ["财务报表附注（续）", *lease_note("14．租赁合同")]],
    )
    materials = classify_documents([("审计报告.pdf", parse_file(pdf, options))])
    assert kinds_of(materials) == [("audit_report", (1, 3))]


def test_a_lease_titled_in_a_title_position_after_an_audit_report_still_begins():
    lease = [
        "房屋租赁合同",
        "出租方（甲方）：西安曲江物业管理有限公司",
        f"承租方（乙方）：{COMPANY}",
    ]
    pages = [page(1, AUDIT_OPINION), page(2, lease_note("14．租赁合同"), title=False)]
    pages.append(page(3, lease))
    materials = classify_documents([("合订本.pdf", document(pages))])
    assert kinds_of(materials) == [("audit_report", (1, 2)), ("premises_proof", (3, 3))]


def test_an_article_heading_of_a_lease_keeps_the_lease_whole():
    # 第五条 of a contract is a section too: the lease's later page quoting the landlord's
    # certificate does not become a certificate.
    first = [
        "房屋租赁合同",
        "出租方（甲方）：西安曲江物业管理有限公司",
        f"承租方（乙方）：{COMPANY}",
    ]
    later = [
        "第五条 房屋权属",
        "甲方保证对该房屋享有所有权，不动产权证书记载：权利人西安曲江物业管理有限公司，",
        "共有情况单独所有，不动产单元号610113001001GB00001F00010001，权利性质出让。",
    ]
    pages = [page(1, first), page(2, later, title=False)]
    materials = classify_documents([("租赁合同.pdf", document(pages))])
    assert kinds_of(materials) == [("premises_proof", (1, 2))]


# --------------------------------------------------------------------------- premises proofs

PREMISES_BODY = [
    f"甲方：西安高新创业园发展有限公司    乙方：{COMPANY}",
    "甲方将位于西安市高新区科技路48号创业大厦6层601室（建筑面积320平方米）",
    "提供给乙方作为办公及服务场所使用，使用期限自2018年3月1日至2021年2月28日。",
]


@pytest.mark.parametrize(
    "title",
    [
        # Coworking and park operators' contract types: 入驻协议书 beside 承租意向书,
        # 增租协议书, 续租协议书.
        pytest.param("西安高新创业园入驻协议书", id="入驻协议书"),
        pytest.param("企业入驻协议", id="入驻协议"),
        # Incubator systems file the tenant's 入孵协议 as its premises document.
        pytest.param("入孵协议", id="入孵协议"),
        pytest.param("科技企业孵化器入驻协议", id="孵化器入驻协议"),
        # Registration guides: 房屋使用证明（租赁合同或无偿使用证明）, a landlord or a
        # related party lending the premises free of charge.
        pytest.param("房屋无偿使用证明", id="房屋无偿使用证明"),
        pytest.param("无偿使用证明", id="无偿使用证明"),
        pytest.param("场地无偿使用证明", id="场地无偿使用证明"),
        # A park's operator issues a 场地使用证明 for registration; a landlord a 房屋使用证明.
        pytest.param("场地使用证明", id="场地使用证明"),
        pytest.param("房屋使用证明", id="房屋使用证明"),
        # Leases, by their usual names.
        pytest.param("房屋租赁合同", id="房屋租赁合同"),
        pytest.param("办公用房租赁协议", id="租赁协议"),
        pytest.param("场地租赁合同", id="场地租赁合同"),
    ],
)
def test_premises_proofs_as_real_documents_title_them(title):
    materials = classify_documents([("附件6.pdf", document([page(1, [title, *PREMISES_BODY])]))])
    assert kinds_of(materials) == [("premises_proof", (1, 1))]
    assert materials[0].cues[0] == "标题:" + materials[0].title


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        pytest.param("入驻协议书", "lease", id="occupancy-agreement-is-a-lease"),
        pytest.param("入孵协议", "lease", id="incubation-agreement-is-a-lease"),
        # A certificate of free use is neither a lease nor a title deed: no kind is claimed.
        pytest.param("房屋无偿使用证明", None, id="free-use-claims-no-kind"),
    ],
)
def test_kinds_of_the_new_premises_proofs(title, kind):
    materials = classify_documents([("x.pdf", document([page(1, [title, *PREMISES_BODY])]))])
    assert materials[0].kind == kind


def test_a_free_use_certificate_after_an_application_report_is_its_own_material():
    report = [
        "中小企业公共服务示范平台申请报告",
        "平台名称：汉唐企业服务平台",
        f"申报单位（盖章）：{COMPANY}",
    ]
    proof = ["房屋无偿使用证明", *PREMISES_BODY, "特此证明。"]
    materials = classify_documents([("合订本.pdf", document([page(1, report), page(2, proof)]))])
    assert kinds_of(materials) == [("application_report", (1, 1)), ("premises_proof", (2, 2))]


# --------------------------------------------------------------------------- declarations

DECLARATION_BODY = [
    "西安市中小企业促进局：",
    "我单位郑重承诺，本次申报所提交的全部材料真实有效，",
    "如有虚假，愿承担由此产生的一切法律责任。",
    f"承诺单位（盖章）：{COMPANY}",
]


@pytest.mark.parametrize(
    "title",
    [
        # A letter of undertaking, 承诺函, the form many programmes ask for.
        pytest.param("承诺函", id="承诺函"),
        # 真实性承诺函 (盖章), as application checklists name it.
        pytest.param("申报材料真实性承诺函", id="真实性承诺函"),
        pytest.param("承诺书", id="承诺书"),
        pytest.param("申报材料真实性承诺书", id="真实性承诺书"),
        # 诚信承诺书, signed with an application form (申报须知和诚信承诺书).
        pytest.param("诚信承诺书", id="诚信承诺书"),
        # The measures' own words (第十七条（七）).
        pytest.param("申报材料真实性声明", id="申报材料真实性声明"),
    ],
)
def test_declarations_as_applicants_title_them(title):
    materials = classify_documents([("附件8.pdf", document([page(1, [title, *DECLARATION_BODY])]))])
    assert kinds_of(materials) == [("authenticity_declaration", (1, 1))]


# --------------------------------------------------------------------------- look-alikes

INCOME_STATEMENT = [
    "利润表",
    f"编制单位：{COMPANY}",
    "单位：元",
    "营业收入 6,204,118.00 本期金额 上期金额",
    "未分配利润 420,117.36",
]


def test_an_sse_half_year_report_is_not_an_audit_report():
    # 重要提示 三、本半年度报告未经审计 (the SSE half-year report's fixed wording).
    pages = [
        ["西安汉唐股份有限公司", "2019 年半年度报告"],
        ["重要提示", "一、公司全体董事出席董事会会议。", "三、本半年度报告未经审计。"],
        ["合并资产负债表", *BALANCE_SHEET[1:]],
        ["合并利润表", *INCOME_STATEMENT[1:]],
    ]
    materials = classify_documents(
        [("2019半年报.pdf", document([page(i, p) for i, p in enumerate(pages, 1)]))]
    )
    assert [m.type for m in materials] == [OTHER]


def test_a_half_year_statement_ticked_not_audited_is_not_an_audit_report():
    # 半年度报告是否经审计 □是 √否 (the SZSE template's question), then the statements.
    cover = [f"{COMPANY}", "2019年半年度财务报表", "半年度报告是否经审计", "□是 √否"]
    pages = [page(1, cover), page(2, BALANCE_SHEET), page(3, INCOME_STATEMENT)]
    materials = classify_documents([("半年度财务报表.pdf", document(pages))])
    assert [m.type for m in materials] == [OTHER]
    assert "非审计报告:是否经审计…☑否" in materials[0].cues


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("□是 √否", id="ticked"),
        # The same page through a text layer that drops the tick glyph.
        pytest.param("□是否", id="tick-lost"),
    ],
)
def test_the_audit_report_section_of_an_szse_half_year_report_is_not_an_audit_report(answer):
    # SZSE half-year reports: 第十节 财务报告 / 一、审计报告 / 半年度报告是否经过审计 □是 √否 /
    # 公司半年度财务报告未经审计。 then 二、财务报表.
    pages = [
        ["西安汉唐股份有限公司", "2019 年半年度报告"],
        ["第十节 财务报告", "一、审计报告", f"半年度报告是否经过审计 {answer}"],
        ["二、财务报表", "1、合并资产负债表", *BALANCE_SHEET[1:]],
        ["2、合并利润表", *INCOME_STATEMENT[1:]],
    ]
    pages = [page(i, p, title=i == 1) for i, p in enumerate(pages, 1)]
    materials = classify_documents([("半年报.pdf", document(pages))])
    assert [m.type for m in materials] == [OTHER]


def test_a_quarterly_report_asking_whether_it_was_audited_is_not_an_audit_report():
    # 第三季度报告是否经过审计 □ 是 √ 否 (SZSE quarterly reports).
    notice = [f"{COMPANY}", "第三季度财务报表", "第三季度报告是否经过审计", "□ 是 √ 否"]
    pages = [page(1, notice), page(2, BALANCE_SHEET)]
    materials = classify_documents([("三季报.pdf", document(pages))])
    assert [m.type for m in materials] == [OTHER]


def test_a_statement_marked_unaudited_is_not_an_audit_report():
    # 审计类型：未经审计 above each statement of an SSE quarterly report.
    sheet = [*BALANCE_SHEET[:3], "审计类型：未经审计", *BALANCE_SHEET[3:]]
    materials = classify_documents([("资产负债表.pdf", document([page(1, sheet)]))])
    assert [m.type for m in materials] == [OTHER]


def test_a_statement_form_ticked_not_audited_is_not_an_audit_report():
    # A statement form's own question, 是否经审计 □是 ☑否.
    sheet = [*BALANCE_SHEET, "是否经审计 □是 ☑否"]
    materials = classify_documents([("财务报表.pdf", document([page(1, sheet)]))])
    assert [m.type for m in materials] == [OTHER]


def test_a_file_is_what_its_content_is_whatever_its_name_says():
    # Unaudited statements uploaded as 2018年度审计报告.pdf: the name does not make them one.
    sheet = [*BALANCE_SHEET, "是否经审计 □是 √否"]
    pages = [page(1, sheet), page(2, INCOME_STATEMENT)]
    materials = classify_documents([("2018年度审计报告.pdf", document(pages))])
    assert [m.type for m in materials] == [OTHER]
    assert not any(c.startswith("文件名:") for c in materials[0].cues)


def test_ticked_audited_is_still_an_audit_report():
    # 是否经审计 √是 □否: the statements were audited; they stay with the audit report.
    sheet = [*BALANCE_SHEET, "是否经审计 √是 □否"]
    pages = [page(1, AUDIT_OPINION), page(2, sheet)]
    materials = classify_documents([("审计报告.pdf", document(pages))])
    assert kinds_of(materials) == [("audit_report", (1, 2))]


def test_an_audit_report_noting_unaudited_comparatives_stays_whole():
    # A first-year audit notes that last year's figures were not audited: a note, not a
    # statement about the report itself.
    note = ["财务报表附注", "二、财务报表的编制基础", "上年同期比较数据未经审计。"]
    pages = [page(1, AUDIT_OPINION), page(2, BALANCE_SHEET), page(3, note)]
    materials = classify_documents([("审计报告.pdf", document(pages))])
    assert kinds_of(materials) == [("audit_report", (1, 3))]


def test_an_audit_report_after_unaudited_statements_in_one_file_still_begins():
    sheet = [*BALANCE_SHEET, "是否经审计 □是 √否"]
    pages = [page(1, sheet), page(2, AUDIT_OPINION), page(3, BALANCE_SHEET)]
    materials = classify_documents([("财务资料.pdf", document(pages))])
    assert kinds_of(materials) == [(OTHER, (1, 1)), ("audit_report", (2, 3))]
