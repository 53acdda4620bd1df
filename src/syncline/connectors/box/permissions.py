"""Box sharing as grants: collaboration roles, owners, shared links and group members."""

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
    "ROLE_RELATIONS",
    "collaboration_grant",
    "item_grants",
    "member_subject",
    "owner_grant",
    "shared_link_grant",
]

ROLE_RELATIONS = {
    "owner": Relation.OWNER,
    "co-owner": Relation.OWNER,
    "editor": Relation.EDITOR,
    "viewer uploader": Relation.VIEWER,
    "previewer uploader": Relation.VIEWER,
    "viewer": Relation.VIEWER,
    "previewer": Relation.VIEWER,
}
"""Box's collaboration roles onto Syncline's relations. `uploader` is left out on purpose: an
uploader may add files to a folder but neither see nor open what is in it."""


def _text(obj: JSONObject, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _login(obj: object) -> str | None:
    return _text(obj, "login") if isinstance(obj, dict) else None


def collaboration_grant(collaboration: JSONObject) -> Grant | None:
    """One accepted `collaboration` as a grant: users by login, groups by id (Box groups have
    no email). Pending and rejected invitations, unknown roles, `uploader`, and users Box
    names without a login give nothing."""
    if collaboration.get("status") not in (None, "accepted"):
        return None
    role = collaboration.get("role")
    relation = ROLE_RELATIONS.get(role) if isinstance(role, str) else None
    who = collaboration.get("accessible_by")
    if relation is None or not isinstance(who, dict):
        return None
    kind = who.get("type")
    if kind == "user":
        login = _login(who)
        return Grant(relation, user_subject(login)) if login else None
    if kind == "group":
        group_id = _text(who, "id")
        return Grant(relation, group_subject(group_id)) if group_id else None
    return None


def owner_grant(item: JSONObject) -> Grant | None:
    """The item's owner (`owned_by.login`) as `owner`."""
    login = _login(item.get("owned_by"))
    return Grant(Relation.OWNER, user_subject(login)) if login else None


def shared_link_grant(item: JSONObject) -> Grant | None:
    """The item's shared link as a `viewer` grant (shared links are read-only in Box):
    `open` to anyone (`user:*`), `company` to the owner's email domain (`domain:…`; Box names
    no enterprise domain, so the owner's login stands for it). `collaborators` links add no one:
    only collaborators may follow them, and they have grants of their own. `effective_access`
    (what the enterprise's policy allows) wins over the requested `access`."""
    link = item.get("shared_link")
    if not isinstance(link, dict):
        return None
    access = _text(link, "effective_access") or _text(link, "access")
    if access == "open":
        return Grant(Relation.VIEWER, ANYONE)
    if access == "company":
        login = _login(item.get("owned_by"))
        if login and "@" in login:
            return Grant(Relation.VIEWER, domain_subject(login.rsplit("@", 1)[1]))
    return None


def item_grants(item: JSONObject, collaborations: Iterable[JSONObject] = ()) -> tuple[Grant, ...]:
    """The item's own grants (owner, shared link, its collaborations), sorted, without repeats.
    Access from a parent folder's collaborations is not repeated: the evaluator follows
    parents itself."""
    grants = {g for c in collaborations if (g := collaboration_grant(c)) is not None}
    for grant in (owner_grant(item), shared_link_grant(item)):
        if grant is not None:
            grants.add(grant)
    return tuple(sorted(grants))


def member_subject(membership: JSONObject) -> str | None:
    """A `group_membership` as its user's subject (`user:<login>`)."""
    login = _login(membership.get("user"))
    return user_subject(login) if login else None
