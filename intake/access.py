"""Who may do what to which dossier: one table, used by the JSON API and the web pages.

A dossier a user may not see does not exist for them (404, so ids cannot be probed); a
dossier they see but an action their role may not take is 403."""

from __future__ import annotations

from enum import StrEnum

from intake.models import Dossier, Role, User


class Action(StrEnum):
    VIEW = "view"  # status, report (JSON, HTML, PDF), history, page pictures
    UPLOAD = "upload"  # add, replace and delete files
    REVIEW = "review"  # correct a value, accept a review item, withdraw either
    RECHECK = "recheck"  # judge again against another rule pack
    ASSIGN = "assign"  # assign or unassign reviewers


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW: frozenset(Role),
    Action.UPLOAD: frozenset({Role.APPLICANT}),
    Action.REVIEW: frozenset({Role.REVIEWER}),
    Action.RECHECK: frozenset({Role.REVIEWER, Role.BUREAU}),
    Action.ASSIGN: frozenset({Role.BUREAU}),
}
# Acts not on one dossier.
CREATE_ROLES = frozenset({Role.APPLICANT})  # applicants create their dossiers
BUREAU_ONLY = frozenset({Role.BUREAU})  # every dossier of a round, reuse across dossiers


class AccessError(Exception):
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotVisible(AccessError):
    status = 404


class Forbidden(AccessError):
    status = 403


def can_see(user: User, dossier: Dossier) -> bool:
    role = Role(user.role)
    if role == Role.BUREAU:
        return True
    if role == Role.APPLICANT:
        return dossier.owner_id == user.id
    return any(a.user_id == user.id for a in dossier.assignments)


def may(user: User, dossier: Dossier, action: Action) -> bool:
    return can_see(user, dossier) and Role(user.role) in ALLOWED[action]


def check(user: User, dossier: Dossier | None, action: Action) -> Dossier:
    """The dossier, if the user may take ``action`` on it; else NotVisible or Forbidden."""
    if dossier is None or not can_see(user, dossier):
        raise NotVisible("申报材料不存在，请检查编号")
    if Role(user.role) not in ALLOWED[action]:
        raise Forbidden(f"{ROLE_NAMES[Role(user.role)]}账号不能进行此操作：{ACTION_NAMES[action]}")
    return dossier


def check_role(user: User, roles: frozenset[Role], what: str) -> None:
    if Role(user.role) not in roles:
        raise Forbidden(f"{ROLE_NAMES[Role(user.role)]}账号不能{what}")


ROLE_NAMES = {Role.APPLICANT: "申报单位", Role.REVIEWER: "评审专家", Role.BUREAU: "主管部门"}
ACTION_NAMES = {
    Action.VIEW: "查看",
    Action.UPLOAD: "上传、替换或删除材料",
    Action.REVIEW: "更正数值或确认审核项",
    Action.RECHECK: "重新审查",
    Action.ASSIGN: "分配评审专家",
}
