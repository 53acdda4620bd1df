"""Graph `permission` resources as grants: roles, users, groups, site groups and links.

An item's own permissions are the ones without `inheritedFrom`; what it inherits comes through
its parents (the evaluator follows them) and, for everything in a document library, through the
library's own permissions, read once per drive as its container's grants.
"""

from __future__ import annotations

from collections.abc import Iterable

from syncline.domain.permissions import ANYONE, Grant, Relation, domain_subject, user_subject
from syncline.types import JSONObject

__all__ = ["ROLE_RELATIONS", "grants_of", "group_key", "is_inherited"]

ROLE_RELATIONS = {
    "owner": Relation.OWNER,
    "sp.full control": Relation.OWNER,
    "write": Relation.EDITOR,
    "sp.edit": Relation.EDITOR,
    "read": Relation.VIEWER,
    "sp.view": Relation.VIEWER,
}
"""Graph's roles, and SharePoint's role names where Graph passes them through."""


def _obj(value: object, key: str) -> JSONObject | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else None


def _text(value: JSONObject | None, key: str) -> str | None:
    found = value.get(key) if value is not None else None
    return found.strip() if isinstance(found, str) and found.strip() else None


def group_key(group_id: str) -> str:
    """How a Graph group (Entra or SharePoint site group) is named as a subject: by id, since
    Graph does not always give a group's email."""
    return f"group:{group_id.strip().lower()}"


def is_inherited(permission: JSONObject) -> bool:
    return _obj(permission, "inheritedFrom") is not None


def _identity_subject(identity: JSONObject | None) -> str | None:
    """`identitySet` → subject: a user by email (UPN when Graph gives no email), a group or a
    SharePoint site group by id."""
    if identity is None:
        return None
    user = _obj(identity, "user") or _obj(identity, "siteUser")
    if user is not None:
        email = _text(user, "email") or _text(user, "loginName")
        if email is not None and "@" in email:
            return user_subject(email.rpartition("|")[2])
        return None  # a user Graph hides from this caller: nobody we can name
    group = _obj(identity, "group") or _obj(identity, "siteGroup")
    if group is not None and (group_id := _text(group, "id")) is not None:
        return group_key(group_id)
    return None


def _relation(permission: JSONObject) -> Relation | None:
    """The strongest of the permission's roles that Syncline models."""
    roles = permission.get("roles")
    names = {r.lower() for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()
    found = {ROLE_RELATIONS[name] for name in names if name in ROLE_RELATIONS}
    for strongest in (Relation.OWNER, Relation.EDITOR, Relation.VIEWER):
        if strongest in found:
            return strongest
    return None


def grants_of(permissions: Iterable[JSONObject], *, organization: str | None) -> tuple[Grant, ...]:
    """The grants of these permissions (inherited ones included: pass only the item's own).

    A sharing link grants its role to anyone with it (`anonymous`), to everyone in the
    organization (`organization`, whose domain is `organization`), or to the people it was
    sent to (`users`, in `grantedToIdentitiesV2`).
    """
    found: set[Grant] = set()
    for permission in permissions:
        relation = _relation(permission)
        if relation is None:
            continue
        link = _obj(permission, "link")
        if link is not None:
            scope = _text(link, "scope")
            if scope == "anonymous":
                found.add(Grant(relation, ANYONE))
                continue
            if scope == "organization":
                if organization is not None:
                    found.add(Grant(relation, domain_subject(organization)))
                continue
        identities = permission.get("grantedToIdentitiesV2")
        named = [_obj(permission, "grantedToV2")]
        if isinstance(identities, list):
            named += [i for i in identities if isinstance(i, dict)]
        for identity in named:
            if (subject := _identity_subject(identity)) is not None:
                found.add(Grant(relation, subject))
    return tuple(sorted(found))
