"""The checks a rule pack can name: small functions in one explicit registry.

Each takes the dossier's facts and the criterion's parameters and returns an Outcome.
They never pass on missing evidence (missing). A ``fail`` is given only on a value read
plainly (see ``doubt``: confidently, from a material of known type, not inferred) that
no reading of equal standing contradicts; otherwise the check says ``review`` and its
``reason`` names the doubtful value and why. A fail's message shows the deciding values
as read (``show_value``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

from extractors import credit_code
from extractors.classify import OTHER, Material, material_at
from extractors.fields import FieldValue, branch_of, field_kinds, is_branch
from extractors.normalize import MONTH_ONLY, date_span
from extractors.text import misread_limit
from extractors.vocabulary import field_names, material_names
from validators import region
from validators.engine import LOW_CONFIDENCE, Facts, Outcome, Status

# How material types are named to people (messages, reports, pages): the vocabulary's.
MATERIAL_NAMES = material_names()


OPINIONS = {"unqualified": "标准无保留意见", "qualified": "保留意见", "adverse": "否定意见",
            "disclaimer": "无法表示意见"}  # fmt: skip


def where(v: FieldValue) -> str:
    return f"{v.file} 第{v.page}页"


# Places a shown value keeps, per kind: money to the fen (元) or to the fen in 万元, shares
# to a ten-thousandth of a percent, areas to the square centimetre, confidences to 0.01.
_PLACES = {"money": 2, "money_wan": 6, "share": 4, "area": 2, "count": 2, "confidence": 2}


def show_value(value, kind: str | None = None, unit: str | None = None) -> str:
    """A value as a message shows it: as read, never rounded across a threshold. Figures
    are cut (floored) at a fixed number of places, not rounded: a threshold with no more
    places than that (80%, 50万元, 200平方米) is then crossed by the shown figure exactly
    when by the value, so 79.6% is 79.6%, never 80%, and 499,999 元 is 49.9999万元.
    Shares print as percentages; money in 元 to the fen, or in 万元 with ``unit="万元"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if kind == "share":
        return _figure(number * 100, _PLACES["share"], 0) + "%"
    if kind == "money" and unit == "万元":
        return _figure(number / 10_000, _PLACES["money_wan"], 0) + "万元"
    if kind == "money":
        return _figure(number, _PLACES["money"], 2) + (unit or "")
    return _figure(number, _PLACES.get(kind or "", 6), 0) + (unit or "")


def _figure(number: Decimal, places: int, keep: int) -> str:
    """``number`` floored at ``places`` decimals, grouped by thousands, with trailing zeros
    dropped down to ``keep`` decimals."""
    cut = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
    whole, _, fraction = format(cut, ",f").partition(".")
    fraction = fraction.rstrip("0").ljust(keep, "0")
    return f"{whole}.{fraction}" if fraction else whole


def _shown(v: FieldValue, unit: str | None = None) -> str:
    """A field's value shown by its kind (share, money, area, count; a month-only date as
    the month it is, 2018年7月)."""
    if isinstance(v.value, str) and MONTH_ONLY.fullmatch(v.value):
        return f"{int(v.value[:4])}年{int(v.value[5:])}月"
    return show_value(v.value, field_kinds().get(v.field), unit)


def _with_unit(v: FieldValue) -> str:
    """A field's value with its unit, for texts that name several values: money in whole
    yuan in 万元 (as declared, and as the thresholds are written: 99.9999万元 against 100万元),
    money with fen in 元 (as audited), areas in 平方米, shares as percentages."""
    kind = field_kinds().get(v.field)
    unit = {"money": "元", "area": "平方米"}.get(kind or "")
    if kind == "money" and isinstance(v.value, int | float) and float(v.value).is_integer():
        unit = "万元"
    return show_value(v.value, kind, unit)


# --------------------------------------------------------------------------- certainty

# The origin of a value a reviewer corrected or added: it stands above the readings of its
# material, and its note (who corrected it, and why) is no doubt.
REVIEWER = "reviewer"
# Notes that say how a plainly read value was converted (a statement's 万元 into 元), not
# that it was guessed: such a value still decides.
_CONVERSION_NOTES = ("已换算为元",)


def doubt(v: FieldValue) -> str | None:
    """Why a reading cannot decide a fail, in words for the reviewer; None when it can: it
    was read with confidence at or above the threshold, on a page of a known material (where
    such a value is labelled, not a page no material claims), and read rather than inferred
    (a value mended or guessed carries a note saying how)."""
    if v.origin == REVIEWER:
        return None  # a person read it on the original (intake.reports.build)
    if v.confidence < LOW_CONFIDENCE:
        return f"识别置信度低（{show_value(v.confidence, 'confidence')}）"
    if v.material in (None, OTHER):
        return "取自未能确定材料类型的页面，不是该项的填报位置"
    if v.note and not any(n in v.note for n in _CONVERSION_NOTES):
        return f"系推断所得（{v.note}）"
    return None


