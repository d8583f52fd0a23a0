"""The report as a page people read (Chinese, self-contained, printable)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from validators.checks import MATERIAL_NAMES

STATUS_NAMES = {"pass": "符合", "fail": "不符合", "missing": "缺失", "review": "待人工审核"}
FILE_STATES = {"queued": "排队中", "processing": "处理中", "done": "已完成", "failed": "失败"}
KIND_NAMES = {"lease": "租赁合同", "property_certificate": "房产证/不动产权证书"}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("intake.reports", "templates"), autoescape=select_autoescape(["html"])
    )
    env.globals.update(
        STATUS_NAMES=STATUS_NAMES,
        FILE_STATES=FILE_STATES,
        KIND_NAMES=KIND_NAMES,
        MATERIAL_NAMES={**MATERIAL_NAMES, "other": "其他/未识别"},
    )
    return env


def render_html(report: dict) -> str:
    order = {"fail": 0, "review": 1, "missing": 2, "pass": 3}
    findings = sorted(report["findings"], key=lambda f: order.get(f["status"], 9))
    return _env().get_template("report.html").render(report=report, findings=findings)
