"""Turns a Graph `driveItem` into a normalized File record (pipeline `files`)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.domain.permissions import Access
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

__all__ = [
    "ITEM_SELECT",
    "full_path",
    "is_deleted",
    "is_root",
    "list_fields",
    "normalize_item",
    "parent_path",
]

# Graph returns every property unless `$select` narrows it; these are the ones the record and
# the engine use (`shared` says whether the item has permissions of its own to read).
ITEM_SELECT = (
    "id,name,size,webUrl,createdDateTime,lastModifiedDateTime,file,folder,package,"
    "parentReference,deleted,root,shared,createdBy,lastModifiedBy"
)

_HASHES = (("quickXorHash", "QUICKXOR"), ("sha256Hash", "SHA256"), ("sha1Hash", "SHA1"))


def _str(obj: JSONObject | None, key: str) -> str | None:
    value = obj.get(key) if obj is not None else None
    return value if isinstance(value, str) and value else None


def _obj(obj: JSONObject, key: str) -> JSONObject | None:
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _timestamp(value: str | None) -> str | None:
    """ISO-8601 UTC with milliseconds and `Z` (Graph sends `2024-05-02T10:11:12Z` or with 7
    fractional digits)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_deleted(item: JSONObject) -> bool:
    return isinstance(item.get("deleted"), dict)


def is_root(item: JSONObject) -> bool:
    """The drive's root folder: the top of the tree, not a record of its own."""
    return isinstance(item.get("root"), dict)


def parent_path(item: JSONObject) -> str | None:
    """`parentReference.path` (`/drives/{id}/root:/Shared Documents`), which delta leaves out."""
    return _str(_obj(item, "parentReference"), "path")


def normalize_item(
    item: JSONObject,
    *,
    full_path: str | None,
    fields: JSONObject | None,
    access: Access | None,
) -> Upsert:
    """One driveItem as a File record: folders (and OneNote packages) have an empty
    `mimeType`; `customFields` holds what the schema has no place for: `driveId`, `driveType`,
    `siteId`, `createdBy` and `lastModifiedBy` (`{id, displayName, email}`), `packageType`,
    `fullPath` (SharePoint) and `metadata` (the list item's columns, when asked for).

    Raises:
        UpstreamResponseError: the item has no `id`.
    """
    external_id = item.get("id")
    if not isinstance(external_id, str) or not external_id:
        raise UpstreamResponseError("Microsoft Graph returned a driveItem without an id")
    file = _obj(item, "file")
    parent = _obj(item, "parentReference")
    hashes = _obj(file, "hashes") if file is not None else None
    digest: JSONObject | None = None
    for key, kind in _HASHES:
        if (value := _str(hashes, key)) is not None:
            digest = {"type": kind, "value": value}
            break
    size = item.get("size")
    custom: JSONObject = {}
    for key in ("driveId", "driveType", "siteId"):
        if (value := _str(parent, key)) is not None:
            custom[key] = value
    for key in ("createdBy", "lastModifiedBy"):
        if (identity := _identity(_obj(item, key))) is not None:
            custom[key] = identity
    if (package := _str(_obj(item, "package") or {}, "type")) is not None:
        custom["packageType"] = package
    if full_path is not None:
        custom["fullPath"] = full_path
    if fields is not None:
        custom["metadata"] = fields
    name = item.get("name")
    parent_id = _str(parent, "id")
    data: JSONObject = {
        "externalId": external_id,
        "name": name if isinstance(name, str) else "",
        "mimeType": (_str(file, "mimeType") or "application/octet-stream") if file else "",
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "url": _str(item, "webUrl"),
        "thumbnailUrl": None,
        "createdAt": _timestamp(_str(item, "createdDateTime")),
        "updatedAt": _timestamp(_str(item, "lastModifiedDateTime")),
        "hash": digest,
        "parentFolderId": parent_id,
        "customFields": custom,
    }
    parents: tuple[str, ...] = (parent_id,) if parent_id else ()
    return Upsert(external_id, data, isinstance(item.get("folder"), dict), parents, access)


def _identity(identity_set: JSONObject | None) -> JSONObject | None:
    """An identitySet's user (else application) as `{id, displayName, email}`, as sent."""
    if identity_set is None:
        return None
    who = _obj(identity_set, "user") or _obj(identity_set, "application")
    if who is None:
        return None
    found: JSONObject = {}
    for key, name in (("id", "id"), ("displayName", "displayName"), ("email", "email")):
        if (value := _str(who, key)) is not None:
            found[name] = value
    return found or None


def full_path(item: JSONObject) -> str | None:
    """`/drives/{driveId}/root:/folder/name`, from the parent's path and the item's name."""
    path, name = parent_path(item), _str(item, "name")
    if path is None or name is None:
        return None
    return f"{path.rstrip('/')}/{name}"


def list_fields(item: JSONObject) -> JSONObject | None:
    """The SharePoint list item's columns (`listItem.fields`, with `$expand`), without Graph's
    OData annotations."""
    list_item = _obj(item, "listItem")
    fields = _obj(list_item, "fields") if list_item is not None else None
    if fields is None:
        return None
    cleaned: dict[str, JSON] = {k: v for k, v in fields.items() if not k.startswith("@odata")}
    return cleaned