def _named(v: FieldValue) -> str:
    """A reading named for a message: field, value with its unit (money from an audit
    report in 元 to the fen, as statements print it), and where it was read."""
    audited = v.material == "audit_report" and field_kinds().get(v.field) == "money"
    shown = _shown(v, "元") if audited else _with_unit(v)
    return f"{FIELD_NAMES.get(v.field, v.field)}{shown}（{where(v)}）"


@dataclass
class _Reading:
    """One way the rule can be judged: the values it takes (one, or a value and its
    reference), and whether they meet the rule (None: it depends on what the values do not
    say, such as the day of a month-only date)."""

    refs: list[str]
    values: list[FieldValue]
    ok: bool | None
    why: str | None = None  # a doubt of the reading as a whole (a date that is no date)

    @property
    def doubt(self) -> str | None:
        if self.why:
            return self.why
        for v in self.values:
            if (why := doubt(v)) is not None:
                return f"{_named(v)}{why}"
        return None


def _judge(readings: list[_Reading], unknown: str = "") -> tuple[Status, list[_Reading], str]:
    """The verdict of readings of equal standing, the readings it rests on, and for a
    review the reason. A fail needs a plain reading that breaches the rule and no plain
    reading that meets it; a pass, the other way round. Readings that disagree, that hang
    on an unknown (``unknown`` says which), or that are all doubtful are a person's call."""
    plain = [r for r in readings if r.doubt is None]
    breach = [r for r in plain if r.ok is False]
    meet = [r for r in plain if r.ok is True]
    if breach and meet:
        return Status.REVIEW, [breach[0], meet[0]], _disagree(meet[0], breach[0])
    if breach:
        return Status.FAIL, breach, ""
    if meet:
        return Status.PASS, meet, ""
    if plain:
        return Status.REVIEW, plain, unknown
    reasons = list(dict.fromkeys(r.doubt for r in readings))
    return Status.REVIEW, readings, "；".join(reasons[:3])


def _disagree(meet: _Reading, breach: _Reading) -> str:
    """Two plain readings of equal standing that say different things."""
    differ = [
        (a, b) for a, b in zip(meet.values, breach.values, strict=True) if a.value != b.value
    ] or list(zip(meet.values, breach.values, strict=True))
    a, b = differ[0]
    return (
        f"{FIELD_NAMES.get(a.field, a.field)}各处读取不一致：{_with_unit(a)}（{where(a)}）"
        f"与{_with_unit(b)}（{where(b)}），据前者符合要求、据后者不符合，无法确定以哪个为准"
    )


def _tier(
    facts: Facts, field: str, prefer: list[str] | None = None, materials: list[str] | None = None
) -> list[tuple[str, FieldValue]]:
    """The readings a rule is judged on, all of one standing: those of the first preferred
    material that has any (an audited figure before a declared one), else all (of
    ``materials``); and of those, a reviewer's correction alone where there is one."""
    found: list[tuple[str, FieldValue]] = []
    for kind in prefer or []:
        found = facts.values(field, [kind])
        if found:
            break
    found = found or facts.values(field, materials)
    return [p for p in found if p[1].origin == REVIEWER] or found


def _above(
    facts: Facts, field: str, prefer: list[str] | None, meets
) -> tuple[Status, list[_Reading], str] | None:
    found = _tier(facts, field, prefer)
    if not found:
        return None
    return _judge([_Reading([r], [v], bool(meets(v.value))) for r, v in found])


def at_least(
    facts: Facts, field: str, min: float, prefer: list[str] | None = None, unit: str = ""
) -> Outcome:
    judged = _above(facts, field, prefer, lambda x: x >= min)
    if judged is None:
        return Outcome(Status.MISSING)
    status, decisive, reason = judged
    v = decisive[0].values[0]  # the breaching one where two disagree
    ctx = {"value": _shown(v), "where": where(v), "reason": reason}
    return Outcome(status, [r for d in decisive for r in d.refs], ctx)


def any_of(facts: Facts, conditions: list[dict]) -> Outcome:
    """At least one condition met plainly; a fail only when every condition is stated
    and each is plainly not met."""
    judged = [
        j
        for cond in conditions
        if (j := _above(facts, cond["field"], cond.get("prefer"), _meets(cond))) is not None
    ]
    if not judged:
        return Outcome(Status.MISSING)
    shown = [r.values[0] for _, decisive, _ in judged for r in decisive[:1]]
    refs = [ref for _, decisive, _ in judged for r in decisive for ref in r.refs]
    ctx = {
        "value": "；".join(f"{FIELD_NAMES.get(v.field, v.field)}{_with_unit(v)}" for v in shown),
        "where": "；".join(where(v) for v in shown),
        "reason": "；".join(reason for status, _, reason in judged if status == Status.REVIEW),
    }
    statuses = {status for status, _, _ in judged}
    if Status.PASS in statuses:
        return Outcome(Status.PASS, refs, ctx)
    if Status.REVIEW in statuses:
        return Outcome(Status.REVIEW, refs, ctx)
    if len(judged) < len(conditions):
        return Outcome(Status.MISSING, refs, ctx)
    return Outcome(Status.FAIL, refs, ctx)


