from __future__ import annotations

from extractors.classify import Material
from extractors.fields import FieldValue
from validators.checks import at_least, consistent, materials_identified, materials_present
from validators.engine import Facts, evaluate
from validators.packs import load_pack


def value(field, v, material, origin="text", conf=0.99, page=1):
    return FieldValue(
        field=field,
        value=v,
        file=f"{material}.pdf",
        page=page,
        text=str(v),
        confidence=conf,
        material=material,
        origin=origin,
    )


def facts(*values, materials=()):
    fields: dict[str, list[FieldValue]] = {}
    for v in values:
        fields.setdefault(v.field, []).append(v)
    return Facts(materials=list(materials), fields=fields)


def test_threshold_pass_fail_missing_and_review():
    assert at_least(facts(value("a", 600000.0, "audit_report")), "a", 500000).status == "pass"
    assert at_least(facts(value("a", 400000.0, "audit_report")), "a", 500000).status == "fail"
    assert at_least(facts(), "a", 500000).status == "missing"
    low = value("a", 400000.0, "audit_report", conf=0.3)
    assert at_least(facts(low), "a", 500000).status == "review"  # never fail on a doubtful read


def test_threshold_prefers_the_audited_figure():
    f = facts(value("a", 900000.0, "application_report"), value("a", 400000.0, "audit_report"))
    out = at_least(f, "a", 500000, prefer=["audit_report", "application_report"])
    assert out.status == "fail" and out.evidence == ["a#1"]


def test_name_variants_misreads_branches_and_real_mismatches():
    name = "applicant.name"
    same = [
        value(name, "西安沣东（集团）有限公司", "application_report"),
        value(name, "西安沣东 (集团) 有限责任公司", "business_licence"),  # printed variants
    ]
    assert consistent(facts(*same), [name]).status == "pass"
    misread = value(name, "西安汪东（集团）有限公司", "premises_proof", origin="ocr")
    out = consistent(facts(*same, misread), [name])
    assert out.status == "pass" and "汪东" in out.context["note"]  # said, not hidden
    other_scan = value(name, "西安另一家服务有限公司", "premises_proof", origin="ocr")
    assert consistent(facts(*same, other_scan), [name]).status == "review"
    typed = value(name, "西安另一家服务有限公司", "audit_report")
    assert consistent(facts(*same, typed), [name]).status == "fail"
    branch = value(name, "西安沣东（集团）有限公司高新分公司", "premises_proof")
    assert consistent(facts(*same, branch), [name]).status == "fail"  # a branch is not it


def test_completeness_names_what_is_missing():
    present = [Material("application_report", "a.docx", (1, 3), confidence=0.9)]
    out = materials_present(facts(materials=present), ["application_report", "audit_report"])
    assert out.status == "fail" and "审计报告" in out.context["missing"]
    assert out.evidence == ["materials#0"]


def test_completeness_says_what_to_upload_and_doubts_a_close_call():
    advice = {"audit_report": "请上传会计师事务所出具的审计报告"}
    sure = Material("application_report", "a.docx", (1, 3), confidence=0.9)
    out = materials_present(facts(materials=[sure]), ["audit_report"], advice)
    assert "请上传会计师事务所出具的审计报告" in out.context["missing"]
    close = Material("audit_report", "b.pdf", (2, 5), confidence=0.4)
    out = materials_present(facts(materials=[sure, close]), ["application_report", "audit_report"])
    assert out.status == "review" and "b.pdf 第2–5页" in out.context["doubtful"]


def test_unidentified_pages_are_review_items():
    known = Material("audit_report", "a.pdf", (1, 4), confidence=0.95)
    assert materials_identified(facts(materials=[known])).status == "pass"
    unknown = Material("other", "x.jpg", (1, 1), confidence=0.5, explicit=False)
    wrapper = Material("other", "年报.pdf", (1, 55), confidence=0.72, explicit=True)
    out = materials_identified(facts(materials=[known, wrapper, unknown]))
    assert out.status == "review" and out.evidence == ["materials#2"]
    assert "x.jpg 第1页" in out.context["details"] and "年报" not in out.context["details"]
    assert materials_identified(facts()).status == "missing"  # never pass on nothing


