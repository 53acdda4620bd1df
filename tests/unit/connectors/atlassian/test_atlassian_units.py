"""Atlassian's shared parts: error answers in the gateway's, Confluence v2's, v1's and Jira's
envelopes, rate-limit waits, and which site a grant's accessible-resources names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from syncline.connectors.atlassian import pick_site, raise_for_atlassian
from syncline.connectors.atlassian.errors import parse_error, reset_after
from syncline.connectors.atlassian.resources import cloud_id
from syncline.connectors.base import ConnectorContext
from syncline.errors import (
    ConfigError,
    CursorInvalid,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)

V2_CURSOR = {
    "errors": [
        {
            "status": 400,
            "code": "INVALID_REQUEST_PARAMETER",
            "title": (
                "Provided value for 'cursor' is not the correct type. Expected type is Cursor."
            ),
            "detail": "The provided cursor was not valid.",
        }
    ]
}
V1_NOT_FOUND = {
    "statusCode": 404,
    "data": {"authorized": False, "valid": True, "errors": [], "successful": False},
    "message": "No content found with id: ContentId{id=1}",
    "reason": "Not Found",
}


def _answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_answer(429, {"code": 429, "message": "Too Many Requests"}, **{"Retry-After": "3"}),
         UpstreamRateLimited),
        (_answer(503, {"errors": []}, **{"Retry-After": "2"}), UpstreamRateLimited),
        (_answer(503, {"errors": []}), UpstreamUnavailable),
        (_answer(500, None), UpstreamUnavailable),
        (_answer(401, {"code": 401, "message": "Unauthorized"}), UpstreamAuthError),
        (_answer(401, {"code": 401, "message": "Unauthorized; scope does not match"},
                 **{"X-Failure-Category": "FAILURE_CLIENT_SCOPE_CHECK"}), UpstreamPermissionDenied),
        (_answer(403, {"errors": [{"status": 403, "code": "FORBIDDEN", "title": "Forbidden"}]}),
         UpstreamPermissionDenied),
        (_answer(404, V1_NOT_FOUND), UpstreamNotFound),
        (_answer(400, V2_CURSOR), CursorInvalid),
        (_answer(400, {**V1_NOT_FOUND, "statusCode": 400,
                       "message": "java.lang.IllegalArgumentException: Invalid cursor"}),
         CursorInvalid),
        (_answer(400, {**V1_NOT_FOUND, "statusCode": 400,
                       "message": "BadRequestException: Could not parse cql : x"}),
         UpstreamResponseError),
    ],
    ids=["429", "503 retry-after", "503", "500", "401", "401 scope", "403", "404 v1",
         "400 v2 cursor", "400 v1 cursor", "400 cql"],
)  # fmt: skip
def test_each_error_answer_raises_the_matching_exception(response, expected):
    """Statuses, and the words of the body, map onto Syncline's upstream exceptions."""
    with pytest.raises(expected):
        raise_for_atlassian(response, "Confluence")


def test_a_2xx_raises_nothing():
    """A success passes through."""
    raise_for_atlassian(_answer(200, {"results": []}), "Confluence")


def test_a_429_waits_for_retry_after_or_else_the_reset_time():
    """`Retry-After` (seconds) wins; without it, `X-RateLimit-Reset` tells the wait."""
    reset = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    with pytest.raises(UpstreamRateLimited) as with_header:
        raise_for_atlassian(_answer(429, {}, **{"Retry-After": "7"}), "Jira")
    with pytest.raises(UpstreamRateLimited) as with_reset:
        raise_for_atlassian(_answer(429, {}, **{"X-RateLimit-Reset": reset}), "Jira")

    assert timedelta(seconds=7) == with_header.value.retry_after
    assert with_reset.value.retry_after is not None
    assert timedelta(0) < with_reset.value.retry_after <= timedelta(minutes=2)


