"""A ``fail`` only on what was truly read (issue 17): for every criterion of every rule pack
whose check can fail, the value that breaches the rule gives ``review`` — saying which value
and why — when it was (a) read with low confidence, (b) not read where such a value is
labelled (a page no material claims) or inferred rather than read, or (c) contradicted by
another reading of equal standing; and ``fail`` when it is (d) certain, so every row can
fail. The rows are generated from the packs themselves: a new check kind without a row here
fails ``test_every_check_has_a_row``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace

import pytest

from extractors.classify import OTHER, Material
from extractors.fields import FieldValue, extract_fields
from extractors.registry import parse_file
from tests.fixtures import factory
from validators.checks import CHECKS, MATERIAL_NAMES
from validators.engine import _DEFAULT, Facts, evaluate
from validators.packs import Criterion, RulePack, available_packs, load_pack

LOW = 0.45  # below LOW_CONFIDENCE (0.6): a misread is likely
VALID = "91610131MA6TXK1U2Y"  # passes the GB 32100-2015 check
OTHER_VALID = "91610113MA6U12345Q"  # another valid code (another organisation's)
BAD = VALID[:-1] + "X"  # fails the check character


def fv(
    name: str,
    value,
    material: str | None = "application_report",
    *,
    conf: float = 0.98,
    origin: str = "text",
    note: str | None = None,
    file: str | None = None,
    page: int = 1,
) -> FieldValue:
    return FieldValue(
        field=name,
        value=value,
        file=file or f"{material or '未归类'}.pdf",
        page=page,
        text=str(value),
        confidence=conf,
        material=material,
        origin=origin,
        note=note,
    )


def facts(*values: FieldValue, materials: list[Material] | None = None) -> Facts:
    fields: dict[str, list[FieldValue]] = {}
    for v in values:
        fields.setdefault(v.field, []).append(v)
    return Facts(materials=materials or [], fields=fields)


def low(v: FieldValue) -> FieldValue:
    return replace(v, confidence=LOW, file="模糊扫描件.jpg", origin="ocr")


def unclaimed(v: FieldValue) -> FieldValue:
    """Read on a page no material claims: not where such a value is labelled."""
    return replace(v, material=None, file="未归类页面.pdf")


def inferred(v: FieldValue) -> FieldValue:
    return replace(v, note="未按标签读取，取自文字匹配", file="推断来源.pdf")


@dataclass
class Case:
    facts: Facts
    status: str
    says: list[str] = field(default_factory=list)  # what the message must name


LOW_SAYS = ["模糊扫描件.jpg 第1页", "识别置信度低（0.45）"]
UNCLAIMED_SAYS = ["未归类页面.pdf 第1页", "未能确定材料类型"]
INFERRED_SAYS = ["推断来源.pdf 第1页", "系推断所得"]


def _below(minimum):
    return minimum - 1 if isinstance(minimum, int) else round(minimum * 0.9, 4)


def _above(minimum):
    return minimum + 1 if isinstance(minimum, int) else round(minimum + (1 - minimum) / 2, 4)


# --------------------------------------------------------------------------- rows per check


def rows_at_least(field: str, min, prefer: list[str] | None = None, unit: str = ""):
    """A threshold: the breaching figure, and where two readings of one material disagree,
    the one that meets it."""
    material = (prefer or ["application_report"])[0]
    breach = fv(field, _below(min), material, file="证明材料.pdf")
    meets = fv(field, _above(min), material, file="另一读取.pdf")
    return {
        "low": Case(facts(low(breach)), "review", LOW_SAYS),
        "unclaimed": Case(facts(unclaimed(breach)), "review", UNCLAIMED_SAYS),
        "inferred": Case(facts(inferred(breach)), "review", INFERRED_SAYS),
        "contradicted": Case(
            facts(breach, meets), "review", ["证明材料.pdf 第1页", "另一读取.pdf 第1页", "不一致"]
        ),
        "certain": Case(facts(breach), "fail", ["证明材料.pdf 第1页"]),
    }


def rows_any_of(conditions: list[dict]):
    """Every condition stated and none met; one doubtful reading leaves it open."""

    def breach(cond, file="申请报告.pdf"):
        limit = cond.get("min", cond.get("above"))
        value = _below(limit) if "min" in cond else limit  # "above": the limit itself fails
        return fv(cond["field"], value, file=file)

    plain = [breach(c) for c in conditions]
    first = conditions[0]
    meets = fv(first["field"], _above(first.get("min", first.get("above"))), file="另一读取.pdf")
    return {
        "low": Case(facts(low(plain[0]), *plain[1:]), "review", LOW_SAYS),
        "unclaimed": Case(facts(unclaimed(plain[0]), *plain[1:]), "review", UNCLAIMED_SAYS),
        "inferred": Case(facts(inferred(plain[0]), *plain[1:]), "review", INFERRED_SAYS),
        "contradicted": Case(facts(*plain, meets), "review", ["另一读取.pdf 第1页", "不一致"]),
        "certain": Case(facts(*plain), "fail", ["申请报告.pdf 第1页"]),
    }


def rows_materials_present(types: list[str], advice: dict | None = None):
    """A material's absence is certain only when every page's type is: a page no cue named,
    or one whose type was a close call, may be the missing material."""
    present = [Material(t, f"{t}.pdf", (1, 2), ["标题"], 0.9) for t in types[1:]]
    lacking = types[0]
    close_call = Material("service_evidence", "承诺函.jpg", (1, 1), ["盖章"], LOW)
    unknown = Material(OTHER, "扫描件.jpg", (1, 1), [], 0.0, explicit=False)
    return {
        "low": Case(facts(materials=[*present, close_call]), "review", ["承诺函.jpg 第1页"]),
        "unclaimed": Case(facts(materials=[*present, unknown]), "review", ["扫描件.jpg 第1页"]),
        # (c) does not arise: a page has one type; nothing reads a material's absence twice.
        "certain": Case(facts(materials=present), "fail", []),
        "_lacking": lacking,
    }


def rows_credit_codes_valid(field: str):
    """A code whose check character is wrong; the same page read as a valid code by an
    equally plain reading is a misread, not a wrong code."""
    bad = fv(field, BAD, "business_licence", file="营业执照.pdf")
    same_page = fv(field, VALID, "business_licence", file="营业执照.pdf")
    # another organisation's code on the page (a lessor's) is no second reading of this one
    unrelated = fv(field, OTHER_VALID, "business_licence", file="营业执照.pdf")
    return {
        "low": Case(facts(low(bad)), "review", LOW_SAYS),
        "unclaimed": Case(facts(unclaimed(bad)), "review", UNCLAIMED_SAYS),
        "inferred": Case(facts(inferred(bad)), "review", INFERRED_SAYS),
        "contradicted": Case(facts(bad, same_page), "review", [VALID, "营业执照.pdf 第1页"]),
        "certain": Case(facts(bad, unrelated), "fail", [BAD, "营业执照.pdf 第1页"]),
    }


def rows_consistent(fields: list[str], normalize: str = "name", materials=None):
    """Two materials agree and a third prints another value."""
    name = fields[0]
    same, other = (
        ("西安秦岭数据服务有限公司", "咸阳渭水咨询服务有限公司")
        if normalize == "name"
        else (VALID, OTHER_VALID)
    )
    agree = [fv(name, same, "business_licence"), fv(name, same, "application_report")]
    dissent = fv(name, other, "audit_report", file="审计报告.pdf")
    echo = fv(name, same, "audit_report", file="审计报告.pdf", page=2)
    rows = {
        "low": Case(facts(*agree, low(dissent)), "review", LOW_SAYS),
        "inferred": Case(facts(*agree, inferred(dissent)), "review", INFERRED_SAYS),
        # the audit report also names the applicant, as plainly: which does it name?
        "contradicted": Case(facts(*agree, dissent, echo), "review", ["审计报告.pdf 第1页"]),
        "certain": Case(facts(*agree, dissent), "fail", [other, "审计报告.pdf 第1页"]),
    }
    if materials is None or None in materials:
        rows["unclaimed"] = Case(facts(*agree, unclaimed(dissent)), "review", UNCLAIMED_SAYS)
    else:
        # a page no material claims is not one of the materials compared: no contradiction
        rows["unclaimed"] = Case(facts(*agree, unclaimed(dissent)), "pass", [])
    return rows


def rows_declared_matches(field: str, declared: str, evidence: list[str], tolerance: float):
    """A declared figure and the evidence's, apart by more than the tolerance."""
    ours = fv(field, 300.0, declared, file="申请报告.pdf")
    theirs = fv(field, 250.0, evidence[0], file="证明材料.pdf")
    echo = fv(field, 300.0, evidence[0], file="证明材料.pdf", page=2)
    return {
        "low": Case(facts(ours, low(theirs)), "review", LOW_SAYS),
        "inferred": Case(facts(ours, inferred(theirs)), "review", INFERRED_SAYS),
        "contradicted": Case(facts(ours, theirs, echo), "review", ["证明材料.pdf 第2页", "不一致"]),
        "certain": Case(facts(ours, theirs), "fail", ["证明材料.pdf 第1页"]),
        # a page no material claims is not evidence: nothing to compare with
        "unclaimed": Case(facts(ours, unclaimed(theirs)), "missing", []),
    }


