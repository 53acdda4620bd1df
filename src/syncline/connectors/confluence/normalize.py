"""Turns a Confluence page (v2 `PageBulk` / `PageSingle`) into a File record (pipeline `files`),
and a page's rendering into the HTML document its content is."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from syncline.connectors.bodies import text
from syncline.domain.permissions import Access
from syncline.domain.records import Upsert
from syncline.errors import UpstreamResponseError
from syncline.types import JSON, JSONObject

__all__ = [
    "HASH_TYPE",
    "MEDIA_TYPE",
    "html_document",
    "normalize_page",
    "timestamp",
    "version_of",
]

MEDIA_TYPE = "text/html"
HASH_TYPE = "CONFLUENCE_VERSION"
"""A page's `hash`: its version number, which every edit (of the body or the title) raises.
Confluence publishes no digest of a page's content."""


def timestamp(value: str | None) -> str | None:
    """Confluence's ISO-8601 (`2024-05-02T10:11:12.345Z`, or with an offset) as UTC with
    milliseconds and `Z`; None when absent or unreadable."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def version_of(page: JSONObject) -> JSONObject:
    version = page.get("version")
    return version if isinstance(version, dict) else {}


def _number(value: JSON) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def web_url(page: JSONObject, base: str | None) -> str | None:
    """The page in Confluence's web UI: the site's base (`https://<site>.atlassian.net/wiki`)
    and the page's `_links.webui` (`/spaces/ENG/pages/123/Runbook`)."""
    links = page.get("_links")
    links = links if isinstance(links, dict) else {}
    webui = text(links, "webui")
    base = text(links, "base") or base
    if webui is None:
        return None
    if webui.startswith(("https://", "http://")) or base is None:
        return webui
    return base.rstrip("/") + webui


def normalize_page(page: JSONObject, base: str | None, access: Access | None = None) -> Upsert:
    """One page as a File record.

    `name` is the title; `parentFolderId` and `parentId` the parent page (or folder: Confluence
    nests pages under pages, and now under folders, which are not records); `hash` the version
    number; `updatedAt` the version's time. `customFields` hold the space, the status
    (`current` or `archived`), the version, and the page's author and owner (account ids).
    Pages are not folders: each has content (its rendering, `download`).

    Raises:
        UpstreamResponseError: the page has no id.
    """
    page_id = text(page, "id")
    if page_id is None:
        raise UpstreamResponseError("Confluence returned a page without an id")
    version = version_of(page)
    number = _number(version.get("number"))
    parent = text(page, "parentId")
    custom: JSONObject = {}
    for source, target in (
        ("spaceId", "spaceId"),
        ("status", "status"),
        ("authorId", "authorId"),
        ("ownerId", "ownerId"),
        ("parentType", "parentType"),
    ):
        if (value := text(page, source)) is not None:
            custom[target] = value
    if number is not None:
        custom["version"] = number
    if (editor := text(version, "authorId")) is not None:
        custom["versionAuthorId"] = editor
    title = page.get("title")
    data: JSONObject = {
        "externalId": page_id,
        "name": title if isinstance(title, str) else "",
        "mimeType": MEDIA_TYPE,
        "size": None,
        "url": web_url(page, base),
        "thumbnailUrl": None,
        "createdAt": timestamp(text(page, "createdAt")),
        "updatedAt": timestamp(text(version, "createdAt")) or timestamp(text(page, "createdAt")),
        "hash": {"type": HASH_TYPE, "value": str(number)} if number is not None else None,
        "parentFolderId": parent,
        "parentId": parent,
        "customFields": custom,
    }
    return Upsert(page_id, data, False, (), access)


def html_document(title: str, body: str, base: str | None = None) -> bytes:
    """A page's rendering (`body.view`: the HTML Confluence shows, macros expanded) as a
    minimal HTML document: UTF-8, the title, and a `<base>` so the site's relative links
    resolve."""
    head = '<meta charset="utf-8">'
    if base:
        head += f'<base href="{html.escape(base.rstrip("/") + "/", quote=True)}">'
    head += f"<title>{html.escape(title)}</title>"
    return f"<!DOCTYPE html>\n<html><head>{head}</head><body>{body}</body></html>\n".encode()
