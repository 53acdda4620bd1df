"""Turns Microsoft Graph error responses into Syncline's upstream exceptions."""

from __future__ import annotations

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

__all__ = ["error_code", "raise_for_graph"]


def error_code(response: httpx.Response) -> str:
    """`error.code` of Graph's envelope `{"error": {"code", "message", "innerError"}}`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else ""


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""


def raise_for_graph(response: httpx.Response) -> None:
    """Return on a 2xx; otherwise raise what Graph's answer means.

    Raises:
        UpstreamRateLimited: 429, or 503 with a `Retry-After` (SharePoint throttles with both).
        CursorInvalid: 410 `resyncRequired` (a delta token the service can no longer honour).
        UpstreamAuthError: 401; the auth flow has already refreshed the token once.
        UpstreamPermissionDenied: 403.
        UpstreamNotFound: 404 `itemNotFound` (gone, or no longer visible to the account).
        UpstreamUnavailable: other 5xx.
        UpstreamResponseError: any other status.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    code = error_code(response)
    detail = f"Microsoft Graph answered HTTP {status}" + (f" ({code})" if code else "")
    message = _message(response)
    if message:
        detail += f": {message}"
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429 or (status == 503 and retry_after is not None):
        raise UpstreamRateLimited(detail, retry_after=retry_after, status_code=status)
    if status == 410:
        raise CursorInvalid(detail, status_code=status)
    if status == 401:
        raise UpstreamAuthError(detail, status_code=status)
    if status == 403:
        raise UpstreamPermissionDenied(detail, status_code=status)
    if status == 404:
        raise UpstreamNotFound(detail, status_code=status)
    if status >= 500:
        raise UpstreamUnavailable(detail, status_code=status)
    raise UpstreamResponseError(detail, status_code=status)
