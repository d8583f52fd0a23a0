"""Key–value pairs of a form or certificate from the geometry of its text boxes, not from
joined text (PaddleOCR's KIE does it with a model; this is the rule version).

A page's boxes (one per OCR'd line or text-layer line) are matched against a field's
labels, letter-spaced labels joined across neighbouring boxes (名　　称 read as "名" and
"称"), and a tall narrow box read down a column (OCR's "名类住" for the label column of a
portrait licence) cut into one box a character. A label's value is the boxes to its right
on the same row band, chained box to box (a tilted photo's rows slope), ending at the next
label or at a gap wider than a column's; then the lines below that start where the value
started (a wrapped address), up to the next labelled row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median

from extractors.model import BBox, Page

_SPACE = re.compile(r"\s+")
_LEAD = re.compile(r"^[:：;；,，.。·、|\]】)）\s]+")
_SPECKS = re.compile(r"[·•.,，、'‘’`\-_~]*")  # marks OCR reads from specks before a label


def compact(text: str) -> str:
    """NFKC, without spaces (labels and values are compared this way)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class Box:
    text: str  # compacted
    bbox: BBox
    conf: float = 1.0
    label: str | None = None  # the field whose label this box (or its start) is
    label_end: int = 0  # characters of ``text`` that are the label
    used: bool = False
    overlay: bool = False  # type laid over or above the rows (``OVERLAY``): no label, no value
    on_end: bool = False  # a character of a box read down the page (a label column)
    # A letter-spaced label's row where its boxes disagree (``_shared_rows``): top, bottom.
    row: tuple[float, float] | None = None

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def width(self) -> float:
        return self.bbox[2] - self.bbox[0]

    @property
    def cy(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


@dataclass
class KeyValue:
    field: str
    label: str  # as read
    value: str  # joined, compacted
    bbox: BBox
    conf: float
    lines: int = 1  # value lines taken (a wrapped value has more)
    boxes: list[Box] = field(default_factory=list)
    fragment: bool = False  # found by a piece of its label (label_fragments)
    misread: bool = False  # found by its label read with a character wrong (misread_labels)
    hidden_at: int | None = None  # characters may be lost here, under an overlay


def page_boxes(page: Page) -> list[Box]:
    """The page's lines as boxes; a vertical box (a column read top to bottom) becomes one
    box a character, spaced evenly down its height."""
    out: list[Box] = []
    for line in page.lines:
        text = compact(line.text)
        if not text or line.bbox is None:
            continue
        conf = line.conf if line.conf is not None else 1.0
        x0, y0, x1, y1 = line.bbox
        width, height = x1 - x0, y1 - y0
        if len(text) >= 2 and height > 1.8 * width and height > 1.5 * len(text) * width * 0.5:
            step = height / len(text)
            for i, ch in enumerate(text):
                box = (x0, y0 + i * step, x1, y0 + (i + 1) * step)
                out.append(Box(ch, box, conf, on_end=True))
            continue
        out.append(Box(text, line.bbox, conf))
    return out


def _overlap(a: BBox, b: BBox) -> float:
    """Vertical overlap of two boxes as a share of the shorter one's height."""
    top, bottom = max(a[1], b[1]), min(a[3], b[3])
    shorter = min(a[3] - a[1], b[3] - b[1]) or 1.0
    return max(0.0, bottom - top) / shorter


def _value_under(label: Box, boxes: list[Box]) -> Box | None:
    """The box right under a label, starting within it or just after it, on the next line;
    not one right after another label on its own row (that label's value: a 营业期限 whose
    value OCR lost is not given the 住所 printed under it)."""
    h = max(label.height, 1.0)
    under = [
        b
        for b in boxes
        if not b.used and b.label is None and b is not label
        and 0 <= b.bbox[1] - label.bbox[3] + 0.3 * h <= 0.8 * h
        and label.bbox[0] <= b.bbox[0] <= label.bbox[2] + 2 * h
        and not _follows_a_label(b, boxes, label, b.height, before=OVERLAP, overlap=SQUARELY)
    ]  # fmt: skip
    return min(under, key=lambda b: (b.bbox[1], b.bbox[0])) if under else None


def _follows_a_label(
    box: Box, boxes: list[Box], own: Box, row_height: float, before: float, overlap: float
) -> bool:
    """``box`` starts right after a label other than ``own`` on its row: within three
    ``row_height`` after the label's end, or up to ``before`` of them inside it (boxes of a
    tight row overlap), overlapping it by ``overlap`` of the shorter one's height."""
    row_height = max(row_height, 1.0)
    return any(
        b.label is not None
        and b is not own
        and -before * row_height <= box.bbox[0] - _label_right(b) <= 3 * row_height
        and _overlap(b.bbox, box.bbox) >= overlap
        for b in boxes
    )


# A value-under must be squarely on another label's row to be that label's: the older
# licences print a value half a line under its label, half on the next label's row.
SQUARELY = 0.7


def _inside(inner: BBox, outer: BBox, slack: float = 2.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _row_mates(box: Box, boxes: list[Box]) -> list[Box]:
    """Boxes on ``box``'s row to its right, nearest first."""
    mates = [
        b
        for b in boxes
        if b is not box
        and b.bbox[0] >= box.bbox[0] + 0.5 * box.width
        and _overlap(b.bbox, box.bbox) >= 0.5
    ]
    return sorted(mates, key=lambda b: b.bbox[0])


def find_labels(boxes: list[Box], labels: Mapping[str, Iterable[str]]) -> list[Box]:
    """Mark the boxes that are (or start with) a label; a label spread over neighbouring
    boxes of one row (letter-spaced) becomes one box. Returns the label boxes."""
    table = sorted(
        ((compact(label), name) for name, names in labels.items() for label in names),
        key=lambda item: -len(item[0]),
    )
    found: list[Box] = []
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.bbox[0])):
        if box.used:
            continue
        speck = len(_SPECKS.match(box.text).group(0))  # ·法定代表人: a speck read first
        hit = next(((lab, name) for lab, name in table if box.text.startswith(lab, speck)), None)
        if hit:
            box.label, box.label_end = hit[1], speck + len(hit[0])
            found.append(box)
            continue
        # A letter-spaced label: this box is its first characters, boxes to the right the
        # rest (the last one may carry the value after the label's end).
        for lab, name in table:
            if len(lab) < 2 or not lab.startswith(box.text) or len(box.text) >= len(lab):
                continue
            parts, text = [box], box.text
            for mate in _row_mates(box, boxes):
                if mate.overlay:
                    continue  # a watermark between a spaced label's characters
                if mate.used or mate.bbox[0] - parts[-1].bbox[2] > 6 * max(box.height, 1):
                    break
                text += mate.text
                parts.append(mate)
                if text.startswith(lab) or not lab.startswith(text):
                    break
            if not text.startswith(lab):
                continue
            x0 = min(p.bbox[0] for p in parts)
            union = (x0, min(p.bbox[1] for p in parts), max(p.bbox[2] for p in parts),
                     max(p.bbox[3] for p in parts))  # fmt: skip
            label_box = Box(text, union, min(p.conf for p in parts), name, len(lab))
            label_box.row = _shared_rows(parts)
            # The value, if the last part carries it, stays with the label box; its right
            # edge is where the label's last part ends.
            for p in parts:
                p.used = True
            merged.append(label_box)
            found.append(label_box)
            break
    boxes.extend(merged)
    return found


