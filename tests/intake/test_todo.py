"""One ordered to-do list (issue 14): what the applicant must do first (不符合, 缺失, files
that could not be read), each with its action; then, apart, what reviewers will check. The
HTML/PDF report's first page: verdict, the list, the checklist; local times, shares in %."""

from __future__ import annotations

import re

from extractors.fields import FieldValue
from intake.reports.build import note_changes
from intake.reports.html import render_html, verdict, verdict_line
from intake.reports.todo import todo, todo_groups
from validators.engine import Facts, evaluate
from validators.packs import load_pack


def _report(**extra):
    report = {
        "dossier": "d1",
        "name": "秦岭科技",
        "rule_pack": "xian-2018",
        "rule_pack_meta": load_pack("xian-2018").meta(),
        "generated_at": "2024-03-01T16:30:00+00:00",
        "files": [
            {"file": "申报材料.zip › 营业执照.jpg", "sha256": "a", "state": "done", "pages": 1},
            {"file": "扫描件.pdf", "state": "failed",
             "error": {"code": "encrypted", "message": "文件已加密，请上传未加密的版本"}},
            {"file": "营业执照（重复上传）.jpg", "state": "failed",
             "error": {"code": "duplicate", "message": "与已上传的“营业执照.jpg”内容完全相同"}},
        ],
        "materials": [{"type": "business_licence", "file": "申报材料.zip › 营业执照.jpg",
                       "pages": [1, 1], "cues": ["营业执照"], "confidence": 0.9}],
        "fields": {"service.satisfaction": [{"value": 0.8, "file": "申请报告.docx", "page": 2,
                   "text": "满意度 80%", "confidence": 0.99}]},
        "findings": [
            {"criterion": "x.seal", "title": "加盖公章", "status": "review", "evidence": [],
             "message": "未能自动确认盖章。评审人员请核对原件是否加盖公章。", "article": "第十七条"},
            {"criterion": "12.registered_locally", "title": "注册地在西安市", "status": "missing",
             "message": "未能读取注册地址（住所）。请上传清晰的营业执照或法人证书。",
             "evidence": [], "article": "第十二条"},
            {"criterion": "12.1.total_assets", "title": "资产总额", "status": "fail",
             "message": "资产总额40,000.00元（审计报告.pdf 第5页），低于办法要求的50万元。"
                        "请核对申请报告和证明材料中的该项数据。", "evidence": [], "article": "第十二条（一）"},
            {"criterion": "12.2.satisfaction", "title": "用户满意度", "status": "pass",
             "message": "用户满意度80%。", "evidence": ["service.satisfaction#0"],
             "article": "第十二条（二）"},
        ],
        "unreadable": [{"file": "扫描件2.pdf", "page": 3, "material": "business_licence"}],
        "summary": {"files": 3, "files_failed": 1, "files_duplicate": 1,
                    "findings": {"review": 1, "missing": 1, "fail": 1, "pass": 1}},
        "reviews": [{"id": "r1", "action": "accept", "target": {"criterion": "x.seal"},
                     "comment": "原件已盖章", "actor": "张评审", "at": "2024-03-01T16:31:00+00:00"}],
    }  # fmt: skip
    report.update(extra)
    return report


def test_the_applicant_items_come_first_in_order_and_reviews_ask_nothing():
    items = todo(_report())
    kinds = [(i["who"], i["kind"]) for i in items]
    assert kinds == [
        ("applicant", "fail"), ("applicant", "missing"), ("applicant", "file"),
        ("applicant", "duplicate"), ("reviewer", "review"),
    ]  # fmt: skip
    fail, _, failed, duplicate, review = items
    assert fail["title"] == "资产总额" and fail["action"].startswith("请核对")
    assert "请" not in fail["message"]  # what was found, apart from what to do
    assert failed["title"] == "扫描件.pdf" and failed["action"] == "请上传未加密的版本"
    assert duplicate["action"] == ""  # nothing to fix: its content is in the dossier
    assert review["action"] == "" and "请上传" not in review["message"]
    groups = todo_groups(_report())
    assert len(groups["applicant"]) == 4 and len(groups["reviewers"]) == 1


