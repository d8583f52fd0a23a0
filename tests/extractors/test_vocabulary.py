"""The vocabulary (extractors/data/vocabulary.toml): the contract's names, people's names
for every material and field, the readers it names, and the errors a broken entry gives.

``tests/fixtures/contract.md`` is a copy of spec/contract.md (tests never read outside the
repository): when the contract changes, copy it again and this test says what to add."""

from __future__ import annotations

import copy
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from extractors import vocabulary as vocab
from extractors.classify import CueBook, classify_documents
from extractors.fields import reader_for
from extractors.model import Block, Document, Line, Origin, Page
from extractors.vocabulary import VocabularyError, parse, vocabulary

CONTRACT = Path(__file__).parent.parent / "fixtures" / "contract.md"


def _contract_names(heading: str) -> list[str]:
    """The names in the first column of the table under ``## heading`` of contract.md."""
    text = CONTRACT.read_text("utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def _table() -> dict:
    data = resources.files("extractors").joinpath("data/vocabulary.toml").read_text("utf-8")
    return tomllib.loads(data)


def test_the_contract_names_are_the_contracts():
    materials = _contract_names("Material types")
    fields = _contract_names("Fields")
    assert len(materials) == 8 and len(fields) == 23  # the tables were found
    v = vocabulary()
    assert list(v.contract_materials) == materials
    assert list(v.contract_fields) == fields
    assert [m for m in v.materials if v.materials[m].contract] == materials
    assert [f for f in v.fields if v.fields[f].contract] == fields


def test_every_material_and_field_has_a_name_for_people():
    v = vocabulary()
    han = re.compile(r"[\u4e00-\u9fff]")
    for m in v.materials.values():
        assert han.search(m.name) and han.search(m.short), m.id
        assert all(han.search(k.name) for k in m.kinds), m.id
    for f in v.fields.values():
        assert han.search(f.name), f.id
    # The checks, reports and pages name them from here.
    from intake.reports.html import NAMES
    from validators.checks import FIELD_NAMES, MATERIAL_NAMES

    assert dict(MATERIAL_NAMES) == {m: v.materials[m].name for m in v.contract_materials}
    assert dict(FIELD_NAMES) == {f.id: f.name for f in v.fields.values()}
    assert NAMES["MATERIAL_NAMES"]["other"] == v.materials["other"].name
    assert NAMES["KIND_NAMES"]["lease"] == "租赁合同"


def test_units_are_the_contracts():
    """Money in 元 (never 万元), areas in 平方米; shares and dates carry none."""
    for f in vocabulary().fields.values():
        expected = {"money": "元", "area": "平方米", "share": None, "date": None}
        if f.kind in expected:
            assert f.unit == expected[f.kind], f.id


def test_each_reader_is_a_module_and_gives_what_its_materials_yield():
    v = vocabulary()
    by_reader: dict[str, set[str]] = {}
    for m in v.materials.values():
        if m.reader:
            by_reader.setdefault(m.reader, set()).update(m.fields)
    assert set(by_reader) >= {"licence_adapter", "audit", "premises", "application"}
    for name, yields in by_reader.items():
        reader = reader_for(next(m.id for m in v.materials.values() if m.reader == name))
        assert callable(reader.read), name
        missing = set(reader.FIELDS) - yields
        assert not missing, f"{name} gives {missing}, which none of its materials lists"
        assert all(v.fields[f].kind for f in reader.FIELDS)
    assert reader_for("qualification") is None
    assert reader_for("other") is None


def test_the_classifier_reads_the_cues_from_here():
    """A page titled with a start cue is that material; the short name explains a
    refutation (非审计报告:未经审计)."""
    page = Page(
        number=1,
        origin=Origin.TEXT,
        blocks=[
            Block(
                lines=[
                    Line(text="2020年半年度报告", size=20),
                    Line(text="本半年度报告未经审计。", size=10),
                ]
            )
        ],
    )
    document = Document(media_type="application/pdf", parser="test", pages=[page])
    got = classify_documents([("r.pdf", document)])
    assert got[0].type == "other"
    assert f"非{vocabulary().materials['audit_report'].short}:未经审计" in got[0].cues
    CueBook(vocabulary().cue_table())  # a fresh table each time: the book consumes it
    assert "scoring" in vocabulary().cue_table()


def test_form_labels_for_the_pdf_parser():
    """The PDF parser tells a form (its tables read cell by cell) by three of these."""
    from extractors.parsers.pdf import FORM_LABELS

    labels = vocab.form_labels()
    assert len(labels) >= 3 and "单位名称" in labels
    assert tuple(FORM_LABELS) == labels


# --------------------------------------------------------------------------- errors


def _broken(change) -> str:
    table = copy.deepcopy(_table())
    change(table)
    with pytest.raises(VocabularyError) as caught:
        parse(table)
    return str(caught.value)


def test_an_unknown_material_in_a_fields_labels_is_named():
    def change(t):
        t["field"]["premises.holder"]["labels"][0]["materials"] = ["premises_prof"]

    assert "unknown material 'premises_prof'" in _broken(change)


def test_a_field_without_a_name_for_people_is_named():
    def change(t):
        del t["field"]["premises.holder"]["name"]

    message = _broken(change)
    assert '[field."premises.holder"] name' in message


def test_a_name_that_is_not_the_contracts_is_named():
    def change(t):
        t["field"]["premises.area"] = {"name": "面积", "kind": "area", "unit": "平方米"}

    message = _broken(change)
    assert "'premises.area' is not a field of contract.md" in message


def test_a_contract_name_without_an_entry_is_named():
    def change(t):
        del t["material"]["qualification"]

    message = _broken(change)
    assert "contract material types without an entry: [material.qualification]" in message


def test_extra_on_a_contract_name_is_refused():
    def change(t):
        t["field"]["audit.firm"]["extra"] = True

    assert "'audit.firm' is a contract field" in _broken(change)


def test_labels_in_a_material_that_does_not_yield_the_field_are_refused():
    def change(t):
        t["material"]["premises_proof"]["fields"].remove("premises.holder")

    assert "'premises_proof' does not list 'premises.holder'" in _broken(change)


def test_a_material_yielding_an_unknown_field_is_named():
    def change(t):
        t["material"]["audit_report"]["fields"].append("audit.signature")

    assert "[material.audit_report] fields: unknown field 'audit.signature'" in _broken(change)


def test_one_phrase_labels_one_field_in_a_material():
    def change(t):
        t["field"]["premises.holder"]["labels"][0]["phrases"].append("坐 落")

    message = _broken(change)
    assert "'坐 落' labels both" in message and "premises_proof" in message


def test_a_reader_given_kind_has_no_labels():
    def change(t):
        t["field"]["audit.opinion"]["labels"] = [{"phrases": ["审计意见"]}]

    assert "a opinion is given by a reader" in _broken(change)


def test_an_unknown_kind_or_key_is_named():
    def kind(t):
        t["field"]["premises.area_m2"]["kind"] = "square_metres"

    def key(t):
        t["material"]["audit_report"]["titles"] = ["审计报告"]

    assert '[field."premises.area_m2"] kind must be one of' in _broken(kind)
    assert "[material.audit_report]: unknown keys ['titles']" in _broken(key)


def test_statement_rows_are_checked():
    def same(t):
        t["field"]["finance.liabilities_and_equity"]["statement"]["same_statement"] = (
            "finance.service_revenue"
        )

    def title(t):
        t["field"]["finance.revenue"]["statement"]["titles"] = ["收入表"]

    assert "'finance.service_revenue' is no statement row listed before it" in _broken(same)
    assert "titles ['收入表'] are not in [statements]" in _broken(title)


def test_a_new_material_type_takes_one_entry():
    """A material type added to the table is named, classified by its cues and read by its
    labels with nothing else changed (its reader, if any, is one file it names)."""
    table = copy.deepcopy(_table())
    table["material"]["tax_certificate"] = {
        "name": "纳税证明",
        "short": "纳税证明",
        "extra": True,
        "fields": ["applicant.name", "applicant.credit_code"],
        "starts": ["纳税证明", "完税证明"],
        "strong": ["税务机关", "纳税人识别号"],
    }
    table["field"]["applicant.name"]["labels"][0]["materials"].append("tax_certificate")
    v = parse(table)
    assert v.materials["tax_certificate"].name == "纳税证明"
    page = Page(
        number=1,
        origin=Origin.TEXT,
        blocks=[Block(lines=[Line(text="完税证明", size=20), Line(text="纳税人名称：某公司")])],
    )
    from extractors.classify import page_evidence

    evidence = page_evidence(page, book=CueBook(v.cue_table()))
    assert evidence.best()[0] == "tax_certificate"
