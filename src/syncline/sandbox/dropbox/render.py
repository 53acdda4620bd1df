"""Dropbox's JSON shapes for files, folders, deleted entries, sharing members and team
objects (the stone spec's `FileMetadata`, `FolderMetadata`, `DeletedMetadata`,
`UserMembershipInfo`, `GroupMembershipInfo`, `InviteeMembershipInfo`, `SharedFolderMetadata`,
`TeamFolderMetadata`, `GroupSummary`, `MemberProfile`, `TeamMemberProfile`)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.sandbox.dropbox.state import (
    PAPER_EXPORT_OPTIONS,
    DropboxState,
    Group,
    Item,
    Member,
    Namespace,
    User,
)
from syncline.types import JSONObject

__all__ = [
    "deleted_entry",
    "group_info",
    "group_summary",
    "member_profile",
    "membership",
    "metadata",
    "team_member_profile",
    "timestamp",
    "user_info",
]


def timestamp(seconds: float) -> str:
    """`2015-05-12T15:50:38Z`: UTC, whole seconds (`common.DropboxTimestamp`)."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(value: str) -> JSONObject:
    return {".tag": value}


def metadata(
    state: DropboxState, user: User, path: str, item: Item, *, explicit: bool = False
) -> JSONObject:
    """A `file` or `folder` entry at `path` (display case) as `user` sees it."""
    body: JSONObject = {
        ".tag": item.tag,
        "name": path.rsplit("/", 1)[-1],
        "path_lower": path.lower(),
        "path_display": path,
        "id": item.id,
    }
    ns = state.namespaces[item.ns]
    shared = ns.kind != "home"
    access = state.access(user, ns) if shared else "owner"
    read_only = access in ("viewer", "viewer_no_comment")
    if item.tag == "folder":
        if shared and item.path == "":
            body["shared_folder_id"] = ns.ns_id
            body["sharing_info"] = {
                "read_only": read_only,
                "shared_folder_id": ns.ns_id,
                "traverse_only": access == "traverse",
                "no_access": access == "no_access",
            }
        elif shared:
            body["parent_shared_folder_id"] = ns.ns_id
            body["sharing_info"] = {
                "read_only": read_only,
                "parent_shared_folder_id": ns.ns_id,
                "traverse_only": False,
                "no_access": False,
            }
        return body
    body["client_modified"] = timestamp(item.client_modified)
    body["server_modified"] = timestamp(item.server_modified)
    body["rev"] = item.rev
    body["size"] = len(item.content)
    if shared:
        body["parent_shared_folder_id"] = ns.ns_id
        body["sharing_info"] = {
            "read_only": read_only,
            "parent_shared_folder_id": ns.ns_id,
            "modified_by": item.modified_by,
        }
    body["is_downloadable"] = item.paper is None
    if item.paper is not None:
        body["export_info"] = {"export_as": "html", "export_options": list(PAPER_EXPORT_OPTIONS)}
    if explicit:
        body["has_explicit_shared_members"] = bool(item.members)
    body["content_hash"] = item.hash
    return body


def deleted_entry(path: str) -> JSONObject:
    """`DeletedMetadata`: a name and a path, never an `id`."""
    return {
        ".tag": "deleted",
        "name": path.rsplit("/", 1)[-1],
        "path_lower": path.lower(),
        "path_display": path,
    }


def user_info(state: DropboxState, caller: User, user: User) -> JSONObject:
    same_team = state.team is not None and bool(caller.team_member_id and user.team_member_id)
    body: JSONObject = {
        "account_id": user.account_id,
        "email": user.email,
        "display_name": user.name,
        "same_team": same_team,
    }
    if same_team:
        body["team_member_id"] = user.team_member_id
    return body


def group_info(state: DropboxState, caller: User, group: Group) -> JSONObject:
    return {
        "group_name": group.name,
        "group_id": group.group_id,
        "member_count": len(group.members),
        "group_management_type": _tag(group.management),
        "group_type": _tag("team" if group.management != "user_managed" else "user_managed"),
        "is_member": caller.email in group.members,
        "is_owner": caller.email in group.owners,
        "same_team": state.team is not None,
    }


def membership(
    state: DropboxState, caller: User, member: Member, *, inherited: bool = False
) -> tuple[str, JSONObject]:
    """("users" | "groups" | "invitees", the entry)."""
    base: JSONObject = {
        "access_type": _tag(member.access),
        "is_inherited": inherited,
        "permissions": [],
    }
    if member.kind == "user":
        return "users", {**base, "user": user_info(state, caller, state.user(member.key))}
    if member.kind == "group":
        return "groups", {**base, "group": group_info(state, caller, state.groups[member.key])}
    return "invitees", {**base, "invitee": {".tag": "email", "email": member.key}}


def group_summary(group: Group) -> JSONObject:
    return {
        "group_name": group.name,
        "group_id": group.group_id,
        "member_count": len(group.members),
        "group_management_type": _tag(group.management),
    }


def member_profile(user: User, joined: float) -> JSONObject:
    given, _, surname = user.name.partition(" ")
    return {
        "team_member_id": user.team_member_id,
        "account_id": user.account_id,
        "email": user.email,
        "email_verified": True,
        "status": _tag("active"),
        "name": {
            "given_name": given,
            "surname": surname,
            "familiar_name": given,
            "display_name": user.name,
            "abbreviated_name": "".join(p[0] for p in user.name.split() if p),
        },
        "membership_type": _tag("full"),
        "joined_on": timestamp(joined),
    }


def team_member_profile(state: DropboxState, user: User, joined: float) -> JSONObject:
    """`TeamMemberProfile`: the `MemberProfile` plus the ids of the member's groups, its member
    folder (its home namespace) and its root folder (the team space's root namespace, else the
    home)."""
    return {
        **member_profile(user, joined),
        "groups": [g.group_id for g in state.groups.values() if user.email in g.members],
        "member_folder_id": user.home,
        "root_folder_id": state.team.root_ns if state.team is not None else user.home,
    }


def team_folder(ns: Namespace) -> JSONObject:
    return {
        "team_folder_id": ns.ns_id,
        "name": ns.name,
        "status": _tag("active"),
        "is_team_shared_dropbox": False,
        "sync_setting": _tag("default"),
        "content_sync_settings": [],
    }
