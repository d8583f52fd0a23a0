"""Every check on table-driven cases, boundaries included: exactly 500,000 元, exactly
200 m², 79.9 %, a lease ending on the application date, a company founded two years ago
to the day."""

from __future__ import annotations

import pytest

from extractors.classify import Material
from extractors.model import Block, Document, Line, Mark, Page
from tests.validators.test_checks import facts, value
from validators.checks import (
    address_in,
    any_of,
    at_least,
    audit_opinion,
    balances,
    credit_codes_valid,
    declared_matches,
    functions,
    grows,
    judgement,
    lease_valid,
    previous_year_end,
    sealed,
    years_before,
)
from validators.engine import Facts

CODE = "91610131MA6TXK1U2Y"


@pytest.mark.parametrize(
    ("field", "got", "minimum", "conf", "want"),
    [
        ("finance.total_assets", 500000.0, 500000, 0.99, "pass"),  # exactly the threshold
        ("finance.total_assets", 499999.99, 500000, 0.99, "fail"),
        ("premises.area_m2", 200.0, 200, 0.99, "pass"),
        ("premises.area_m2", 199.9, 200, 0.99, "fail"),
        ("service.satisfaction", 0.799, 0.80, 0.99, "fail"),  # 79.9 %
        ("service.satisfaction", 0.80, 0.80, 0.99, "pass"),
        ("staff.service_staff", 10, 10, 0.99, "pass"),
        ("staff.service_staff", 9, 10, 0.99, "fail"),
        ("service.public_interest_share", 0.2, 0.20, 0.99, "pass"),
        ("service.satisfaction", 0.5, 0.80, 0.4, "review"),  # never fail on a doubtful read
    ],
)
def test_at_least(field, got, minimum, conf, want):
    assert (
        at_least(facts(value(field, got, "application_report", conf=conf)), field, minimum).status
        == want
    )


@pytest.mark.parametrize(
    ("smes", "revenue", "want"),
    [
        (50, None, "pass"),
        (49, 1_000_000.0, "fail"),  # revenue must be *over* a million
        (49, 1_000_000.01, "pass"),
        (None, 1_500_000.0, "pass"),
        (None, None, "missing"),
        (49, None, "missing"),  # the other condition could still hold: not a fail
    ],
)
def test_any_of_service_volume(smes, revenue, want):
    values = []
    if smes is not None:
        values.append(value("service.smes_served", smes, "application_report"))
    if revenue is not None:
        values.append(value("service.sme_revenue", revenue, "application_report"))
    conditions = [
        {"field": "service.smes_served", "min": 50},
        {"field": "service.sme_revenue", "above": 1000000},
    ]
    assert any_of(facts(*values), conditions).status == want


@pytest.mark.parametrize(
    ("established", "applied", "want"),
    [
        ("2016-06-15", "2018-06-15", "pass"),  # two years to the day
        ("2016-06-16", "2018-06-15", "fail"),
        ("2016-02-29", "2018-02-28", "pass"),  # a leap day's anniversary
        ("2015-01-01", "2018-06-15", "pass"),
    ],
)
def test_years_before(established, applied, want):
    f = facts(
        value("applicant.established", established, "business_licence"),
        value("application.date", applied, "application_report"),
    )
    assert years_before(f, "applicant.established", "application.date", 2).status == want


@pytest.mark.parametrize(
    ("period_end", "applied", "want"),
    [
        ("2017-12-31", "2018-06-15", "pass"),
        ("2016-12-31", "2018-06-15", "fail"),
        ("2017-06-30", "2018-06-15", "fail"),
    ],
)
def test_previous_year_end(period_end, applied, want):
    f = facts(
        value("audit.period_end", period_end, "audit_report"),
        value("application.date", applied, "application_report"),
    )
    assert previous_year_end(f, "audit.period_end", "application.date").status == want


@pytest.mark.parametrize(
    ("lease_end", "applied", "want"),
    [
        ("2018-06-15", "2018-06-15", "pass"),  # ends on the application date: still valid
        ("2018-06-14", "2018-06-15", "fail"),
        ("2021-02-28", "2018-06-15", "pass"),
    ],
)
def test_lease_valid(lease_end, applied, want):
    f = facts(
        value("premises.lease_end", lease_end, "premises_proof"),
        value("application.date", applied, "application_report"),
    )
    assert lease_valid(f, "premises.lease_end", "application.date").status == want


def test_owned_premises_need_no_lease():
    owned = Material("premises_proof", "cert.pdf", (1, 1), ["标题:不动产权证书"], 0.9)
    f = facts(value("application.date", "2018-06-15", "application_report"), materials=[owned])
    assert lease_valid(f, "premises.lease_end", "application.date").status == "pass"


@pytest.mark.parametrize(
    ("opinion", "want"),
    [
        ("unqualified", "pass"),
        ("qualified", "review"),
        ("adverse", "review"),
        ("disclaimer", "review"),
    ],
)
def test_audit_opinion(opinion, want):
    f = facts(value("audit.opinion", opinion, "audit_report"))
    assert audit_opinion(f, "audit.opinion").status == want


@pytest.mark.parametrize(
    ("declared", "audited", "conf", "want"),
    [
        (1_010_000.0, 1_000_000.0, 0.99, "pass"),  # exactly 1 %
        (1_010_100.0, 1_000_000.0, 0.99, "fail"),
        (2_000_000.0, 1_000_000.0, 0.4, "review"),
    ],
)
def test_declared_matches(declared, audited, conf, want):
    f = facts(
        value("finance.total_assets", declared, "application_report"),
        value("finance.total_assets", audited, "audit_report", conf=conf),
    )
    out = declared_matches(f, "finance.total_assets", "application_report", ["audit_report"], 0.01)
    assert out.status == want


