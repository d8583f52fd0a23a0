"""The report as a page people read (Chinese, self-contained, printable), and as a PDF.

A summary verdict, the checklist of article 17, then article by article every finding with
its evidence: the value, the quote it was read from, file and page, and a picture of that
part of the page with the box drawn (``crops``)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from extractors import vocabulary
from extractors.vocabulary import field_kinds, field_names, kind_names, material_names
from intake.reports.todo import actionable_count, todo_groups
from validators.checks import OPINIONS, show_value

DEFAULT_TIMEZONE = "Asia/Shanghai"  # as the web pages show times (Settings.timezone)
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
    """The report's verdict in a line and what to do about it. Files that could not be
    processed count with what the applicant must fix (duplicates do not: their content
    is in the dossier already)."""
    counts = report.get("summary", {}).get("findings", {})
    fail, review, missing = counts.get("fail", 0), counts.get("review", 0), counts.get("missing", 0)
    failed = actionable_count(report)["file"]
    files = f"{failed} 个文件无法处理" if failed else ""
    if fail:
        title = f"有 {fail} 项不符合" + (f"，{files}" if files else "")
        text = "请按“需要申报单位处理”逐项修改或补充；“评审人员将核对”的各项无需申报单位操作。"
        return {"status": "fail", "title": title, "text": text}
    if missing or failed:
        parts = [f"有 {missing} 项缺少材料或数据"] if missing else []
        title = "，".join(parts + ([files] if files else []))
        return {"status": "missing", "title": title,
                "text": "请按“需要申报单位处理”补充材料或重新上传后再提交。"}  # fmt: skip
    if review:
        return {"status": "review", "title": f"未发现不符合项，{review} 项待人工审核",
                "text": "申报单位无需操作；评审人员请逐项核对标为“待人工审核”的条款。"}  # fmt: skip
    return {"status": "pass", "title": "各项检查均符合", "text": "未发现不符合、缺失或待审核项。"}


def verdict_line(report: dict[str, Any]) -> str:
    """The verdict as one line of text (the end of ``intake check``)."""
    found = verdict(report)
    return f"初审结论：{found['title']}。{found['text']}"


def local_time(value: Any, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A stored time (UTC, ISO text or datetime) as local "YYYY-MM-DD HH:MM", as the web
    pages show it."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def shown_value(name: str, value: Any) -> str:
    """A field's value as people read it: shares as percentages (80%), money in 元 and
    areas in 平方米 as the findings show them (cut, never rounded), opinions in words."""
    if name == "audit.opinion":
        return OPINIONS.get(value, str(value))
    if isinstance(value, dict):
        return "；".join(f"{y}年 {n}" for y, n in value.items())
    kind = field_kinds().get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind == "share":
            return show_value(value, kind)
        if kind in ("money", "area"):
            return f"{show_value(value, kind)} {vocabulary.field(name).unit}"
    return str(value)


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
    report: dict[str, Any],
    crops: dict[str, str] | None = None,
    for_print: bool = False,
    timezone: str | None = None,
) -> str:
    """The report's page: first the verdict, what to fix (the to-do list) and the
    checklist, then every finding by article, the files, materials and values read."""
    timezone = timezone or _timezone()
    findings = sorted(report["findings"], key=lambda f: ORDER.get(f["status"], 9))
    template = _env().get_template("report.html")
    return template.render(
        report=report,
        findings=findings,
        verdict=verdict(report),
        todo=todo_groups(report),
        checklist=checklist(report),
        by_article=by_article(report["findings"]),
        evidence_of=lambda finding: evidence_of(report, finding, crops),
        titles={f["criterion"]: f.get("title") or f["criterion"] for f in report["findings"]},
        local_time=lambda value: local_time(value, timezone),
        shown_value=shown_value,
        field_count=sum(len(v) for v in report.get("fields", {}).values()),
        for_print=for_print,
        style=_style(),
    )


def _timezone() -> str:
    try:
        from intake.settings import get_settings

        return get_settings().timezone
    except Exception:  # settings that cannot be read must not stop a report being shown
        return DEFAULT_TIMEZONE


def render_pdf(report: dict[str, Any], crops: dict[str, str] | None = None) -> bytes:
    """The same report as a PDF (WeasyPrint; the CJK font is embedded, so it prints the same
    everywhere)."""
    from weasyprint import HTML

    return HTML(string=render_html(report, crops, for_print=True)).write_pdf()
