"""The service's vocabulary (``data/vocabulary.toml``): the material types with their names,
cues, sub-kinds and the fields each yields; the fields with their kind, unit, display name
and labels per material. One place per fact, validated on load, read by the classifier,
the readers, the checks, the reports and the web pages.

Light on purpose (``tomllib`` only): the PDF parser reads the form labels from here."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

SOURCE = "vocabulary.toml"
# Kinds a label's value is parsed as, and kinds only a reader gives.
LABEL_KINDS = ("money", "area", "share", "count", "date", "name", "person", "address", "code",
               "text")  # fmt: skip
KINDS = (*LABEL_KINDS, "opinion", "yearly_counts")
CUE_ROLES = ("starts", "sections", "strong", "weak", "refuted")
_TOP_KEYS = {"contract", "scoring", "material", "field", "lookalike", "statements", "form"}
_MATERIAL_KEYS = {"name", "short", "extra", "reader", "fields", "split", "kinds", "images"}
_FIELD_KEYS = {"name", "kind", "unit", "extra", "labels", "statement"}
_LABEL_KEYS = {"materials", "phrases", "units"}
_STATEMENT_KEYS = {"titles", "rows", "same_statement"}
_MATERIAL_ID = re.compile(r"[a-z][a-z_]*")
_FIELD_ID = re.compile(r"[a-z][a-z_0-9]*(?:\.[a-z][a-z_0-9]*)+")


class VocabularyError(ValueError):
    """The vocabulary is malformed or breaks the contract; the message names the entry."""


@dataclass(frozen=True)
class SubKind:
    """A sub-kind reported with a material (a lease or a property certificate)."""

    id: str
    name: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class MaterialType:
    id: str
    name: str  # as people are told of it
    short: str  # in the classifier's explanations (非审计报告:未经审计)
    contract: bool  # one of contract.md's material types
    reader: str | None  # module in extractors/readers/
    fields: tuple[str, ...]  # the fields it yields
    cues: Mapping[str, tuple[str, ...]]  # role (starts, sections, strong, weak, refuted) → phrases
    kinds: tuple[SubKind, ...]
    images: tuple[str, ...]
    split: bool


@dataclass(frozen=True)
class Labels:
    """Phrases that introduce a field's value, where they apply (None: every material) and
    the units the value must be printed with (None: any)."""

    phrases: tuple[str, ...]
    materials: tuple[str, ...] | None = None
    units: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StatementRow:
    """A figure the audit reader takes from a statement's row."""

    field: str
    titles: tuple[str, ...]
    rows: tuple[str, ...]  # row labels, in order of preference
    same_statement: str | None = None


@dataclass(frozen=True)
class FieldType:
    id: str
    name: str  # as people are told of it
    kind: str  # one of KINDS
    unit: str | None  # of the stored value (元, 平方米, 家 …)
    contract: bool  # one of contract.md's fields
    labels: tuple[Labels, ...]
    statement: StatementRow | None


@dataclass(frozen=True)
class Lookalike:
    """Labels of a quantity that looks like a field's but is not it (宗地面积): they read
    nothing and keep a shorter label inside them from matching."""

    name: str
    kind: str
    labels: Labels


@dataclass(frozen=True)
class Vocabulary:
    contract_materials: tuple[str, ...]
    contract_fields: tuple[str, ...]
    materials: Mapping[str, MaterialType]
    fields: Mapping[str, FieldType]
    lookalikes: tuple[Lookalike, ...]
    scoring: Mapping[str, float]
    statement_titles: tuple[str, ...]
    form_labels: tuple[str, ...]
    row_labels: tuple[str, ...]

    def cue_table(self) -> dict[str, Any]:
        """The classifier's cue data (a fresh table: the classifier consumes it)."""
        table: dict[str, Any] = {"scoring": dict(self.scoring)}
        for m in self.materials.values():
            spec: dict[str, Any] = {"label": m.short, "split": m.split}
            spec.update({role: list(cues) for role, cues in m.cues.items()})
            if m.kinds:
                spec["kinds"] = {k.id: list(k.cues) for k in m.kinds}
            if m.images:
                spec["images"] = list(m.images)
            table[m.id] = spec
        return table


