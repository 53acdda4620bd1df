"""Turns Notion's error responses into Syncline's upstream exceptions, in one place.

Notion answers every error with `{"object": "error", "status", "code", "message",
"request_id"}` (developers.notion.com/reference/status-codes).
"""

from __future__ import annotations

from dataclasses import dataclass

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

__all__ = ["NotionError", "parse_error", "raise_for_notion"]

THROTTLED = frozenset({429, 529})
"""`rate_limited` (429) and `service_overload` (529): both come with `Retry-After`."""
RETRYABLE_CODES = frozenset({"conflict_error"})
"""409 `conflict_error`: "Conflict occurred while saving. Please try again."."""


@dataclass(frozen=True, slots=True)
class NotionError:
    code: str
    message: str
    request_id: str

    def describe(self, status_code: int) -> str:
        code = f" ({self.code})" if self.code else ""
        message = f": {self.message}" if self.message else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        return f"Notion answered HTTP {status_code}{code}{message}{request}"

    @property
    def refuses_cursor(self) -> bool:
        """A 400 refusing a `start_cursor` it issued ("The start_cursor provided is invalid"):
        Notion's cursors belong to a session and expire."""
        return self.code == "validation_error" and "start_cursor" in self.message


def parse_error(response: httpx.Response) -> NotionError:
    """The error body; tolerant of bodies that are empty, HTML or oddly shaped."""
    header_id = response.headers.get("x-notion-request-id", "")
    try:
        body = response.json()
    except ValueError:  # not JSON (a proxy's page, an empty body)
        return NotionError("", response.text.strip()[:200], header_id)
    if not isinstance(body, dict):
        return NotionError("", "", header_id)
    code, message, request_id = body.get("code"), body.get("message"), body.get("request_id")
    return NotionError(
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
        request_id if isinstance(request_id, str) else header_id,
    )


def raise_for_notion(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches Notion's error.

    The body must have been read.

    Raises:
        UpstreamRateLimited: 429 `rate_limited` or 529 `service_overload`, with `Retry-After`.
        UpstreamAuthError: 401 `unauthorized`; the auth flow has already refreshed once.
        UpstreamPermissionDenied: 403 `restricted_resource` (a capability the integration
            lacks).
        UpstreamNotFound: 404 `object_not_found`: absent, or not shared with the integration
            (Notion does not tell them apart).
        CursorInvalid: 400 refusing a `start_cursor`.
        UpstreamUnavailable: 5xx, or 409 `conflict_error`.
        UpstreamResponseError: any other 4xx (`validation_error`, `invalid_request`, ...).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = parse_error(response)
    message = error.describe(status)
    if status in THROTTLED or error.code in ("rate_limited", "service_overload"):
        raise UpstreamRateLimited(
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
        )
    if status == 401:
        raise UpstreamAuthError(message, status_code=status)
    if status >= 500 or error.code in RETRYABLE_CODES:
        raise UpstreamUnavailable(message, status_code=status)
    if status == 403:
        raise UpstreamPermissionDenied(message, status_code=status)
    if status == 404:
        raise UpstreamNotFound(message, status_code=status)
    if status == 400 and error.refuses_cursor:
        raise CursorInvalid(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)