def _shared_rows(parts: list[Box]) -> tuple[float, float]:
    """The top and bottom of the row a letter-spaced label's characters share, where its
    value is looked for: where all of them are, when that is at least half the shortest
    one's height (a character boxed taller than the rest reached into the next row: a 名
    boxed with part of the 类 under it took the next row's value, which started a few
    pixels further left, for its own), else the span of them all. The label's box stays
    the span of them all (what lies inside it is the label's)."""
    top, bottom = max(p.bbox[1] for p in parts), min(p.bbox[3] for p in parts)
    if bottom - top >= 0.5 * min(p.height for p in parts):
        return top, bottom
    return min(p.bbox[1] for p in parts), max(p.bbox[3] for p in parts)


def key_values(
    page: Page,
    labels: Mapping[str, Iterable[str]],
    multiline: Iterable[str] = (),
    fragments: bool = False,
    misread: bool = False,
) -> list[KeyValue]:
    """Each labelled value of the page, in reading order. ``multiline``: fields whose value
    may wrap onto the lines below (an address, a name, a business scope). ``fragments``:
    also take a label of a justified label column of which OCR kept only a piece (see
    ``label_fragments``); ``misread``: also a label of a label column that OCR read with
    one character wrong (see ``misread_labels``). Their values come after the whole
    labels have taken theirs, and are doubted."""
    boxes = page_boxes(page)
    if not boxes:
        return []
    text_height = median([b.height for b in boxes])
    for b in boxes:
        if min(b.height, b.width) > OVERLAY * text_height:
            b.overlay = b.used = True  # a watermark, a stamp's words, a title
    found = find_labels(boxes, labels)
    line_height = median([b.height for b in boxes if not b.label] or [1.0])
    wraps = set(multiline)
    out: list[KeyValue] = []
    for label in sorted(found, key=lambda b: (b.cy, b.bbox[0])):
        kv = _value_of(label, boxes, line_height, label.label in wraps)
        if kv is not None:
            out.append(kv)
    # Labels found by a piece or with a character misread, where values have not started.
    for wanted, finder, how in ((fragments, label_fragments, "fragment"),
                                (misread, misread_labels, "misread")):  # fmt: skip
        if not wanted:
            continue
        starts = [b.bbox[0] for kv in out for b in kv.boxes]
        for label in finder(boxes, labels, found, starts):
            kv = _value_of(label, boxes, line_height, label.label in wraps, under=False)
            if kv is not None:
                kv.conf = round(kv.conf * FRAGMENT_DOUBT, 3)
                setattr(kv, how, True)
                out.append(kv)
    if fragments or misread:
        out.sort(key=lambda kv: (kv.bbox[1], kv.bbox[0]))
    _overlaid(out, boxes)
    return out


