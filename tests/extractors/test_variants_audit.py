"""The audit reader on the ways real audit reports are printed (issue 17: a fail only on
what was truly read). Each case names the convention it stands for: the Ministry of
Finance's statement templates (一般企业财务报表格式, 财会〔2019〕6号, and its consolidated
version 财会〔2019〕16号 that listed companies' annual reports follow), banks' and
non-profits' statements, statement units (单位：元 / 万元 / 千元 / 百万元), and the report
numbers the big firms print. The documents are generated text PDFs (tests/fixtures/factory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.classify import Material
from extractors.fields import extract_fields
from extractors.registry import parse_file
from tests.fixtures import factory
from validators.checks import at_least, balances
from validators.engine import LOW_CONFIDENCE, Facts

NAME = "西安秦川科技服务有限公司"
OPINION = [
    "审计报告",
    f"{NAME}全体股东：",
    "一、审计意见",
    f"我们审计了{NAME}财务报表，包括2019年12月31日的资产负债表，2019年度的利润表。",
    "我们认为，后附的财务报表在所有重大方面按照企业会计准则的规定编制，公允反映了财务状况。",
    "陕西秦信会计师事务所（特殊普通合伙） 中国注册会计师：李明",
]


def audit(tmp_path: Path, options, pages: list[list[str]], **pdf) -> dict[str, list]:
    """The fields read from a text PDF taken whole as an audit report (the classifier is
    tested elsewhere)."""
    path = factory.text_pdf(tmp_path / "audit.pdf", [OPINION, *pages], **pdf)
    document = parse_file(path, options)
    material = Material("audit_report", path.name, (1, len(document.pages)))
    return extract_fields([(path.name, document)], [material])


def values(fields, name) -> list:
    return [v.value for v in fields.get(name, [])]


def balance(fields) -> str:
    facts = Facts(materials=[], fields=fields)
    return balances(facts, "finance.total_assets", "finance.liabilities_and_equity").status


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("header", "printed", "yuan"),
    [
        # 财会〔2019〕6号's header line: 编制单位 … 单位：元
        (f"编制单位：{NAME} 2019年12月31日 单位：元", "3,265,000.00", 3_265_000.00),
        # an SME's statements in 万元 (small firms' auditors often print 单位：万元)
        (f"编制单位：{NAME} 2019年12月31日 单位：万元", "326.50", 3_265_000.00),
        # 金额单位：人民币千元
        (f"编制单位：{NAME} 2019年12月31日 金额单位：人民币千元", "3,265.00", 3_265_000.00),
        # banks' statements: 货币单位：人民币百万元 (平安银行's 合并资产负债表)
        ("货币单位：人民币百万元", "5,769,270", 5_769_270_000_000.00),
        # 浦发银行's statements: （除另有注明外，所有金额均以人民币百万元列示）
        ("（除另有注明外，所有金额均以人民币百万元列示）", "5,769,270", 5_769_270_000_000.00),
        # 单位：人民币元 币种 in the listed-company template
        ("单位：人民币元", "3,265,000.00", 3_265_000.00),
    ],
    ids=["yuan", "wan-yuan", "thousand", "million-bank", "million-listed-note", "renminbi-yuan"],
)
def test_the_unit_comes_from_the_statement_header(tmp_path, options, header, printed, yuan):
    fields = audit(
        tmp_path,
        options,
        [["资产负债表", header, "项目 行次 期末余额 期初余额", f"资产总计 14 {printed} 1.00"]],
    )
    assert values(fields, "finance.total_assets") == [yuan]
    assert fields["finance.total_assets"][0].confidence >= 0.9


def test_a_statement_in_wan_yuan_passes_the_threshold(tmp_path, options):
    """326.50 万元 is 3,265,000 元: above 500,000 元, not 326.50 元 below it."""
    fields = audit(
        tmp_path,
        options,
        [["资产负债表", "单位：万元", "项目 期末余额 期初余额", "资产总计 326.50 280.00"]],
    )
    facts = Facts(materials=[], fields=fields)
    assert at_least(facts, "finance.total_assets", 500_000).status == "pass"


def test_the_unit_on_the_page_above_the_table(tmp_path, options):
    """The title and 单位 at the foot of one page, the rows on the next."""
    fields = audit(
        tmp_path,
        options,
        [
            ["附注", "（略）", "资产负债表", f"编制单位：{NAME} 单位：万元"],
            ["项目 期末余额 期初余额", "流动资产合计 120.00 100.00", "资产总计 326.50 280.00"],
        ],
    )
    assert values(fields, "finance.total_assets") == [3_265_000.00]


def test_the_unit_in_the_tables_first_row(tmp_path, options):
    """A ruled table whose first row says 单位：万元."""
    fields = audit(
        tmp_path,
        options,
        [["资产负债表", f"编制单位：{NAME}"]],
        table=[
            ["单位：万元", "", ""],
            ["项目", "期末余额", "期初余额"],
            ["资产总计", "326.50", "280.00"],
        ],
        table_page=2,
    )
    assert values(fields, "finance.total_assets") == [3_265_000.00]


def test_a_statement_without_a_unit_is_reviewed_not_failed(tmp_path, options):
    """No unit printed: 326.50 may be 元 or 万元; a person decides."""
    fields = audit(
        tmp_path,
        options,
        [["资产负债表", f"编制单位：{NAME}", "项目 期末余额 期初余额", "资产总计 326.50 280.00"]],
    )
    (found,) = fields["finance.total_assets"]
    assert found.value == 326.50 and found.confidence < LOW_CONFIDENCE and "单位" in found.note
    facts = Facts(materials=[], fields=fields)
    assert at_least(facts, "finance.total_assets", 500_000).status == "review"


# --------------------------------------------------------------------------- row labels


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        # 财会〔2019〕6号, one line
        (["负债和所有者权益（或股东权益）总计 3,265,000.00 2,880,000.00"], 3_265_000.00),
        # the listed-company template in a narrow column: the label wraps, figures beneath
        # (both real annual reports in corpus/real print it so)
        (
            ["负债和所有者权益（或", "股东权益）总计", "3,265,000.00 2,880,000.00"],
            3_265_000.00,
        ),
        # the same cell wrapped after 所有者权益
        (["负债和所有者权益", "（或股东权益）总计", "3,265,000.00 2,880,000.00"], 3_265_000.00),
        # a top-aligned cell: the figures beside the label's first line
        (["负债和所有者权益（或 3,265,000.00 2,880,000.00", "股东权益）总计"], 3_265_000.00),
        # 小企业会计准则 / older MoF format
        (["负债和所有者权益总计 3,265,000.00 2,880,000.00"], 3_265_000.00),
        # banks: 负债及股东权益总计
        (["负债及股东权益总计 3,265,000.00 2,880,000.00"], 3_265_000.00),
        # listed companies' 股东权益 wording
        (["负债和股东权益总计 3,265,000.00 2,880,000.00"], 3_265_000.00),
        # 民间非营利组织会计制度 (a 协会 or 促进会 applying): 负债和净资产总计
        (["负债和净资产总计 3,265,000.00 2,880,000.00"], 3_265_000.00),
    ],
    ids=[
        "mof-2019-one-line",
        "listed-wrapped-figures-below",
        "listed-wrapped-at-bracket",
        "top-aligned-cell",
        "owners-equity-total",
        "bank-ji-gudong",
        "gudong-quanyi",
        "non-profit-net-assets",
    ],
)
def test_liabilities_and_equity_total(tmp_path, options, lines, total):
    fields = audit(
        tmp_path,
        options,
        [
            [
                "资产负债表",
                f"编制单位：{NAME} 2019年12月31日 单位：元",
                "项目 期末余额 期初余额",
                "资产总计 3,265,000.00 2,880,000.00",
                "负债合计 1,265,000.00 1,080,000.00",
                "所有者权益（或股东权益）合计 2,000,000.00 1,800,000.00",
                *lines,
            ]
        ],
    )
    assert values(fields, "finance.liabilities_and_equity") == [total]
    assert balance(fields) == "pass"


@pytest.mark.parametrize(
    ("lines", "revenue"),
    [
        # 财会〔2019〕6号 利润表: 一、营业收入
        (["一、营业收入 5,182,000.55 4,035,794.25", "减：营业成本 3,636,594.05 2,497,156.71"],
         5_182_000.55),
        # the listed-company template: 一、营业总收入 then 其中：营业收入 (营业收入 is the
        # contract's revenue; 营业总收入 adds 利息收入, 已赚保费 …)
        (["一、营业总收入 5,300,000.00 4,100,000.00", "其中：营业收入 5,182,000.55 4,035,794.25",
          "利息收入 118,000.00 64,000.00"], 5_182_000.55),
        # banks: 营业收入合计
        (["利息净收入 4,000,000.00 3,000,000.00", "营业收入合计 5,182,000.55 4,035,794.25"],
         5_182_000.55),
        # only 营业总收入 printed
        (["一、营业总收入 5,182,000.55 4,035,794.25"], 5_182_000.55),
    ],
    ids=["mof-2019", "listed-total-and-of-which", "bank-total", "total-only"],
)  # fmt: skip
def test_revenue_row(tmp_path, options, lines, revenue):
    fields = audit(
        tmp_path,
        options,
        [["利润表", f"编制单位：{NAME} 2019年度 单位：元", "项目 本期金额 上期金额", *lines]],
    )
    assert values(fields, "finance.revenue") == [revenue]


def test_revenue_in_wan_yuan_from_the_income_statement_header(tmp_path, options):
    fields = audit(
        tmp_path,
        options,
        [["利润表", "2019年度 金额单位：人民币万元", "项目 本期金额 上期金额", "一、营业收入 518.20 403.58"]],
    )  # fmt: skip
    assert values(fields, "finance.revenue") == [5_182_000.00]


def test_both_totals_come_from_one_statement(tmp_path, options):
    """合并 first; the parent company's 负债和所有者权益总计 is never set against the group's
    资产总计 (that would be a false imbalance): when the group's row is unreadable, the
    balance check has nothing to compare, it does not fail."""
    fields = audit(
        tmp_path,
        options,
        [
            [
                "合并资产负债表", "单位：元", "项目 期末余额 期初余额",
                "资产总计 6,278,282,683.24 5,585,879,172.02",
                "负债和所有者权益总计",  # figures lost
            ],
            [
                "母公司资产负债表", "单位：元", "项目 期末余额 期初余额",
                "资产总计 4,623,475,524.00 4,364,221,950.76",
                "负债和所有者权益总计 4,623,475,524.00 4,364,221,950.76",
            ],
        ],
    )  # fmt: skip
    assert values(fields, "finance.total_assets") == [6_278_282_683.24]
    assert values(fields, "finance.liabilities_and_equity") == []
    assert balance(fields) == "missing"


def test_a_balance_sheet_continued_on_the_next_page(tmp_path, options):
    """资产负债表（续）: the liabilities side on the next page is the same statement."""
    fields = audit(
        tmp_path,
        options,
        [
            ["资产负债表", "单位：元", "资产 行次 期末余额 年初余额", "资产总计 14 816,458.58 834,211.43"],
            ["资产负债表（续）", "单位：元", "负债和所有者权益 行次 期末余额 年初余额",
             "负债和所有者权益总计 29 816,458.58 834,211.43"],
        ],
    )  # fmt: skip
    assert values(fields, "finance.liabilities_and_equity") == [816_458.58]
    assert balance(fields) == "pass"


def test_a_balance_sheet_whose_title_is_printed_again_on_its_next_page(tmp_path, options):
    """资产负债表 at the head of both pages (会企01表 printed per page): one statement."""
    fields = audit(
        tmp_path,
        options,
        [
            ["资产负债表", "会企01表", "单位：元", "资产总计 14 816,458.58 834,211.43"],
            ["资产负债表", "会企01表", "单位：元", "负债和所有者权益总计 29 816,458.58 834,211.43"],
        ],
    )
    assert balance(fields) == "pass"


# --------------------------------------------------------------------------- report numbers


@pytest.mark.parametrize(
    "number",
    [
        "信会师报字[2020]第ZA10123号",  # 立信: 报字, [year], 第, a letter-led serial
        "XYZH/2020XAA10123",  # 信永中和: XYZH/ year, branch letters (XA: Xi'an), serial
        "天职业字[2020]1234号",  # 天职国际: 业字, no 第
        "大信审字[2020]第1-01234号",  # 大信: branch-serial with a hyphen
        "安永华明(2025)审字第70008883_A01号",  # 安永华明: year before 审字, _A01 suffix
        "毕马威华振审字第2514608号",  # 毕马威华振: no year
        "天健审〔2020〕1758号",  # 天健: 审 with 〔year〕
        "天健审〔2025〕8-171号",  # 天健 branch offices: 8-171
        "致同审字(2021)第441A011672号",  # 致同: letters inside the serial
        "大华审字[2025]0011006910号",  # 大华
        "普华永道中天审字(2025)第10026号",  # 普华永道中天
        "容诚审字[2025]230Z0521号",  # 容诚
    ],
    ids=[
        "bdo-lixin", "shinewing", "baker-tilly", "daxin", "ey-huaming", "kpmg-huazhen",
        "pan-china", "pan-china-branch", "grant-thornton", "da-hua", "pwc-zhongtian", "rongcheng",
    ],
)  # fmt: skip
def test_report_numbers(tmp_path, options, number):
    cover = ["审计报告", f"报告文号：{number}", f"{NAME}全体股东："]
    fields = audit(tmp_path, options, [cover])
    assert number in values(fields, "audit.report_number")


def test_a_report_number_with_spaces_as_pdfs_print_it(tmp_path, options):
    """致同审字（2021）第 441A011672 号 (the letter-spaced line of a real annual report)."""
    fields = audit(tmp_path, options, [["审计报告", "致同审字（2021）第 441A011672 号"]])
    assert "致同审字(2021)第441A011672号" in values(fields, "audit.report_number")
