"""The sandbox Confluence's error bodies (v2, v1 and the gateway's), its rate limits and
faults, and Atlassian's OAuth 2.0 (3LO) over real HTTP: the authorization code flow, rotating
refresh tokens with their 10-minute leeway and reuse detection, expiries, accessible-resources
and the settings that point Syncline at the sandbox."""

from __future__ import annotations

import re

import httpx

from syncline.sandbox.confluence import confluence_env
from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.integration.sandbox.confluence.conftest import ALICE, BOB

V1_DATA = {
    "authorized": False,
    "valid": True,
    "allowedInReadOnlyMode": True,
    "errors": [],
    "successful": False,
}
CLIENT = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
DEAD = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}


def _token(server, body: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/oauth/token", json={**CLIENT, **body})


def test_each_error_body_has_its_apis_form(site, samples, server, client):
    """v2 answers `{"errors": [{status, code, title, detail}]}`; v1 `{statusCode, data,
    message, reason}`; the gateway `{code, message}`: 401 "Unauthorized" for a bad token and
    "Unauthorized; scope does not match" (with `X-Failure-Category:
    FAILURE_CLIENT_SCOPE_CHECK`) for a token without the endpoint's scopes."""
    alice = client(ALICE)
    v1_only = client(ALICE, scopes=("search:confluence", "offline_access"))
    base = f"{server.url}/ex/confluence/{site.cloud_id}/wiki"

    v2 = alice.get("/api/v2/pages/999999999")
    v1 = alice.get("/rest/api/content/999999999/restriction")
    no_token = httpx.get(f"{base}/api/v2/pages")
    bad_token = httpx.get(f"{base}/api/v2/pages", headers={"Authorization": "Bearer nope"})
    wrong_scope = v1_only.get("/api/v2/pages")
    right_scope = v1_only.get("/rest/api/content/search", params={"cql": "type = page"})

    assert {
        "errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]
    } == v2.json()
    assert {
        "statusCode": 404,
        "data": V1_DATA,
        "message": "No content found with id: ContentId{id=999999999}",
        "reason": "Not Found",
    } == v1.json()
    for answer in (no_token, bad_token):
        assert (401, {"code": 401, "message": "Unauthorized"}) == (
            answer.status_code,
            answer.json(),
        )
    assert (401, {"code": 401, "message": "Unauthorized; scope does not match"}) == (
        wrong_scope.status_code,
        wrong_scope.json(),
    )
    assert "FAILURE_CLIENT_SCOPE_CHECK" == wrong_scope.headers["x-failure-category"]
    assert 200 == right_scope.status_code
    assert v2.headers["atl-traceid"]


def test_an_access_token_past_its_hour_is_a_401(site, samples, client, clock):
    """Access tokens live 3600 s: a minute past that, the same request answers 401."""
    alice = client(ALICE)
    before = alice.get("/api/v2/spaces").status_code
    clock.advance(3601)

    assert (200, 401) == (before, alice.get("/api/v2/spaces").status_code)


def test_the_401_fault_expires_the_callers_token(site, samples, client):
    """The injected `401` answers the gateway's 401 and really expires the token: the next
    request with it is refused too."""
    alice = client(ALICE)
    site.inject("401")

    first, second = alice.get("/api/v2/spaces"), alice.get("/api/v2/spaces")

    assert (401, 401) == (first.status_code, second.status_code)


def test_a_burst_429_carries_retry_after_and_the_rate_limit_headers(site, samples, client):
    """An injected `429` answers 429 with `Retry-After` (seconds), `X-RateLimit-Reset`
    (`yyyy-MM-ddTHH:mmZ`), `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`,
    `X-RateLimit-NearLimit: true` and `RateLimit-Reason: confluence-burst-based`; the next
    request succeeds."""
    alice = client(ALICE)
    site.inject("429", retry_after=7)

    limited, after = alice.get("/api/v2/pages"), alice.get("/api/v2/pages")

    headers = limited.headers
    assert (429, "7", "confluence-burst-based") == (
        limited.status_code,
        headers["retry-after"],
        headers["ratelimit-reason"],
    )
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", headers["x-ratelimit-reset"])
    assert ("0", "true") == (headers["x-ratelimit-remaining"], headers["x-ratelimit-nearlimit"])
    assert headers["x-ratelimit-limit"].isdigit()
    assert 429 == limited.json()["errors"][0]["status"]
    assert 200 == after.status_code


def test_the_hourly_quota_429_waits_until_the_top_of_the_utc_hour(site, samples, client, clock):
    """The `429_quota` fault says `RateLimit-Reason: confluence-quota-global-based` and a
    `Retry-After` reaching the next full UTC hour; on v1 paths the body is v1's envelope."""
    alice = client(ALICE)
    clock.advance(25 * 60)  # 10:25 UTC: 35 minutes to go
    site.inject("429_quota")

    limited = alice.get("/rest/api/content/search", params={"cql": "type = page"})

    assert (429, "confluence-quota-global-based", str(35 * 60)) == (
        limited.status_code,
        limited.headers["ratelimit-reason"],
        limited.headers["retry-after"],
    )
    assert 429 == limited.json()["statusCode"]


def test_a_503_fault_carries_retry_after(site, samples, client):
    """An injected `503` answers 503 with `Retry-After`."""
    alice = client(ALICE)
    site.inject("503", retry_after=3)

    answer = alice.get("/api/v2/spaces")

    assert (503, "3") == (answer.status_code, answer.headers["retry-after"])


def test_the_burst_limit_refuses_a_caller_past_its_rate_and_counts_refusals(site, samples, client):
    """With a burst limit of 3 requests (refilled at 1 a second, the clock standing still),
    the fourth request of a caller is a 429 `confluence-burst-based`; another user has a
    bucket of their own; the limiter counts what it refused."""
    alice, bob = client(ALICE), client(BOB)
    limiter = site.set_rate_limit(1.0, capacity=3)

    answers = [alice.get("/api/v2/spaces").status_code for _ in range(4)]
    other = bob.get("/api/v2/spaces").status_code

    assert [200, 200, 200, 429] == answers
    assert 200 == other
    assert limiter is not None
    assert 1 == limiter.refused


def test_the_stale_cursor_fault_refuses_a_cursor_as_invalid(site, samples, client):
    """`stale_cursor` fires only on a request that carries a cursor, answering the invalid
    cursor 400."""
    alice = client(ALICE)
    site.inject("stale_cursor")
    first = alice.get("/api/v2/pages", params={"limit": 2})

    refused = alice.get(first.json()["_links"]["next"].removeprefix("/wiki"))

    assert 200 == first.status_code
    assert 400 == refused.status_code
    assert "'cursor'" in refused.json()["errors"][0]["title"]


def test_the_authorization_code_flow_redirects_with_a_single_use_code(site, samples, server):
    """`GET /authorize` (with `audience=api.atlassian.com`, `response_type=code`) redirects to
    `redirect_uri` with `code` and `state`; exchanging it with a JSON body answers
    `{access_token, expires_in: 3600, token_type: Bearer, scope, refresh_token}`; the code
    works once (403 `invalid_grant` after); without `audience` the authorize URL is refused."""
    params = {
        "audience": "api.atlassian.com",
        "client_id": SANDBOX_CLIENT_ID,
        "scope": "read:page:confluence offline_access",
        "redirect_uri": "https://app.example.com/cb",
        "state": "xyz",
        "response_type": "code",
        "prompt": "consent",
        "login_hint": BOB,
    }
    redirect = httpx.get(f"{server.url}/authorize", params=params)
    query = httpx.URL(redirect.headers["location"]).params
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": "https://app.example.com/cb",
    }

    first, again = _token(server, exchange), _token(server, exchange)
    no_audience = httpx.get(f"{server.url}/authorize", params={**params, "audience": ""})

    body = first.json()
    assert (302, "xyz") == (redirect.status_code, query["state"])
    assert (200, 3600, "Bearer") == (first.status_code, body["expires_in"], body["token_type"])
    assert "read:page:confluence offline_access" == body["scope"]
    assert body["refresh_token"]
    assert (403, "invalid_grant") == (again.status_code, again.json()["error"])
    assert "no-store" == first.headers["cache-control"]
    assert 400 == no_audience.status_code
    me = httpx.get(
        f"{server.url}/ex/confluence/{site.cloud_id}/wiki/rest/api/user/current",
        headers={"Authorization": "Bearer " + body["access_token"]},
    )
    assert 401 == me.status_code  # the grant lacks read:confluence-user: scope does not match