def test_a_429_names_its_rate_limit_reason():
    """The `RateLimit-Reason` header travels in the message (each limit needs its backoff)."""
    headers = {"Retry-After": "1", "RateLimit-Reason": "confluence-burst-based"}
    with pytest.raises(UpstreamRateLimited, match="confluence-burst-based"):
        raise_for_atlassian(_answer(429, {}, **headers), "Confluence")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"errors": [{"code": "NOT_FOUND", "title": "Not Found", "detail": None}]}, "Not Found"),
        (V1_NOT_FOUND, "No content found with id: ContentId{id=1}"),
        ({"code": 401, "message": "Unauthorized"}, "Unauthorized"),
        ({"errorMessages": ["Issue does not exist"], "errors": {"jql": "bad"}},
         "Issue does not exist; jql: bad"),
    ],
    ids=["v2", "v1", "gateway", "jira"],
)  # fmt: skip
def test_every_envelope_yields_its_message(body, message):
    """The gateway's, v2's, v1's and Jira's envelopes are all read."""
    assert message == parse_error(_answer(400, body)).message


def test_a_body_that_is_not_json_is_kept_as_text():
    """A proxy's HTML page still says something."""
    answer = httpx.Response(502, text="<html>Bad gateway</html>")

    assert "<html>Bad gateway</html>" == parse_error(answer).message


def test_reset_after_reads_atlassians_minute_stamps():
    """`X-RateLimit-Reset` is `yyyy-MM-ddTHH:mmZ`; a time past is no wait, garbage is None."""
    now = datetime(2024, 5, 2, 10, 0, 30, tzinfo=UTC)

    assert timedelta(seconds=30) == reset_after("2024-05-02T10:01Z", now=now)
    assert timedelta(0) == reset_after("2024-05-02T09:00Z", now=now)
    assert reset_after("soon", now=now) is None


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ([], None),
        ([{"id": "a", "scopes": ["read:jira-work"]},
          {"id": "b", "scopes": ["read:page:confluence"]}], "b"),
        ([{"id": "a", "scopes": ["read:jira-work"]}], "a"),
        ([{"id": "c", "scopes": ["search:confluence"]},
          {"id": "d", "scopes": ["read:page:confluence"]}], "c"),
        (["junk", {"name": "no id"}, {"id": "e"}], "e"),
    ],
    ids=["none", "the confluence site", "else the first", "the first confluence site", "junk"],
)  # fmt: skip
def test_pick_site_prefers_the_first_site_the_product_was_granted_on(resources, expected):
    """One consent may cover a Jira and a Confluence site: the first with the product's
    scopes, else the first."""
    assert expected == pick_site(resources, "confluence")


async def test_a_cloud_id_in_provider_data_needs_no_request():
    """`providerData.cloudId` is the site; nothing is asked of Atlassian."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        ctx = ConnectorContext(http, httpx.Auth(), "https://api.atlassian.com", {"cloudId": "c-1"})

        assert "c-1" == await cloud_id(ctx, "confluence")


async def test_a_cloud_id_that_cannot_sit_in_a_path_is_refused():
    """A `providerData.cloudId` with a slash or a dot-dot is a configuration error."""
    async with httpx.AsyncClient() as http:
        ctx = ConnectorContext(http, httpx.Auth(), "https://x", {"cloudId": "../admin"})
        with pytest.raises(ConfigError):
            await cloud_id(ctx, "confluence")


async def test_a_grant_that_reaches_no_site_is_refused():
    """An empty accessible-resources is a permission error naming `providerData.cloudId`."""
    seen: list[str] = []

    def resources(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=[])

    async with httpx.AsyncClient(transport=httpx.MockTransport(resources)) as http:
        ctx = ConnectorContext(
            http, httpx.Auth(), "https://x", urls={"resources": "https://r/resources"}
        )
        with pytest.raises(UpstreamPermissionDenied, match="cloudId"):
            await cloud_id(ctx, "confluence")

    assert ["https://r/resources"] == seen
