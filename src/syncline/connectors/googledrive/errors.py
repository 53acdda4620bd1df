"""Turns Google Drive error responses into Syncline's upstream exceptions."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from syncline.connectors.http import parse_retry_after
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

__all__ = ["error_reasons", "raise_for_drive"]

# A 403 is Drive's usual way of saying "slow down"; these reasons clear up on their own.
RATE_LIMIT_REASONS = frozenset(
    {"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"}
)
NOT_DOWNLOADABLE_REASONS = frozenset({"fileNotDownloadable", "fileNotExportable"})


@dataclass(frozen=True, slots=True)
class _DriveError:
    """Drive's error envelope: `{"error": {"message", "errors": [{"reason", "location"}]}}`."""

    message: str
    reasons: tuple[str, ...]
    locations: tuple[str, ...]

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else ""

    def describe(self, status_code: int) -> str:
        reason = f" ({self.reason})" if self.reason else ""
        message = f": {self.message}" if self.message else ""
        return f"Google Drive answered HTTP {status_code}{reason}{message}"


def _parse_error(response: httpx.Response) -> _DriveError:
    """The error envelope; tolerant of bodies that are empty, HTML or oddly shaped."""
    try:
        body = response.json()
    except ValueError:  # not JSON (an HTML error page, a proxy's text, an empty body)
        text = response.text.strip()
        return _DriveError(message=text[:200], reasons=(), locations=())
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return _DriveError(message=error, reasons=(), locations=())
    if not isinstance(error, dict):
        return _DriveError(message="", reasons=(), locations=())
    message = error.get("message")
    reasons: list[str] = []
    locations: list[str] = []
    details = error.get("errors")
    if isinstance(details, list):
        for detail in details:
            if not isinstance(detail, dict):
                continue
            if isinstance(reason := detail.get("reason"), str):
                reasons.append(reason)
            if isinstance(location := detail.get("location"), str):
                locations.append(location)
    return _DriveError(
        message=message if isinstance(message, str) else "",
        reasons=tuple(reasons),
        locations=tuple(locations),
    )


def error_reasons(response: httpx.Response) -> tuple[str, ...]:
    """The `reason` of each entry in a Google error envelope (empty when there is none)."""
    return _parse_error(response).reasons


def raise_for_drive(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches Drive's error.

    The response body must have been read (call `aread()` first on a streamed response).

    Raises:
        UpstreamRateLimited: 429, or a 403 whose reason is a rate limit (retryable).
        NotDownloadable: 403 `fileNotDownloadable` / `fileNotExportable`.
        UpstreamPermissionDenied: any other 403 (not retryable).
        UpstreamAuthError: 401; the auth flow has already refreshed the token once.
        UpstreamNotFound: 404; the item is gone or the credential lost access.
        CursorInvalid: 400 on the `pageToken` parameter.
        UpstreamResponseError: any other 4xx, or an unexpected 1xx/3xx.
        UpstreamUnavailable: 5xx.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = _parse_error(response)
    message = error.describe(status)
    if status == 429 or (status == 403 and RATE_LIMIT_REASONS.intersection(error.reasons)):
        raise UpstreamRateLimited(
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
        )
    if status == 403 and NOT_DOWNLOADABLE_REASONS.intersection(error.reasons):
        raise NotDownloadable(message, status_code=status)
    if status == 403:
        raise UpstreamPermissionDenied(message, status_code=status)
    if status == 401:
        raise UpstreamAuthError(message, status_code=status)
    if status == 404:
        raise UpstreamNotFound(message, status_code=status)
    if status == 400 and "pageToken" in error.locations:
        raise CursorInvalid(message, status_code=status)
    if status >= 500:
        raise UpstreamUnavailable(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)
