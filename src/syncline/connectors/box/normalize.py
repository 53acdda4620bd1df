"""Turns a Box file, folder or web link into a normalized File record (pipeline `files`)."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime

from syncline.connectors.bodies import text
from syncline.domain.permissions import Access
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

_str = text


__all__ = [
    "ITEM_FIELDS",
    "ITEM_TYPES",
    "WEB_LINK_MIME_TYPE",
    "is_active",
    "mime_type_of",
    "normalize_item",
]

ITEM_TYPES = frozenset({"file", "folder", "web_link"})
WEB_LINK_MIME_TYPE = "text/uri-list"
"""What a web link (a bookmark, no bytes) is recorded as; its target is the record's `url`."""
APP_URL = "https://app.box.com"

# Keep in sync with `normalize_item` and the permission reading: Box returns only the fields a
# request names (and ignores those a type does not have).
ITEM_FIELDS = (
    "type,id,sequence_id,etag,name,size,sha1,extension,created_at,modified_at,"
    "content_created_at,content_modified_at,item_status,parent,owned_by,created_by,"
    "modified_by,description,url,file_version,shared_link,has_collaborations"
)


def _size(value: JSON) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _timestamp(value: str | None) -> str | None:
    """Box's RFC 3339 with an offset (`2024-05-02T10:53:43-07:00`) as UTC with milliseconds."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _user(value: JSON) -> JSONObject | None:
    """A user (mini) as `{id, name, login}`, as sent."""
    if not isinstance(value, dict):
        return None
    return {key: value.get(key) for key in ("id", "name", "login") if key in value}


def is_active(item: JSONObject) -> bool:
    """Not in the trash nor deleted (`item_status` is `active`, or absent)."""
    status = item.get("item_status")
    return status is None or status == "active"


def mime_type_of(item: JSONObject) -> str:
    """Box sends no MIME type: a file's comes from its name's extension; folders have an empty
    one, web links `text/uri-list`."""
    kind = item.get("type")
    if kind == "folder":
        return ""
    if kind == "web_link":
        return WEB_LINK_MIME_TYPE
    name = _str(item, "name") or ""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def normalize_item(item: JSONObject, access: Access | None = None) -> Upsert:
    """One Box item as a File record.

    `data` is the File schema without `id`. `hash` is Box's `sha1` (files only); `url` is the
    web app's page of a file or folder, and a web link's target; `customFields` holds what
    else Box sent that the schema has no place for, under Box's names. Sharing travels beside
    it in `access`, so a new collaborator does not change the record.

    Raises:
        UpstreamResponseError: the item has no `id` or an unknown `type`.
    """
    external_id = item.get("id")
    kind = item.get("type")
    if not isinstance(external_id, str) or not external_id:
        raise UpstreamResponseError("Box returned an item without an id")
    if kind not in ITEM_TYPES:
        raise UpstreamResponseError(f"Box returned an item of unknown type {kind!r}")
    parent = item.get("parent")
    parent_id = _str(parent, "id") if isinstance(parent, dict) else None
    sha1 = _str(item, "sha1")

    custom: JSONObject = {"type": kind}
    for source, target in (
        ("sequence_id", "sequenceId"),
        ("etag", "etag"),
        ("description", "description"),
        ("extension", "extension"),
    ):
        if (value := _str(item, source)) is not None:
            custom[target] = value
    for source, target in (
        ("content_created_at", "contentCreatedAt"),
        ("content_modified_at", "contentModifiedAt"),
    ):
        if (stamp := _timestamp(_str(item, source))) is not None:
            custom[target] = stamp
    for source, target in (
        ("owned_by", "ownedBy"),
        ("created_by", "createdBy"),
        ("modified_by", "modifiedBy"),
    ):
        if (user := _user(item.get(source))) is not None:
            custom[target] = user
    version = item.get("file_version")
    if isinstance(version, dict) and (version_id := _str(version, "id")) is not None:
        custom["fileVersionId"] = version_id

    url = _str(item, "url") if kind == "web_link" else f"{APP_URL}/{kind}/{external_id}"
    name = item.get("name")
    data: JSONObject = {
        "externalId": external_id,
        "name": name if isinstance(name, str) else "",
        "mimeType": mime_type_of(item),
        "size": _size(item.get("size")) if kind == "file" else None,
        "url": url,
        "thumbnailUrl": None,
        "createdAt": _timestamp(_str(item, "created_at")),
        "updatedAt": _timestamp(_str(item, "modified_at")),
        "hash": {"type": "SHA1", "value": sha1} if kind == "file" and sha1 else None,
        "parentFolderId": parent_id,
        "customFields": custom,
    }
    parents = (parent_id,) if parent_id else ()
    return Upsert(external_id, data, kind == "folder", parents, access)