def test_no_refresh_token_without_offline_access(site, samples, server):
    """A grant without `offline_access` gets an access token and no refresh token."""
    redirect = httpx.get(
        f"{server.url}/authorize",
        params={
            "audience": "api.atlassian.com",
            "client_id": SANDBOX_CLIENT_ID,
            "scope": "read:page:confluence",
            "redirect_uri": "https://a.example/cb",
            "response_type": "code",
        },
    )
    code = httpx.URL(redirect.headers["location"]).params["code"]

    body = _token(
        server,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://a.example/cb"},
    ).json()

    assert "access_token" in body
    assert "refresh_token" not in body


def test_refresh_tokens_rotate_and_a_rotated_one_works_only_within_the_leeway(
    site, samples, server, clock
):
    """Each refresh returns a new refresh token. Within 10 minutes the old one may be
    exchanged again (two workers refreshing at once both succeed); after that, reusing it is
    403 "Unknown or invalid refresh token." and revokes the whole token family, so even the
    newest refresh token dies and the user must consent again."""
    _, refresh = site.issue_tokens(ALICE)
    first = _token(server, {"grant_type": "refresh_token", "refresh_token": refresh}).json()
    concurrent = _token(server, {"grant_type": "refresh_token", "refresh_token": refresh})
    clock.advance(601)

    late = _token(server, {"grant_type": "refresh_token", "refresh_token": refresh})
    newest = _token(
        server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert first["refresh_token"] != refresh
    assert 200 == concurrent.status_code
    assert concurrent.json()["refresh_token"] not in (refresh, first["refresh_token"])
    assert (403, DEAD) == (late.status_code, late.json())
    assert (403, DEAD) == (newest.status_code, newest.json())
    assert 2 == site.grants.refreshes


def test_a_rotation_ends_the_old_access_token_after_the_leeway(site, samples, server, clock):
    """The access token issued with a refresh token keeps working for 10 minutes after that
    refresh token is rotated, then is refused; the new access token works."""
    access, refresh = site.issue_tokens(ALICE)
    url = f"{server.url}/ex/confluence/{site.cloud_id}/wiki/api/v2/spaces"
    rotated = _token(server, {"grant_type": "refresh_token", "refresh_token": refresh}).json()

    within = httpx.get(url, headers={"Authorization": f"Bearer {access}"}).status_code
    clock.advance(601)
    after = httpx.get(url, headers={"Authorization": f"Bearer {access}"}).status_code
    new = httpx.get(url, headers={"Authorization": f"Bearer {rotated['access_token']}"})

    assert (200, 401, 200) == (within, after, new.status_code)


def test_a_refresh_token_unused_for_90_days_is_dead(site, samples, server, clock):
    """A refresh token expires after 90 days of inactivity (each rotation resets that)."""
    _, refresh = site.issue_tokens(ALICE)
    clock.advance(89 * 86400)
    kept = _token(server, {"grant_type": "refresh_token", "refresh_token": refresh}).json()
    clock.advance(91 * 86400)

    dead = _token(server, {"grant_type": "refresh_token", "refresh_token": kept["refresh_token"]})

    assert (403, DEAD) == (dead.status_code, dead.json())


def test_wrong_client_credentials_are_refused(site, samples, server):
    """A wrong client secret is 401 `access_denied`; an unsupported grant type is 403."""
    _, refresh = site.issue_tokens(ALICE)

    wrong = httpx.post(
        f"{server.url}/oauth/token",
        json={
            **CLIENT,
            "client_secret": "x",
            "grant_type": "refresh_token",
            "refresh_token": refresh,
        },
    )
    odd = _token(server, {"grant_type": "password"})

    assert (401, "access_denied") == (wrong.status_code, wrong.json()["error"])
    assert (403, "unsupported_grant_type") == (odd.status_code, odd.json()["error"])


def test_the_token_endpoint_takes_a_form_body_too(site, samples, server):
    """Atlassian documents a JSON body; the Auth0 server behind it takes a form as well."""
    _, refresh = site.issue_tokens(ALICE)

    answer = httpx.post(
        f"{server.url}/oauth/token",
        data={**CLIENT, "grant_type": "refresh_token", "refresh_token": refresh},
    )

    assert 200 == answer.status_code


def test_accessible_resources_lists_the_site_with_its_cloud_id(site, samples, server):
    """`GET /oauth/token/accessible-resources` answers `[{id, url, name, scopes, avatarUrl}]`
    with the site's cloud id and URL and the scopes granted; a bad token is a 401."""
    access, _ = site.issue_tokens(ALICE)
    url = f"{server.url}/oauth/token/accessible-resources"

    resources = httpx.get(url, headers={"Authorization": f"Bearer {access}"}).json()
    refused = httpx.get(url, headers={"Authorization": "Bearer nope"})

    assert [site.cloud_id] == [r["id"] for r in resources]
    assert (site.site_url, site.site_name) == (resources[0]["url"], resources[0]["name"])
    assert "read:page:confluence" in resources[0]["scopes"]
    assert resources[0]["avatarUrl"].startswith("https://")
    assert 401 == refused.status_code


def test_confluence_env_points_syncline_at_the_sandbox(site, samples, server):
    """`confluence_env(url)` names the API origin, the token, authorize and accessible-resources
    URLs on the sandbox, and the sandbox's OAuth client: each URL answers there."""
    env = confluence_env(server.url)
    access, _ = site.issue_tokens(ALICE)

    resources = httpx.get(
        env["SYNCLINE_CONFLUENCE_RESOURCES_URL"], headers={"Authorization": f"Bearer {access}"}
    )
    api = httpx.get(
        f"{env['SYNCLINE_CONFLUENCE_API_URL']}/ex/confluence/{resources.json()[0]['id']}/wiki/api/v2/spaces",
        headers={"Authorization": f"Bearer {access}"},
    )
    authorize = httpx.get(
        env["SYNCLINE_CONFLUENCE_AUTH_URL"],
        params={
            "audience": "api.atlassian.com",
            "client_id": env["SYNCLINE_CONFLUENCE_CLIENT_ID"],
            "redirect_uri": "https://a.example/cb",
            "response_type": "code",
            "scope": "offline_access",
        },
    )
    code = httpx.URL(authorize.headers["location"]).params["code"]
    token = httpx.post(
        env["SYNCLINE_CONFLUENCE_TOKEN_URL"],
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://a.example/cb",
            "client_id": env["SYNCLINE_CONFLUENCE_CLIENT_ID"],
            "client_secret": env["SYNCLINE_CONFLUENCE_CLIENT_SECRET"],
        },
    )

    assert (200, 200, 302, 200) == (
        resources.status_code,
        api.status_code,
        authorize.status_code,
        token.status_code,
    )
