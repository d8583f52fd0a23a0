"""Rule packs: one TOML file per programme, loaded by name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any


class UnknownRulePackError(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"未知的规则包：{name}（可用：{'、'.join(available_packs())}）")


@dataclass(frozen=True)
class Criterion:
    id: str
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


def available_packs() -> list[str]:
    root = resources.files("validators.packs")
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


@cache
def load_pack(name: str) -> RulePack:
    if name not in available_packs():
        raise UnknownRulePackError(name)
    text = resources.files("validators.packs").joinpath(f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return RulePack(
        name=name,
        programme=data["programme"],
        source=data["source"],
        year=int(data["year"]),
        confirmed=bool(data.get("confirmed", False)),
        note=data.get("note", ""),
        criteria=tuple(
            Criterion(
                id=c["id"],
                article=c["article"],
                article_text=c.get("article_text", ""),
                check=c["check"],
                params=c.get("params", {}),
                messages=c.get("messages", {}),
            )
            for c in data["criteria"]
        ),
    )
