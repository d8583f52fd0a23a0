"""The checks a rule pack can name: small functions in one explicit registry.

Each takes the dossier's facts and the criterion's parameters and returns an Outcome.
They never pass on missing evidence, never fail on a value that could not be read
(missing) or was read with low confidence (review)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

from extractors import credit_code
from extractors.classify import OTHER, Material, material_at
from extractors.fields import FieldValue, branch_of, field_kinds, is_branch
from extractors.text import misread_limit
from validators import region
from validators.engine import LOW_CONFIDENCE, Facts, Outcome, Status

MATERIAL_NAMES = {
    "application_report": "示范平台申请报告",
    "recommendation_form": "推荐表",
    "business_licence": "营业执照副本或法人证书（复印件）",
    "audit_report": "上一年度审计报告或服务收支专项审计报告",
    "service_evidence": "开展服务的证明材料（通知、照片、总结等）",
    "premises_proof": "经营服务场所证明（房产证、租赁合同、入驻协议或无偿使用证明）",
    "qualification": "从业资格（资质）、网站备案、许可证等证明",
    "authenticity_declaration": "申报材料真实性声明（加盖公章）",
}


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
    """A field's value shown by its kind (share, money, area, count)."""
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


def _pick(facts: Facts, field: str, prefer: list[str] | None):
    """The value a threshold is judged on: from the first preferred material that has one."""
    for kind in prefer or []:
        found = facts.values(field, [kind])
        if found:
            return found[0]
    found = facts.values(field)
    return found[0] if found else None


def at_least(
    facts: Facts, field: str, min: float, prefer: list[str] | None = None, unit: str = ""
) -> Outcome:
    picked = _pick(facts, field, prefer)
    if picked is None:
        return Outcome(Status.MISSING)
    ref, v = picked
    ctx = {"value": _shown(v), "where": where(v)}
    if v.confidence < LOW_CONFIDENCE:
        return Outcome(Status.REVIEW, [ref], ctx)
    return Outcome(Status.PASS if v.value >= min else Status.FAIL, [ref], ctx)


def any_of(facts: Facts, conditions: list[dict]) -> Outcome:
    seen = [met for cond in conditions if (met := _condition_met(facts, cond)) is not None]
    if not seen:
        return Outcome(Status.MISSING)
    refs = [r for r, _, _ in seen]
    ctx = {
        "value": "；".join(
            f"{FIELD_NAMES.get(v.field, v.field)}{_with_unit(v)}" for _, v, _ in seen
        ),
        "where": "；".join(where(v) for _, v, _ in seen),
    }
    if any(ok and v.confidence >= LOW_CONFIDENCE for _, v, ok in seen):
        return Outcome(Status.PASS, refs, ctx)
    if any(v.confidence < LOW_CONFIDENCE for _, v, _ in seen):
        return Outcome(Status.REVIEW, refs, ctx)
    if len(seen) < len(conditions):
        return Outcome(Status.MISSING, refs, ctx)
    return Outcome(Status.FAIL, refs, ctx)


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
        return Outcome(Status.FAIL, evidence, ctx)
    if doubtful:
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
    # text layer is certain, the same code doubted on a scan does not make it less so.
    v = max((v for _, v in bad), key=lambda v: v.confidence)
    status = Status.REVIEW if v.confidence < LOW_CONFIDENCE else Status.FAIL
    return Outcome(status, [r for r, _ in bad], {"value": v.value, "where": where(v)})


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
    shown = "；".join(f"{vals[0][1].value}（{where(vals[0][1])}）" for vals in groups)
    # Only the largest group is trusted; if every dissenting value was OCR'd or read with
    # low confidence it may be a misread, and a person decides.
    majority = max(groups, key=len)
    dissent = [v for vals in groups if vals is not majority for _, v in vals]
    unsure = all(v.origin == "ocr" or v.confidence < LOW_CONFIDENCE for v in dissent)
    reason = "不一致的读取结果来自扫描件识别或可信度低，可能是识别误差。" if unsure else ""
    if normalize == "name":
        branches = _branches(groups)
        if len({id(b) for b, _ in branches}) == len(groups) - 1:  # only branches differ
            reason, unsure = _branch_reason(branches)
    return Outcome(
        Status.REVIEW if unsure else Status.FAIL, refs, {"value": shown, "reason": reason}
    )


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
    ours = facts.values(field, [declared])
    theirs = facts.values(field, evidence)
    if not ours or not theirs:
        return Outcome(Status.MISSING, [r for r, _ in ours + theirs])
    (r1, d), (r2, e) = ours[0], theirs[0]
    ctx = {"value": f"申报{_with_unit(d)}（{where(d)}），证明材料{_with_unit(e)}（{where(e)}）"}
    ok = abs(d.value - e.value) <= tolerance * max(abs(e.value), 1e-9)
    if not ok and min(d.confidence, e.confidence) < LOW_CONFIDENCE:
        return Outcome(Status.REVIEW, [r1, r2], ctx)
    return Outcome(Status.PASS if ok else Status.FAIL, [r1, r2], ctx)


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
    return v.confidence >= LOW_CONFIDENCE and v.note is None and v.material is not None


def _doubt(v: FieldValue, inside: bool | None, place: region.Place, wanted: str) -> str:
    """Why one reading cannot decide, in words for the reviewer and the applicant."""
    if inside is None:
        return f"注册地址“{v.value}”无法判断是否在{wanted}：{place.reason}"
    side = f"在{wanted}" if inside else f"不在{wanted}"
    if v.confidence < LOW_CONFIDENCE:
        because = f"识别置信度低（{show_value(v.confidence, 'confidence')}）"
    else:
        because = f"该值系推断所得（{v.note}）" if v.note else "来源材料不明"
    return f"注册地址“{v.value}”看来{side}，但{because}，请核对原件"


