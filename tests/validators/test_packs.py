"""Rule packs: each loads and validates its own schema; a bad pack names the line."""

from __future__ import annotations

from importlib import resources

import pytest

from tests.validators.test_checks import facts
from validators.engine import evaluate
from validators.packs import RulePackError, available_packs, load_pack, parse_pack

CONTRACT = {
    "12.registered_locally", "12.1.years_operating", "12.1.total_assets",
    "12.2.service_volume", "12.2.satisfaction", "12.4.public_interest_share",
    "12.5.service_staff", "12.5.qualified_share", "13.function", "17.complete",
    "x.credit_code_valid", "x.name_consistent", "x.credit_code_consistent",
    "x.assets_match", "x.revenue_match", "x.area_match", "x.audit_period",
    "x.lease_valid", "x.audit_opinion",
}  # fmt: skip


def test_the_four_packs_are_there():
    assert set(available_packs()) >= {
        "xian-2018",
        "national-2017",
        "guangdong-2020",
        "jiangsu-2020",
    }


@pytest.mark.parametrize("name", available_packs())
def test_each_pack_loads_and_judges_an_empty_dossier(name):
    pack = load_pack(name)
    ids = {c.id for c in pack.criteria}
    assert ids >= CONTRACT  # criteria keep their names across programmes
    findings = evaluate(pack, facts())
    assert len(findings) == len(pack.criteria)
    assert all(f.status in ("missing", "fail", "review") and f.message for f in findings)


def test_only_the_xian_pack_is_confirmed_and_the_others_say_so():
    assert load_pack("xian-2018").confirmed
    for name in ("national-2017", "guangdong-2020", "jiangsu-2020"):
        pack = load_pack(name)
        assert not pack.confirmed and "尚未与官方原文核对" in pack.note


@pytest.mark.parametrize(
    ("name", "criterion", "param", "value"),
    [
        ("national-2017", "12.1.total_assets", "min", 3_000_000),
        ("national-2017", "12.2.service_volume", "min", 150),
        ("national-2017", "12.5.service_staff", "min", 20),
        ("national-2017", "12.6.agencies_aggregated", "min", 5),
        ("guangdong-2020", "12.1.total_assets", "min", 2_000_000),
        ("guangdong-2020", "12.2.service_volume", "min", 80),
        ("guangdong-2020", "12.3.service_area", "min", 200),
        ("guangdong-2020", "12.5.qualified_share", "min", 0.60),
        ("jiangsu-2020", "12.1.total_assets", "min", 1_200_000),
        ("jiangsu-2020", "12.2.service_volume", "min", 120),
        ("jiangsu-2020", "12.2.satisfaction", "min", 0.85),
        ("jiangsu-2020", "12.5.service_staff", "min", 12),
        ("jiangsu-2020", "12.6.agencies_aggregated", "min", 5),
    ],
)
def test_thresholds_as_published(name, criterion, param, value):
    (found,) = [c for c in load_pack(name).criteria if c.id == criterion]
    assert found.params[param] == value


def test_criteria_a_programme_does_not_have_are_absent():
    assert "12.6.agencies_aggregated" not in {c.id for c in load_pack("guangdong-2020").criteria}
    assert "12.3.service_area" not in {c.id for c in load_pack("jiangsu-2020").criteria}


XIAN = resources.files("validators.packs").joinpath("xian-2018.toml").read_text("utf-8")


def _line_of(text: str, needle: str) -> int:
    """The line of the [[criteria]] table holding ``needle``."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if needle in line)
    return max(i for i in range(at + 1) if lines[i].strip() == "[[criteria]]") + 1


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('check = "address_in"', 'check = "adress_in"', "未知的检查“adress_in”"),
        ("min = 500000", "minimum = 500000", "不认识：minimum"),
        (
            'params = { field = "service.satisfaction", min = 0.80, unit = "share" }',
            'params = { min = 0.80, unit = "share" }',
            "缺少：field",
        ),
        (
            'messages.missing = "未能读取用户满意度',
            'messages.absent = "未能读取用户满意度',
            "messages",
        ),
    ],
)
def test_a_bad_pack_error_names_the_line(old, new, says):
    text = XIAN.replace(old, new, 1)
    with pytest.raises(RulePackError) as caught:
        parse_pack("broken", text)
    message = str(caught.value)
    assert says in message and "broken.toml" in message
    assert (
        f"第 {_line_of(text, new.split(' = ')[0] if 'messages' in new else new[:20])} 行" in message
    )


def test_a_toml_syntax_error_names_its_line():
    text = XIAN.replace("year = 2018", "year = = 2018", 1)
    with pytest.raises(RulePackError, match="第 3 行"):
        parse_pack("broken", text)


def test_a_repeated_criterion_is_refused():
    block = XIAN[
        XIAN.index("[[criteria]]") : XIAN.index("[[criteria]]", XIAN.index("[[criteria]]") + 1)
    ]
    with pytest.raises(RulePackError, match="重复"):
        parse_pack("broken", XIAN + "\n" + block)