def _meets(cond: dict):
    if "above" in cond:
        return lambda x: x > cond["above"]
    return lambda x: x >= cond["min"]


def material_where(material: Material) -> str:
    first, last = material.pages
    if first == last:
        return f"{material.file} 第{first}页"
    return f"{material.file} 第{first}–{last}页"


def materials_present(
    facts: Facts, types: list[str], advice: dict[str, str] | None = None
) -> Outcome:
    """Which required materials are there; for each missing one, what to upload."""
    advice = advice or {}
    found = {t: [(i, m) for i, m in enumerate(facts.materials) if m.type == t] for t in types}
    missing = [t for t in types if not found[t]]
    doubtful = [
        t for t in types if found[t] and all(m.confidence < LOW_CONFIDENCE for _, m in found[t])
    ]
    evidence = [f"materials#{i}" for t in types for i, _ in found[t]]
    ctx = {
        "missing": "；".join(
            f"{MATERIAL_NAMES.get(t, t)}（{advice[t]}）" if t in advice else MATERIAL_NAMES[t]
            for t in missing
        ),
        "present": "；".join(
            f"{MATERIAL_NAMES.get(t, t)}：{'、'.join(material_where(m) for _, m in found[t])}"
            for t in types
            if found[t]
        ),
        "doubtful": "；".join(
            f"{MATERIAL_NAMES.get(t, t)}：{'、'.join(material_where(m) for _, m in found[t])}"
            for t in doubtful
        ),
    }
    if missing:
        # A page whose type is unknown or a close call may be the missing material (a
        # 承诺函 no cue names): its absence is then not certain.
        unsure = [
            m
            for m in facts.materials
            if (m.type == OTHER and not m.explicit)
            or (m.type != OTHER and m.confidence < LOW_CONFIDENCE)
        ]
        if not unsure:
            return Outcome(Status.FAIL, evidence, ctx)
        ctx["reason"] = (
            f"未找到{'、'.join(MATERIAL_NAMES.get(t, t) for t in missing)}；"
            "但以下页面的类型未能确定，可能就是所缺材料："
            + "、".join(
                material_where(m)
                + (
                    "（类型不明）"
                    if m.type == OTHER
                    else f"（判断为{MATERIAL_NAMES.get(m.type, m.type)}，把握不大）"
                )
                for m in unsure
            )
        )
        return Outcome(Status.REVIEW, evidence, ctx)
    if doubtful:
        ctx["reason"] = "以下材料已找到，但类型把握不大：" + ctx["doubtful"]
        return Outcome(Status.REVIEW, evidence, ctx)
    return Outcome(Status.PASS, evidence, ctx)


def materials_identified(facts: Facts) -> Outcome:
    """Pages no cue spoke for, and materials whose type was a close call: a person looks."""
    if not facts.materials:
        return Outcome(Status.MISSING)
    unknown = [(i, m) for i, m in enumerate(facts.materials) if m.type == OTHER and not m.explicit]
    doubtful = [
        (i, m)
        for i, m in enumerate(facts.materials)
        if m.type != OTHER and m.confidence < LOW_CONFIDENCE
    ]
    parts = []
    if unknown:
        parts.append("未能识别类型：" + "、".join(material_where(m) for _, m in unknown))
    if doubtful:
        parts.append(
            "类型把握不大："
            + "、".join(
                f"{material_where(m)}（判断为{MATERIAL_NAMES.get(m.type, m.type)}，"
                f"依据：{'、'.join(m.cues[:4]) or '无'}）"
                for _, m in doubtful
            )
        )
    ctx = {"details": "；".join(parts)}
    flagged = unknown + doubtful
    if not flagged:
        return Outcome(Status.PASS, [f"materials#{i}" for i in range(len(facts.materials))], ctx)
    return Outcome(Status.REVIEW, [f"materials#{i}" for i, _ in flagged], ctx)


def credit_codes_valid(facts: Facts, field: str) -> Outcome:
    found = facts.values(field)
    if not found:
        return Outcome(Status.MISSING)
    bad = [(r, v) for r, v in found if not credit_code.is_valid(v.value)]
    if not bad:
        return Outcome(
            Status.PASS,
            [r for r, _ in found],
            {"value": "、".join(sorted({v.value for _, v in found}))},
        )
    # The surest reading decides: a code that fails its check as printed in a document's
    # text layer is certain, the same code doubted on a scan does not make it less so. A
    # valid code read plainly at the same place (same file and page) and a character or two
    # from it is another reading of what is printed there, of equal standing: the bad one
    # may be the misread.
    valid = [v for _, v in found if credit_code.is_valid(v.value) and doubt(v) is None]

    def reread(v: FieldValue) -> str | None:
        for w in valid:
            if (w.file, w.page) == (v.file, v.page) and _differ_by(v.value, w.value) <= 2:
                return f"{_named(v)}与同页另一读取结果“{w.value}”不一致，可能是识别误差"
        return None

    readings = [_Reading([r], [v], False, reread(v)) for r, v in bad]
    status, decisive, reason = _judge(readings)
    v = max((r.values[0] for r in decisive), key=lambda v: v.confidence)
    refs = [r for d in decisive for r in d.refs]
    return Outcome(status, refs, {"value": v.value, "where": where(v), "reason": reason})