def _first(facts: Facts, field: str):
    found = facts.values(field)
    return found[0] if found else None


def years_before(facts: Facts, field: str, reference: str, years: int) -> Outcome:
    a, b = _first(facts, field), _first(facts, reference)
    if a is None or b is None:
        return Outcome(Status.MISSING, [p[0] for p in (a, b) if p])
    start, ref = date.fromisoformat(a[1].value), date.fromisoformat(b[1].value)
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + years, day=28)
    ctx = {"value": a[1].value, "where": where(a[1]), "reference": b[1].value, "years": years}
    return Outcome(Status.PASS if anniversary <= ref else Status.FAIL, [a[0], b[0]], ctx)


def previous_year_end(facts: Facts, field: str, reference: str) -> Outcome:
    a, b = _first(facts, field), _first(facts, reference)
    if a is None or b is None:
        return Outcome(Status.MISSING, [p[0] for p in (a, b) if p])
    end, ref = date.fromisoformat(a[1].value), date.fromisoformat(b[1].value)
    ctx = {"value": a[1].value, "reference": b[1].value}
    ok = end == date(ref.year - 1, 12, 31)
    return Outcome(Status.PASS if ok else Status.FAIL, [a[0], b[0]], ctx)


def lease_valid(facts: Facts, field: str, reference: str) -> Outcome:
    a, b = _first(facts, field), _first(facts, reference)
    owned = [
        m
        for m in facts.materials
        if m.type == "premises_proof"
        and any("不动产权" in c or "房屋所有权" in c or "房产证" in c for c in m.cues)
    ]
    if a is None and owned:
        return Outcome(Status.PASS, [], {"value": "自有房产"})
    if a is None or b is None:
        return Outcome(Status.MISSING, [p[0] for p in (a, b) if p])
    ctx = {"value": a[1].value, "reference": b[1].value}
    ok = date.fromisoformat(a[1].value) >= date.fromisoformat(b[1].value)
    return Outcome(Status.PASS if ok else Status.FAIL, [a[0], b[0]], ctx)


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


# How fields are named to people (messages, reports, pages): one table.
FIELD_NAMES = {
    "applicant.name": "单位名称",
    "applicant.credit_code": "统一社会信用代码",
    "applicant.address": "注册地址",
    "applicant.legal_representative": "法定代表人",
    "applicant.established": "成立日期",
    "finance.total_assets": "资产总额",
    "finance.revenue": "营业收入",
    "finance.service_revenue": "服务收入",
    "finance.liabilities_and_equity": "负债和所有者权益总计",
    "audit.period_end": "审计期末",
    "audit.firm": "会计师事务所",
    "audit.opinion": "审计意见",
    "audit.report_number": "审计报告文号",
    "premises.area_m2": "服务面积（平方米）",
    "premises.address": "场所地址",
    "premises.holder": "承租方/权利人",
    "premises.lease_end": "租赁到期日",
    "service.smes_served": "年服务本市中小企业数量",
    "service.smes_served_by_year": "分年度服务企业数量",
    "service.sme_revenue": "服务本市中小企业营业收入",
    "service.satisfaction": "用户满意度",
    "service.public_interest_share": "公益性服务占比",
    "service.agencies_aggregated": "集聚服务机构数量",
    "service.activities": "年开展服务活动次数",
    "staff.service_staff": "服务人员数",
    "staff.qualified_share": "专业人员占比",
    "application.date": "申报日期",
    "function.info.offline_firms": "线下年服务企业数量",
    "function.training.person_times": "年培训人次",
    "function.finance.activities": "年投融资对接等活动次数",
    "function.finance.amount": "帮助中小企业融资总额",
    "function.finance.guarantees": "年新增担保额",
}


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
    ctx = {"value": "；".join(stated) or "—", "met": "、".join(met)}
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
    by_year: dict[int, tuple[str, FieldValue]] = {}
    for ref, v in found:
        if isinstance(v.value, dict):
            for year, count in v.value.items():
                by_year.setdefault(int(year), (ref, FieldValue(**{**v.__dict__, "value": count})))
    if len(by_year) < years:
        return Outcome(Status.MISSING, [r for r, _ in found])
    recent = sorted(by_year)[-years:]
    counts = [by_year[y][1].value for y in recent]
    ctx = {"value": "、".join(f"{y}年{c}家" for y, c in zip(recent, counts, strict=True))}
    refs = sorted({by_year[y][0] for y in recent})
    if any(by_year[y][1].confidence < LOW_CONFIDENCE for y in recent):
        return Outcome(Status.REVIEW, refs, ctx)
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
    ref_l, a, ref_r, b = min(pairs, key=lambda p: abs(p[3].page - p[1].page))
    ctx = {
        "value": f"资产总计{_shown(a, '元')}，负债和所有者权益总计{_shown(b, '元')}",
        "where": where(a),
    }
    if abs(a.value - b.value) <= tolerance:
        return Outcome(Status.PASS, [ref_l, ref_r], ctx)
    unsure = "ocr" in (a.origin, b.origin) or min(a.confidence, b.confidence) < LOW_CONFIDENCE
    return Outcome(Status.REVIEW if unsure else Status.FAIL, [ref_l, ref_r], ctx)


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
