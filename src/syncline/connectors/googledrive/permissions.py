"""Drive permission resources as grants: role mapping, subjects, direct-only filtering."""

from __future__ import annotations

from collections.abc import Iterable

from syncline.domain.permissions import (
    ANYONE,
    Grant,
    Relation,
    domain_subject,
    group_subject,
    user_subject,
)
from syncline.types import JSONObject

__all__ = [
    "PERMISSION_FIELDS",
    "ROLE_RELATIONS",
    "direct_grants",
    "grant_of",
    "grants_of",
    "is_inherited",
    "member_subject",
]

# Keep in sync with `grant_of` and `is_inherited`: Drive returns only the fields a request names.
PERMISSION_FIELDS = (
    "id,type,role,emailAddress,domain,allowFileDiscovery,deleted,"
    "permissionDetails(inherited,inheritedFrom,permissionType)"
)

ROLE_RELATIONS = {
    "owner": Relation.OWNER,
    "organizer": Relation.OWNER,
    "fileOrganizer": Relation.EDITOR,
    "writer": Relation.EDITOR,
    "commenter": Relation.VIEWER,
    "reader": Relation.VIEWER,
}


def _text(permission: JSONObject, key: str) -> str | None:
    value = permission.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _subject(permission: JSONObject) -> str | None:
    kind = permission.get("type")
    if kind == "anyone":
        return ANYONE
    if kind == "domain":
        domain = _text(permission, "domain")
        return domain_subject(domain) if domain else None
    email = _text(permission, "emailAddress")
    if email is None:
        return None  # a user or group Drive hides from this caller: nobody we can name
    if kind == "user":
        return user_subject(email)
    if kind == "group":
        return group_subject(email)
    return None


def grant_of(permission: JSONObject) -> Grant | None:
    """One `drive#permission` as a grant; None for deleted accounts, unknown roles or types,
    and entries without the email or domain their type needs."""
    if permission.get("deleted") is True:
        return None
    role = permission.get("role")
    relation = ROLE_RELATIONS.get(role) if isinstance(role, str) else None
    subject = _subject(permission)
    if relation is None or subject is None:
        return None
    return Grant(relation, subject)


def is_inherited(permission: JSONObject) -> bool:
    """True when every `permissionDetails` entry says inherited; no details means direct."""
    details = permission.get("permissionDetails")
    if not isinstance(details, list) or not details:
        return False
    return all(isinstance(d, dict) and d.get("inherited") is True for d in details)


def grants_of(permissions: Iterable[JSONObject]) -> tuple[Grant, ...]:
    """Every mappable entry as grants, sorted and without repeats."""
    return tuple(sorted({g for p in permissions if (g := grant_of(p)) is not None}))


def direct_grants(permissions: Iterable[JSONObject]) -> tuple[Grant, ...]:
    """The item's own grants: inherited entries are dropped, because the evaluator follows
    parents and shared drives itself."""
    return grants_of(p for p in permissions if not is_inherited(p))


def member_subject(member: JSONObject) -> str | None:
    """A Directory `admin#directory#member` as a subject: active users and groups only
    (CUSTOMER, i.e. "everyone in the organisation", and suspended users are skipped)."""
    status = member.get("status")
    if status is not None and status != "ACTIVE":
        return None
    email = _text(member, "email")
    if email is None:
        return None
    kind = member.get("type")
    if kind == "USER":
        return user_subject(email)
    if kind == "GROUP":
        return group_subject(email)
    return None