def _differ_by(a: str, b: str) -> int:
    """Characters in which two codes of one length differ (more than any if not)."""
    if len(a) != len(b):
        return max(len(a), len(b))
    return sum(x != y for x, y in zip(a.upper(), b.upper(), strict=True))


_SUFFIXES = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))


def normalize_name(name: str) -> str:
    """One spelling for the variants a registered name is printed in: full- and half-width
    brackets, spaces, 有限责任公司 / 有限公司 (公司法 第八条: either form names one company).
    A branch's part is kept: a branch is not its company."""
    name = unicodedata.normalize("NFKC", name)
    name = re.sub(r"\s+", "", name)
    for long, short in _SUFFIXES:
        name = name.replace(long, short)
    return name


def same_name(a: FieldValue, b: FieldValue) -> tuple[bool, str | None]:
    """Whether two printed names are the same organisation, and a note when they agree only
    up to a likely OCR misread. A branch (…分公司, …分院, …办事处) is never its company."""
    x, y = normalize_name(a.value), normalize_name(b.value)
    if x == y:
        return True, None
    if is_branch(x) != is_branch(y) or branch_of(x, y) or branch_of(y, x):
        return False, None
    if "ocr" in (a.origin, b.origin):
        from rapidfuzz.distance import Levenshtein

        distance = Levenshtein.distance(x, y)
        if distance <= misread_limit(min(len(x), len(y))):
            ocr = a if a.origin == "ocr" else b
            return True, f"{where(ocr)}识别为“{ocr.value}”，相差{distance}个字，按识别误差处理"
    return False, None


def consistent(
    facts: Facts, fields: list[str], normalize: str = "name", materials: list[str] | None = None
) -> Outcome:
    """Every material that prints the value agrees. Names agree up to their printed
    variants and, on scans, up to a misread character or two (said in the message)."""
    found = [pair for f in fields for pair in facts.values(f, materials)]
    sources = {v.material for _, v in found}
    if len(found) < 2 or len(sources) < 2:
        return Outcome(Status.MISSING, [r for r, _ in found])
    refs = [r for r, _ in found]
    if normalize == "name":
        match = same_name
    else:

        def match(a: FieldValue, b: FieldValue) -> tuple[bool, str | None]:
            return a.value.upper().replace(" ", "") == b.value.upper().replace(" ", ""), None

    # Group around the most confident text-layer readings first.
    order = sorted(found, key=lambda p: (p[1].origin == "ocr", -p[1].confidence))
    groups: list[list[tuple[str, FieldValue]]] = []
    notes: list[str] = []
    for ref, v in order:
        for group in groups:
            ok, note = match(group[0][1], v)
            if ok:
                group.append((ref, v))
                if note:
                    notes.append(note)
                break
        else:
            groups.append([(ref, v)])
    if len(groups) == 1:
        return Outcome(
            Status.PASS, refs, {"value": order[0][1].value, "note": "；".join(sorted(set(notes)))}
        )
    shown = "；".join(_group_shown(vals) for vals in groups)
    # The largest group is the value; a fail needs it read plainly somewhere, and a
    # dissenting value read plainly, not on a scan (a misread), and not contradicted by a
    # plain reading of the same field in the same material that agrees with the rest.
    majority = max(groups, key=len)
    dissent = [v for vals in groups if vals is not majority for _, v in vals]
    agreeing = {(v.file, v.material, v.field) for _, v in majority if doubt(v) is None}

    def unsure_of(v: FieldValue) -> str | None:
        if (why := doubt(v)) is not None:
            return why
        if v.origin == "ocr":
            return "识别自扫描件或照片，可能是识别误差"
        if (v.file, v.material, v.field) in agreeing:
            return "同一材料中另有与其他材料一致的读取结果"
        return None

    unsure = not any(unsure_of(v) is None for v in dissent)
    if not any(doubt(v) is None for _, v in majority):
        reason = "各材料中的读取结果均不够可靠：" + "；".join(
            f"“{v.value}”（{where(v)}）：{doubt(v)}" for _, v in majority[:3]
        )
        unsure = True
    elif unsure:
        reason = "不一致的读取结果不能确定：" + "；".join(
            f"“{v.value}”（{where(v)}）：{unsure_of(v)}" for v in dissent[:3]
        )
    else:
        reason = ""
    if reason:
        reason += "。"
    if normalize == "name":
        branches = _branches(groups)
        if len({id(b) for b, _ in branches}) == len(groups) - 1:  # only branches differ
            reason, unsure = _branch_reason(branches)
    return Outcome(
        Status.REVIEW if unsure else Status.FAIL, refs, {"value": shown, "reason": reason}
    )


LICENCE = "business_licence"


def _group_shown(group: list[tuple[str, FieldValue]]) -> str:
    """One value of a conflict with every place it was read, and whether it is the
    licence's (the registered record the other materials must follow)."""
    places = list(dict.fromkeys(where(v) for _, v in group))
    licence = any(v.material == LICENCE for _, v in group)
    said = "，与营业执照一致" if licence else ""
    return f"“{group[0][1].value}”（{'、'.join(places)}{said}）"


