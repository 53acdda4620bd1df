"""The sandbox Notion's OAuth over real HTTP: instant consent at `/v1/oauth/authorize`, the code
exchange and the refresh at `/v1/oauth/token` with HTTP Basic client authentication and a JSON
body, the token response's fields, its refusals, and introspection and revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from syncline.sandbox.notion import notion_env
from tests.integration.sandbox.notion.conftest import client

REDIRECT = "https://app.example.com/callback"
BASIC = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)


@pytest.fixture
def oauth(notion_server):
    with httpx.Client(base_url=notion_server.url, timeout=5, follow_redirects=False) as http:
        yield http


def _code(oauth: httpx.Client, state: str = "xyz", redirect_uri: str = REDIRECT) -> str:
    answer = oauth.get(
        "/v1/oauth/authorize",
        params={
            "client_id": SANDBOX_CLIENT_ID,
            "response_type": "code",
            "owner": "user",
            "redirect_uri": redirect_uri,
            "state": state,
        },
    )
    assert 302 == answer.status_code
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert [state] == query["state"]
    return query["code"][0]


def test_the_code_exchange_answers_notions_token_response(notion, oauth, notion_server):
    """Authorize redirects back with `code` and `state`; exchanging the code with Basic auth and
    a JSON body answers `access_token`, `token_type: bearer`, a `refresh_token`, `bot_id`,
    the workspace's id, name and icon, the installing user as `owner`,
    `duplicated_template_id: null` and a `request_id`, and no `expires_in`; the access token
    reads the API as the bot."""
    code = _code(oauth)

    answer = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    body = answer.json()
    with client(notion_server, body["access_token"]) as http:
        me = http.get("/v1/users/me").json()

    assert 200 == answer.status_code
    assert {
        "access_token", "token_type", "refresh_token", "bot_id", "workspace_name",
        "workspace_icon", "workspace_id", "owner", "duplicated_template_id", "request_id",
    } == set(body)  # fmt: skip
    assert ("bearer", notion.bot, notion.workspace_id, "Acme", None) == (
        body["token_type"],
        body["bot_id"],
        body["workspace_id"],
        body["workspace_name"],
        body["duplicated_template_id"],
    )
    assert body["access_token"].startswith("ntn_")
    assert body["refresh_token"].startswith("nrt_")
    assert "user" == body["owner"]["type"]
    assert "alice@example.com" == body["owner"]["user"]["person"]["email"]
    assert (notion.bot, "bot") == (me["id"], me["type"])
    assert {"type": "user"} == {"type": me["bot"]["owner"]["type"]}
    assert "Acme" == me["bot"]["workspace_name"]


def test_a_code_works_once_and_must_repeat_its_redirect_uri(oauth):
    """A used code and a mismatched `redirect_uri` are 400 `invalid_grant` in Notion's error
    body."""
    code = _code(oauth)
    other = _code(oauth)
    ok = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    reused = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    mismatched = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={
            "grant_type": "authorization_code",
            "code": other,
            "redirect_uri": "https://evil.test/cb",
        },
    )

    assert 200 == ok.status_code
    for refused in (reused, mismatched):
        body = refused.json()
        assert (400, "error", "invalid_grant") == (
            refused.status_code,
            body["object"],
            body["code"],
        )


def test_the_client_must_authenticate_with_http_basic(oauth):
    """Client credentials in the body instead of Basic auth, or a wrong secret, are 401
    `unauthorized` (Notion answers a form-style client 401)."""
    code = _code(oauth)
    in_body = oauth.post(
        "/v1/oauth/token",
        json={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET,
        },
    )  # fmt: skip
    wrong = oauth.post(
        "/v1/oauth/token",
        auth=(SANDBOX_CLIENT_ID, "wrong"),
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )

    assert [(401, "unauthorized")] * 2 == [
        (a.status_code, a.json()["code"]) for a in (in_body, wrong)
    ]


def test_the_body_must_be_json(oauth):
    """A form-encoded token request is 400 `invalid_json`; a JSON body without `grant_type` is
    a `validation_error`."""
    code = _code(oauth)
    form = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    bare = oauth.post("/v1/oauth/token", auth=BASIC, json={"code": code})

    assert (400, "invalid_json") == (form.status_code, form.json()["code"])
    assert (400, "validation_error") == (bare.status_code, bare.json()["code"])


def test_a_refresh_rotates_the_refresh_token_and_kills_the_old_one(notion, oauth, notion_server):
    """`grant_type: refresh_token` answers a new access token and a new refresh token (the same
    fields as the exchange); the used refresh token is refused afterwards with
    `invalid_grant`, and the new access token reads the API."""
    code = _code(oauth)
    first = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    ).json()

    renewed = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    again = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    body = renewed.json()
    with client(notion_server, body["access_token"]) as http:
        me = http.get("/v1/users/me")

    assert 200 == renewed.status_code
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert (notion.bot, "bearer") == (body["bot_id"], body["token_type"])
    assert (400, "invalid_grant") == (again.status_code, again.json()["code"])
    assert 200 == me.status_code


def test_without_refresh_tokens_the_response_says_null_and_refreshes_fail(notion, oauth):
    """With `issue_refresh_tokens` off (older integrations' non-expiring tokens), the exchange
    answers `refresh_token: null` and a refresh request is `invalid_grant`."""
    notion.issue_refresh_tokens = False
    code = _code(oauth)

    body = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    ).json()
    refresh = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "refresh_token", "refresh_token": "nrt_x"},
    )

    assert body["refresh_token"] is None
    assert (400, "invalid_grant") == (refresh.status_code, refresh.json()["code"])


def test_an_expired_access_token_is_401_until_refreshed(notion, oauth, notion_server):
    """`expire_access_tokens` makes every token answer 401 `unauthorized`; the refresh token
    still gets a working one."""
    code = _code(oauth)
    tokens = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    ).json()

    notion.expire_access_tokens()
    with client(notion_server, tokens["access_token"]) as http:
        expired = http.get("/v1/users/me")
    renewed = oauth.post(
        "/v1/oauth/token",
        auth=BASIC,
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()
    with client(notion_server, renewed["access_token"]) as http:
        works = http.get("/v1/users/me")

    assert (401, "unauthorized") == (expired.status_code, expired.json()["code"])
    assert 200 == works.status_code


def test_introspect_and_revoke(notion, oauth, notion_server):
    """`/v1/oauth/introspect` says whether a token is `active`; after `/v1/oauth/revoke` it is
    not, and the API answers 401."""
    token, _ = notion.issue_tokens()

    before = oauth.post("/v1/oauth/introspect", auth=BASIC, json={"token": token}).json()
    revoked = oauth.post("/v1/oauth/revoke", auth=BASIC, json={"token": token})
    after = oauth.post("/v1/oauth/introspect", auth=BASIC, json={"token": token}).json()
    with client(notion_server, token) as http:
        refused = http.get("/v1/users/me")

    assert (True, 200, False) == (before["active"], revoked.status_code, after["active"])
    assert 401 == refused.status_code


def test_notion_env_points_at_the_sandbox_and_its_client(notion_server):
    """`notion_env` gives the API origin, the token and authorize URLs under `/v1/oauth/`, and
    the client id and secret the sandbox accepts."""
    env = notion_env(notion_server.url)

    assert {
        "SYNCLINE_NOTION_API_URL": notion_server.url,
        "SYNCLINE_NOTION_TOKEN_URL": f"{notion_server.url}/v1/oauth/token",
        "SYNCLINE_NOTION_AUTH_URL": f"{notion_server.url}/v1/oauth/authorize",
        "SYNCLINE_NOTION_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_NOTION_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    } == env