def test_pack_judges_every_criterion_even_with_no_evidence():
    pack = load_pack("xian-2018")
    findings = evaluate(pack, facts())
    assert len(findings) == len(pack.criteria) == 29
    assert {f.status for f in findings} <= {"missing", "fail"}  # never pass on no evidence
    assert all(f.message for f in findings)


def _registered(*values):
    """The 12.registered_locally finding of the Xi'an pack on these addresses."""
    pack = load_pack("xian-2018")
    (finding,) = [
        f for f in evaluate(pack, facts(*values)) if f.criterion == "12.registered_locally"
    ]
    return finding


def address(v, material="business_licence", **kwargs):
    return value("applicant.address", v, material, **kwargs)


def test_registered_locally_by_gazetteer_not_substring():
    zone = _registered(address("陕西省西咸新区沣东新城协同创新港"))
    assert zone.status == "pass" and "西咸新区沣东新城" in zone.message
    assert _registered(address("西安高新区锦业路1号")).status == "pass"
    assert _registered(address("户县余下街道")).status == "pass"  # 鄠邑区's old name
    away = _registered(address("咸阳市渭城区文汇东路265号"))
    assert away.status == "fail" and "不在西安市" in away.message
    assert _registered(address("辽宁省大连市西安路88号")).status == "fail"  # 西安路 is a street
    assert _registered(address("石家庄市长安区中山东路")).status == "fail"
    assert _registered().status == "missing"


def test_registered_locally_reviews_what_it_cannot_tell():
    bare = _registered(address("高新区锦业路1号"))
    assert bare.status == "review"
    assert "无法判断是否在西安市" in bare.message and "只写了“高新区”" in bare.message
    shared = _registered(address("长安区中山东路"))
    assert shared.status == "review" and "石家庄市" in shared.message
    street = _registered(address("科技路48号", "application_report"))
    assert street.status == "review" and "科技路48号" in street.message


def test_registered_locally_fails_only_on_a_plain_reading():
    scanned = _registered(address("咸阳市渭城区文汇东路265号", origin="ocr", conf=0.45))
    assert scanned.status == "review" and "识别置信度低" in scanned.message
    inferred = address("咸阳市渭城区文汇东路265号", origin="ocr", conf=0.8)
    inferred.note = "识别为“咸阳市渭城区文汇东跻265号”，与其他材料中的“…”仅差个别字，按后者读取"
    assert _registered(inferred).status == "review"
    faint_local = _registered(address("西安市雁塔区科技路48号", origin="ocr", conf=0.4))
    assert faint_local.status == "review"  # never pass on a doubtful read either


def test_registered_locally_two_readings():
    licence = address("西安市雁塔区科技路48号")
    report = address("咸阳市秦都区人民路1号", "application_report")
    both = _registered(licence, report)
    assert both.status == "review" and "不一致" in both.message  # equal standing: a person
    assert both.evidence == ["applicant.address#0", "applicant.address#1"]
    misread = address("咸阳市秦都区人民路1号", "premises_proof", origin="ocr", conf=0.4)
    assert _registered(licence, misread).status == "pass"  # a doubtful read is no contradiction
    street = address("科技路48号", "application_report")
    assert _registered(licence, street).status == "pass"  # nor is one that cannot tell
    assert _registered(address("咸阳市秦都区人民路1号"), street).status == "fail"


def test_registered_locally_cites_the_licence():
    report = address("西安市雁塔区科技路48号", "application_report")
    licence = address("西安市雁塔区科技路48号")
    licence.file = "营业执照.jpg"
    found = _registered(report, licence)
    assert found.status == "pass" and "营业执照.jpg" in found.message