# A box taller and wider than this many of the page's text lines is type of another size
# laid over or above the rows (a diagonal watermark across the page, 审核用, the title): it
# overlaps every row it crosses, so it would otherwise pass for the nearest value.
OVERLAY = 2.5


# --------------------------------------------------------------------------- fragments

FRAGMENT_DOUBT = 0.9  # a value found by a piece of its label is a little less sure
# Labels spread to the column's width are the short ones (名称, 住所, 经营场所): a longer
# one (统一社会信用代码, 法定代表人) fills the width itself and is read whole.
SPACED = 4
WRAP_GAP = 0.4  # the widest gap above a wrapped line, in lines


def _pieces(labels: Mapping[str, Iterable[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The proper tails and heads of the labels (名称 → 称, 名) that belong to one field
    only: 所 ends 住所, 经营场所 and 营业场所, all an address; 号 ends 注册号 and 编号, two
    fields, so it names none."""
    tails: dict[str, set[str]] = {}
    heads: dict[str, set[str]] = {}
    short_tails: set[str] = set()  # pieces of labels short enough to be letter-spaced
    short_heads: set[str] = set()
    for name, names in labels.items():
        for raw in names:
            lab = compact(raw)
            for i in range(1, len(lab)):
                tails.setdefault(lab[i:], set()).add(name)
                heads.setdefault(lab[:i], set()).add(name)
                if len(lab) <= SPACED:
                    short_tails.add(lab[i:])
                    short_heads.add(lab[:i])
    whole = {compact(raw) for names in labels.values() for raw in names}

    def sure(pieces: dict[str, set[str]], short: set[str]) -> dict[str, str]:
        return {
            p: next(iter(f))
            for p, f in pieces.items()
            if len(f) == 1 and p in short and p not in whole
        }

    return sure(tails, short_tails), sure(heads, short_heads)


def _label_right(box: Box) -> float:
    """Where a label box's label ends (a box that also holds its value: after the label's
    characters, each about as wide as the box is high)."""
    if box.label_end >= len(box.text):
        return box.bbox[2]
    return box.bbox[0] + box.label_end * box.height  # a Han character is about square


@dataclass
class _Piece:
    parts: list[Box]  # the boxes the piece is read from, left to right
    piece: str  # the label's characters they hold
    field: str
    tail: bool  # the label's end (称) rather than its start (名)
    x: float  # where the piece ends (a tail) or starts (a head)

    @property
    def box(self) -> Box:
        return self.parts[0]


def label_fragments(
    boxes: list[Box],
    labels: Mapping[str, Iterable[str]],
    found: list[Box],
    value_starts: Iterable[float] = (),
) -> list[Box]:
    """Labels of a justified label column (名　　称 spread to the width of 法定代表人) of
    which OCR kept a piece: the tail (称, 营场所, or 所 read into its value: 所北京市…) or
    the head (名, its 称 lost). A piece counts only where a label column is: a tail must
    end where another label of the column ends (labels are justified to one right edge), a
    head must start where another starts, on another row; the other may be a whole label
    or a piece. A box that starts where the values of labels start (``value_starts``:
    the left edges of their value boxes) is the value column's text (人力资源服务…, a
    wrapped line), never a label. Among boxes no value has taken; returns the new label
    boxes."""
    tails, heads = _pieces(labels)
    tail_order = sorted(tails, key=len, reverse=True)
    found_pieces: list[_Piece] = []
    free = [b for b in boxes if not b.used and b.label is None]
    for box in sorted(free, key=lambda b: (b.cy, b.bbox[0])):
        hit = _tail_piece(box, free, tail_order)
        if hit is not None:
            parts, piece = hit
            last = parts[-1]
            within = len(piece) - sum(len(p.text) for p in parts[:-1])  # chars in the last
            if within < len(last.text):  # the value follows in the same box
                end = last.bbox[0] + within * min(last.height, last.width)
            else:
                end = last.bbox[2]
            found_pieces.append(_Piece(parts, piece, tails[piece], True, end))
        elif box.text in heads:
            found_pieces.append(_Piece([box], box.text, heads[box.text], False, box.bbox[0]))
    # A box is in one piece at most: the longest (营场 + 所 rather than 所 alone); none
    # starts where values start.
    starts_of_values = list(value_starts)
    pieces: list[_Piece] = []
    for piece in sorted(found_pieces, key=lambda p: -len(p.piece)):
        x0, h = piece.box.bbox[0], max(piece.box.height, 1.0)
        if any(abs(x0 - x) <= 0.5 * h for x in starts_of_values):
            continue
        if not any(part in p.parts for p in pieces for part in piece.parts):
            pieces.append(piece)
    pieces.sort(key=lambda p: (p.box.cy, p.box.bbox[0]))
    ends = [(_label_right(b), b.cy) for b in found]
    starts = [(b.bbox[0], b.cy) for b in found]
    out: list[Box] = []
    for piece in pieces:
        box, h = piece.box, max(piece.box.height, 1.0)
        others = (ends if piece.tail else starts) + [
            (p.x, p.box.cy) for p in pieces if p is not piece and p.tail == piece.tail
        ]
        if not any(abs(piece.x - x) <= 0.7 * h and abs(cy - box.cy) > 0.6 * h for x, cy in others):
            continue
        parts = piece.parts
        union = (min(p.bbox[0] for p in parts), min(p.bbox[1] for p in parts),
                 max(p.bbox[2] for p in parts), max(p.bbox[3] for p in parts))  # fmt: skip
        label = Box("".join(p.text for p in parts), union, min(p.conf for p in parts),
                    piece.field, len(piece.piece))  # fmt: skip
        for p in parts:
            p.used = True
        boxes.append(label)
        out.append(label)
    return out


# --------------------------------------------------------------------------- misread labels

# Labels this long or longer are still known with one character misread: of a shorter one
# (住所, 名称) one character right is no evidence.
MISREAD_FROM = 3


def misread_labels(
    boxes: list[Box],
    labels: Mapping[str, Iterable[str]],
    found: list[Box],
    value_starts: Iterable[float] = (),
) -> list[Box]:
    """Labels OCR read with one character wrong (经曹者 for 经营者, 法定代表入 for 法定代表
    人, 注册资夲 for 注册资本): a box that starts with a label of ``MISREAD_FROM`` or more
    characters but for one character substituted, where no other field's label is as near,
    counts as that label where a label column is: its left edge lines up with another
    label's (a label column starts at one left edge), on another row. Elsewhere such a
    start is text (a scope line 经营性… is one character from 经营者), and a box that starts
    where the values of labels start (``value_starts``) is the value column's text. A field
    whose label was found is not looked for again (a licence prints each label once).
    Among boxes no value has taken; returns the new label boxes (the label as read, its
    field)."""
    by_length: dict[int, list[tuple[str, str]]] = {}
    for name, names in labels.items():
        for raw in names:
            lab = compact(raw)
            if len(lab) >= MISREAD_FROM:
                by_length.setdefault(len(lab), []).append((lab, name))
    columns = [(b.bbox[0], b.cy) for b in found]
    labelled = {b.label for b in boxes if b.label is not None}
    starts = list(value_starts)
    out: list[Box] = []
    free = [b for b in boxes if not b.used and b.label is None and not b.on_end]
    for box in sorted(free, key=lambda b: (b.cy, b.bbox[0])):
        h = max(box.height, 1.0)
        if not any(abs(box.bbox[0] - x) <= 0.7 * h and abs(cy - box.cy) > 0.6 * h
                   for x, cy in columns):  # fmt: skip
            continue
        if any(abs(box.bbox[0] - x) <= 0.5 * h for x in starts):
            continue
        near = {
            (length, name)
            for length, table in by_length.items()
            if len(box.text) >= length
            for lab, name in table
            if sum(a != b for a, b in zip(box.text[:length], lab, strict=True)) == 1
        }
        if len({name for _, name in near}) != 1:
            continue  # none, or as near to two fields' labels
        length, name = max(near)
        if name in labelled:
            continue
        labelled.add(name)
        label = Box(box.text, box.bbox, box.conf, name, length)
        box.used = True
        boxes.append(label)
        out.append(label)
    return out


def _tail_piece(box: Box, free: list[Box], tails: list[str]) -> tuple[list[Box], str] | None:
    """The tail of a label that ``box`` starts, alone or with the boxes right of it on its
    row (营场 + 所), longest first: (the boxes, the tail)."""
    for tail in tails:
        if box.text.startswith(tail):
            return [box], tail
    parts, text = [box], box.text
    if not any(t.startswith(text) for t in tails):
        return None
    for mate in _row_mates(box, free):
        if mate.used or mate.bbox[0] - parts[-1].bbox[2] > 2 * max(box.height, 1):
            break
        text += mate.text
        parts.append(mate)
        hit = next((t for t in tails if text.startswith(t)), None)
        if hit:
            return parts, hit
        if not any(t.startswith(text) for t in tails):
            break
    return None


# Two boxes the detector drew over one stretch of a row overlap by up to about a character,
# and both hold the characters there (注册日期2 | 2020年05月18日): a box starting that far
# left of the previous one's end still continues it, and what both read is kept once.
OVERLAP = 1.0  # in heights of the label's row


def _without_repeat(text: str, following: str, overlap: float, height: float) -> str:
    """``text`` without the characters that the ``following`` box, which starts
    ``overlap`` px before ``text``'s box ends, reads again at its start."""
    if overlap <= 0 or not text:
        return text
    most = min(len(text), len(following), round(overlap / max(height, 1.0)) + 1)
    for k in range(most, 0, -1):
        if text.endswith(following[:k]):
            return text[:-k]
    return text


def _value_of(
    label: Box, boxes: list[Box], line_height: float, wraps: bool, under: bool = True
) -> KeyValue | None:
    taken: list[Box] = []
    first = _LEAD.sub("", label.text[label.label_end :])
    text = first
    band = label.bbox if label.row is None else (label.bbox[0], label.row[0], label.bbox[2],
                                                 label.row[1])  # fmt: skip
    right = label.bbox[2]
    height = max(label.height, 1.0)
    if first:
        taken.append(label)
    # Boxes to the right on the row band, nearest first, chained (each box's band is the
    # next one's reference: a tilted photo's rows slope).
    gap_limit = 8 * height if not first else 3 * height
    value_height = 0.0 if not first else label.height
    while True:
        candidates = [
            b
            for b in boxes
            if not b.used and b is not label and b not in taken
            and b.bbox[0] >= right - OVERLAP * height and _overlap(b.bbox, band) >= 0.3
            and b.bbox[0] > label.bbox[0]
        ]  # fmt: skip
        if not candidates:
            break
        # Level with the band if any is; else a little lower or higher (a tilted photo).
        # The nearest; of boxes starting about as near (a line and its wrapped line under
        # it, both half on the row of a label as tall as the two), the one most in line.
        level = [b for b in candidates if _overlap(b.bbox, band) >= 0.5] or candidates
        nearest = min(b.bbox[0] for b in level)
        near = [b for b in level if b.bbox[0] - nearest <= 0.5 * height]
        nxt = max(near, key=lambda b: (_overlap(b.bbox, band), -b.bbox[0]))
        if nxt.label is not None or nxt.bbox[0] - right > gap_limit:
            break
        if value_height and not 0.6 * value_height <= nxt.height <= 1.6 * value_height:
            break  # another size of type: a watermark, a note beside the value
        taken.append(nxt)
        text = _without_repeat(text, nxt.text, right - nxt.bbox[0], height) + nxt.text
        band, right = nxt.bbox, nxt.bbox[2]
        value_height = value_height or nxt.height
        gap_limit = 3 * value_height
    value_boxes = [b for b in taken if b is not label]
    if not text:
        # Nothing beside the label: some designs print the value under it, a little to the
        # right (the older 企业法人营业执照's dates).
        below = _value_under(label, boxes) if under else None
        if below is None:
            return None
        taken.append(below)
        value_boxes.append(below)
        text = below.text
    lines = 1
    if wraps:
        # Where the value's first line starts: its own box, or (label and value read as one
        # box) after the label's characters, letter-spacing allowing up to ~3 more.
        row_height = min(b.height for b in taken) if taken else line_height
        if value_boxes:
            lo = hi = value_boxes[0].bbox[0]
        else:
            lo = label.bbox[0] + label.label_end * label.width / max(len(label.text), 1)
            hi = lo + 3 * row_height
        bottom = max(b.bbox[3] for b in taken) if taken else label.bbox[3]
        # A wrapped line follows at the field's own line spacing (on real licences its
        # gap is at most a fifth of a line); the next row is set further down (half a line
        # or more), so a row whose label OCR lost is not taken for a wrapped line. A
        # character of a label column read down the page (名类: its 型 lost) is none either.
        while True:
            below = [
                b
                for b in boxes
                if not b.used and b.label is None and b not in taken and not b.on_end
                and -0.6 * row_height <= b.bbox[1] - bottom <= WRAP_GAP * row_height
                and lo - 1.2 * row_height <= b.bbox[0] <= hi + 1.2 * row_height
                and 0.4 * row_height <= b.height <= 1.6 * row_height
            ]  # fmt: skip
            if not below:
                break
            nxt = min(below, key=lambda b: b.bbox[1])
            if any(
                b is not nxt
                and b not in taken  # the value's own line above, in a tight row
                and not b.overlay
                and not _inside(b.bbox, label.bbox)
                and label.bbox[0] - 0.5 * row_height <= b.bbox[0] < nxt.bbox[0]
                and _overlap(b.bbox, nxt.bbox) >= 0.5
                for b in boxes
            ):
                break  # words left of it, in this field's columns: a row of its own
            if _follows_a_label(nxt, boxes, label, row_height, before=0.0, overlap=0.5):
                break  # right after another label on its row: that label's value
            taken.append(nxt)
            value_boxes.append(nxt)
            text += nxt.text
            bottom = nxt.bbox[3]
            lines += 1
    for b in value_boxes:
        b.used = True
    spans = [label.bbox, *(b.bbox for b in value_boxes)]
    bbox = (min(s[0] for s in spans), min(s[1] for s in spans), max(s[2] for s in spans),
            max(s[3] for s in spans))  # fmt: skip
    confs = [b.conf for b in taken] or [label.conf]
    return KeyValue(
        field=label.label or "",
        label=label.text[: label.label_end],
        value=text,
        bbox=bbox,
        conf=min(confs),
        lines=lines,
        boxes=value_boxes,
    )


def _overlaid(pairs: list[KeyValue], boxes: list[Box]) -> None:
    """A value line that wraps but ends under a stamp or overlay printed over it (text of a
    much larger size: 审核用, 仅供…使用) may have lost its last characters there: the
    value's ``hidden_at`` says after which of its characters."""
    for kv in pairs:
        if kv.lines < 2:
            continue
        at = len(kv.value) - sum(len(b.text) for b in kv.boxes)  # the label box's share
        for i, line in enumerate(kv.boxes):
            at += len(line.text)
            after = kv.boxes[i + 1] if i + 1 < len(kv.boxes) else None
            if after is None or after.bbox[1] < line.bbox[3] - 0.3 * line.height:
                continue  # the value's last line, or the next box is on the same line
            x, y = line.bbox[2], line.cy
            if any(
                o not in kv.boxes
                and o.height >= 2.5 * line.height
                and o.bbox[0] - 0.5 * line.height <= x <= o.bbox[2]
                and o.bbox[1] <= y <= o.bbox[3]
                for o in boxes
            ):
                kv.hidden_at = at
                break