def _branches(groups: list[list[tuple[str, FieldValue]]]) -> list[tuple[list, list]]:
    """(branch, company) pairs among groups of differently printed names."""
    names = [normalize_name(g[0][1].value) for g in groups]
    return [
        (groups[i], groups[j])
        for i, x in enumerate(names)
        for j, y in enumerate(names)
        if branch_of(x, y)
    ]


def _branch_reason(branches: list[tuple[list, list]]) -> tuple[str, bool]:
    """Why a branch's name and its company's differ, and whether that is certain: both
    read plainly from a text layer or a DOCX (after a label, confidently, not inferred).
    A scan may have joined a next line to a name, so a scanned reading is a person's call."""
    parts: list[str] = []
    doubts: dict[str, str] = {}
    for branch, company in branches:
        parts.append(
            f"“{branch[0][1].value}”是“{company[0][1].value}”的分支机构名称，"
            "分支机构不是申报单位本身，其营业执照不能代替申报单位的执照"
        )
        for group in (branch, company):
            if not any(_read_plainly(v) and v.origin != "ocr" for _, v in group):
                v = group[0][1]
                doubts[v.value] = f"“{v.value}”（{where(v)}）{_how_read(v)}"
    reason = "；".join(parts) + "。"
    if doubts:
        reason += "但" + "；".join(doubts.values()) + "，不能确定，请核对原件。"
    return reason, bool(doubts)


def _how_read(v: FieldValue) -> str:
    if v.confidence < LOW_CONFIDENCE:
        return f"读取置信度低（{show_value(v.confidence, 'confidence')}）"
    if v.note:
        return f"系推断所得（{v.note}）"
    if v.origin == "ocr":
        return "识别自扫描件或照片"
    return "来源材料不明"


def declared_matches(
    facts: Facts, field: str, declared: str, evidence: list[str], tolerance: float
) -> Outcome:
    ours = _tier(facts, field, materials=[declared])
    theirs = _tier(facts, field, materials=evidence)
    if not ours or not theirs:
        return Outcome(Status.MISSING, [r for r, _ in ours + theirs])
    readings = [
        _Reading([r1, r2], [d, e], abs(d.value - e.value) <= tolerance * max(abs(e.value), 1e-9))
        for r1, d in ours
        for r2, e in theirs
    ]
    status, decisive, reason = _judge(readings)
    d, e = decisive[0].values
    ctx = {
        "value": f"申报{_with_unit(d)}（{where(d)}），证明材料{_with_unit(e)}（{where(e)}）",
        "reason": reason,
    }
    return Outcome(status, decisive[0].refs, ctx)


def address_in(
    facts: Facts, field: str, city: str | None = None, province: str | None = None
) -> Outcome:
    """The registered address is in ``city`` (its districts, counties and development zones,
    written with or without the city's name) or in ``province``; with neither, anywhere.
    Where an address is comes from a gazetteer (``validators.region``), never a substring.
    A fail needs an address read plainly (see ``_read_plainly``) that is positively
    elsewhere, and no plain reading that is local; anything else a person decides, told
    which address was doubtful and why."""
    found = facts.values(field)
    if not found:
        return Outcome(Status.MISSING)
    if not city and not province:
        v = found[0][1]
        return Outcome(Status.PASS, [r for r, _ in found], {"value": v.value, "where": where(v)})
    wanted = city or province
    judged = [(ref, v, *_placed(v.value, city, province)) for ref, v in found]
    plain = [j for j in judged if _read_plainly(j[1])]
    local = [j for j in plain if j[2] is True]
    away = [j for j in plain if j[2] is False]
    if bool(local) != bool(away):
        status, decided = (Status.PASS, local) if local else (Status.FAIL, away)
        # cite the licence where there is one: it is where the registered address is printed
        _, v, _, place = min(decided, key=lambda j: j[1].material != "business_licence")
        ctx = {"value": v.value, "where": where(v), "reason": place.reason}
        return Outcome(status, [r for r, *_ in decided], ctx)
    if local:  # and away: readings of equal standing disagree
        doubtful = [local[0], away[0]]
        reason = "各材料中的注册地址不一致：" + "；".join(
            f"“{v.value}”{'在' if inside else '不在'}{wanted}（{place.reason}）"
            for _, v, inside, place in doubtful
        )
    else:
        firsts: dict[str, tuple] = {}
        for j in judged:
            firsts.setdefault(j[1].value, j)  # one per distinct address
        doubtful = list(firsts.values())
        reason = "；".join(_doubt(v, inside, place, wanted) for _, v, inside, place in doubtful)
    ctx = {"value": reason, "where": "；".join(where(j[1]) for j in doubtful), "reason": reason}
    return Outcome(Status.REVIEW, [j[0] for j in doubtful], ctx)


def _placed(address: str, city: str | None, province: str | None):
    """Whether the address is in the city or province (None: cannot tell), and the Place
    that was decided from."""
    inside = region.in_city(address, city) if city else region.in_province(address, province)
    return inside, region.locate(address)


