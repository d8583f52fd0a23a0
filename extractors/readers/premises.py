"""The premises proof reader (房屋租赁合同, 入驻协议, 不动产权证书, 房屋所有权证, 无偿使用证明):
the lease's last day. The areas (租赁面积, 建筑面积 …, never the land's 宗地面积), the address
(坐落) and the holder (承租方, 权利人) are read by their labels in the vocabulary; on a
property certificate's pages by the certificate's layout (extractors.readers.property),
whose values stand over the labels' there, and whose land-use term is no lease's end."""

from __future__ import annotations

import re

from extractors.classify import Material
from extractors.layout import compact
from extractors.normalize import find_dates
from extractors.pagetext import FieldValue, PageText
from extractors.readers import property as certificate
from extractors.vocabulary import material as material_type

# Fields this reader gives (beyond its material's labels).
FIELDS = ("premises.lease_end", *certificate.OWN)

_TERM = re.compile(r"租赁期限|租赁期|租期|使用期限|有效期")


def read(material: Material, pages: list[PageText]) -> list[FieldValue]:
    """The lease's end on each of its pages that states a term: after the first term label
    followed by two dates, or by a date after 至 / 到 / – / ~, the last such date."""
    out = []
    for pt in pages:
        if _certificate(material, pt):
            out.extend(certificate.read_property(pt.file, pt.page, pt.material))
            continue
        for m in _TERM.finditer(pt.text):
            tail = pt.text[m.end() : m.end() + 80]
            dates = find_dates(tail, months=True)
            ends = [d for d in dates if re.search(r"至|到|-|—|~", tail[: d.start])]
            if len(dates) >= 2 or ends:
                end = (ends or dates)[-1]
                out.append(pt.value("premises.lease_end", end.value, m.start(), m.end() + end.end))
                break
    return out


def _certificate(material: Material, pt: PageText) -> bool:
    """A property certificate's page: the material is one, or the page (a certificate
    behind a lease) carries more of a certificate's cues than of a lease's."""
    if material.kind == "property_certificate":
        return True
    text = compact(pt.text)
    cues = {
        k.id: sum(compact(c) in text for c in k.cues) for k in material_type(material.type).kinds
    }
    own = cues.get("property_certificate", 0)
    return own >= 2 and own > cues.get("lease", 0)


def settle(labelled: list[FieldValue], own: list[FieldValue]) -> list[FieldValue]:
    """On a certificate's pages the layout reader's holder, address and area stand; a value
    the labels alone gave for one it did not find there stays, doubted (it may be the land's
    area or the next row's words)."""
    pages = {(v.file, v.page) for v in own if v.field in (*certificate.READS, *certificate.OWN)}
    found = {(v.file, v.page, v.field) for v in own}
    kept: list[FieldValue] = []
    for v in labelled:
        if (v.file, v.page) not in pages or v.field not in certificate.READS:
            kept.append(v)
        elif (v.file, v.page, v.field) not in found:
            v.confidence = min(v.confidence, 0.5)
            v.note = v.note or "未能按证书版面读取该项，取自文字匹配，请人工核对"
            kept.append(v)
    return kept
