"""The property certificate reader (不动产权证书, 房屋所有权证, 房地产证): the premises' holder,
address and building area, from the geometry of the page's text boxes (extractors.layout),
with the land's area, the 不动产单元号, the certificate's number, use and term kept apart.

The premises' area is the building's (房屋建筑面积; else 建筑面积, or 专有 + 分摊建筑面积), never
the land's (宗地面积, 共有宗地面积, 土地使用权面积, 分摊土地面积); an area printed without its name
is the building's only as far as the certificate's right types say so, and doubted. The
不动产单元号 is an identifier of the land and building, never a credit code."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from extractors import identifiers
from extractors.layout import Box, KeyValue, find_labels, key_values, page_boxes
from extractors.model import BBox, Page
from extractors.names import SURNAMES, org_name
from extractors.normalize import find_dates, fold
from extractors.pagetext import FieldValue

# Contract fields this reader gives, and its own (kept apart from the contract's).
READS = ("premises.holder", "premises.address", "premises.area_m2")
OWN = (
    "property.land_area_m2",
    "property.unit_number",
    "property.certificate_number",
    "property.use",
    "property.term_end",
)

_TRAIL = re.compile(r"[\s:：;；,，.。、|/／]+$")
_LEAD = re.compile(r"^[\s:：;；,，.。、|/／]+")
# An area as printed: its name (the words since the last separator or figure), a colon, the
# figure, the unit (㎡ may be read as m2, m², 平方米 …).
_AREA = re.compile(
    r"(?P<name>[\u4e00-\u9fff（）()]*)[:：]?\s*"
    r"(?P<num>\d+(?:[,，]\d{3})*(?:\.\d+)?)\s*"
    r"(?P<unit>平方米|平米|㎡|m²|m2|M2|m)?"
)
_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{2,8})?")
_UNIT_SHAPE = re.compile(r"\d{12}[0-9A-Z]{2}\d{5}[0-9A-Z]\d{8}")  # 28 characters, OCR-loose


@dataclass(frozen=True)
class Vocabulary:
    labels: dict[str, list[str]]
    wraps: frozenset[str]
    columns: dict[str, list[str]]
    area: dict[str, list[str]]
    rights: dict[str, list[str]]
    numbers: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    data = tomllib.loads(
        resources.files("extractors.data").joinpath("property.toml").read_text("utf-8")
    )
    return Vocabulary(
        labels=data["labels"],
        wraps=frozenset(data["wraps"]["fields"]),
        columns=data["columns"],
        area=data["area"],
        rights=data["rights"],
        numbers=tuple(re.compile(p) for p in data["numbers"]["patterns"]),
    )


@lru_cache(maxsize=1)
def _labels() -> dict[str, list[str]]:
    """Row labels and column headers: a column header ends the values above and beside it."""
    vocab = vocabulary()
    labels = {name: list(names) for name, names in vocab.labels.items()}
    for name, names in vocab.columns.items():
        labels[name] = [*labels.get(name, []), *names]
    return labels


@dataclass
class Area:
    """One area printed on the certificate: what its name says it is, and where."""

    kind: str  # land, shared, exclusive, building, or "" (printed without a name)
    value: float
    name: str  # as printed (共有宗地面积), or ""
    text: str  # the words it was read from
    bbox: BBox
    conf: float
    source: str  # area (the 面积 row), other (权利其他状况), label, column


def read_property(file: str, page: Page, material: str | None) -> list[FieldValue]:
    """The premises fields printed on one property certificate page, with the reader's own
    fields (property.*) beside them."""
    vocab = vocabulary()
    labels = _labels()
    pairs = key_values(page, labels, multiline=vocab.wraps)
    pairs = lines_above(page, pairs, labels, vocab.wraps)
    out: list[FieldValue] = []
    for kv in pairs:
        if kv.field == "premises.holder":
            out.extend(_holder(kv, file, page, material))
        elif kv.field == "premises.address":
            address = _TRAIL.sub("", kv.value)
            if len(address) >= 4 and re.search(r"[\u4e00-\u9fff]", address):
                address = _brackets(address)
                out.append(
                    FieldValue.of_pair(kv, "premises.address", address, file, page, material)
                )
        elif kv.field == "property.unit_number":
            out.extend(_unit_number(kv, file, page, material))
        elif kv.field == "property.use":
            use = _TRAIL.sub("", kv.value)
            if use:
                out.append(FieldValue.of_pair(kv, "property.use", use, file, page, material))
        elif kv.field == "property.term":
            out.extend(_term_end(kv, kv.value, file, page, material))
    areas = _areas(pairs, vocab) + _column_areas(page, vocab)
    right_type = next((kv.value for kv in pairs if kv.field == "property.right_type"), "")
    out.extend(_premises_area(areas, right_type, vocab, file, page, material))
    for area in areas:
        if area.kind == "land":
            out.append(_area_value("property.land_area_m2", area, file, page, material))
    if not any(v.field == "property.term_end" for v in out):
        out.extend(_column_terms(page, vocab, file, material))
    out.extend(_numbers(page, vocab, file, material))
    return out


# --------------------------------------------------------------------------- cells


def lines_above(
    page: Page, pairs: list[KeyValue], labels: dict[str, list[str]], wraps: frozenset[str]
) -> list[KeyValue]:
    """A value of several lines in a tall cell whose label is centred in it (坐　落 level
    with the second of two lines): the lines above the label's row, left-aligned with the
    value and stacked on it, are the value's first lines. A label whose only level line
    is another label (面积 beside "房屋建筑面积…", its land's line above) gets those lines
    as its value. (The layout layer takes the label's row and the lines below.)"""
    boxes = page_boxes(page)
    found = find_labels(boxes, labels)
    taken = {b.bbox for kv in pairs for b in kv.boxes}
    orphans = [b for b in boxes if b.label is None and not b.used and b.bbox not in taken]
    if not orphans:
        return pairs
    rh = median_height(boxes)
    by_label: dict[int, KeyValue] = {}
    for kv in pairs:
        box = next((lab for lab in found if lab.label == kv.field and _inside(lab.bbox, kv.bbox)),
                   None)  # fmt: skip
        if box is not None:
            by_label[id(box)] = kv
    out = list(pairs)
    for label in found:
        if label.label not in wraps:
            continue
        kv = by_label.get(id(label))
        if kv is not None and (not kv.boxes or _head(kv)):
            continue  # the value starts in the label's own box: its first line is the label's
        left = kv.boxes[0].bbox[0] if kv is not None else None
        above: list[Box] = []
        while True:
            if above or kv is not None:
                ref = above[0].bbox[1] if above else kv.boxes[0].bbox[1]
                lo, hi = ref - 0.8 * rh, ref + 0.2 * rh  # where the line above may end
            else:
                lo, hi = label.bbox[1] - 0.8 * rh, label.bbox[3] + 0.2 * rh
            near = [
                b
                for b in orphans
                if b not in above
                and b.bbox[0] >= label.bbox[2] - 0.5 * rh
                and (left is None or abs(b.bbox[0] - left) <= 1.2 * rh)
                and lo <= b.bbox[3] <= hi
                and b.cy >= label.bbox[1] - 1.5 * rh
                and not _row_label(b, found, label)
            ]
            if not near:
                break
            nxt = max(near, key=lambda b: b.bbox[3])
            above.insert(0, nxt)
            left = nxt.bbox[0] if left is None else left
        if not above:
            continue
        for b in above:
            orphans.remove(b)
        text = "".join(b.text for b in above)
        if kv is None:
            kv = KeyValue(label.label or "", label.text[: label.label_end], "", label.bbox,
                          label.conf, lines=0)  # fmt: skip
            out.append(kv)
        kv.value = text + kv.value
        kv.boxes = [*above, *kv.boxes]
        kv.bbox = _union([kv.bbox, *(b.bbox for b in above)])
        kv.conf = min([kv.conf, *(b.conf for b in above)])
        kv.lines += len(above)
    return out


def _row_label(box: Box, labels: list[Box], own: Box) -> bool:
    """Another label level with ``box``, left of it: ``box`` is in that label's row."""
    return any(lab is not own and lab.bbox[0] < box.bbox[0] and _level(lab, box) for lab in labels)


def median_height(boxes: list[Box]) -> float:
    heights = sorted(b.height for b in boxes)
    return heights[len(heights) // 2] if heights else 1.0


def _inside(inner: BBox, outer: BBox, slack: float = 2.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


# --------------------------------------------------------------------------- holder


def _holder(kv: KeyValue, file: str, page: Page, material: str | None) -> list[FieldValue]:
    """The holder: an organisation's whole name, or a person's (a 房屋所有权人 may be either);
    a co-owner after it (张三、李四) is said in the note."""
    text = _brackets(_TRAIL.sub("", kv.value))
    if len(text) < 2:
        return []
    end = org_name(text)
    if end is not None:
        return [FieldValue.of_pair(kv, "premises.holder", text[:end], file, page, material)]
    person = _PERSON.match(text)
    if person is None or not (person.group(0)[:1] in SURNAMES or person.group(0)[:2] in SURNAMES):
        return []  # neither an organisation's name nor a person's: not guessed
    name = person.group(0)
    rest = text[person.end() :]
    found = FieldValue.of_pair(kv, "premises.holder", name, file, page, material)
    found.note = "权利人为自然人" + ("，另有共有人" if rest[:1] in ("、", "，", ",", "及") else "")
    return [found]


# --------------------------------------------------------------------------- identifiers


def _unit_number(kv: KeyValue, file: str, page: Page, material: str | None) -> list[FieldValue]:
    """The 不动产单元号 as one token (OCR may split its 28 characters over boxes, or print
    them in groups: 610113 001001 GB00001 F00010001): never a credit code."""
    raw = re.sub(r"[^0-9A-Za-z]", "", fold(kv.value)).upper()
    for token in identifiers.tokens(raw):
        if token.kind == "property_unit":
            return [
                FieldValue.of_pair(kv, "property.unit_number", token.value, file, page, material)
            ]
    if _UNIT_SHAPE.fullmatch(raw):  # GB read as G8, F as 7: its shape, doubted
        found = FieldValue.of_pair(kv, "property.unit_number", raw, file, page, material)
        found.confidence = min(found.confidence, 0.6)
        found.note = f"不动产单元号“{raw}”与编码规则不完全相符，请人工核对"
        return [found]
    return []


def _numbers(page: Page, vocab: Vocabulary, file: str, material: str | None) -> list[FieldValue]:
    """The certificate's number (陕（2019）西安市不动产权第0012345号, 西安市房权证碑林区字第…号),
    read along each row of boxes (the number may be split over two)."""
    out: list[FieldValue] = []
    for text, bbox, conf in _rows(page_boxes(page)):
        for pattern in vocab.numbers:
            m = pattern.search(text)
            if m is None:
                continue
            out.append(
                FieldValue(
                    field="property.certificate_number",
                    value=_brackets(m.group(0)),
                    file=file,
                    page=page.number,
                    text=text,
                    confidence=round(min(0.99, conf), 3),
                    material=material,
                    bbox=bbox,
                    origin=str(page.origin),
                )
            )
            break
    return out[:1]


def _rows(boxes: list[Box]) -> list[tuple[str, BBox, float]]:
    """The page's boxes joined along rows (boxes that overlap vertically, left to right)."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.bbox[0])):
        row = next((r for r in rows if _level(r[-1], box)), None)
        if row is None:
            rows.append([box])
        else:
            row.append(box)
    out = []
    for row in rows:
        row.sort(key=lambda b: b.bbox[0])
        out.append(("".join(b.text for b in row), _union([b.bbox for b in row]),
                    min(b.conf for b in row)))  # fmt: skip
    return out


def _level(a: Box, b: Box) -> bool:
    top, bottom = max(a.bbox[1], b.bbox[1]), min(a.bbox[3], b.bbox[3])
    return bottom - top >= 0.5 * min(a.height, b.height)


# --------------------------------------------------------------------------- areas


def _areas(pairs: list[KeyValue], vocab: Vocabulary) -> list[Area]:
    """Every area printed beside a label: the 面积 row's (land and building, in either
    order, split by / ／ ; 、 or a line break), 权利其他状况's lines, and a label that is an
    area's own name (建筑面积：865.32㎡)."""
    out: list[Area] = []
    for kv in pairs:
        if kv.field == "property.area":
            out.extend(_parse_areas(_value_lines(kv), kv, vocab, "area", named_only=False))
        elif kv.field == "property.other":
            out.extend(_parse_areas(_value_lines(kv), kv, vocab, "other", named_only=True))
        elif kv.field in vocab.columns and _beside(kv):
            text = kv.label + "：" + _value_lines(kv)
            out.extend(_parse_areas(text, kv, vocab, "label", named_only=True))
    return out


def _beside(kv: KeyValue) -> bool:
    """Is the value on its label's row (a label and its value), not under it (a column)?"""
    if not kv.boxes:
        return True  # the value is in the label's own box
    first = kv.boxes[0].bbox
    # kv.bbox starts at the label's top: a value under the label starts most of a line lower.
    return first[1] - kv.bbox[1] < 0.5 * (first[3] - first[1])


def _head(kv: KeyValue) -> str:
    """The part of the value read in the label's own box (面积共有宗地面积…), if any."""
    return kv.value[: len(kv.value) - sum(len(b.text) for b in kv.boxes)]


def _value_lines(kv: KeyValue) -> str:
    """The value's lines, joined by line breaks (the layer joins them without one)."""
    head = _head(kv)
    lines = ([head] if head else []) + [b.text for b in kv.boxes]
    return "\n".join(_LEAD.sub("", line) for line in lines)


def _parse_areas(
    text: str, kv: KeyValue, vocab: Vocabulary, source: str, *, named_only: bool
) -> list[Area]:
    out: list[Area] = []
    text = fold(text)
    for m in _AREA.finditer(text):
        name = m.group("name") or ""
        unit = m.group("unit")
        if not name and not unit:
            continue  # a bare figure: a floor count, a year, not an area
        if unit == "m" and not name:
            continue
        kind = _kind(name, vocab)
        if kind is None:
            if named_only or name:
                continue  # 总层数：22层, 所在层 …: not an area
            kind = ""
        try:
            value = float(m.group("num").replace(",", "").replace("，", ""))
        except ValueError:
            continue
        if value <= 0:
            continue
        out.append(Area(kind, value, name, f"{kv.label} {m.group(0).strip()}", kv.bbox, kv.conf,
                        source))  # fmt: skip
    return out


def _kind(name: str, vocab: Vocabulary) -> str | None:
    """What an area's name says it is (land, shared, exclusive, building); "" for no name,
    None for words that name no area."""
    if not name:
        return ""
    if "面积" not in name and not any(w in name for w in vocab.area["building"]):
        return None
    for kind in ("land", "shared", "exclusive", "building"):
        if any(word in name for word in vocab.area[kind]):
            return kind
    return None


def _premises_area(
    areas: list[Area],
    right_type: str,
    vocab: Vocabulary,
    file: str,
    page: Page,
    material: str | None,
) -> list[FieldValue]:
    """The building's area: named so (房屋建筑面积, 建筑面积, the 房屋状况 table's column), else
    its exclusive and shared parts added, else a figure printed without its name that the
    right types place on the building (doubted); never the land's."""
    building = [a for a in areas if a.kind == "building"]
    if building:
        best = min(building, key=lambda a: ("area", "column", "label", "other").index(a.source))
        return [_area_value("premises.area_m2", best, file, page, material)]
    exclusive = [a for a in areas if a.kind == "exclusive"]
    shared = [a for a in areas if a.kind == "shared"]
    if exclusive and shared:
        own, share = exclusive[0], shared[0]
        total = round(own.value + share.value, 2)
        found = _area_value("premises.area_m2", own, file, page, material)
        found.value = total
        found.text = f"{own.text}；{share.text}"
        found.note = f"建筑面积按{own.name}与{share.name}之和计"
        return [found]
    unnamed = [a for a in areas if a.kind == "" and a.source == "area"]
    covers = _covers(right_type, vocab)
    if unnamed and len(covers) == len(unnamed) and "building" in covers:
        # 面积 3000.00㎡/865.32㎡ under 权利类型 国有建设用地使用权/房屋所有权: in the same order.
        area = unnamed[covers.index("building")]
        found = _area_value("premises.area_m2", area, file, page, material)
        found.confidence = min(found.confidence, 0.6)
        found.note = f"面积未注明为房屋建筑面积，按权利类型“{right_type}”的次序取用，请人工核对"
        for other, cover in zip(unnamed, covers, strict=True):
            if cover == "land":
                other.kind = "land"
        return [found]
    if len(unnamed) == 1 and covers != ["land"]:
        found = _area_value("premises.area_m2", unnamed[0], file, page, material)
        found.confidence = min(found.confidence, 0.5)
        found.note = "面积未注明为房屋建筑面积还是土地面积，请人工核对"
        return [found]
    if len(unnamed) == 1:
        unnamed[0].kind = "land"  # a land-only certificate: its area is the land's
    if exclusive:
        found = _area_value("premises.area_m2", exclusive[0], file, page, material)
        found.confidence = min(found.confidence, 0.5)
        found.note = f"仅读到{exclusive[0].name or '套内建筑面积'}，未含分摊面积，请人工核对"
        return [found]
    return []


def _covers(right_type: str, vocab: Vocabulary) -> list[str]:
    """What each part of a right type covers, in order (国有建设用地使用权/房屋所有权 →
    land, building); an empty list when a part says neither."""
    parts = [p for p in re.split(r"[/／、;；]", right_type) if p]
    covers = []
    for part in parts:
        if any(w in part for w in vocab.rights["building"]):
            covers.append("building")
        elif any(w in part for w in vocab.rights["land"]):
            covers.append("land")
        else:
            return []
    return covers


def _column_areas(page: Page, vocab: Vocabulary) -> list[Area]:
    """The 房屋状况 table: a column header (建筑面积（㎡）, 套内建筑面积（㎡）) with its values
    under it; several rows (several buildings) are added up."""
    out: list[Area] = []
    kinds = {"premises.area_m2": "building", "property.inner_area": "exclusive"}
    for header, values in _columns(page, vocab):
        kind = kinds.get(header.label or "")
        if kind is None:
            continue
        figures = []
        for box in values:
            m = re.fullmatch(r"(\d+(?:\.\d+)?)(?:平方米|㎡|m²|m2)?", fold(box.text))
            if m:
                figures.append((float(m.group(1)), box))
        if not figures:
            continue
        total = round(sum(f for f, _ in figures), 2)
        text = f"{header.text} " + "、".join(b.text for _, b in figures)
        bbox = _union([header.bbox, *(b.bbox for _, b in figures)])
        conf = min(b.conf for _, b in figures)
        out.append(Area(kind, total, header.text[: header.label_end], text, bbox, conf,
                        "column"))  # fmt: skip
    return out


def _column_terms(
    page: Page, vocab: Vocabulary, file: str, material: str | None
) -> list[FieldValue]:
    """土地使用年限 under its column header (the 房屋所有权证's 土地状况 table)."""
    for header, values in _columns(page, vocab):
        if header.label != "property.term" or not values:
            continue
        text = "".join(b.text for b in values)
        kv = KeyValue("property.term", header.text[: header.label_end], text,
                      _union([header.bbox, *(b.bbox for b in values)]),
                      min(b.conf for b in values), boxes=values)  # fmt: skip
        return _term_end(kv, text, file, page, material)
    return []


def _columns(page: Page, vocab: Vocabulary) -> list[tuple[Box, list[Box]]]:
    """Each column header (a label with no value beside it) and the boxes under it, down
    to the next label or a gap of more than three rows. A box under a row of headers goes
    to the header it overlaps most."""
    boxes = page_boxes(page)
    found = find_labels(boxes, _labels())
    headers = [
        h
        for h in found
        if h.label in vocab.columns
        and re.fullmatch(r"[(（][^)）]*[)）]|", h.text[h.label_end :]) is not None
    ]
    taken: dict[int, list[Box]] = {id(h): [] for h in headers}
    if not headers:
        return []
    height = median_height(boxes)
    for box in sorted(boxes, key=lambda b: b.bbox[1]):
        if box.label is not None or box.used:
            continue
        above = [
            h
            for h in headers
            if box.bbox[1] >= h.bbox[3] - 0.2 * height
            and _x_overlap(box.bbox, h.bbox) > 0
            and box.bbox[1] - (taken[id(h)][-1].bbox[3] if taken[id(h)] else h.bbox[3])
            <= 3 * height
        ]
        if not above:
            continue
        # The nearest row of headers above, then the header it overlaps most.
        top = max(h.bbox[3] for h in above)
        row = [h for h in above if h.bbox[3] >= top - 0.5 * height]
        header = max(row, key=lambda h: _x_overlap(box.bbox, h.bbox))
        if _label_between(header, box, found):
            continue
        taken[id(header)].append(box)
    return [(h, taken[id(h)]) for h in headers]


def _label_between(header: Box, box: Box, labels: list[Box]) -> bool:
    """A label (or a section's name) in the column between a header and a box: the box is
    in another table."""
    return any(
        lab is not header
        and header.bbox[3] <= lab.cy <= box.bbox[1]
        and _x_overlap(lab.bbox, box.bbox) > 0
        for lab in labels
    )


def _x_overlap(a: BBox, b: BBox) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0]))


# --------------------------------------------------------------------------- values


def _term_end(
    kv: KeyValue, text: str, file: str, page: Page, material: str | None
) -> list[FieldValue]:
    """The last day of the term (2010年01月01日起2060年12月31日止 → 2060-12-31)."""
    dates = find_dates(text)
    if not dates:
        return []
    return [FieldValue.of_pair(kv, "property.term_end", dates[-1].value, file, page, material)]


def _area_value(field: str, area: Area, file: str, page: Page, material: str | None) -> FieldValue:
    return FieldValue(
        field=field,
        value=area.value,
        file=file,
        page=page.number,
        text=area.text,
        confidence=round(min(0.99, area.conf), 3),
        material=material,
        bbox=area.bbox,
        origin=str(page.origin),
    )


def _brackets(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _union(boxes: list[BBox]) -> BBox:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))  # fmt: skip
