"""Notion's error answers as Syncline's exceptions: the codes of developers.notion.com's
status-codes page, Retry-After on 429 and 529, and bodies that are not Notion's."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from syncline.connectors.notion.errors import parse_error, raise_for_notion
from syncline.errors import (
    CursorInvalid,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)


def _answer(status: int, code: str, message: str = "", **headers: str) -> httpx.Response:
    body = {"object": "error", "status": status, "code": code, "message": message}
    return httpx.Response(status, json={**body, "request_id": "req-1"}, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "message", "raised"),
    [
        (401, "unauthorized", "API token is invalid.", UpstreamAuthError),
        (403, "restricted_resource", "", UpstreamPermissionDenied),
        (404, "object_not_found", "Could not find page", UpstreamNotFound),
        (400, "validation_error", "body.page_size should be ≤ `100`", UpstreamResponseError),
        (400, "validation_error", "The start_cursor provided is invalid: abc", CursorInvalid),
        (400, "invalid_request_url", "Invalid request URL.", UpstreamResponseError),
        (409, "conflict_error", "Conflict occurred while saving.", UpstreamUnavailable),
        (500, "internal_server_error", "", UpstreamUnavailable),
        (502, "bad_gateway", "", UpstreamUnavailable),
        (503, "service_unavailable", "", UpstreamUnavailable),
        (504, "gateway_timeout", "", UpstreamUnavailable),
    ],
)
def test_each_notion_error_code_is_one_exception(status, code, message, raised):
    """Every documented code maps to the exception the engine acts on; the message keeps
    Notion's code, words and request id."""
    with pytest.raises(raised) as caught:
        raise_for_notion(_answer(status, code, message))

    assert f"({code})" in str(caught.value)
    assert "req-1" in str(caught.value)
    assert status == caught.value.status_code


@pytest.mark.parametrize(("status", "code"), [(429, "rate_limited"), (529, "service_overload")])
def test_rate_limited_and_overloaded_carry_the_wait(status, code):
    """429 `rate_limited` and 529 `service_overload` are rate limits with their Retry-After."""
    with pytest.raises(UpstreamRateLimited) as caught:
        raise_for_notion(_answer(status, code, **{"Retry-After": "7"}))

    assert timedelta(seconds=7) == caught.value.retry_after


def test_a_success_raises_nothing():
    """2xx answers pass."""
    raise_for_notion(httpx.Response(200, json={"object": "list"}))


def test_a_body_that_is_not_notions_still_says_what_happened():
    """A proxy's HTML page is a 5xx like any other, its text kept; the request id comes from
    the `x-notion-request-id` header when the body has none."""
    response = httpx.Response(
        502, text="<html>Bad gateway</html>", headers={"x-notion-request-id": "h-9"}
    )

    with pytest.raises(UpstreamError, match="Bad gateway"):
        raise_for_notion(response)
    assert "h-9" == parse_error(response).request_id