@cache
def vocabulary() -> Vocabulary:
    text = resources.files("extractors").joinpath(f"data/{SOURCE}").read_text("utf-8")
    try:
        return parse(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{SOURCE}: {exc}") from exc


# --------------------------------------------------------------------------- accessors


def material(type_id: str) -> MaterialType:
    return vocabulary().materials[type_id]


def field(field_id: str) -> FieldType:
    return vocabulary().fields[field_id]


@cache
def material_names(contract_only: bool = True) -> Mapping[str, str]:
    """Material type → its name for people; the contract's types only unless asked (the
    classifier's ``other`` is no material)."""
    return MappingProxyType(
        {m.id: m.name for m in vocabulary().materials.values() if m.contract or not contract_only}
    )


@cache
def field_names() -> Mapping[str, str]:
    """Field → its name for people, in the vocabulary's order."""
    return MappingProxyType({f.id: f.name for f in vocabulary().fields.values()})


@cache
def field_kinds() -> Mapping[str, str]:
    """Field → its kind (money, area, share, count, date, name … opinion)."""
    return MappingProxyType({f.id: f.kind for f in vocabulary().fields.values()})


@cache
def kind_names() -> Mapping[str, str]:
    """Sub-kind (lease, property_certificate, 营业执照 …) → its name for people."""
    return MappingProxyType(
        {k.id: k.name for m in vocabulary().materials.values() for k in m.kinds}
    )


def form_labels() -> tuple[str, ...]:
    """Labels that mark a page as a form whose tables are read cell by cell."""
    return vocabulary().form_labels


def statement_rows() -> tuple[StatementRow, ...]:
    """The statement rows the audit reader takes, in the vocabulary's order (a row read
    from the statement of another comes after it)."""
    return tuple(f.statement for f in vocabulary().fields.values() if f.statement is not None)


# --------------------------------------------------------------------------- validation


def parse(table: dict[str, Any]) -> Vocabulary:
    """The vocabulary from its TOML table, or VocabularyError naming what is wrong."""
    _keys(table, _TOP_KEYS, SOURCE)
    contract = _table(table.get("contract", {}), "[contract]")
    _keys(contract, {"materials", "fields"}, "[contract]")
    contract_materials = _phrases(contract.get("materials"), "[contract] materials")
    contract_fields = _phrases(contract.get("fields"), "[contract] fields")
    raw_materials = _table(table.get("material", {}), "[material]")
    raw_fields = _table(table.get("field", {}), "[field]")
    statements = _table(table.get("statements", {}), "[statements]")
    _keys(statements, {"titles"}, "[statements]")
    statement_titles = _phrases(statements.get("titles"), "[statements] titles")

    materials = {
        key: _material(key, spec, raw_fields, contract_materials)
        for key, spec in raw_materials.items()
    }
    _all_present(contract_materials, materials, "material type", "[material.{}]")
    fields: dict[str, FieldType] = {}
    for key, spec in raw_fields.items():
        fields[key] = _field(key, spec, materials, contract_fields, statement_titles, fields)
    _all_present(contract_fields, fields, "field", '[field."{}"]')

    lookalikes = []
    for i, spec in enumerate(table.get("lookalike", []), start=1):
        where = f"[[lookalike]] {i} ({spec.get('name', '?')})"
        _keys(spec, {"name", "kind", *_LABEL_KEYS}, where)
        if spec.get("kind") not in LABEL_KINDS:
            raise VocabularyError(f"{SOURCE} {where}: kind must be one of {LABEL_KINDS}")
        labels = _labels({k: v for k, v in spec.items() if k in _LABEL_KEYS}, where, materials)
        lookalikes.append(Lookalike(_text(spec.get("name"), f"{where} name"), spec["kind"], labels))

    _one_field_a_phrase(fields, lookalikes, tuple(materials))

    scoring = _table(table.get("scoring", {}), "[scoring]")
    for key, value in scoring.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VocabularyError(f"{SOURCE} [scoring] {key} must be a number")
    form = _table(table.get("form", {}), "[form]")
    _keys(form, {"labels", "row_labels"}, "[form]")
    return Vocabulary(
        contract_materials=contract_materials,
        contract_fields=contract_fields,
        materials=MappingProxyType(materials),
        fields=MappingProxyType(fields),
        lookalikes=tuple(lookalikes),
        scoring=MappingProxyType({k: float(v) for k, v in scoring.items()}),
        statement_titles=statement_titles,
        form_labels=_phrases(form.get("labels"), "[form] labels"),
        row_labels=_phrases(form.get("row_labels"), "[form] row_labels"),
    )


def _material(
    key: str, spec: Any, raw_fields: dict[str, Any], contract: tuple[str, ...]
) -> MaterialType:
    where = f"[material.{key}]"
    spec = _table(spec, where)
    _keys(spec, _MATERIAL_KEYS | set(CUE_ROLES), where)
    if not _MATERIAL_ID.fullmatch(key):
        raise VocabularyError(f"{SOURCE} {where}: a type is written in lower case and _")
    is_contract = _contract(key, spec, contract, where, "material type")
    name = _text(spec.get("name"), f"{where} name (its name for people)")
    short = _text(spec.get("short"), f"{where} short (its short name)")
    reader = spec.get("reader")
    if reader is not None and not (isinstance(reader, str) and _MATERIAL_ID.fullmatch(reader)):
        raise VocabularyError(f"{SOURCE} {where} reader: a module name in extractors/readers/")
    yields = _phrases(spec.get("fields", []), f"{where} fields", empty=True)
    for yielded in yields:
        if yielded not in raw_fields:
            raise VocabularyError(f"{SOURCE} {where} fields: unknown field {yielded!r}")
    cues = {role: _phrases(spec[role], f"{where} {role}") for role in CUE_ROLES if role in spec}
    kinds = []
    for sub, sub_spec in _table(spec.get("kinds", {}), f"{where} kinds").items():
        sub_where = f"[material.{key}.kinds.{sub}]"
        sub_spec = _table(sub_spec, sub_where)
        _keys(sub_spec, {"name", "cues"}, sub_where)
        kinds.append(
            SubKind(
                sub,
                _text(sub_spec.get("name"), f"{sub_where} name"),
                _phrases(sub_spec.get("cues"), f"{sub_where} cues"),
            )
        )
    split = spec.get("split", False)
    if not isinstance(split, bool):
        raise VocabularyError(f"{SOURCE} {where} split must be true or false")
    return MaterialType(
        id=key,
        name=name,
        short=short,
        contract=is_contract,
        reader=reader,
        fields=yields,
        cues=MappingProxyType(cues),
        kinds=tuple(kinds),
        images=_phrases(spec.get("images", []), f"{where} images", empty=True),
        split=split,
    )


def _field(
    key: str,
    spec: Any,
    materials: dict[str, MaterialType],
    contract: tuple[str, ...],
    statement_titles: tuple[str, ...],
    earlier: dict[str, FieldType],
) -> FieldType:
    where = f'[field."{key}"]'
    spec = _table(spec, where)
    _keys(spec, _FIELD_KEYS, where)
    if not _FIELD_ID.fullmatch(key):
        raise VocabularyError(f"{SOURCE} {where}: a field is written group.name, in lower case")
    is_contract = _contract(key, spec, contract, where, "field")
    name = _text(spec.get("name"), f"{where} name (its name for people)")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise VocabularyError(f"{SOURCE} {where} kind must be one of {KINDS}")
    unit = spec.get("unit")
    if unit is not None:
        unit = _text(unit, f"{where} unit")
    groups = []
    for i, group in enumerate(spec.get("labels", []), start=1):
        group_where = f"{where} labels {i}"
        if kind not in LABEL_KINDS:
            raise VocabularyError(
                f"{SOURCE} {group_where}: a {kind} is given by a reader, not read"
            )
        labels = _labels(_table(group, group_where), group_where, materials)
        for m in labels.materials or ():
            if key not in materials[m].fields:
                raise VocabularyError(
                    f"{SOURCE} {group_where}: material {m!r} does not list {key!r} in its fields"
                )
        groups.append(labels)
    statement = None
    if "statement" in spec:
        statement = _statement(key, _table(spec["statement"], f"{where} statement"), earlier)
        unknown = set(statement.titles) - set(statement_titles)
        if unknown:
            raise VocabularyError(
                f"{SOURCE} {where} statement: titles {sorted(unknown)} are not in [statements]"
            )
    return FieldType(key, name, kind, unit, is_contract, tuple(groups), statement)


def _statement(key: str, spec: dict[str, Any], earlier: dict[str, FieldType]) -> StatementRow:
    where = f'[field."{key}".statement]'
    _keys(spec, _STATEMENT_KEYS, where)
    same = spec.get("same_statement")
    if same is not None and (same not in earlier or earlier[same].statement is None):
        raise VocabularyError(
            f"{SOURCE} {where} same_statement: {same!r} is no statement row listed before it"
        )
    return StatementRow(
        key,
        _phrases(spec.get("titles"), f"{where} titles"),
        _phrases(spec.get("rows"), f"{where} rows"),
        same,
    )


def _labels(spec: dict[str, Any], where: str, materials: dict[str, MaterialType]) -> Labels:
    _keys(spec, _LABEL_KEYS, where)
    applies = spec.get("materials")
    if applies is not None:
        applies = _phrases(applies, f"{where} materials")
        for m in applies:
            if m not in materials:
                raise VocabularyError(f"{SOURCE} {where} materials: unknown material {m!r}")
    units = spec.get("units")
    return Labels(
        _phrases(spec.get("phrases"), f"{where} phrases"),
        applies,
        _phrases(units, f"{where} units") if units is not None else None,
    )


def _one_field_a_phrase(
    fields: dict[str, FieldType], lookalikes: list[Lookalike], materials: tuple[str, ...]
) -> None:
    """In a material, a phrase labels one field (or one look-alike) only: two would read one
    value twice. Phrases are compared as the readers match them (spaces and widths aside)."""
    groups = [(f'field "{f.id}"', g) for f in fields.values() for g in f.labels]
    groups += [(f"lookalike {alike.name!r}", alike.labels) for alike in lookalikes]
    owner: dict[tuple[str, str], str] = {}
    for who, group in groups:
        for m in group.materials or materials:
            for phrase in group.phrases:
                key = (m, re.sub(r"\s+", "", unicodedata.normalize("NFKC", phrase)))
                if owner.setdefault(key, who) != who:
                    raise VocabularyError(
                        f"{SOURCE}: {phrase!r} labels both {owner[key]} and {who} in {m}"
                    )


def _contract(key: str, spec: dict[str, Any], contract: tuple[str, ...], where: str, what: str):
    extra = spec.get("extra", False)
    if not isinstance(extra, bool):
        raise VocabularyError(f"{SOURCE} {where} extra must be true or false")
    if key in contract and extra:
        raise VocabularyError(f"{SOURCE} {where}: {key!r} is a contract {what}; it is not extra")
    if key not in contract and not extra:
        raise VocabularyError(
            f"{SOURCE} {where}: {key!r} is not a {what} of contract.md"
            " (say `extra = true` for one beyond the contract)"
        )
    return not extra


def _all_present(names: tuple[str, ...], entries: dict[str, Any], what: str, form: str) -> None:
    missing = [n for n in names if n not in entries]
    if missing:
        listed = ", ".join(form.format(n) for n in missing)
        raise VocabularyError(f"{SOURCE}: contract {what}s without an entry: {listed}")


def _keys(spec: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(spec) - allowed
    if unknown:
        raise VocabularyError(f"{SOURCE} {where}: unknown keys {sorted(unknown)}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VocabularyError(f"{SOURCE} {where} must be a table")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise VocabularyError(f"{SOURCE} {where}: missing or empty")
    return value


def _phrases(value: Any, where: str, empty: bool = False) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not (value or empty)
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise VocabularyError(f"{SOURCE} {where} must be a list of phrases")
    return tuple(value)