@pytest.mark.parametrize(
    ("address", "kwargs", "want"),
    [
        ("西安市高新区科技路48号", {"city": "西安市"}, "pass"),
        ("西安高新区锦业路1号", {"city": "西安市"}, "pass"),  # without 西安市
        ("陕西省西咸新区沣西新城开元路", {"city": "西安市"}, "pass"),
        ("咸阳市渭城区文汇东路265号", {"city": "西安市"}, "fail"),
        ("大连市西安路123号", {"city": "西安市"}, "fail"),  # 西安 in a street name
        ("高新区锦业路1号", {"city": "西安市"}, "review"),  # which city's 高新区
        ("锦业路1号", {"city": "西安市"}, "review"),
        ("广州市天河区体育西路1号", {"province": "广东省"}, "pass"),
        ("南京市鼓楼区中山路1号", {"province": "广东省"}, "fail"),
        ("中山路1号", {"province": "广东省"}, "review"),
        ("北京市海淀区中关村大街1号", {}, "pass"),  # any address in the country
    ],
)
def test_address_in(address, kwargs, want):
    f = facts(value("applicant.address", address, "business_licence"))
    assert address_in(f, "applicant.address", **kwargs).status == want


@pytest.mark.parametrize(("conf", "want"), [(0.6, "fail"), (0.59, "review")])
def test_address_in_fails_from_the_threshold(conf, want):
    f = facts(
        value("applicant.address", "咸阳市渭城区文汇东路265号", "business_licence", conf=conf)
    )
    assert address_in(f, "applicant.address", city="西安市").status == want


def test_credit_codes_valid():
    good = facts(value("applicant.credit_code", CODE, "business_licence"))
    assert credit_codes_valid(good, "applicant.credit_code").status == "pass"
    bad = CODE[:-1] + ("X" if CODE[-1] != "X" else "Y")
    typed = facts(value("applicant.credit_code", bad, "application_report"))
    assert credit_codes_valid(typed, "applicant.credit_code").status == "fail"
    scanned = facts(value("applicant.credit_code", bad, "business_licence", conf=0.4))
    assert credit_codes_valid(scanned, "applicant.credit_code").status == "review"
    # The same bad code doubted on the scan but typed in the application: certain.
    both = facts(
        value("applicant.credit_code", bad, "business_licence", conf=0.3),
        value("applicant.credit_code", bad, "application_report"),
    )
    assert credit_codes_valid(both, "applicant.credit_code").status == "fail"


@pytest.mark.parametrize(
    ("assets", "equity", "origin", "want"),
    [
        (3_265_000.00, 3_265_000.00, "text", "pass"),
        (3_265_000.00, 3_265_100.00, "text", "fail"),
        (3_265_000.00, 3_265_100.00, "ocr", "review"),
    ],
)
def test_the_balance_sheet_balances(assets, equity, origin, want):
    f = facts(
        value("finance.total_assets", assets, "audit_report", origin=origin),
        value("finance.liabilities_and_equity", equity, "audit_report", origin=origin),
    )
    assert balances(f, "finance.total_assets", "finance.liabilities_and_equity").status == want


@pytest.mark.parametrize(
    ("years", "want"),
    [
        ({"2016": 180, "2017": 274}, "pass"),
        ({"2016": 274, "2017": 274}, "fail"),
        ({"2016": 300, "2017": 274}, "fail"),
        ({"2017": 274}, "missing"),
    ],
)
def test_growth(years, want):
    f = facts(value("service.smes_served_by_year", years, "application_report"))
    assert grows(f, "service.smes_served_by_year", 2).status == want


def _report_facts(*values, text="平台建立了健全的管理制度和收费标准。", marks=(), origin="docx"):
    page = Page(
        number=1,
        origin=origin,
        blocks=[Block(lines=[Line(text=text)])],
        marks=list(marks),
        images=1 if origin == "ocr" else 0,
    )
    document = Document(media_type="x", parser="test", pages=[page])
    f = facts(*values, materials=[Material("application_report", "app.docx", (1, 1), [], 0.9)])
    return Facts(materials=f.materials, fields=f.fields, documents=[("app.docx", document)])


FUNCTIONS = [
    {
        "name": "培训服务",
        "all": [{"field": "function.training.person_times", "min": 1000}],
        "keywords": ["培训"],
    },
]


@pytest.mark.parametrize(
    ("person_times", "want"), [(1000, "pass"), (999, "review"), (None, "review")]
)
def test_functions_pass_only_when_stated_plainly(person_times, want):
    values = []
    if person_times is not None:
        values.append(value("function.training.person_times", person_times, "application_report"))
    out = functions(_report_facts(*values, text="年培训企业员工。"), FUNCTIONS)
    assert out.status == want  # never a fail: a person judges what the figures miss
    if want == "review":
        assert "app.docx 第1页" in out.context["where"]


def test_judgement_points_to_the_pages():
    out = judgement(_report_facts(), ["管理制度", "收费标准"])
    assert out.status == "review" and "app.docx 第1页" in out.context["where"]
    assert judgement(facts(), ["管理制度"]).status == "missing"


@pytest.mark.parametrize(
    ("origin", "seal", "want"),
    [("ocr", True, "pass"), ("ocr", False, "review"), ("docx", False, "review")],
)
def test_sealed(origin, seal, want):
    marks = [Mark(kind="red_seal", bbox=(1, 1, 2, 2), conf=0.9)] if seal else []
    f = _report_facts(origin=origin, marks=marks)
    assert sealed(f, ["application_report"]).status == want
    assert sealed(facts(), ["application_report"]).status == "missing"
