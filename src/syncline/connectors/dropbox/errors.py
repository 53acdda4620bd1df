"""Turns Dropbox error responses into Syncline's upstream exceptions, once, at this boundary.

Dropbox's error forms (the stone spec and the HTTP documentation's "Errors" section): 400 bad
input as plain text; 401 `AuthError` (`expired_access_token`, `invalid_access_token`,
`missing_scope`, ...); 403 `AccessError`; 409 the route's own error union
(`{"error_summary": "path/not_found/..", "error": {".tag": "path", "path": {".tag":
"not_found"}}}`, `reset` for an expired cursor); 422 a `Dropbox-API-Path-Root` error; 429
`RateLimitError` (`too_many_requests` or `too_many_write_operations`, with `retry_after`) or a
bare 429 with only `Retry-After`; 5xx as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from syncline.connectors.http import parse_retry_after
from syncline.errors import (
    CursorInvalid,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

__all__ = ["DropboxError", "parse_error", "raise_for_dropbox"]

NOT_FOUND = frozenset({"not_found", "not_file", "not_folder"})
"""`LookupError` tags of a path or id that names nothing (or not the kind asked for)."""
DENIED = frozenset(
    {
        "no_permission",
        "restricted_content",
        "access_error",
        "insufficient_permissions",
        "no_access",
        "not_a_member",
        "team_folder",
        "email_unverified",
        "unmounted",
        "invalid_member",
    }
)
"""Tags of a refusal that retrying will not change."""


@dataclass(frozen=True, slots=True)
class DropboxError:
    """Dropbox's error envelope: `error_summary`, and the `error` union as its tags from the
    outside in (`["path", "not_found"]`)."""

    summary: str
    tags: tuple[str, ...]
    retry_after: int | None = None
    user_message: str = ""

    def describe(self, status_code: int) -> str:
        what = f" ({self.summary})" if self.summary else ""
        message = f": {self.user_message}" if self.user_message else ""
        return f"Dropbox answered HTTP {status_code}{what}{message}"


def _tags(error: object) -> list[str]:
    """The union's tags, following the nested value of each (`{".tag": "path", "path":
    {".tag": "not_found"}}` -> `["path", "not_found"]`); a rate-limit error's `reason`."""
    tags: list[str] = []
    while isinstance(error, dict):
        tag = error.get(".tag")
        if not isinstance(tag, str):
            reason = error.get("reason")
            if isinstance(reason, dict) and isinstance(reason.get(".tag"), str):
                tags.append(str(reason[".tag"]))
            break
        tags.append(tag)
        error = error.get(tag)
    return tags


def parse_error(response: httpx.Response) -> DropboxError:
    """The error envelope; tolerant of plain-text bodies (400, 5xx) and odd shapes."""
    try:
        body = response.json()
    except ValueError:  # Dropbox's 400s and 5xx are text
        return DropboxError(response.text.strip()[:300], ())
    if not isinstance(body, dict):
        return DropboxError("", ())
    summary = body.get("error_summary")
    error = body.get("error")
    tags = _tags(error)
    if not tags and isinstance(error, str):
        tags = [error]  # the token endpoint's `{"error": "invalid_grant"}`
    if not tags and isinstance(summary, str):
        tags = [part for part in summary.split("/") if part and part != "."]
    retry: int | None = None
    if isinstance(error, dict):
        value = error.get("retry_after")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            retry = value
    message = body.get("user_message")
    text = message.get("text") if isinstance(message, dict) else None
    return DropboxError(
        summary if isinstance(summary, str) else "",
        tuple(tags),
        retry,
        text if isinstance(text, str) else "",
    )


def raise_for_dropbox(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches Dropbox's error.

    The response body must have been read (call `aread()` first on a streamed response).

    Raises:
        UpstreamRateLimited: 429, waiting `Retry-After` (or the body's `retry_after`).
        UpstreamAuthError: 401; the auth flow has already refreshed the token once.
        UpstreamPermissionDenied: 403, or a 409 refusal (`no_permission`, ...).
        CursorInvalid: 409 `reset`: the cursor expired, a full listing is needed.
        UpstreamNotFound: 409 `not_found` (or `not_file`/`not_folder`) for a path or id.
        UpstreamUnavailable: 5xx.
        UpstreamResponseError: 400 (bad input), 422, other 409s, an unexpected 1xx/3xx.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = parse_error(response)
    message = error.describe(status)
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None and error.retry_after is not None:
            wait = timedelta(seconds=error.retry_after)
        raise UpstreamRateLimited(message, retry_after=wait, status_code=status)
    if status == 401:
        raise UpstreamAuthError(message, status_code=status)
    if status >= 500:
        raise UpstreamUnavailable(message, status_code=status)
    if status == 403:
        raise UpstreamPermissionDenied(message, status_code=status)
    if status == 409:
        if error.tags[:1] == ("reset",):
            raise CursorInvalid(message, status_code=status)
        if NOT_FOUND.intersection(error.tags):
            raise UpstreamNotFound(message, status_code=status)
        if DENIED.intersection(error.tags):
            raise UpstreamPermissionDenied(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)