PLACES = {  # wanted place → (an address in it, an address positively elsewhere)
    "西安市": ("西安市雁塔区科技路48号", "咸阳市渭城区文汇东路265号"),
    "广东省": ("广州市天河区体育西路1号", "南京市鼓楼区中山路1号"),
    "江苏省": ("南京市鼓楼区中山路1号", "广州市天河区体育西路1号"),
}


def rows_address_in(field: str, city: str | None = None, province: str | None = None):
    wanted = city or province
    if wanted is None:  # anywhere in the country qualifies: nothing can fail
        away = fv(field, "咸阳市渭城区文汇东路265号", "business_licence")
        return {"certain": Case(facts(away), "pass", [])}
    home, elsewhere = PLACES[wanted]
    away = fv(field, elsewhere, "business_licence", file="营业执照.pdf")
    local = fv(field, home, "application_report", file="申请报告.pdf")
    return {
        "low": Case(facts(low(away)), "review", [*LOW_SAYS[1:], elsewhere]),
        "unclaimed": Case(facts(unclaimed(away)), "review", ["未能确定材料类型", elsewhere]),
        "inferred": Case(facts(inferred(away)), "review", ["系推断所得", elsewhere]),
        "contradicted": Case(facts(away, local), "review", ["不一致", elsewhere, home]),
        "certain": Case(facts(away), "fail", [elsewhere, "营业执照.pdf 第1页"]),
    }


