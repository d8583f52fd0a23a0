"""How application reports state their figures, one row a phrasing, each naming the
convention it stands for. Pages are built here as a text layer (no parsing): a title, the
applicant, a heading, and the sentence or form row under test."""

from __future__ import annotations

import pytest

from extractors.classify import classify_documents
from extractors.fields import extract_fields
from extractors.model import Block, Document, Line, Origin, Page


def read(sentence: str) -> dict[str, list]:
    lines = [
        "西安市中小企业公共服务示范平台申请报告",
        "申报单位：西安秦岭数据服务有限公司",
        "一、平台基本情况",
        sentence,
    ]
    page = Page(
        number=1, width=595, height=842, unit="pt", origin=Origin.TEXT,
        blocks=[Block(lines=[Line(text=t, bbox=(50, 50 + 20 * i, 500, 65 + 20 * i))
                             for i, t in enumerate(lines)])],
    )  # fmt: skip
    documents = [
        ("申请报告.pdf", Document(media_type="application/pdf", parser="pdf", pages=[page]))
    ]
    fields = extract_fields(documents, classify_documents(documents))
    return {name: [v.value for v in found] for name, found in fields.items()}


@pytest.mark.parametrize(
    ("sentence", "field", "value"),
    [
        # Prose reports a result with 达到 (reached) between the label and the figure.
        ("服务对象满意度达到95%。", "service.satisfaction", 0.95),
        ("平台全年服务企业满意度达到百分之九十六。", "service.satisfaction", 0.96),
        # Form rows put the unit in the label's brackets and a bare number after it.
        ("用户满意度（%）：95.6", "service.satisfaction", 0.956),
        # Staff counts are stated as a total (总数), in forms and in prose.
        ("服务人员总数：45人", "staff.service_staff", 45),
        ("平台从业人员总数为62人。", "staff.service_staff", 62),
        # The premises are described by their 使用面积 / 建筑面积 (as on the lease).
        ("平台服务场地使用面积1200平方米。", "premises.area_m2", 1200.0),
        ("现有办公及服务用房建筑面积860平方米。", "premises.area_m2", 860.0),
        # A plan in one sentence does not make the next one's fact a plan.
        ("力争到2020年实现服务企业500家的目标。现有服务人员35人。", "staff.service_staff", 35),
    ],
)
def test_a_stated_figure_is_read(sentence, field, value):
    assert read(sentence).get(field) == [value]


@pytest.mark.parametrize(
    ("sentence", "field"),
    [
        # A target, in the same sentence as the figure, is not a figure of last year.
        ("力争三年内服务人员达到50人。", "staff.service_staff"),
        ("计划新增服务场地面积500平方米。", "premises.area_m2"),
    ],
)
def test_a_planned_figure_is_not_read(sentence, field):
    assert field not in read(sentence)
