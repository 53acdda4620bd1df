"""Box's JSON representations of files, folders and web links, as one user sees them.

Three shapes, as Box's OpenAPI spec defines them: the *mini* one that folder listings return
by default (File--Mini: `type, id, file_version, sequence_id, etag, sha1, name`), the
*standard* one of `GET /files/{id}` and `GET /folders/{id}` and of event sources, and, with a
`fields` query, only the base (`type, id, etag`) plus what was asked ("specifying this
parameter will have the effect that none of the standard fields are returned in the response
unless explicitly specified"). Unknown field names are ignored. `sequence_id` and `etag` are
strings; `size` is an integer; times carry the user's offset (`-07:00`), not `Z`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from syncline.types import JSON, JSONObject

if TYPE_CHECKING:
    from syncline.sandbox.box.state import BoxState, Collaboration, Item

__all__ = ["ROOT_MINI", "Renderer", "parse_fields"]

ROOT_MINI: JSONObject = {
    "type": "folder",
    "id": "0",
    "sequence_id": None,
    "etag": None,
    "name": "All Files",
}

_BASE = ("type", "id", "etag")


def parse_fields(raw: str | None) -> frozenset[str] | None:
    """The `fields` query parameter (comma separated), or None when absent or empty."""
    if not raw:
        return None
    names = frozenset(f.strip() for f in raw.split(",") if f.strip())
    return names or None


class Renderer:
    """Renders items of `state` as the user `viewer` sees them (paths stop at what they see)."""

    def __init__(self, state: BoxState, viewer: str) -> None:
        self.state = state
        self.viewer = viewer
        self._zone = timezone(timedelta(hours=state.utc_offset_hours))

    def time(self, epoch: float | None) -> str | None:
        if epoch is None:
            return None
        return datetime.fromtimestamp(epoch, UTC).astimezone(self._zone).isoformat("T", "seconds")

    def user(self, user_id: str) -> JSONObject:
        found = self.state.users.get(user_id)
        if found is None:
            return {"type": "user", "id": user_id, "name": "", "login": ""}
        return {"type": "user", "id": found.id, "name": found.name, "login": found.login}

    def group(self, group_id: str) -> JSONObject:
        found = self.state.groups[group_id]
        return {"type": "group", "id": found.id, "name": found.name, "group_type": found.group_type}

    def folder_mini(self, item: Item) -> JSONObject:
        return {
            "type": "folder",
            "id": item.id,
            "sequence_id": str(item.sequence),
            "etag": str(item.sequence),
            "name": item.name,
        }

    def mini(self, item: Item) -> JSONObject:
        """The representation of a folder listing's entries without `fields`."""
        if item.type == "folder":
            return self.folder_mini(item)
        body: JSONObject = {"type": item.type, "id": item.id}
        if item.type == "file":
            body["file_version"] = self._version(item)
        body["sequence_id"] = str(item.sequence)
        body["etag"] = str(item.sequence)
        if item.type == "file":
            body["sha1"] = item.sha1
        body["name"] = item.name
        if item.type == "web_link":
            body["url"] = item.url
        return body

    def standard(self, item: Item) -> JSONObject:
        """`GET /files/{id}` (or folder, web link) without `fields`, and an event's source."""
        body = self.mini(item)
        parent = self._parent(item)
        created_by = modified_by = owned_by = self.user(item.owner)
        trashed = self.time(item.trashed_at)
        purged = self.time(item.trashed_at + 30 * 86400) if item.trashed_at is not None else None
        if item.type == "file":
            body |= {
                "description": item.description,
                "size": len(item.content),
                "path_collection": self.path_collection(item),
                "created_at": self.time(item.created),
                "modified_at": self.time(item.modified),
                "trashed_at": trashed,
                "purged_at": purged,
                "content_created_at": self.time(item.created),
                "content_modified_at": self.time(item.content_modified),
                "created_by": created_by,
                "modified_by": modified_by,
                "owned_by": owned_by,
                "shared_link": self.shared_link(item),
                "parent": parent,
                "item_status": item.status,
            }
        elif item.type == "folder":
            body |= {
                "created_at": self.time(item.created),
                "modified_at": self.time(item.modified),
                "description": item.description,
                "size": self.state.folder_size(item),
                "path_collection": self.path_collection(item),
                "created_by": created_by,
                "modified_by": modified_by,
                "trashed_at": trashed,
                "purged_at": purged,
                "content_created_at": self.time(item.created),
                "content_modified_at": self.time(item.content_modified),
                "owned_by": owned_by,
                "shared_link": self.shared_link(item),
                "folder_upload_email": None,
                "parent": parent,
                "item_status": item.status,
            }
        else:
            body |= {
                "parent": parent,
                "description": item.description,
                "path_collection": self.path_collection(item),
                "created_at": self.time(item.created),
                "modified_at": self.time(item.modified),
                "trashed_at": trashed,
                "purged_at": purged,
                "created_by": created_by,
                "modified_by": modified_by,
                "owned_by": owned_by,
                "shared_link": self.shared_link(item),
                "item_status": item.status,
            }
        return body

    def full(self, item: Item) -> JSONObject:
        """The standard representation and the extra fields `fields` may ask for."""
        body = self.standard(item)
        role = self._role(item)
        can_edit = role in ("owner", "co-owner", "editor")
        has_collaborations = any(c.item == item.id for c in self.state.collaborations.values())
        body["has_collaborations"] = has_collaborations
        body["is_externally_owned"] = False
        body["tags"] = []
        if item.type == "file":
            extension = item.name.rpartition(".")[2] if "." in item.name else ""
            body |= {
                "version_number": "1",
                "comment_count": 0,
                "extension": extension,
                "is_package": False,
                "lock": None,
                "permissions": {
                    "can_download": role != "previewer",
                    "can_preview": True,
                    "can_upload": can_edit,
                    "can_comment": True,
                    "can_rename": can_edit,
                    "can_delete": can_edit,
                    "can_share": can_edit,
                    "can_set_share_access": can_edit,
                    "can_invite_collaborator": can_edit,
                    "can_annotate": True,
                    "can_view_annotations_all": True,
                    "can_view_annotations_self": True,
                },
            }
        return body

    def select(self, item: Item, fields: Collection[str] | None) -> JSONObject:
        """With `fields`: `type`, `id`, `etag` and the known fields asked for; else `fallback`
        is the caller's choice (mini for listings, standard for single items)."""
        full = self.full(item)
        wanted = {*_BASE, *(fields or ())}
        return {k: v for k, v in full.items() if k in wanted}

    def path_collection(self, item: Item) -> JSONObject:
        chain = self.state.ancestors(self.viewer, item)
        entries: list[JSON] = [dict(ROOT_MINI), *(self.folder_mini(f) for f in chain)]
        return {"total_count": len(entries), "entries": entries}

    def shared_link(self, item: Item) -> JSONObject | None:
        link = item.shared_link
        if link is None:
            return None
        download = None
        if item.type == "file":
            extension = item.name.rpartition(".")[2] if "." in item.name else ""
            download = f"https://app.box.com/shared/static/{link.token}" + (
                f".{extension}" if extension else ""
            )
        return {
            "url": f"https://app.box.com/s/{link.token}",
            "download_url": download,
            "vanity_url": None,
            "vanity_name": None,
            "access": link.access,
            "effective_access": link.access,
            "effective_permission": "can_download" if item.type == "file" else "can_preview",
            "unshared_at": None,
            "is_password_enabled": False,
            "permissions": {
                "can_download": True,
                "can_preview": True,
                "can_edit": False,
            },
            "download_count": 0,
            "preview_count": 0,
        }

    def root(self, entries: list[JSON], total: int) -> JSONObject:
        """`GET /folders/0`: the user's "All Files", with its first items."""
        owner = self.user(self.viewer)
        return {
            **ROOT_MINI,
            "created_at": None,
            "modified_at": None,
            "description": "",
            "size": sum(len(i.content) for i in self.state.items.values()
                        if i.type == "file" and i.owner == self.viewer),
            "path_collection": {"total_count": 0, "entries": []},
            "created_by": {"type": "user", "id": "", "name": "", "login": ""},
            "modified_by": owner,
            "trashed_at": None,
            "purged_at": None,
            "content_created_at": None,
            "content_modified_at": None,
            "owned_by": owner,
            "shared_link": None,
            "folder_upload_email": None,
            "parent": None,
            "item_status": "active",
            "item_collection": {
                "total_count": total,
                "entries": entries,
                "offset": 0,
                "limit": 100,
                "order": [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}],
            },
        }  # fmt: skip

    def collaboration(self, collab: Collaboration) -> JSONObject:
        item = self.state.items[collab.item]
        if collab.user is not None:
            accessible: JSONObject = {**self.user(collab.user), "is_active": True}
        else:
            accessible = self.group(collab.group or "")
        mini = self.folder_mini(item) if item.type == "folder" else self.mini(item)
        return {
            "type": "collaboration",
            "id": collab.id,
            "created_by": self.user(collab.created_by),
            "created_at": self.time(collab.created),
            "modified_at": self.time(collab.modified),
            "expires_at": None,
            "status": collab.status,
            "accessible_by": accessible,
            "invite_email": None,
            "role": collab.role,
            "acknowledged_at": self.time(collab.created) if collab.status == "accepted" else None,
            "item": mini,
            "is_access_only": False,
        }

    def _parent(self, item: Item) -> JSONObject:
        parent_id = self.state.visible_parent(self.viewer, item)
        return (
            dict(ROOT_MINI) if parent_id == "0" else self.folder_mini(self.state.items[parent_id])
        )

    def _version(self, item: Item) -> JSONObject:
        return {"type": "file_version", "id": item.version, "sha1": item.sha1}

    def _role(self, item: Item) -> str:
        if item.owner == self.viewer:
            return "owner"
        node: Item | None = item
        while node is not None:
            role = self.state.direct_role(self.viewer, node)
            if role is not None:
                return role
            node = self.state.items.get(node.parent)
        return "previewer"
