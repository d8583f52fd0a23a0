"""Rule packs: one TOML file per programme, loaded by name and validated against its schema
(every criterion names a known check with exactly the parameters it takes); an error
names the file and the line."""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

STATUSES = ("pass", "fail", "missing", "review")


class UnknownRulePackError(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"未知的规则包：{name}（可用：{'、'.join(available_packs())}）")


class RulePackError(ValueError):
    """A rule pack that does not follow the schema; the message names file and line."""


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str  # how people are shown the criterion (findings, history, reports)
    article: str
    article_text: str
    check: str
    params: dict[str, Any]
    messages: dict[str, str]


@dataclass(frozen=True)
class RulePack:
    name: str
    programme: str
    source: str
    year: int
    confirmed: bool
    note: str
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)

    def meta(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "source": self.source,
            "year": self.year,
            "confirmed": self.confirmed,
            "note": self.note,
        }

    def titles(self) -> dict[str, str]:
        """Each criterion's id → the name people are shown."""
        return {c.id: c.title for c in self.criteria}


class _CriterionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = Field(min_length=1)
    article: str
    article_text: str = ""
    check: str
    params: dict[str, Any] = {}
    messages: dict[str, str] = {}

    @field_validator("messages")
    @classmethod
    def _statuses(cls, messages: dict[str, str]) -> dict[str, str]:
        unknown = set(messages) - set(STATUSES)
        if unknown:
            raise ValueError(f"messages 只能针对 {', '.join(STATUSES)}，不能是 {sorted(unknown)}")
        return messages


class _PackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme: str
    source: str
    year: int
    confirmed: bool = False
    note: str = ""
    criteria: list[_CriterionSpec]


def available_packs() -> list[str]:
    root = resources.files("validators.packs")
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


@cache
def load_pack(name: str) -> RulePack:
    if name not in available_packs():
        raise UnknownRulePackError(name)
    text = resources.files("validators.packs").joinpath(f"{name}.toml").read_text("utf-8")
    return parse_pack(name, text)


def parse_pack(name: str, text: str) -> RulePack:
    """Read and validate a pack's text; ``RulePackError`` names the line of the problem."""
    where = f"规则包 {name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from(str(exc))
        raise RulePackError(f"{where} 第 {line} 行：TOML 格式错误（{exc}）") from exc
    try:
        spec = _PackSpec.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        path = problem["loc"]
        line = 1
        if len(path) >= 2 and path[0] == "criteria" and isinstance(path[1], int):
            line = _criterion_line(text, path[1])
        place = ".".join(str(p) for p in path)
        raise RulePackError(f"{where} 第 {line} 行：{place}：{problem['msg']}") from exc
    from validators.checks import CHECKS

    seen: set[str] = set()
    for index, criterion in enumerate(spec.criteria):
        line = _criterion_line(text, index)
        if criterion.id in seen:
            raise RulePackError(f"{where} 第 {line} 行：条款 {criterion.id} 重复出现")
        seen.add(criterion.id)
        check = CHECKS.get(criterion.check)
        if check is None:
            raise RulePackError(
                f"{where} 第 {line} 行：条款 {criterion.id} 使用了未知的检查“{criterion.check}”"
                f"（可用：{'、'.join(sorted(CHECKS))}）"
            )
        problem = _params_problem(check, criterion.params)
        if problem:
            raise RulePackError(f"{where} 第 {line} 行：条款 {criterion.id} 的参数{problem}")
    return RulePack(
        name=name,
        programme=spec.programme,
        source=spec.source,
        year=spec.year,
        confirmed=spec.confirmed,
        note=spec.note,
        criteria=tuple(
            Criterion(
                id=c.id,
                title=c.title,
                article=c.article,
                article_text=c.article_text,
                check=c.check,
                params=c.params,
                messages=c.messages,
            )
            for c in spec.criteria
        ),
    )


def _params_problem(check, params: dict[str, Any]) -> str | None:
    signature = inspect.signature(check)
    accepted = [p for p in signature.parameters.values() if p.name != "facts"]
    names = {p.name for p in accepted}
    unknown = sorted(set(params) - names)
    if unknown:
        return f"不认识：{'、'.join(unknown)}（{check.__name__} 接受 {'、'.join(sorted(names))}）"
    missing = [p.name for p in accepted if p.default is p.empty and p.name not in params]
    if missing:
        return f"缺少：{'、'.join(missing)}"
    return None


def _criterion_line(text: str, index: int) -> int:
    """The line of the ``index``-th ``[[criteria]]`` table."""
    found = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "[[criteria]]"]
    return found[index] if index < len(found) else 1


def _line_from(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 1