def _read_plainly(v: FieldValue) -> bool:
    """Read after its label at or above the confidence threshold: not a doubtful scan, nor a
    value inferred from another material's reading (which carries a note saying so)."""
    return doubt(v) is None


def _doubt(v: FieldValue, inside: bool | None, place: region.Place, wanted: str) -> str:
    """Why one reading cannot decide, in words for the reviewer and the applicant."""
    if inside is None:
        return f"注册地址“{v.value}”无法判断是否在{wanted}：{place.reason}"
    side = f"在{wanted}" if inside else f"不在{wanted}"
    because = doubt(v) or "来源材料不明"
    return f"注册地址“{v.value}”（{where(v)}）看来{side}，但{because}"


# --------------------------------------------------------------------------- dates


def _dated(
    facts: Facts, field: str, reference: str, meets, what: str, prefer: list[str] | None = None
) -> tuple[Status, list[_Reading], str] | None:
    """Judge a rule on two dates, each of which may be known to the month only: ``meets``
    takes the two (first, last) spans and says True or False when every day in them
    gives that answer, None when the answer depends on the day (``what`` names the rule
    for the reason). ``field`` is read from the first ``prefer`` material that has it."""
    xs, ys = _tier(facts, field, prefer), _tier(facts, reference)
    if not xs or not ys:
        return None
    readings = []
    for rx, x in xs:
        for ry, y in ys:
            try:
                ok, why = meets(date_span(x.value), date_span(y.value)), None
            except (TypeError, ValueError):
                bad = next(v for v in (x, y) if not _is_date(v.value))
                ok, why = None, f"{_named(bad)}不是有效日期"
            readings.append(_Reading([rx, ry], [x, y], ok, why))
    months = [
        v for r in readings if r.ok is None for v in r.values if MONTH_ONLY.fullmatch(v.value)
    ]
    unknown = "；".join(
        dict.fromkeys(
            f"{FIELD_NAMES.get(v.field, v.field)}只写到月（{_shown(v)}，{where(v)}），"
            f"{what}取决于具体是哪一天"
            for v in months
        )
    )
    return _judge(readings, unknown)


def _is_date(value) -> bool:
    try:
        date_span(value)
    except (TypeError, ValueError):
        return False
    return True


def _date_context(decisive: list[_Reading], reason: str, **extra) -> dict:
    a, b = decisive[0].values
    return {
        "value": _shown(a),
        "where": where(a),
        "reference": _shown(b),
        "reason": reason,
        **extra,
    }


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_before(
    facts: Facts, field: str, reference: str, years: int, prefer: list[str] | None = None
) -> Outcome:
    """``field`` at least ``years`` before ``reference`` (成立满两年), judged on the
    readings of the first ``prefer`` material that has one (the licence before the
    application's own statement)."""

    def meets(start: tuple[date, date], ref: tuple[date, date]) -> bool | None:
        if _plus_years(start[1], years) <= ref[0]:
            return True
        if _plus_years(start[0], years) > ref[1]:
            return False
        return None

    judged = _dated(facts, field, reference, meets, f"是否已满{years}年", prefer)
    if judged is None:
        return _missing(facts, field, reference)
    status, decisive, reason = judged
    ctx = _date_context(decisive, reason, years=years)
    return Outcome(status, decisive[0].refs, ctx)


def previous_year_end(facts: Facts, field: str, reference: str) -> Outcome:
    def meets(end: tuple[date, date], ref: tuple[date, date]) -> bool | None:
        wanted = {date(ref[0].year - 1, 12, 31), date(ref[1].year - 1, 12, 31)}
        if len(wanted) == 1 and end[0] == end[1] in wanted:
            return True
        if not any(end[0] <= w <= end[1] for w in wanted):
            return False
        return None

    judged = _dated(facts, field, reference, meets, "是否为上一年度审计")
    if judged is None:
        return _missing(facts, field, reference)
    status, decisive, reason = judged
    return Outcome(status, decisive[0].refs, _date_context(decisive, reason))


def lease_valid(facts: Facts, field: str, reference: str) -> Outcome:
    owned = [
        m
        for m in facts.materials
        if m.type == "premises_proof"
        and any("不动产权" in c or "房屋所有权" in c or "房产证" in c for c in m.cues)
    ]
    if not facts.values(field) and owned:
        return Outcome(Status.PASS, [], {"value": "自有房产"})

    def meets(end: tuple[date, date], ref: tuple[date, date]) -> bool | None:
        if end[0] >= ref[1]:
            return True
        if end[1] < ref[0]:
            return False
        return None

    judged = _dated(facts, field, reference, meets, "申报时租赁是否仍有效")
    if judged is None:
        return _missing(facts, field, reference)
    status, decisive, reason = judged
    return Outcome(status, decisive[0].refs, _date_context(decisive, reason))


def _missing(facts: Facts, *fields: str) -> Outcome:
    return Outcome(Status.MISSING, [r for f in fields for r, _ in facts.values(f)[:1]])


def _first(facts: Facts, field: str):
    found = facts.values(field)
    return found[0] if found else None


