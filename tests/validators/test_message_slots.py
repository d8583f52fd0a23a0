"""No empty slot ever reaches a message (issue 14: "（—）" was shown where a review message
named a value the check had not given). Every message of every pack, with every status
(the pack's own, or the engine's default), is rendered with a full context, an empty one
and each slot left empty in turn; people see criterion titles, never ids."""

from __future__ import annotations

import re
import string

import pytest

from validators.engine import _DEFAULT, Status, _format
from validators.packs import available_packs, load_pack

# What a slot left empty used to print, and what an emptied slot must not leave behind.
FORBIDDEN = re.compile(r"—|\{|\}|None|（）|\(\)|“”|「」|：。|，。|；。|：；|^[，；：]")
FULL = {
    "value": "西安秦岭科技有限公司", "where": "营业执照.jpg 第1页", "reference": "2018年7月",
    "reason": "识别置信度低（0.41）", "years": 2, "met": "培训服务", "missing": "营业执照",
    "present": "申请报告：申请报告.pdf 第1–8页", "details": "未能识别类型：扫描件.pdf 第3页",
    "detail": "申报材料真实性声明（声明.pdf 第1页）", "note": "", "doubtful": "",
}  # fmt: skip


def _messages():
    for name in available_packs():
        for criterion in load_pack(name).criteria:
            for status in Status:
                template = criterion.messages.get(str(status)) or _DEFAULT[status]
                yield pytest.param(template, id=f"{name}:{criterion.id}:{status}")


def _slots(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


@pytest.mark.parametrize("template", list(_messages()))
def test_no_message_shows_an_empty_slot(template):
    contexts = [FULL, {}] + [{**FULL, slot: None} for slot in _slots(template)]
    contexts += [{**FULL, slot: ""} for slot in _slots(template)]
    for context in contexts:
        text = _format(template, context)
        assert text and not FORBIDDEN.search(text), (template, context, text)


@pytest.mark.parametrize("name", available_packs())
def test_every_criterion_has_a_title_and_a_message_for_each_status_it_can_take(name):
    for criterion in load_pack(name).criteria:
        assert criterion.title and not re.search(r"[a-z]\.[a-z]", criterion.title)
        # xian-2018 lacked review messages for 13 criteria: the default named no reviewer
        # task; every criterion now says what a reviewer checks and why.
        assert "review" in criterion.messages, criterion.id
        assert "评审人员" in criterion.messages["review"], criterion.id


@pytest.mark.parametrize("name", available_packs())
def test_what_the_applicant_must_fix_asks_for_it_and_review_items_do_not(name):
    for criterion in load_pack(name).criteria:
        for status in ("fail", "missing"):
            text = criterion.messages.get(status)
            if text:
                assert "请" in text.replace("请评审人员", ""), (criterion.id, status)
        review = criterion.messages["review"]
        assert not re.search(r"请(上传|补充|提交|修改)|申请人", review), criterion.id


def test_a_finding_carries_its_title_and_the_json_keeps_the_id():
    from validators.engine import Facts, evaluate

    pack = load_pack("xian-2018")
    found = {f.criterion: f.as_dict() for f in evaluate(pack, Facts(materials=[], fields={}))}
    assert found["x.seal"]["title"] == "加盖公章"
    assert found["12.registered_locally"]["title"] == "注册地在西安市"
    assert all(f["criterion"] == c.id for c, f in zip(pack.criteria, found.values(), strict=True))
    for f in found.values():
        assert not FORBIDDEN.search(f["message"]), f
