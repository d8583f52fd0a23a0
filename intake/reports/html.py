"""The report as a page people read (Chinese, self-contained, printable), and as a PDF.

A summary verdict, the checklist of article 17, then article by article every finding with
its evidence: the value, the quote it was read from, file and page, and a picture of that
part of the page with the box drawn (``crops``)."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from extractors import vocabulary
from extractors.vocabulary import field_kinds, field_names, kind_names, material_names
from validators.checks import OPINIONS, show_value

STATUS_NAMES = {"pass": "符合", "fail": "不符合", "missing": "缺失", "review": "待人工审核"}
FILE_STATES = {"queued": "排队中", "processing": "处理中", "done": "已完成", "failed": "失败"}
CHECKLIST = (
    "application_report",
    "business_licence",
    "audit_report",
    "service_evidence",
    "premises_proof",
    "qualification",
    "authenticity_declaration",
)


# Names of materials (the classifier's "other" too), their sub-kinds and fields: the
# vocabulary's.
NAMES = {
    "STATUS_NAMES": STATUS_NAMES,
    "FILE_STATES": FILE_STATES,
    "KIND_NAMES": kind_names(),
    "FIELD_LABELS": field_names(),  # the templates' name for it
    "OPINIONS": OPINIONS,
    "MATERIAL_NAMES": material_names(contract_only=False),
}


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("intake.reports", "templates"), autoescape=select_autoescape(["html"])
    )
    env.globals.update(NAMES)
    return env


@cache
def _style() -> str:
    """The report's stylesheet, inlined so the file stands alone (saved, mailed, printed)."""
    return (files("intake.reports") / "templates" / "report.css").read_text(encoding="utf-8")


def style_hash() -> str:
    """The inline stylesheet as a Content-Security-Policy source (``'sha256-…'``): the
    policy of the served report allows it and nothing else inline."""
    digest = hashlib.sha256(_style().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def verdict(report: dict[str, Any]) -> dict[str, str]:
    counts = report.get("summary", {}).get("findings", {})
    fail, review, missing = counts.get("fail", 0), counts.get("review", 0), counts.get("missing", 0)
    if fail:
        return {"status": "fail", "title": f"有 {fail} 项不符合",
                "text": "请先处理标为“不符合”的条款；其余待审核和缺失项见下文。"}  # fmt: skip
    if missing:
        return {"status": "missing", "title": f"有 {missing} 项缺少材料或数据",
                "text": "请按各条说明补充材料后重新提交。"}  # fmt: skip
    if review:
        return {"status": "review", "title": f"未发现不符合项，{review} 项待人工审核",
                "text": "评审人员请逐项核对标为“待人工审核”的条款。"}  # fmt: skip
    return {"status": "pass", "title": "各项检查均符合", "text": "未发现不符合、缺失或待审核项。"}


def _pages(material: dict[str, Any]) -> str:
    first, last = material["pages"]
    return (
        f"{material['file']} 第{first}页"
        if first == last
        else f"{material['file']} 第{first}–{last}页"
    )


def checklist(report: dict[str, Any]) -> list[dict[str, str]]:
    """Article 17's seven materials: where each is, or empty where it is missing."""
    rows = []
    for kind in CHECKLIST:
        spots = [_pages(m) for m in report.get("materials", []) if m["type"] == kind]
        rows.append({"label": material_names().get(kind, kind), "where": "；".join(spots)})
    return rows


def by_article(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f.get("article") or "其他", []).append(f)
    return list(groups.items())


def evidence_of(
    report: dict[str, Any], finding: dict[str, Any], crops: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The values a finding used, formatted for people (``shown``), with the raw value
    (``raw``), the field's name and its place in the report's ``fields``."""
    shown = []
    for ref in finding.get("evidence", []):
        name, _, index = ref.partition("#")
        values = report.get("fields", {}).get(name)
        if not values or not index.isdigit() or int(index) >= len(values):
            continue
        v = values[int(index)]
        value = OPINIONS.get(v["value"], v["value"]) if name == "audit.opinion" else v["value"]
        kind = field_kinds().get(name)
        unit = vocabulary.field(name).unit if kind else None
        # As the findings' messages show them: cut, never rounded across a threshold.
        if isinstance(value, float) and kind == "money":
            value = f"{show_value(value, kind)} {unit}"
        elif isinstance(value, float) and kind == "share":
            value = show_value(value, kind)
        elif isinstance(value, int | float) and kind == "area":
            value = f"{show_value(value, kind)} {unit}"
        elif v.get("precision") == "month":
            value = f"{int(value[:4])}年{int(value[5:7])}月"
        shown.append(
            {
                **v,
                "ref": ref,
                "field": name,
                "kind": kind,
                "raw": v["value"],
                "label": field_names().get(name, name),
                "value": value,
                "crop": (crops or {}).get(ref),
            }
        )
    return shown


ORDER = {"fail": 0, "review": 1, "missing": 2, "pass": 3}


def render_html(
    report: dict[str, Any], crops: dict[str, str] | None = None, for_print: bool = False
) -> str:
    findings = sorted(report["findings"], key=lambda f: ORDER.get(f["status"], 9))
    template = _env().get_template("report.html")
    return template.render(
        report=report,
        findings=findings,
        verdict=verdict(report),
        checklist=checklist(report),
        by_article=by_article(report["findings"]),
        evidence_of=lambda finding: evidence_of(report, finding, crops),
        field_count=sum(len(v) for v in report.get("fields", {}).values()),
        for_print=for_print,
        style=_style(),
    )


def render_pdf(report: dict[str, Any], crops: dict[str, str] | None = None) -> bytes:
    """The same report as a PDF (WeasyPrint; the CJK font is embedded, so it prints the same
    everywhere)."""
    from weasyprint import HTML

    return HTML(string=render_html(report, crops, for_print=True)).write_pdf()
