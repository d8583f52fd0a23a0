"""Reuse across dossiers, which a single reviewer never sees: the same credit code, the same
premises address, the same file, or the same page picture (a scanned lease page, a photo of
a service event) in more than one dossier."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from extractors.text import compact
from intake.dossiers import is_current
from intake.models import Dossier, DossierFile, FileState, PagePicture, Report

_PUNCT = re.compile(r"[\s,，.。、;；:：()（）\[\]【】\-—_·#＃]")
_PROVINCE = re.compile(r"^(中国)?(陕西省?)?")


def address_key(address: str) -> str:
    """An address as compared: no spaces or punctuation, full-width folded, without a
    leading 中国/陕西省 (one document writes it, another leaves it out)."""
    return _PROVINCE.sub("", _PUNCT.sub("", compact(address)))


def find_reuse(session: Session, round: str | None = None) -> dict[str, Any]:
    query = select(Dossier).options(selectinload(Dossier.files))
    if round:
        query = query.where(Dossier.round == round)
    dossiers = {d.id: d for d in session.scalars(query)}
    if not dossiers:
        return {"credit_codes": [], "addresses": [], "files": [], "pages": []}
    # Only current reports: one built before a file was deleted or replaced may hold values
    # of files that are gone.
    reports = {
        r.dossier_id: r.content
        for r in session.scalars(select(Report).where(Report.dossier_id.in_(dossiers)))
        if is_current(r, dossiers[r.dossier_id].files)
    }
    return {
        "credit_codes": _same_value(dossiers, reports, "applicant.credit_code", str.upper),
        "addresses": _same_value(dossiers, reports, "premises.address", address_key),
        "files": _same_files(session, dossiers),
        "pages": _same_pictures(session, dossiers),
    }


def _where(dossier: Dossier, **kw) -> dict[str, Any]:
    return {"dossier": dossier.id, "name": dossier.name, "district": dossier.district, **kw}


def _same_value(
    dossiers: dict[str, Dossier], reports: dict[str, dict], field: str, key
) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # key → dossier → first
    shown: dict[str, str] = {}
    for dossier_id, content in reports.items():
        for value in content.get("fields", {}).get(field, []):
            if not isinstance(value.get("value"), str) or not value["value"].strip():
                continue
            k = key(value["value"])
            if len(k) < 6:  # a fragment ("西安市") says nothing about reuse
                continue
            shown.setdefault(k, value["value"])
            seen[k].setdefault(
                dossier_id,
                _where(dossiers[dossier_id], file=value.get("file"), page=value.get("page")),
            )
    return [
        {"value": shown[k], "dossiers": list(by.values())}
        for k, by in sorted(seen.items())
        if len(by) > 1
    ]


def _same_files(session: Session, dossiers: dict[str, Dossier]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(DossierFile.sha256, DossierFile.dossier_id, DossierFile.name).where(
            DossierFile.dossier_id.in_(dossiers), DossierFile.sha256.is_not(None)
        )
    )
    by_sha: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for sha, dossier_id, name in rows:
        by_sha[sha].setdefault(dossier_id, _where(dossiers[dossier_id], file=name))
    return [
        {"sha256": sha, "dossiers": list(by.values())}
        for sha, by in sorted(by_sha.items())
        if len(by) > 1
    ]


def _same_pictures(session: Session, dossiers: dict[str, Dossier]) -> list[dict[str, Any]]:
    """Pages whose picture appears in more than one dossier. Where every occurrence is the
    same file, the file-level list already says it; those are left out here."""
    rows = session.execute(
        select(PagePicture.picture, PagePicture.page, DossierFile.dossier_id, DossierFile.name,
               DossierFile.sha256)
        .join(DossierFile, DossierFile.sha256 == PagePicture.sha256)
        .where(DossierFile.dossier_id.in_(dossiers), DossierFile.state == FileState.DONE)
    )  # fmt: skip
    by_picture: dict[str, dict[tuple[str, str, int], dict[str, Any]]] = defaultdict(dict)
    shas: dict[str, set[str]] = defaultdict(set)
    for picture, page, dossier_id, name, sha in rows:
        by_picture[picture].setdefault(
            (dossier_id, name, page), _where(dossiers[dossier_id], file=name, page=page)
        )
        shas[picture].add(sha)
    found: dict[frozenset, dict[str, Any]] = {}
    for picture, places in by_picture.items():
        if len({p[0] for p in places}) < 2 or len(shas[picture]) < 2:
            continue
        # A page's raw and pixel hashes both match: show the page once.
        where = frozenset(places)
        found.setdefault(where, {"picture": picture, "pages": list(places.values())})
    return sorted(found.values(), key=lambda item: item["pages"][0]["name"])