def _dated_rows(field, reference, breach, meets, prefer=None, applied="2018-06-15"):
    ref = fv(reference, applied, "application_report", file="申请报告.pdf")
    material = "audit_report" if field.startswith("audit.") else "premises_proof"
    if prefer:
        material = prefer[0]
    bad = fv(field, breach, material, file="证明材料.pdf")
    good = fv(field, meets, material, file="另一读取.pdf")  # the same material, read again
    rows = {
        "low": Case(facts(low(bad), ref), "review", LOW_SAYS),
        "unclaimed": Case(facts(unclaimed(bad), ref), "review", UNCLAIMED_SAYS),
        "inferred": Case(facts(inferred(bad), ref), "review", INFERRED_SAYS),
        "contradicted": Case(facts(bad, good, ref), "review", ["另一读取.pdf 第1页", "不一致"]),
        "certain": Case(facts(bad, ref), "fail", [breach, applied]),
        # the reference doubtful: the deciding pair is not certain either
        "low reference": Case(facts(bad, low(ref)), "review", LOW_SAYS),
    }
    if prefer and len(prefer) > 1:
        # a reading of lower standing (the application's own statement) does not
        # contradict the preferred one (the licence): the licence decides
        lower = fv(field, meets, prefer[1], file="另一读取.pdf")
        rows["lower standing"] = Case(facts(bad, lower, ref), "fail", ["证明材料.pdf 第1页"])
    return rows


def rows_years_before(field: str, reference: str, years: int, prefer=None):
    breach, meets = f"{2018 - years}-06-16", f"{2018 - years - 1}-01-01"
    return _dated_rows(field, reference, breach, meets, prefer)


def rows_previous_year_end(field: str, reference: str):
    return _dated_rows(field, reference, "2016-12-31", "2017-12-31")