def test_a_gap_caused_by_a_page_we_could_not_read_says_so():
    missing = next(i for i in todo(_report()) if i["kind"] == "missing")
    assert missing["action"].startswith("扫描件2.pdf 第3页无法识别，请上传更清晰的扫描件。")
    # a page of a material that does not carry the criterion's fields is not the cause
    unrelated = [{"file": "合同.pdf", "page": 2, "material": "premises_proof"}]
    missing = next(i for i in todo(_report(unreadable=unrelated)) if i["kind"] == "missing")
    assert "无法识别" not in missing["action"]


def test_failed_files_count_in_the_verdict_and_duplicates_do_not():
    report = _report()
    assert verdict(report)["title"] == "有 1 项不符合，1 个文件无法处理"
    only_files = _report(
        findings=[f for f in report["findings"] if f["status"] == "pass"],
        summary={**report["summary"], "findings": {"pass": 1}},
    )
    assert verdict(only_files)["status"] == "missing"
    assert verdict(only_files)["title"] == "1 个文件无法处理"
    assert verdict_line(report).startswith("初审结论：有 1 项不符合")


def _visible(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_the_reports_first_page_is_verdict_todo_checklist_with_local_times_and_percent():
    html = render_html(_report(), timezone="Asia/Shanghai")
    text = _visible(html)
    order = [text.index(s) for s in ("初审结论", "需要申报单位处理", "评审人员将核对",
                                     "材料清单（第十七条）", "逐条审查")]  # fmt: skip
    assert order == sorted(order)
    assert "2024-03-02 00:30" in text and "T16:30" not in text  # Beijing time, not UTC ISO
    assert "80%" in text and "0.8" not in text
    assert "「加盖公章」" in text  # the history names the criterion by its title
    for criterion in ("x.seal", "12.registered_locally", "12.1.total_assets"):
        assert criterion not in text  # ids stay in the JSON and in anchors
    assert 'class="new-page"' in html  # the findings start on a page of their own in print


def _value(field, value, file, material, page=1):
    return FieldValue(field=field, value=value, file=file, page=page, text=value,
                      confidence=0.99, material=material, origin="text")  # fmt: skip


def test_a_conflict_lists_every_place_of_each_value_and_which_agrees_with_the_licence():
    right, wrong = "西安秦岭科技有限公司", "西安秦岭信息科技有限公司"
    values = [
        _value("applicant.name", right, "营业执照.pdf", "business_licence"),
        _value("applicant.name", right, "申请报告.docx", "application_report"),
        _value("applicant.name", wrong, "推荐表.docx", "audit_report"),
        _value("applicant.name", wrong, "审计报告.pdf", "audit_report", page=2),
    ]
    facts = Facts(materials=[], fields={"applicant.name": values})
    (found,) = [f for f in evaluate(load_pack("xian-2018"), facts)
                if f.criterion == "x.name_consistent"]  # fmt: skip
    assert found.status == "fail"
    assert f"“{right}”（营业执照.pdf 第1页、申请报告.docx 第1页，与营业执照一致）" in found.message
    assert f"“{wrong}”（推荐表.docx 第1页、审计报告.pdf 第2页）" in found.message


def test_after_a_change_the_finding_says_what_changed():
    old = _report(version=3)
    field = "service.satisfaction"
    old["findings"][3] = {**old["findings"][3], "status": "fail", "message": "用户满意度70%。"}
    old["fields"] = {field: [{**old["fields"][field][0], "value": 0.7}]}
    new = _report()
    findings = [dict(f) for f in new["findings"]]
    note_changes(findings, new["fields"], old)
    changed = findings[3]
    assert "结论原为不符合，已更新为符合" in changed["message"]
    assert "申请报告.docx 第2页的用户满意度原为70%，已更新为80%" in changed["message"]
    assert changed["changed"]["version"] == 3 and changed["changed"]["status"] == "fail"
    assert "较上一版" not in findings[0]["message"]  # unchanged findings say nothing


def test_what_changed_since_the_last_version_is_part_of_the_finding_not_the_action() -> None:
    report = {
        "rule_pack": "xian-2018",
        "files": [],
        "findings": [
            {"criterion": "x.name_consistent", "status": "fail", "title": "名称一致",
             "message": "名称不一致：甲公司、乙公司，请核对并统一。（较上一版：申报书中的名称已改为乙公司）"},
        ],
    }  # fmt: skip
    (item,) = todo(report)
    assert item["action"] == "请核对并统一。"
    assert item["message"].endswith("（较上一版：申报书中的名称已改为乙公司）")
