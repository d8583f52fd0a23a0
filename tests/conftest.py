"""Shared fixtures. Inputs are generated here (tests/fixtures), never read from outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.registry import ParseOptions
from intake.settings import Settings
from tests.fixtures import factory


@pytest.fixture
def options() -> ParseOptions:
    return ParseOptions(ocr_workers=2)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Rate limits counted in this process (tests that need Redis's say so themselves).
    return Settings(data_dir=tmp_path / "data", ocr_workers=2, rate_limit_storage="memory://")


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One of each input kind, good and bad, built once per test session."""
    d = tmp_path_factory.mktemp("samples")
    s: dict[str, Path] = {}
    s["text_pdf"] = factory.text_pdf(
        d / "audit.pdf",
        [
            ["审计报告", "我们审计了西安测试有限公司财务报表。", "注册会计师：张三"],
            ["资产负债表", "2017年12月31日", "单位：元"],  # real statements say their unit
        ],
        table=[["项目", "期末余额", "期初余额"], ["资产总计", "1,234,567.89", "1,000,000.00"]],
        table_page=2,
    )
    s["scanned_pdf"] = factory.scanned_pdf(
        d / "scan.pdf",
        [
            ["房屋租赁合同", "出租方（甲方）：张三", "承租方（乙方）：西安测试有限公司"],
            ["营业执照", "统一社会信用代码", "登记机关 西安市市场监督管理局"],
        ],
    )
    s["docx"] = factory.docx_file(
        d / "report.docx",
        [
            ["西安市中小企业公共服务示范平台申请报告", "申报单位：西安测试有限公司"],
            ["基本情况表", "以下为基本情况"],
        ],
        table=[["资产总额", "326.50万元"], ["服务人员", "26人"]],
        table_page=2,
    )
    s["photo"] = factory.photo_jpeg(
        d / "licence.jpg", ["营业执照", "名称 西安测试有限公司", "法定代表人 王五"]
    )
    s["png_named_pdf"] = factory.png(
        d / "really-a-png.pdf", ["网站备案信息", "备案号 陕ICP备12345678号"]
    )
    s["truncated_pdf"] = factory.truncated(d / "truncated.pdf", s["text_pdf"])
    s["encrypted_pdf"] = factory.text_pdf(d / "locked.pdf", [["审计报告"]], password="secret")
    s["empty"] = factory.zero_bytes(d / "empty.pdf")
    s["garbage"] = factory.random_bytes(d / "garbage.docx")
    s["bomb"] = factory.image_bomb(d / "bomb.png")
    s["truncated_jpeg"] = factory.truncated(d / "truncated.jpg", s["photo"])
    return s