def rows_lease_valid(field: str, reference: str):
    return _dated_rows(field, reference, "2018-06-14", "2021-06-30")


def rows_grows(field: str, years: int = 2):
    falling = fv(field, {"2016": 300, "2017": 274}, file="申请报告.pdf")
    rising = fv(field, {"2016": 200, "2017": 274}, file="另一读取.pdf")
    return {
        "low": Case(facts(low(falling)), "review", LOW_SAYS),
        "unclaimed": Case(facts(unclaimed(falling)), "review", UNCLAIMED_SAYS),
        "inferred": Case(facts(inferred(falling)), "review", INFERRED_SAYS),
        "contradicted": Case(facts(falling, rising), "review", ["不一致", "300家", "200家"]),
        "certain": Case(facts(falling), "fail", ["2016年300家", "2017年274家"]),
    }


def rows_balances(left: str, right: str, tolerance: float = 0.01):
    assets = fv(left, 3_265_000.0, "audit_report", file="审计报告.pdf", page=5)
    equity = fv(right, 3_265_100.0, "audit_report", file="审计报告.pdf", page=5)
    again = fv(right, 3_265_000.0, "audit_report", file="审计报告.pdf", page=5)
    again.text = "负债和所有者权益总计 3,265,000.00"
    return {
        "low": Case(facts(assets, replace(equity, confidence=LOW)), "review", ["0.45"]),
        "inferred": Case(
            facts(assets, replace(equity, note="小数点未识别出，按报表两位小数推断")),
            "review",
            ["系推断所得"],
        ),
        "contradicted": Case(facts(assets, equity, again), "review", ["另一组读取结果相符"]),
        "certain": Case(facts(assets, equity), "fail", ["3,265,000.00元", "3,265,100.00元"]),
        # an audit report's statement is read only from an audit report
        "unclaimed": Case(facts(unclaimed(assets), unclaimed(equity)), "missing", []),
    }


ROWS = {
    "at_least": rows_at_least,
    "any_of": rows_any_of,
    "materials_present": rows_materials_present,
    "credit_codes_valid": rows_credit_codes_valid,
    "consistent": rows_consistent,
    "declared_matches": rows_declared_matches,
    "address_in": rows_address_in,
    "years_before": rows_years_before,
    "previous_year_end": rows_previous_year_end,
    "lease_valid": rows_lease_valid,
    "grows": rows_grows,
    "balances": rows_balances,
}
# Checks that cannot fail at all: a person judges what they find (or the rule is a pass/
# review one, as the audit opinion: a qualified opinion is for the reviewer to weigh).
NEVER_FAILS = {
    "materials_identified",
    "audit_opinion",
    "needs_review",
    "functions",
    "judgement",
    "sealed",
}

CRITERIA = [(name, c) for name in available_packs() for c in load_pack(name).criteria]


def _cases():
    for pack, criterion in CRITERIA:
        if criterion.check not in ROWS:
            continue
        for case, row in ROWS[criterion.check](**criterion.params).items():
            if not case.startswith("_"):
                yield pytest.param(pack, criterion, case, row, id=f"{pack}:{criterion.id}:{case}")


def test_every_check_has_a_row():
    named = {c.check for _, c in CRITERIA}
    assert named - set(ROWS) - NEVER_FAILS == set()
    assert set(CHECKS) - set(ROWS) - NEVER_FAILS == set()  # the registry's too
    assert not set(ROWS) & NEVER_FAILS


@pytest.mark.parametrize("pack", available_packs())
def test_every_criterion_that_can_fail_has_all_four_cases(pack):
    for criterion in load_pack(pack).criteria:
        if criterion.check in NEVER_FAILS:
            continue
        rows = ROWS[criterion.check](**criterion.params)
        if all(r.status == "pass" for k, r in rows.items() if not k.startswith("_")):
            continue  # a criterion that nothing can fail (anywhere in the country)
        assert {"low", "unclaimed", "certain"} <= set(rows), criterion.id
        assert rows["certain"].status == "fail", criterion.id


def _judge(criterion: Criterion, row: Case):
    pack = RulePack("test", "test", "test", 2018, True, "", (criterion,))
    (finding,) = evaluate(pack, row.facts)
    outcome = CHECKS[criterion.check](row.facts, **criterion.params)
    return finding, outcome


