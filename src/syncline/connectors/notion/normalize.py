"""Turns a Notion page into a normalized File record (pipeline `files`), and its properties
into plain values."""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.connectors.bodies import text
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

__all__ = [
    "HASH_TYPE",
    "MIME_TYPE",
    "Ref",
    "edited_at",
    "is_trashed",
    "moment",
    "normalize_page",
    "parent_ref",
    "plain_value",
    "properties_of",
    "timestamp",
    "title_of",
]

MIME_TYPE = "text/markdown"
HASH_TYPE = "SHA256"
"""The record's `hash`: SHA-256 of the page's stable Markdown (see `markdown`)."""

_SCALARS = frozenset(
    {"number", "checkbox", "url", "email", "phone_number", "created_time", "last_edited_time"}
)

Ref = tuple[str, str]
"""An object Notion can name as a parent: `("page" | "block" | "database", id)`."""


def timestamp(value: JSON) -> str | None:
    """Notion's ISO-8601 time as UTC with milliseconds (`2024-05-02T10:11:00.000Z`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def moment(value: JSON) -> datetime | None:
    """A Notion time as a UTC datetime (None when absent or unreadable)."""
    stamp = timestamp(value)
    return None if stamp is None else datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def edited_at(obj: JSONObject) -> datetime | None:
    """`last_edited_time` (Notion rounds it down to the minute), as a UTC time."""
    return moment(obj.get("last_edited_time"))


def is_trashed(obj: JSONObject) -> bool:
    """In the trash: `in_trash`, or `archived` (its alias before `2026-03-11`), or
    `is_archived` (after it)."""
    return any(obj.get(key) is True for key in ("in_trash", "archived", "is_archived"))


def parent_ref(obj: JSONObject) -> Ref | None:
    """What a page, block or database names as its parent (None: the workspace).

    A row's parent is its database: `database_id`, or from `2025-09-03` a `data_source_id`
    with the `database_id` beside it.
    """
    parent = obj.get("parent")
    if not isinstance(parent, dict):
        return None
    kind = parent.get("type")
    if kind == "page_id" and (pid := text(parent, "page_id")) is not None:
        return ("page", pid)
    if kind == "block_id" and (bid := text(parent, "block_id")) is not None:
        return ("block", bid)
    if (
        kind in ("database_id", "data_source_id")
        and (did := text(parent, "database_id")) is not None
    ):
        return ("database", did)
    return None


# -- properties ------------------------------------------------------------------------------


def _name(user: JSON) -> JSON:
    if not isinstance(user, dict):
        return None
    return text(user, "name") or text(user, "id")


def _date(value: JSON) -> JSON:
    """A date as its `start`, or `start/end` (ISO 8601's interval form) when it has an end."""
    if not isinstance(value, dict):
        return None
    start, end = text(value, "start"), text(value, "end")
    return f"{start}/{end}" if start and end else start


def _names(values: JSON, key: str = "name") -> list[JSON]:
    if not isinstance(values, list):
        return []
    return [v.get(key) for v in values if isinstance(v, dict) and isinstance(v.get(key), str)]


def _plain_text(spans: JSON) -> str:
    if not isinstance(spans, list):
        return ""
    return "".join(
        p for s in spans if isinstance(s, dict) and isinstance(p := s.get("plain_text"), str)
    )


def plain_value(prop: JSON) -> JSON:
    """A page property value (`{"type": t, t: ...}`) as a plain JSON value: text as a string,
    numbers, booleans, a select's name, lists of names, people by name, relations by page id,
    dates as ISO strings, a formula's or rollup's result; None for what has no value."""
    if not isinstance(prop, dict):
        return None
    kind = prop.get("type")
    value = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return _plain_text(value)
    if kind in _SCALARS:
        return value if not isinstance(value, dict | list) else None
    if kind in ("select", "status"):
        return text(value, "name") if isinstance(value, dict) else None
    if kind == "multi_select":
        return _names(value)
    if kind == "date":
        return _date(value)
    if kind == "people":
        return [_name(p) for p in value] if isinstance(value, list) else []
    if kind in ("created_by", "last_edited_by"):
        return _name(value)
    if kind == "files":
        return _names(value)
    if kind == "relation":
        return _names(value, "id")
    if kind == "formula" and isinstance(value, dict):
        inner = value.get("type")
        result = value.get(inner) if isinstance(inner, str) else None
        return _date(result) if inner == "date" else result
    if kind == "rollup" and isinstance(value, dict):
        inner = value.get("type")
        if inner == "array":
            items = value.get("array")
            return [plain_value(i) for i in items] if isinstance(items, list) else []
        result = value.get(inner) if isinstance(inner, str) else None
        return _date(result) if inner == "date" else result
    if kind == "unique_id" and isinstance(value, dict):
        number, prefix = value.get("number"), text(value, "prefix")
        return f"{prefix}-{number}" if prefix and number is not None else number
    if kind == "verification" and isinstance(value, dict):
        return text(value, "state")
    if isinstance(value, str | int | float | bool):
        return value
    return None


def properties_of(page: JSONObject) -> dict[str, JSON]:
    """The page's properties by name as plain values: the title first, then by name (Notion's
    own order is not promised, and the record's hash must not depend on it)."""
    raw = page.get("properties")
    if not isinstance(raw, dict):
        return {}
    titles = [n for n, p in raw.items() if isinstance(p, dict) and p.get("type") == "title"]
    ordered = titles + sorted(n for n in raw if n not in titles)
    return {name: plain_value(raw[name]) for name in ordered}


def title_of(page: JSONObject) -> str:
    """The title property's text (empty when untitled)."""
    raw = page.get("properties")
    for prop in raw.values() if isinstance(raw, dict) else ():
        if isinstance(prop, dict) and prop.get("type") == "title":
            value = plain_value(prop)
            return value if isinstance(value, str) else ""
    return ""


# -- the record ------------------------------------------------------------------------------


def normalize_page(page: JSONObject, *, content_hash: str, folder_id: str | None) -> Upsert:
    """One page as a File record.

    `data` is the File schema without `id`: `name` from the title property, `mimeType`
    `text/markdown`, `hash` the SHA-256 of its stable Markdown (`content_hash`), `parentId` the
    parent page or (for a row) database, `parentFolderId` the nearest page above it
    (`folder_id`: a row's is the page holding its database), `customFields` the properties
    by name as plain values. `size` is null: the content is rendered on request.

    Raises:
        UpstreamResponseError: the page has no `id`.
    """
    page_id = text(page, "id")
    if page_id is None:
        raise UpstreamResponseError("Notion returned a page without an id")
    parent = parent_ref(page)
    if parent is None:
        parent_id = None
    elif parent[0] == "block":
        parent_id = folder_id  # a page inside a toggle or column belongs to the page holding it
    else:
        parent_id = parent[1]
    data: JSONObject = {
        "externalId": page_id,
        "name": title_of(page),
        "mimeType": MIME_TYPE,
        "size": None,
        "url": text(page, "url"),
        "thumbnailUrl": None,
        "createdAt": timestamp(page.get("created_time")),
        "updatedAt": timestamp(page.get("last_edited_time")),
        "hash": {"type": HASH_TYPE, "value": content_hash},
        "parentFolderId": folder_id,
        "parentId": parent_id,
        "customFields": dict(properties_of(page)),
    }
    return Upsert(page_id, data, False, (folder_id,) if folder_id else ())
