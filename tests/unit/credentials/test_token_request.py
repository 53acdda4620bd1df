"""How the token endpoint is called (`credentials.oauth`): RFC 6749's form body with the
client in it by default, or, where a provider declares it (`OAuthFlow.client_auth`,
`OAuthFlow.body_format`), HTTP Basic client authentication and a JSON body, as Notion
requires; and a refusal in Notion's own error envelope still revokes the credential."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from syncline.connectors.notion import spec as notion
from syncline.connectors.registry import Registry
from syncline.credentials.oauth import OAuthApp, exchange_code, refresh_tokens
from syncline.errors import CredentialRevoked
from syncline.wiring import oauth_apps

NOW = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
TOKENS = {"access_token": "ntn_new", "token_type": "bearer", "refresh_token": "nrt_next"}


def _recording(seen: list[httpx.Request], status: int = 200, body: object = TOKENS):
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_by_default_the_client_and_grant_go_form_encoded_in_the_body():
    """RFC 6749 section 4.1.3 / 6: a form body holding the grant and the client."""
    seen: list[httpx.Request] = []
    app = OAuthApp("https://idp.example/token", "cid", "secret")
    async with _recording(seen) as http:
        tokens = await refresh_tokens(http, app, "old-refresh", NOW)

    request = seen[0]
    assert "application/x-www-form-urlencoded" == request.headers["content-type"]
    assert "authorization" not in request.headers
    assert {
        "grant_type": ["refresh_token"],
        "refresh_token": ["old-refresh"],
        "client_id": ["cid"],
        "client_secret": ["secret"],
    } == parse_qs(request.content.decode())
    assert ("ntn_new", "nrt_next") == (tokens.access_token, tokens.refresh_token)


async def test_basic_client_auth_and_a_json_body_keep_the_secret_out_of_the_body():
    """With `client_auth="basic"` and `body_format="json"`, the client is in the
    Authorization header (base64 of `id:secret`) and the grant is a JSON object without it."""
    seen: list[httpx.Request] = []
    app = OAuthApp(
        "https://api.notion.com/v1/oauth/token",
        "cid",
        "secret",
        client_auth="basic",
        body_format="json",
    )
    async with _recording(seen) as http:
        await refresh_tokens(http, app, "nrt_old", NOW)
        await exchange_code(
            http, app, "code-1", redirect_uri="https://app/cb", verifier=None, now=NOW
        )

    refresh, exchange = seen
    expected = "Basic " + base64.b64encode(b"cid:secret").decode()
    assert [expected, expected] == [r.headers["authorization"] for r in seen]
    assert "application/json" == refresh.headers["content-type"]
    assert {"grant_type": "refresh_token", "refresh_token": "nrt_old"} == json.loads(
        refresh.content
    )
    assert {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://app/cb",
    } == json.loads(exchange.content)


async def test_a_refusal_in_notions_envelope_revokes_the_credential():
    """Notion answers a dead refresh token with `{"object": "error", "code":
    "invalid_grant", ...}`, not OAuth's `error`: the credential is revoked all the same."""
    refusal = {"object": "error", "status": 400, "code": "invalid_grant", "message": "Invalid."}
    app = OAuthApp("https://api.notion.com/v1/oauth/token", "cid", "secret", client_auth="basic")
    async with _recording([], 400, refusal) as http:
        with pytest.raises(CredentialRevoked, match="Invalid"):
            await refresh_tokens(http, app, "nrt_dead", NOW)


def test_the_notion_spec_declares_basic_auth_and_json_and_wiring_passes_them_on():
    """The integration's OAuth app, as wiring builds it, calls the token endpoint Notion's
    way, at Notion's token URL unless configured otherwise."""
    app = oauth_apps(Registry([notion]), {"SYNCLINE_NOTION_CLIENT_ID": "cid"})["notion"]

    assert ("basic", "json") == (app.client_auth, app.body_format)
    assert "https://api.notion.com/v1/oauth/token" == app.token_url
