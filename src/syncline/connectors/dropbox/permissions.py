"""Dropbox sharing as grants: shared folder and file members, the account's own items, groups.

A shared folder (`sharing_info.shared_folder_id` on its root, `parent_shared_folder_id` on
everything inside; Dropbox does not nest them) is a container: its members reach every item in
it, read once per run through `sharing/list_folder_members`. A file shared on its own
(`has_explicit_shared_members`) has grants from `sharing/list_file_members`. An item in no
shared folder is only the account's: its owner is the connected user.
"""

from __future__ import annotations

from collections.abc import Iterable

from syncline.domain.permissions import Grant, Relation, group_subject, user_subject
from syncline.types import JSONObject

__all__ = ["ACCESS_RELATIONS", "member_grants", "shared_folder_of"]

ACCESS_RELATIONS = {
    "owner": Relation.OWNER,
    "editor": Relation.EDITOR,
    "viewer": Relation.VIEWER,
    "viewer_no_comment": Relation.VIEWER,
}
"""Dropbox's `AccessLevel` onto Syncline's relations. `traverse` (may see the folder's name,
not open what is inside) and `no_access` give nothing."""


def _text(obj: object, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _relation(member: JSONObject) -> Relation | None:
    access = member.get("access_type")
    tag = _text(access, ".tag")
    return ACCESS_RELATIONS.get(tag) if tag else None


def member_grants(body: JSONObject, me: str | None = None) -> list[Grant]:
    """The grants of one `SharedFolderMembers`/`SharedFileMembers` page: users by email,
    groups by `group_id` (Dropbox groups have no email). Invitees (an invitation not yet
    accepted) and members without an email give nothing. A group that says the connected
    user (`me`) is in it (`is_member`) grants them its access too, even where the group's
    other members cannot be read."""
    grants: list[Grant] = []
    users = body.get("users")
    for member in users if isinstance(users, list) else []:
        if not isinstance(member, dict) or (relation := _relation(member)) is None:
            continue
        email = _text(member.get("user"), "email")
        if email:
            grants.append(Grant(relation, user_subject(email)))
    groups = body.get("groups")
    for member in groups if isinstance(groups, list) else []:
        if not isinstance(member, dict) or (relation := _relation(member)) is None:
            continue
        group = member.get("group")
        group_id = _text(group, "group_id")
        if group_id:
            grants.append(Grant(relation, group_subject(group_id)))
        if me and isinstance(group, dict) and group.get("is_member") is True:
            grants.append(Grant(relation, user_subject(me)))
    return grants


def shared_folder_of(entry: JSONObject) -> str | None:
    """The shared folder an entry is in (or is the root of)."""
    info = entry.get("sharing_info")
    if not isinstance(info, dict):
        return _text(entry, "parent_shared_folder_id") or _text(entry, "shared_folder_id")
    return _text(info, "shared_folder_id") or _text(info, "parent_shared_folder_id")


def unique(grants: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(sorted(set(grants)))