@pytest.mark.parametrize(("pack", "criterion", "case", "row"), list(_cases()))
def test_doubtful_breaches_are_reviewed_and_certain_ones_fail(pack, criterion, case, row):
    finding, outcome = _judge(criterion, row)
    assert finding.status == row.status, finding.message
    for words in row.says:
        assert words in finding.message, (words, finding.message)
    if finding.status == "review":
        assert outcome.context.get("reason"), "a review says which value was doubtful and why"


@pytest.mark.parametrize(("pack", "criterion", "case", "row"), list(_cases()))
def test_a_message_never_leaves_a_slot_empty(pack, criterion, case, row):
    finding, outcome = _judge(criterion, row)
    template = criterion.messages.get(str(outcome.status))
    if template is None:
        template = _DEFAULT[outcome.status]
    slots = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    optional = {"note", "reason"} if outcome.status in ("pass", "fail") else {"note"}
    for slot in slots:
        assert outcome.context.get(slot) is not None, (slot, template)
        if slot not in optional:
            assert str(outcome.context[slot]).strip(), (slot, template)
    assert "{" not in finding.message and "（）" not in finding.message
    assert "。。" not in finding.message and "：。" not in finding.message
    assert finding.message.count("核对原件") <= 1  # asked once, not by reason and template


def test_a_materials_row_names_what_is_missing():
    for _, criterion in CRITERIA:
        if criterion.check != "materials_present":
            continue
        rows = rows_materials_present(**criterion.params)
        finding, _ = _judge(criterion, rows["certain"])
        lacking = rows["_lacking"]
        assert MATERIAL_NAMES[lacking] in finding.message
        finding, _ = _judge(criterion, rows["unclaimed"])
        assert MATERIAL_NAMES[lacking] in finding.message and "可能就是所缺材料" in finding.message


@pytest.mark.parametrize("pack", available_packs())
def test_checks_that_cannot_fail_never_do(pack):
    """Every row's facts, through a whole pack: the criteria of checks that cannot fail never
    say fail, whatever they are given."""
    rule_pack = load_pack(pack)
    for _, criterion in CRITERIA:
        if criterion.check not in ROWS:
            continue
        for key, row in ROWS[criterion.check](**criterion.params).items():
            if key.startswith("_"):
                continue
            for finding in evaluate(rule_pack, row.facts):
                check = next(c.check for c in rule_pack.criteria if c.id == finding.criterion)
                if check in NEVER_FAILS:
                    assert finding.status != "fail", (finding.criterion, key)


# --------------------------------------------------------------------------- month-only dates


def _dates(field: str, value: str, applied: str, material: str = "business_licence") -> Facts:
    return facts(
        fv(field, value, material, file="证明材料.pdf"),
        fv("application.date", applied, "application_report", file="申请报告.pdf"),
    )


@pytest.mark.parametrize(
    ("established", "applied", "status"),
    [
        # An application dated 2018年7月: founded in June 2016 or earlier, two years are
        # done on every day of July 2018; founded in August 2016, on none.
        ("2016-06-15", "2018-07", "pass"),
        ("2016-06", "2018-07", "pass"),
        ("2016-08-01", "2018-07", "fail"),
        ("2016-08", "2018-07", "fail"),
        # founded 20 July 2016: two years on 20 July 2018, which the month does not say
        ("2016-07-20", "2018-07", "review"),
        ("2016-07", "2018-07", "review"),
        ("2016-07", "2018-07-15", "review"),  # founded some day in July 2016
        ("2016-07", "2018-07-31", "pass"),  # whichever day it was, two years are done
        ("2016-07", "2018-08-01", "pass"),
    ],
)
def test_years_operating_on_a_month_only_date(established, applied, status):
    out = CHECKS["years_before"](
        _dates("applicant.established", established, applied),
        "applicant.established",
        "application.date",
        2,
    )
    assert out.status == status
    if status == "review":
        assert "只写到月" in out.context["reason"] and "哪一天" in out.context["reason"]


