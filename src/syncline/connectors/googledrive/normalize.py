"""Turns a Drive `files` resource into a normalized File record (pipeline `files`)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.connectors.bodies import text
from syncline.connectors.googledrive.permissions import PERMISSION_FIELDS
from syncline.domain.permissions import Access
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

_str = text


__all__ = [
    "FILE_FIELDS",
    "FOLDER_MIME_TYPE",
    "GOOGLE_APPS_PREFIX",
    "SHORTCUT_MIME_TYPE",
    "is_trashed",
    "normalize_file",
]

FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"
SHORTCUT_MIME_TYPE = "application/vnd.google-apps.shortcut"
GOOGLE_APPS_PREFIX = "application/vnd.google-apps."

# Keep in sync with `normalize_file` (and the connector's access reading): Drive returns only
# the fields a request names.
FILE_FIELDS = (
    "id,name,mimeType,size,md5Checksum,webViewLink,thumbnailLink,createdTime,modifiedTime,"
    "parents,trashed,driveId,shortcutDetails(targetId,targetMimeType),permissionIds,"
    f"permissions({PERMISSION_FIELDS})"
)


def _size(value: JSON) -> int | None:
    """Drive sends int64 as a string; native documents have no size at all."""
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


def _timestamp(value: str | None) -> str | None:
    """RFC 3339 as UTC with milliseconds and `Z`, Drive's own form (`2024-05-02T10:11:12.345Z`)."""
    if value is None:
        return None
    if len(value) == 24 and value[19] == "." and value[23] == "Z":
        return value  # already Drive's canonical form: skip the parse on the hot path
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # Drive's times are UTC even when the offset is left out
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_trashed(file: JSONObject) -> bool:
    return file.get("trashed") is True


def normalize_file(file: JSONObject, access: Access | None = None) -> Upsert:
    """One Drive file (folder, shortcut, native document or binary) as a File record.

    `data` is the File schema without `id`, which the store derives. It holds only what Drive
    sends, so that an unchanged file hashes the same on every sync; permissions travel beside
    it in `access`, so a sharing change does not change the record. This runs once per file of
    every listing, so it reads the resource directly rather than through helpers.

    Raises:
        UpstreamResponseError: the resource has no `id`.
    """
    get = file.get
    external_id = get("id")
    if not isinstance(external_id, str) or not external_id:
        raise UpstreamResponseError("Google Drive returned a file without an id")
    mime_type = get("mimeType")
    if not isinstance(mime_type, str):
        mime_type = ""
    raw_parents = get("parents")
    parents: tuple[str, ...] = ()
    if isinstance(raw_parents, list):
        parents = tuple(p for p in raw_parents if isinstance(p, str) and p)
    md5 = get("md5Checksum")
    name = get("name")

    custom: JSONObject = {}
    drive_id = get("driveId")
    if isinstance(drive_id, str) and drive_id:
        custom["driveId"] = drive_id
    if mime_type == SHORTCUT_MIME_TYPE:
        shortcut = get("shortcutDetails")
        if isinstance(shortcut, dict):
            custom["shortcutTargetId"] = _str(shortcut, "targetId")
            custom["shortcutTargetMimeType"] = _str(shortcut, "targetMimeType")

    data: JSONObject = {
        "externalId": external_id,
        "name": name if isinstance(name, str) else "",
        "mimeType": mime_type,
        "size": _size(get("size")),
        "url": _str(file, "webViewLink"),
        "thumbnailUrl": _str(file, "thumbnailLink"),
        "createdAt": _timestamp(_str(file, "createdTime")),
        "updatedAt": _timestamp(_str(file, "modifiedTime")),
        "hash": {"type": "MD5", "value": md5} if isinstance(md5, str) and md5 else None,
        "parentFolderId": parents[0] if parents else None,
        "customFields": custom,
    }
    return Upsert(external_id, data, mime_type == FOLDER_MIME_TYPE, parents, access)
