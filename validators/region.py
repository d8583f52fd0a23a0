"""Where an address is: province, city, district or development zone, decided from a
gazetteer, never from a substring (西安路 in 大连市 is not Xi'an; 长安区 alone may be 石家庄's).

The gazetteer is China's administrative divisions as jionlp ships them (province, city,
district/county and township, kept current by its maintainers), plus each programme city's
development zones, new areas and old county names (``data/zones.toml``). jionlp is read, not
imported: importing it prints to stdout and unzips 49 MB into its own package folder, which
fails where the code is read-only (our image runs as an unprivileged user).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

LOCATION_ZIP = ("dictionary", "china_location.zip")
LOCATION_TXT = "china_location.txt"
PROVINCE, CITY, DISTRICT = 0, 1, 2


class How(StrEnum):
    """How a place was decided (or why it could not be)."""

    NAMED = "named"  # the city, or a district only one city has, is written
    ZONE = "zone"  # a development zone or new area of the city is written
    OLD_NAME = "old_name"  # a former county name (户县)
    TOWN = "town"  # a township or street office only one district has
    PROVINCE = "province"  # only the province can be told
    AMBIGUOUS = "ambiguous"  # a name several cities share (长安区, 高新区)
    CONFLICT = "conflict"  # names of different cities
    NOTHING = "nothing"  # no place name at all


# Enough to say an address is somewhere else; a township name is not (西咸新区 took over
# townships that the national list still files under 咸阳's districts).
DECISIVE = frozenset({How.NAMED, How.ZONE, How.OLD_NAME, How.PROVINCE})


@dataclass(frozen=True)
class Place:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    zone: str | None = None
    how: How = How.NOTHING
    confidence: float = 0.0
    reason: str = "地址中没有可识别的省、市、区县或开发区名称"  # Chinese, for messages


class GazetteerError(RuntimeError):
    """The division list could not be read (jionlp missing, or its data file changed)."""


@dataclass(eq=False)
class Division:
    name: str
    code: str
    level: int
    parent: Division | None = None

    def at(self, level: int) -> Division | None:
        node: Division | None = self
        while node is not None and node.level > level:
            node = node.parent
        return node if node is not None and node.level == level else None

    def __repr__(self) -> str:  # short, for test failures
        return f"<{self.name} {self.code}>"


@dataclass(eq=False)
class Zone:
    name: str
    city: Division
    shared_with: frozenset[str] = frozenset()
    basis: str = ""


@dataclass(frozen=True)
class _Entry:
    kind: str  # division, short, old, zone, generic
    division: Division | None = None
    zone: Zone | None = None


@dataclass
class Gazetteer:
    names: dict[str, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    towns: dict[str, list[Division]] = field(default_factory=lambda: defaultdict(list))
    cities: dict[str, list[Division]] = field(default_factory=lambda: defaultdict(list))
    provinces: dict[str, Division] = field(default_factory=dict)
    longest: int = 0
    longest_town: int = 0

    def add(self, name: str, entry: _Entry) -> None:
        if len(name) >= 2:
            self.names[name].append(entry)
            self.longest = max(self.longest, len(name))

    def city(self, name: str) -> Division:
        found = self.cities.get(name) or [
            d for d in self.provinces.values() if d.name == name
        ]  # a municipality (北京市) is both
        if len(found) != 1:
            raise ValueError(f"未知或有重名的城市：{name}")
        return found[0]


@cache
def gazetteer() -> Gazetteer:
    """The division list and the zones, built once per process (under a second)."""
    g = Gazetteer()
    _load_divisions(g, _location_text())
    _load_zones(g, resources.files("validators").joinpath("data/zones.toml").read_text("utf-8"))
    return g


def _location_text() -> str:
    spec = find_spec("jionlp")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError("jionlp is not installed: the division list comes from it")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*LOCATION_ZIP)
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(LOCATION_TXT).decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise GazetteerError(f"cannot read jionlp's division list at {path}: {exc}") from exc


_UPPER_LINES = re.compile(r"^(\t{0,3})([^\t\r\n]+)([^\r\n]*)", re.MULTILINE)


def _load_divisions(g: Gazetteer, text: str) -> None:
    """jionlp's tree: one name a line, indented by level with tabs. Levels 0–2 carry
    ``name, code, short name`` (台湾省's districts a name only), level 3 (townships) a name,
    level 4 (villages) is not used."""
    chain: list[Division | None] = [None, None, None]
    for m in _UPPER_LINES.finditer(text):  # levels 0-3 only; villages are most of the file
        level, parts = len(m.group(1)), [m.group(2), *m.group(3).split("\t")[1:]]
        line = m.group(0)
        if level == 3:
            if chain[DISTRICT] is not None and len(parts[0]) >= 3:
                g.towns[parts[0]].append(chain[DISTRICT])
                g.longest_town = max(g.longest_town, len(parts[0]))
            continue
        parent = chain[level - 1] if level else None
        if level and parent is None:
            raise GazetteerError(f"unexpected line in jionlp's division list: {line!r}")
        code = parts[1] if len(parts) > 1 else ""  # 台湾省's districts have none
        node = Division(parts[0], code, level, parent)
        chain[level:] = [node] + [None] * (2 - level)
        g.add(node.name, _Entry("division", node))
        if level == PROVINCE:
            g.provinces[node.name] = node
        elif level == CITY:
            g.cities[node.name].append(node)
        short = parts[2] if len(parts) > 2 else ""
        if level < DISTRICT and short and short != node.name:
            g.add(short, _Entry("short", node))
    if len(g.provinces) < 30:
        raise GazetteerError("jionlp's division list looks truncated")


def _load_zones(g: Gazetteer, text: str) -> None:
    data = tomllib.loads(text)
    for word in data.get("generic_words", []):
        g.add(word, _Entry("generic"))
    for spec in data.get("city", []):
        city = g.city(spec["name"])
        for old, new in spec.get("old_names", {}).items():
            (district,) = [d for d in _districts(g, new) if d.parent is city]
            g.add(old, _Entry("old", district))
        for z in spec.get("zone", []):
            zone = Zone(z["name"], city, frozenset(z.get("shared_with", [])), z.get("basis", ""))
            for alias in z.get("aliases", []):
                g.add(alias, _Entry("zone", zone=zone))
            for alias in z.get("generic", []):
                g.add(alias, _Entry("generic", zone=zone))


def _districts(g: Gazetteer, name: str) -> list[Division]:
    return [e.division for e in g.names.get(name, []) if e.kind == "division" and e.division]


# --------------------------------------------------------------------------- reading


@dataclass
class _Token:
    text: str
    start: int
    end: int
    entries: list[_Entry]

    def kinds(self) -> set[str]:
        return {e.kind for e in self.entries}


def normalize(address: str) -> str:
    text = unicodedata.normalize("NFKC", address)
    return "".join(text.split())


def _scan(text: str, names: dict, longest: int) -> list[_Token]:
    """Longest known name at each position, left to right, never overlapping."""
    out, i = [], 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 1, -1):
            entries = names.get(text[i : i + n])
            if entries:
                out.append(_Token(text[i : i + n], i, i + n, list(entries)))
                i += n
                break
        else:
            i += 1
    return out


def locate(address: str) -> Place:
    """Province, city, district and zone of an address, how they were decided and how sure."""
    g = gazetteer()
    text = normalize(address)
    tokens = _tokens(g, text)
    provinces = {
        e.division.name
        for t in tokens
        if all(e.kind in ("division", "short") and e.division.level == PROVINCE for e in t.entries)
        for e in t.entries
    }
    zones = [e.zone for t in tokens for e in t.entries if e.kind == "zone" and e.zone]
    generic = [t.text for t in tokens if any(e.kind == "generic" and e.zone for e in t.entries)]
    options: list[tuple[_Token, set[Division]]] = []
    for t in tokens:
        cities = {c for e in t.entries if (c := _city_of(e)) is not None}
        if cities:
            narrowed = {c for c in cities if not provinces or c.parent.name in provinces}
            options.append((t, narrowed or cities))
    if zones:
        return _by_zone(zones, options, provinces)
    if options:
        return _by_names(g, text, options)
    if len(provinces) > 1:
        named = "、".join(sorted(provinces))
        return Place(how=How.CONFLICT, reason=f"地址中出现了多个省份：{named}")
    if provinces:
        (name,) = provinces
        return Place(province=name, how=How.PROVINCE, confidence=1.0, reason=f"只写到{name}")
    town = _by_town(g, text)
    if generic:
        if town is not None:  # 国际港务区新筑街道
            return replace(town, reason=f"只写了“{generic[0]}”，{town.reason}")
        return Place(
            how=How.AMBIGUOUS,
            reason=f"只写了“{generic[0]}”，未写所属城市（多个城市都有同名的开发区）",
        )
    return town or Place()


def _tokens(g: Gazetteer, text: str) -> list[_Token]:
    tokens = _scan(text, g.names, g.longest)
    kept: list[_Token] = []
    following: _Token | None = None
    for tok in reversed(tokens):
        if tok.kinds() == {"short"} and (following is None or following.start != tok.end):
            continue  # 西安路, 北京大厦: a short name before a street or a building
        kept.append(tok)
        following = tok
    kept.reverse()
    out: list[_Token] = []
    for tok in kept:
        if len(tok.text) <= 2 and tok.kinds() == {"division"}:
            # 城区, 郊区, 东区: only right after their own city
            before = out[-1] if out and out[-1].end == tok.start else None
            parents = {e.division for e in before.entries if e.division} if before else set()
            tok.entries = [e for e in tok.entries if e.division.parent in parents]
            if not tok.entries:
                continue
        out.append(tok)
    return out


def _city_of(entry: _Entry) -> Division | None:
    if entry.kind not in ("division", "short", "old") or entry.division is None:
        return None
    if entry.division.level == PROVINCE:
        return None
    return entry.division.at(CITY)


def _by_zone(
    zones: list[Zone], options: list[tuple[_Token, set[Division]]], provinces: set[str]
) -> Place:
    cities = {z.city for z in zones}
    if len(cities) > 1:
        names = "、".join(sorted(c.name for c in cities))
        return Place(how=How.CONFLICT, reason=f"地址中的开发区分属不同城市：{names}")
    (city,) = cities
    zone = zones[-1]  # the most specific (西咸新区沣东新城 rather than 西咸新区)
    allowed = {city.name} | set().union(*(z.shared_with for z in zones))
    against = [t.text for t, cs in options if not any(c.name in allowed for c in cs)]
    if against or (provinces and city.parent.name not in provinces):
        named = "、".join(against or sorted(provinces))
        return Place(
            how=How.CONFLICT,
            reason=f"地址同时写了“{zone.name}”（{city.name}）和{named}，彼此矛盾",
        )
    district = _district_in(options, city)
    also = [t.text for t, cs in options if city not in cs]
    reason = f"“{zone.name}”是{city.name}的开发区或新区"
    if zone.basis:
        reason += f"（{zone.basis}）"
    if also:
        reason += f"；地址同时写了{'、'.join(also)}，该区域与{city.name}共建，按{city.name}计"
    return Place(
        province=city.parent.name,
        city=city.name,
        district=district,
        zone=zone.name,
        how=How.ZONE,
        confidence=0.95,
        reason=reason,
    )


def _by_names(g: Gazetteer, text: str, options: list[tuple[_Token, set[Division]]]) -> Place:
    common = set.intersection(*(cs for _, cs in options))
    if len(common) > 1:
        common = _narrow_by_town(g, text, common) or common
    if len(common) > 1:
        names = "、".join(sorted(c.name for c in common))
        written = "、".join(dict.fromkeys(t.text for t, _ in options))
        return Place(
            how=How.AMBIGUOUS,
            reason=f"只写了“{written}”，{names}都有同名的区县，无法判断是哪一个",
        )
    if not common:
        written = "、".join(
            f"{t.text}（{'/'.join(sorted(c.name for c in cs))}）" for t, cs in options
        )
        return Place(how=How.CONFLICT, reason=f"地址中的地名分属不同城市：{written}")
    (city,) = common
    kinds = {e.kind for t, _ in options for e in t.entries}
    names_city = any(
        e.division is not None and e.division.level == CITY
        for t, _ in options
        for e in t.entries
        if e.kind in ("division", "short")
    )
    if names_city:
        how, confidence, reason = How.NAMED, 1.0, f"写明了{city.name}"
    elif kinds == {"old"}:
        old = options[0][0].text
        district = options[0][0].entries[0].division.name
        how, confidence = How.OLD_NAME, 0.9
        reason = f"“{old}”是{city.name}{district}的旧称"
    else:
        how, confidence = How.NAMED, 0.95
        reason = f"{_district_in(options, city)}属{city.name}"
    return Place(
        province=city.parent.name if city.parent else city.name,
        city=city.name,
        district=_district_in(options, city),
        how=how,
        confidence=confidence,
        reason=reason,
    )


def _district_in(options: list[tuple[_Token, set[Division]]], city: Division) -> str | None:
    for tok, _ in options:
        for e in tok.entries:
            d = e.division
            if d is not None and d.level == DISTRICT and d.parent is city:
                return d.name
    return None


def _towns(g: Gazetteer, text: str) -> list[tuple[str, list[Division]]]:
    return [(t.text, g.towns[t.text]) for t in _scan(text, g.towns, g.longest_town)]


def _narrow_by_town(g: Gazetteer, text: str, cities: set[Division]) -> set[Division]:
    """长安区郭杜街道: the township tells which 长安区."""
    found = {d.at(CITY) for _, districts in _towns(g, text) for d in districts}
    return {c for c in cities if c in found}


def _by_town(g: Gazetteer, text: str) -> Place | None:
    for name, districts in _towns(g, text):
        cities = {d.at(CITY) for d in districts}
        if len(cities) == 1:
            (city,) = cities
            district = districts[0].name if len(districts) == 1 else None
            return Place(
                province=city.parent.name if city.parent else city.name,
                city=city.name,
                district=district,
                how=How.TOWN,
                confidence=0.8,
                reason=f"未写城市，但“{name}”只在{city.name}{district or ''}",
            )
    return None


# --------------------------------------------------------------------------- questions


def in_city(address: str, city: str) -> bool | None:
    """Is the address in ``city`` (its districts, counties and zones)? None: cannot tell."""
    wanted = gazetteer().city(city)
    place = locate(address)
    if place.city is not None:
        if place.city == wanted.name:
            return True
        return False if place.how in DECISIVE else None
    if place.how is How.PROVINCE and wanted.parent is not None:
        return False if place.province != wanted.parent.name else None
    return None


def in_province(address: str, province: str) -> bool | None:
    """Is the address in ``province``? None: cannot tell."""
    if province not in gazetteer().provinces:
        raise ValueError(f"未知的省份：{province}")
    place = locate(address)
    if place.province is None:
        return None
    if place.province == province:
        return True
    return False if place.how in DECISIVE else None