def audit_opinion(facts: Facts, field: str) -> Outcome:
    a = _first(facts, field)
    if a is None:
        return Outcome(Status.MISSING)
    ctx = {"value": OPINIONS.get(a[1].value, a[1].value), "where": where(a[1])}
    ok = a[1].value == "unqualified" and a[1].confidence >= LOW_CONFIDENCE
    return Outcome(Status.PASS if ok else Status.REVIEW, [a[0]], ctx)


def needs_review(facts: Facts, material: str) -> Outcome:
    pages = [
        f"{m.file} 第{m.pages[0]}–{m.pages[1]}页" for m in facts.materials if m.type == material
    ]
    if not pages:
        return Outcome(Status.MISSING)
    return Outcome(Status.REVIEW, [], {"where": "；".join(pages)})


# How fields are named to people (messages, reports, pages): the vocabulary's.
FIELD_NAMES = field_names()


def _pick(facts: Facts, field: str, prefer: list[str] | None):
    """The first reading of the standing a threshold is judged on (see ``_tier``)."""
    found = _tier(facts, field, prefer)
    return found[0] if found else None


def _condition_met(facts: Facts, cond: dict) -> tuple[str, FieldValue, bool] | None:
    picked = _pick(facts, cond["field"], cond.get("prefer"))
    if picked is None:
        return None
    ref, v = picked
    ok = v.value > cond["above"] if "above" in cond else v.value >= cond["min"]
    return ref, v, ok


def functions(facts: Facts, functions: list[dict]) -> Outcome:
    """第十三条: at least one function whose every condition the application states and
    meets. Where none is met plainly, a person judges (never a fail: the application may
    describe the function in words the figures here do not catch), pointed to the pages
    that speak of each function."""
    met, stated = [], []
    refs: list[str] = []
    for function in functions:
        results = [_condition_met(facts, c) for c in function["all"]]
        found = [r for r in results if r is not None]
        refs.extend(r for r, _, _ in found)
        if found:
            stated.append(
                f"{function['name']}："
                + "，".join(
                    f"{FIELD_NAMES.get(v.field, v.field)}{_with_unit(v)}（{where(v)}）"
                    for _, v, _ in found
                )
            )
        if len(found) == len(results) and all(
            ok and v.confidence >= LOW_CONFIDENCE for _, v, ok in found
        ):
            met.append(function["name"])
    ctx = {"value": "；".join(stated) or "申请报告未写明各项功能的量化指标", "met": "、".join(met)}
    if met:
        return Outcome(Status.PASS, refs, ctx)
    if not facts.has_material("application_report"):
        return Outcome(Status.MISSING)
    keywords = [k for f in functions for k in f.get("keywords", [])]
    ctx["where"] = _pages_mentioning(facts, keywords, ["application_report"]) or "申请报告全文"
    return Outcome(Status.REVIEW, refs, ctx)


def grows(facts: Facts, field: str, years: int = 2) -> Outcome:
    """近两年服务企业数量稳定增长: the yearly figures the application gives rise each year."""
    found = facts.values(field)
    by_year: dict[int, list[tuple[str, FieldValue]]] = {}
    for ref, v in found:
        if isinstance(v.value, dict):
            for year, count in v.value.items():
                by_year.setdefault(int(year), []).append(
                    (ref, FieldValue(**{**v.__dict__, "value": count}))
                )
    if len(by_year) < years:
        return Outcome(Status.MISSING, [r for r, _ in found])
    recent = sorted(by_year)[-years:]
    chosen = [
        next(((r, v) for r, v in by_year[y] if doubt(v) is None), by_year[y][0]) for y in recent
    ]
    counts = [v.value for _, v in chosen]
    ctx = {"value": "、".join(f"{y}年{c}家" for y, c in zip(recent, counts, strict=True))}
    refs = sorted({r for y in recent for r, _ in by_year[y]})
    reasons = []
    for y, (_, v) in zip(recent, chosen, strict=True):
        if (why := doubt(v)) is not None:
            reasons.append(f"{y}年服务企业数量{v.value}家（{where(v)}）{why}")
            continue
        others = sorted({w.value for _, w in by_year[y] if doubt(w) is None} - {v.value})
        if others:
            reasons.append(
                f"{y}年服务企业数量各处读取不一致：{v.value}家（{where(v)}）与"
                + "、".join(f"{c}家" for c in others)
            )
    if reasons:
        return Outcome(Status.REVIEW, refs, {**ctx, "reason": "；".join(reasons)})
    rising = all(b > a for a, b in pairwise(counts))
    return Outcome(Status.PASS if rising else Status.FAIL, refs, ctx)


def judgement(facts: Facts, keywords: list[str], materials: list[str] | None = None) -> Outcome:
    """A clause a person must judge (management rules, integrity, cooperation, strengths):
    always a review item, pointing to the pages where the application speaks of it."""
    materials = materials or ["application_report"]
    if not any(facts.has_material(m) for m in materials):
        return Outcome(Status.MISSING)
    found = _pages_mentioning(facts, keywords, materials)
    ctx = {"where": found or "（未找到相关表述，请通读申请报告）"}
    return Outcome(Status.REVIEW, [], ctx)


