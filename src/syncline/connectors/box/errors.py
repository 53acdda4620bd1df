"""Turns Box error responses into Syncline's upstream exceptions."""

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

__all__ = ["BoxError", "parse_error", "raise_for_box"]

CURSOR_PARAMETERS = frozenset({"stream_position", "marker"})
"""A 400 naming one of these refuses a position Box issued earlier (too old, or unreadable)."""
RETRYABLE_CODES = frozenset({"operation_blocked_temporary"})


@dataclass(frozen=True, slots=True)
class BoxError:
    """Box's error envelope: `{"type": "error", "status", "code", "message", "request_id",
    "context_info": {"errors": [{"reason", "name", "message"}]}}`."""

    code: str
    message: str
    parameters: tuple[str, ...]
    request_id: str

    def describe(self, status_code: int) -> str:
        code = f" ({self.code})" if self.code else ""
        message = f": {self.message}" if self.message else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        return f"Box answered HTTP {status_code}{code}{message}{request}"


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def parse_error(response: httpx.Response) -> BoxError:
    """The error envelope; tolerant of bodies that are empty, HTML or oddly shaped."""
    try:
        body = response.json()
    except ValueError:  # not JSON (a proxy's page, an empty body)
        return BoxError("", response.text.strip()[:200], (), "")
    if not isinstance(body, dict):
        return BoxError("", "", (), "")
    parameters: list[str] = []
    context = body.get("context_info")
    details = context.get("errors") if isinstance(context, dict) else None
    if isinstance(details, list):
        parameters = [
            name
            for detail in details
            if isinstance(detail, dict) and isinstance(name := detail.get("name"), str)
        ]
    return BoxError(
        code=_text(body, "code") or _text(body, "error"),
        message=_text(body, "message") or _text(body, "error_description"),
        parameters=tuple(parameters),
        request_id=_text(body, "request_id"),
    )


def raise_for_box(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches Box's error.

    The response body must have been read (call `aread()` first on a streamed response).

    Raises:
        UpstreamRateLimited: 429 `rate_limit_exceeded`, with its `retry-after`.
        UpstreamAuthError: 401; the auth flow has already refreshed the token once.
        UpstreamPermissionDenied: 403 (insufficient scope, access denied, blocked by policy).
        UpstreamNotFound: 404 (the item is gone, trashed, or no longer shared with the user).
        CursorInvalid: 400 naming `stream_position` or `marker`: a position Box no longer takes.
        UpstreamUnavailable: 5xx, or `operation_blocked_temporary`.
        UpstreamResponseError: any other 4xx, or an unexpected 1xx/3xx.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = parse_error(response)
    message = error.describe(status)
    if status == 429:
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
    if status == 400 and CURSOR_PARAMETERS.intersection(error.parameters):
        raise CursorInvalid(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)
