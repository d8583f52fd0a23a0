"""What each role may read of the reviewers' work, applied where content leaves the
service (JSON API, report HTML and PDF, web pages).

Reviewers and bureau staff see everything: who corrected or accepted what, and why. An
applicant sees *that* a value was corrected or a review item accepted, by "评审专家" — not
the reviewer's name, not the reviewer's comment (internal), not who is assigned; other
people on the dossier's trail are named by their role. One rule (``sees_reviewers``), one
function per shape that leaves: a report, a history, a row of a list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.access import ROLE_NAMES
from intake.models import Role

REVIEWER = ROLE_NAMES[Role.REVIEWER]  # 评审专家
STAFF = "工作人员"  # an actor no longer among the accounts
CORRECTED = f"{REVIEWER}已更正"
ACCEPTED = f"（{REVIEWER}已确认）"
# The words intake.reports.build writes into a note and a finding's message.
_NOTE = "评审人员 {actor} 更正：{comment}"
_ACCEPTANCE = "（评审人员 {actor} 已确认：{comment}）"
_ACCEPTANCE_START = "（评审人员 "
_READ = "（原读取："
# What an applicant keeps of another person's trail event: what happened to the dossier.
_EVENT_DETAIL = frozenset(
    {"field", "file", "page", "old", "value", "criterion", "rule_pack", "files", "failed",
     "replaced", "name"}
)  # fmt: skip
_HIDDEN_EVENTS = frozenset({"assign", "unassign"})


def sees_reviewers(role: str | Role) -> bool:
    """Whether a role may read reviewers' names and comments (anything else may not)."""
    return role in (Role.REVIEWER, Role.BUREAU)


def report_for(report: dict[str, Any], role: str | Role) -> dict[str, Any]:
    """The report as ``role`` may read it (a new dict; the stored one is left alone)."""
    if sees_reviewers(role):
        return report
    out = dict(report)
    corrections = [r for r in report.get("reviews") or [] if r.get("action") == "correct"]
    if "fields" in report:
        out["fields"] = {
            name: [_value(name, v, corrections) for v in values]
            for name, values in report["fields"].items()
        }
    if "findings" in report:
        out["findings"] = [_finding(f) for f in report["findings"]]
    if "reviews" in report:
        out["reviews"] = [_review(r) for r in report["reviews"]]
    return out


def history_for(
    history: dict[str, Any], role: str | Role, name: str, roles: Mapping[str, str]
) -> dict[str, Any]:
    """The dossier's history as ``role`` (account ``name``) may read it: an applicant's own
    actions as they were, anyone else by role (``roles``: account name → role), no
    comments, no assignments."""
    if sees_reviewers(role):
        return history

    def who(actor: str | None) -> str | None:
        if actor is None or actor == name:
            return actor
        return ROLE_NAMES[Role(roles[actor])] if actor in roles else STAFF

    events = []
    for e in history.get("events", []):
        if e["actor"] == name:
            events.append(e)
        elif e["action"] not in _HIDDEN_EVENTS:
            detail = {k: v for k, v in (e.get("detail") or {}).items() if k in _EVENT_DETAIL}
            events.append({**e, "actor": who(e["actor"]), "detail": detail})
    return {
        **history,
        "versions": [{**v, "actor": who(v.get("actor"))} for v in history.get("versions", [])],
        "reviews": [_review(r) for r in history.get("reviews", [])],
        "events": events,
    }


def overview_for(row: dict[str, Any], role: str | Role) -> dict[str, Any]:
    """A dossier's row of a list: applicants do not learn who reviews it."""
    if sees_reviewers(role):
        return row
    return {k: v for k, v in row.items() if k != "reviewers"}


def _review(review: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in review.items() if k in ("action", "target", "at", "active")}
    return {**shown, "actor": REVIEWER}


def _finding(finding: dict[str, Any]) -> dict[str, Any]:
    if finding.get("cross_round"):  # an earlier dossier's figures, not which dossier or whose
        finding = {**finding, "cross_round": [_other_hidden(c) for c in finding["cross_round"]]}
    message = finding.get("message") or ""
    reviewed = finding.get("reviewed")
    if not reviewed and _ACCEPTANCE_START not in message:
        return finding
    if reviewed:
        message = message.replace(_ACCEPTANCE.format(**_said(reviewed)), ACCEPTED)
    start = message.find(_ACCEPTANCE_START)
    if start >= 0:  # a stored wording other than today's: cut it off all the same
        message = message[:start] + ACCEPTED
    shown = {**finding, "message": message}
    if reviewed:
        shown["reviewed"] = {"actor": REVIEWER}
    return shown


def _other_hidden(compared: dict[str, Any]) -> dict[str, Any]:
    other = {k: v for k, v in compared.get("other", {}).items() if k not in ("dossier", "name")}
    return {**compared, "other": other}


def _value(field: str, value: dict[str, Any], corrections: list[dict]) -> dict[str, Any]:
    """A value a reviewer set: the note says so (and what the service had read), without
    who or why; a value the service had not read loses its text (the reviewer's comment)."""
    if value.get("origin") != "reviewer":
        return value
    note = value.get("note") or ""
    shown = {**value, "note": CORRECTED}
    for review in corrections:
        if (review.get("target") or {}).get("field") != field:
            continue
        said = _NOTE.format(**_said(review))
        rest = note[len(said) :] if note.startswith(said) else None
        if rest == "" or (rest and rest.startswith(_READ) and rest.endswith("）")):
            shown["note"] = CORRECTED + rest
            if not rest and value.get("text") == review.get("comment"):
                shown["text"] = ""
            return shown
    if _READ not in note:  # added by a reviewer: its text is the reviewer's comment
        shown["text"] = ""
    return shown


def _said(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"actor": entry.get("actor"), "comment": entry.get("comment")}