def _pages_mentioning(facts: Facts, keywords: list[str], materials: list[str]) -> str:
    """Where the given materials mention the keywords: file, page and a short quote."""
    from extractors.text import compact

    spots = []
    for name, document in facts.documents:
        for page in document.pages:
            if material_at(facts.materials, name, page.number) not in materials:
                continue
            text = compact(page.text)
            hits = [k for k in keywords if compact(k) in text]
            if hits:
                at = text.find(compact(hits[0]))
                quote = text[max(0, at - 6) : at + 24]
                spots.append(f"{name} 第{page.number}页（“…{quote}…”）")
    return "；".join(spots[:6])


def balances(facts: Facts, left: str, right: str, tolerance: float = 0.01) -> Outcome:
    """资产总计 = 负债和所有者权益总计 on the audited balance sheet (to the fen): a mismatch
    means a misread figure or a doctored page. The two totals of one statement are compared
    (one file, nearest pages), never one audit report's with another's in a merged file."""
    pairs = []
    for ref_l, a in facts.values(left, ["audit_report"]):
        for ref_r, b in facts.values(right, ["audit_report"]):
            if a.file == b.file:
                pairs.append((ref_l, a, ref_r, b))
    if not pairs:
        return Outcome(Status.MISSING)
    nearest = min(abs(p[3].page - p[1].page) for p in pairs)
    ref_l, a, ref_r, b = next(p for p in pairs if abs(p[3].page - p[1].page) == nearest)
    ctx = {
        "value": f"资产总计{_shown(a, '元')}，负债和所有者权益总计{_shown(b, '元')}",
        "where": where(a),
    }
    if abs(a.value - b.value) <= tolerance:
        return Outcome(Status.PASS, [ref_l, ref_r], ctx)
    # The two totals of one statement; other readings as near (the same rows read twice)
    # are of equal standing: one that balances means a misread, not a doctored page.
    reasons = [f"{_named(v)}{why}" for v in (a, b) if (why := doubt(v) or _scanned(v)) is not None]
    balanced = [
        (x, y)
        for _, x, _, y in pairs
        if abs(y.page - x.page) == nearest
        and abs(x.value - y.value) <= tolerance
        and doubt(x) is None
        and doubt(y) is None
    ]
    if balanced:
        x, y = balanced[0]
        reasons.append(
            f"同一报表另一组读取结果相符（资产总计{_shown(x, '元')}，{where(x)}；"
            f"负债和所有者权益总计{_shown(y, '元')}，{where(y)}）"
        )
    if reasons:
        return Outcome(Status.REVIEW, [ref_l, ref_r], {**ctx, "reason": "；".join(reasons)})
    return Outcome(Status.FAIL, [ref_l, ref_r], ctx)


def _scanned(v: FieldValue) -> str | None:
    return "识别自扫描件，可能有识别误差" if v.origin == "ocr" else None


def sealed(facts: Facts, materials: list[str]) -> Outcome:
    """Article 17(七): the declaration (and the application report) carry a red seal. Only
    pictures and scans can show one: an electronic document is a review item."""
    present = [m for m in facts.materials if m.type in materials]
    if not present:
        return Outcome(Status.MISSING)
    pages = {
        (name, page.number): page for name, document in facts.documents for page in document.pages
    }
    missing, unknown, seen = [], [], []
    for kind in materials:
        mine = [m for m in present if m.type == kind]
        if not mine:
            continue
        span = [
            (m.file, pages[(m.file, n)])
            for m in mine
            for n in range(m.pages[0], m.pages[1] + 1)
            if (m.file, n) in pages
        ]
        label = MATERIAL_NAMES.get(kind, kind)
        sealed_on = [(f, p) for f, p in span if any(k.kind == "red_seal" for k in p.marks)]
        if sealed_on:
            file, page = sealed_on[0]
            seen.append(f"{label}（{file} 第{page.number}页）")
        elif any(p.origin == "ocr" or p.images for _, p in span):
            missing.append(f"{label}（{material_where(mine[0])}）")
        else:
            unknown.append(f"{label}（{material_where(mine[0])}，电子文档）")
    ctx = {"value": "；".join(seen), "detail": "；".join(missing + unknown)}
    if missing or unknown:
        return Outcome(Status.REVIEW, [], ctx)
    return Outcome(Status.PASS, [], ctx)


CHECKS: dict[str, Callable[..., Outcome]] = {
    "at_least": at_least,
    "any_of": any_of,
    "materials_present": materials_present,
    "materials_identified": materials_identified,
    "credit_codes_valid": credit_codes_valid,
    "consistent": consistent,
    "declared_matches": declared_matches,
    "address_in": address_in,
    "years_before": years_before,
    "previous_year_end": previous_year_end,
    "lease_valid": lease_valid,
    "audit_opinion": audit_opinion,
    "needs_review": needs_review,
    "functions": functions,
    "grows": grows,
    "judgement": judgement,
    "balances": balances,
    "sealed": sealed,
}
