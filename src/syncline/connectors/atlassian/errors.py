"""Turns the error answers of Atlassian's cloud APIs into Syncline's upstream exceptions, once.

Three envelopes reach a 3LO client (upstream-apis.md 6a.2, 6b):

- the gateway's (`api.atlassian.com`, before a site sees the request): `{"code": 401,
  "message": "Unauthorized; scope does not match"}`, with `X-Failure-Category:
  FAILURE_CLIENT_SCOPE_CHECK` when the grant lacks the operation's scopes;
- Confluence v2's: `{"errors": [{"status", "code", "title", "detail"}]}`;
- Confluence v1's `{"statusCode", "message", "reason", "data"}`, and Jira's
  `{"errorMessages": [...], "errors": {field: message}}`.

Rate limits are 429 with `Retry-After` (seconds) and `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`),
and `RateLimit-Reason` naming the limit; Atlassian's rate-limiting guide lets 503 carry
`Retry-After` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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

__all__ = ["SCOPE_CHECK", "AtlassianError", "parse_error", "raise_for_atlassian", "reset_after"]

SCOPE_CHECK = "FAILURE_CLIENT_SCOPE_CHECK"
"""The gateway's `X-Failure-Category` for a token whose grant lacks the operation's scopes."""


@dataclass(frozen=True, slots=True)
class AtlassianError:
    """What an error answer says, whichever envelope it came in."""

    code: str
    message: str
    failure: str = ""
    """The gateway's `X-Failure-Category`, if any."""

    def describe(self, product: str, status_code: int) -> str:
        code = f" ({self.code})" if self.code else ""
        message = f": {self.message}" if self.message else ""
        return f"{product} answered HTTP {status_code}{code}{message}"

    @property
    def refuses_cursor(self) -> bool:
        """A 400 refusing a paging cursor it issued (v2: "Provided value for 'cursor' is not
        the correct type"; v1: "Invalid cursor")."""
        return "cursor" in self.message.lower()

    @property
    def scope_mismatch(self) -> bool:
        return self.failure == SCOPE_CHECK or "scope does not match" in self.message.lower()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_error(response: httpx.Response) -> AtlassianError:
    """The error answer; tolerant of bodies that are empty, HTML or oddly shaped."""
    failure = response.headers.get("X-Failure-Category", "")
    try:
        body = response.json()
    except ValueError:  # not JSON (a proxy's page, an empty body)
        return AtlassianError("", response.text.strip()[:200], failure)
    if not isinstance(body, dict):
        return AtlassianError("", "", failure)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        title, detail = _text(first.get("title")), _text(first.get("detail"))
        return AtlassianError(_text(first.get("code")), f"{title} {detail}".strip(), failure)
    messages = body.get("errorMessages")
    if isinstance(messages, list):
        texts = [m for m in messages if isinstance(m, str)]
        if isinstance(errors, dict):
            texts += [f"{k}: {v}" for k, v in errors.items() if isinstance(v, str)]
        return AtlassianError("", "; ".join(texts), failure)
    code = body.get("reason") or body.get("error") or ""
    return AtlassianError(
        _text(code), _text(body.get("message") or body.get("error_description")), failure
    )


def reset_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """`X-RateLimit-Reset` (`2024-05-02T10:15Z`, ISO 8601) as a wait from now."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - (now or datetime.now(UTC)))


def _wait(response: httpx.Response) -> timedelta | None:
    headers = response.headers
    return parse_retry_after(headers.get("Retry-After")) or reset_after(
        headers.get("X-RateLimit-Reset")
    )


def raise_for_atlassian(response: httpx.Response, product: str) -> None:
    """Return on a 2xx; otherwise raise the Syncline exception that matches the answer.

    The body must have been read (call `aread()` first on a streamed response).

    Raises:
        UpstreamRateLimited: 429, or 503 with `Retry-After`; with the wait it asks for.
        UpstreamPermissionDenied: 401 "scope does not match" (the grant lacks a scope: a
            refresh cannot help, the user must consent to the scopes again), or 403.
        UpstreamAuthError: any other 401; the auth flow has already refreshed the token once.
        UpstreamNotFound: 404 (absent, or not visible to this user: Atlassian does not tell).
        CursorInvalid: 400 refusing a paging cursor.
        UpstreamUnavailable: any other 5xx.
        UpstreamResponseError: any other 4xx (a malformed query is Syncline's bug).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    error = parse_error(response)
    message = error.describe(product, status)
    reason = response.headers.get("RateLimit-Reason")
    if status == 429 or (status == 503 and "Retry-After" in response.headers):
        limit = f" [{reason}]" if reason else ""
        raise UpstreamRateLimited(message + limit, retry_after=_wait(response), status_code=status)
    if status == 401 and error.scope_mismatch:
        raise UpstreamPermissionDenied(
            f"{message}. The credential lacks a scope this integration needs: the user must "
            "connect the account again, consenting to every scope in its docs.",
            status_code=status,
        )
    if status == 401:
        raise UpstreamAuthError(message, status_code=status)
    if status >= 500:
        raise UpstreamUnavailable(message, status_code=status)
    if status == 403:
        raise UpstreamPermissionDenied(message, status_code=status)
    if status == 404:
        raise UpstreamNotFound(message, status_code=status)
    if status == 400 and error.refuses_cursor:
        raise CursorInvalid(message, status_code=status)
    raise UpstreamResponseError(message, status_code=status)
