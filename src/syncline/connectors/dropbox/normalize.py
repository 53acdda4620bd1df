"""Turns a Dropbox `FileMetadata` or `FolderMetadata` into a File record (pipeline `files`)."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from urllib.parse import quote

from syncline.connectors.bodies import text
from syncline.domain.permissions import Access
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

_str = text


__all__ = [
    "HASH_TYPE",
    "PAPER_MIME_TYPE",
    "is_paper",
    "mime_type_of",
    "normalize_entry",
    "parent_path",
]

HASH_TYPE = "DROPBOX_CONTENT_HASH"
"""`content_hash`: SHA-256 over the SHA-256 of each 4 MiB block (Dropbox's content-hash page)."""
PAPER_MIME_TYPE = "text/markdown"
"""Paper documents (`.paper`, not downloadable) are exported as Markdown: their record says so."""
WEB_URL = "https://www.dropbox.com/home"

_EXPORT_TYPES = {
    "markdown": "text/markdown",
    "html": "text/html",
    "plain_text": "text/plain",
}


def _size(value: JSON) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


def _timestamp(value: str | None) -> str | None:
    """Dropbox's `%Y-%m-%dT%H:%M:%SZ` as UTC with milliseconds."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parent_path(path_lower: str) -> str:
    """The parent folder's lower-cased path (`""` for the root)."""
    return path_lower.rsplit("/", 1)[0] if "/" in path_lower else ""


def is_paper(entry: JSONObject) -> bool:
    """A Paper document in the file system (`.paper`, which `files/download` refuses)."""
    name = _str(entry, "name") or ""
    return entry.get(".tag") == "file" and name.lower().endswith(".paper")


def mime_type_of(entry: JSONObject) -> str:
    """Dropbox sends no MIME type: a file's comes from its name; folders have an empty one;
    Paper documents are `text/markdown` (what their content is exported as); other files
    that are not downloadable take the type of their `export_info.export_as`."""
    if entry.get(".tag") == "folder":
        return ""
    if is_paper(entry):
        return PAPER_MIME_TYPE
    info = entry.get("export_info")
    if entry.get("is_downloadable") is False and isinstance(info, dict):
        export_as = _str(info, "export_as")
        if export_as is not None:
            known = _EXPORT_TYPES.get(export_as)
            guessed = mimetypes.guess_type(f"x.{export_as}", strict=False)[0]
            return known or guessed or "application/octet-stream"
    name = _str(entry, "name") or ""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _web_url(entry: JSONObject) -> str | None:
    path = _str(entry, "path_display")
    if path is None:
        return None
    if entry.get(".tag") == "folder":
        return WEB_URL + quote(path)
    folder, _, name = path.rpartition("/")
    return f"{WEB_URL}{quote(folder)}?preview={quote(name, safe='')}"


def normalize_entry(
    entry: JSONObject, parent_id: str | None, access: Access | None = None
) -> Upsert:
    """One Dropbox entry as a File record.

    `parent_id` is the parent folder's id (Dropbox's metadata names the parent only by path;
    the connector resolves it), None at the top of the account. `hash` is `content_hash`
    (files); `updatedAt` is `server_modified` (Dropbox keeps no creation time, so `createdAt`
    is null; the unverified `client_modified` goes to `customFields`). `customFields` holds
    what else Dropbox sent under camelCase names: the paths, `rev`, sharing info, export info.

    Raises:
        UpstreamResponseError: the entry has no `id`, or is not a file or folder.
    """
    external_id = entry.get("id")
    tag = entry.get(".tag")
    if not isinstance(external_id, str) or not external_id:
        raise UpstreamResponseError("Dropbox returned an entry without an id")
    if tag not in ("file", "folder"):
        raise UpstreamResponseError(f"Dropbox returned an entry of unknown kind {tag!r}")
    custom: JSONObject = {"tag": tag}
    for source, target in (
        ("path_lower", "pathLower"),
        ("path_display", "pathDisplay"),
        ("rev", "rev"),
        ("preview_url", "previewUrl"),
        ("parent_shared_folder_id", "parentSharedFolderId"),
        ("shared_folder_id", "sharedFolderId"),
    ):
        if (value := _str(entry, source)) is not None:
            custom[target] = value
    if (client := _timestamp(_str(entry, "client_modified"))) is not None:
        custom["clientModified"] = client
    for source, target in (
        ("is_downloadable", "isDownloadable"),
        ("has_explicit_shared_members", "hasExplicitSharedMembers"),
    ):
        if isinstance(flag := entry.get(source), bool):
            custom[target] = flag
    for source, target in (
        ("sharing_info", "sharingInfo"),
        ("export_info", "exportInfo"),
        ("file_lock_info", "fileLockInfo"),
        ("property_groups", "propertyGroups"),
    ):
        if (nested := entry.get(source)) is not None:
            custom[target] = nested
    if is_paper(entry):
        custom["exportedAs"] = "markdown"
    content_hash = _str(entry, "content_hash")
    name = entry.get("name")
    data: JSONObject = {
        "externalId": external_id,
        "name": name if isinstance(name, str) else "",
        "mimeType": mime_type_of(entry),
        "size": _size(entry.get("size")) if tag == "file" else None,
        "url": _web_url(entry),
        "thumbnailUrl": None,
        "createdAt": None,
        "updatedAt": _timestamp(_str(entry, "server_modified")),
        "hash": (
            {"type": HASH_TYPE, "value": content_hash} if tag == "file" and content_hash else None
        ),
        "parentFolderId": parent_id,
        "customFields": custom,
    }
    parents = (parent_id,) if parent_id else ()
    return Upsert(external_id, data, tag == "folder", parents, access)