@pytest.mark.parametrize(
    ("period_end", "applied", "status"),
    [
        ("2017-12-31", "2018-07", "pass"),  # the year before July 2018 is 2017, whatever day
        ("2016-12-31", "2018-07", "fail"),
        ("2017-12", "2018-07-12", "review"),  # a December, but which day of it
        ("2016-12", "2018-07-12", "fail"),  # no day of December 2016 ends 2017
    ],
)
def test_audit_period_on_a_month_only_date(period_end, applied, status):
    f = _dates("audit.period_end", period_end, applied, "audit_report")
    assert CHECKS["previous_year_end"](f, "audit.period_end", "application.date").status == status


@pytest.mark.parametrize(
    ("lease_end", "applied", "status"),
    [
        ("2018-08-01", "2018-07", "pass"),
        ("2018-06-30", "2018-07", "fail"),
        ("2018-07-15", "2018-07", "review"),  # valid on 1–15 July, not after
        ("2018-07", "2018-07-31", "review"),  # a lease ending some day in July
        ("2019-06", "2018-07-12", "pass"),
        ("2018-06", "2018-07-12", "fail"),
    ],
)
def test_lease_on_a_month_only_date(lease_end, applied, status):
    f = _dates("premises.lease_end", lease_end, applied, "premises_proof")
    assert CHECKS["lease_valid"](f, "premises.lease_end", "application.date").status == status


def test_a_month_only_date_reads_as_its_month_in_messages():
    pack = load_pack("xian-2018")
    f = _dates("applicant.established", "2016-07", "2018-07")
    (finding,) = [x for x in evaluate(pack, f) if x.criterion == "12.1.years_operating"]
    assert finding.status == "review"
    assert "2016年7月" in finding.message and "2018年7月" in finding.message


# --------------------------------------------------------------------------- converted values


def test_a_figure_converted_by_its_statements_unit_still_decides(tmp_path, options):
    """资产总计 32.65 in a statement headed 单位：万元 is 326,500 元, read plainly and converted
    (the reader says so in a note): a certain breach of 500,000 元, not a guess."""
    opinion = ["审计报告", "一、审计意见", "我们审计了西安秦川科技服务有限公司财务报表。"]
    statement = ["资产负债表", "单位：万元", "项目 期末余额 期初余额", "资产总计 32.65 28.00"]
    path = factory.text_pdf(tmp_path / "audit.pdf", [opinion, statement])
    document = parse_file(path, options)
    material = Material("audit_report", path.name, (1, len(document.pages)))
    fields = extract_fields([(path.name, document)], [material])
    (total,) = fields["finance.total_assets"]
    assert total.value == 326_500.0 and total.note  # converted, and said so
    out = CHECKS["at_least"](Facts(materials=[material], fields=fields), total.field, 500_000)
    assert out.status == "fail"


# --------------------------------------------------------------------------- a reviewer's value


def reviewed(v: FieldValue, value) -> FieldValue:
    """A reviewer's correction (intake.reports.build.apply_corrections): read on the
    original by a person, with a note saying who and why."""
    return replace(
        v, value=value, origin="reviewer", confidence=1.0, note="评审人员 甲 更正：核对原件"
    )


def test_a_reviewers_correction_decides_what_readings_left_open():
    below = fv("finance.total_assets", 480_000.0, "audit_report", file="审计报告.pdf")
    above = fv("finance.total_assets", 1_234_567.89, "audit_report", file="审计报告.pdf", page=2)
    f = facts(below, above)
    assert CHECKS["at_least"](f, "finance.total_assets", 500_000).status == "review"
    f = facts(below, reviewed(above, 480_000.0))
    assert CHECKS["at_least"](f, "finance.total_assets", 500_000).status == "fail"
    lease = fv("premises.lease_end", "2018-06-14", "premises_proof")
    applied = fv("application.date", "2018-06-15", file="申请报告.pdf")
    other = fv("application.date", "2018-06-01", file="申请报告.pdf", page=4)
    f = facts(lease, applied, other)
    assert CHECKS["lease_valid"](f, "premises.lease_end", "application.date").status == "review"
    f = facts(lease, applied, reviewed(other, "2018-06-15"))
    assert CHECKS["lease_valid"](f, "premises.lease_end", "application.date").status == "fail"
