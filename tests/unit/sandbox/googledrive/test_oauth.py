"""The fake's OAuth token endpoint and bearer checks, in Google's shapes."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
UNAUTHENTICATED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
}


async def refresh(http, refresh_token, **overrides):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT, **overrides}
    return await http.post("/token", data=form)


async def test_refresh_returns_google_token_shape(state, http):
    """A refresh answers access_token/expires_in/scope/token_type and no new refresh token."""
    _, refresh_token = state.issue_tokens("alice@example.com")

    response = await refresh(http, refresh_token)

    body = response.json()
    assert 200 == response.status_code
    assert ["access_token", "expires_in", "scope", "token_type"] == sorted(body)
    assert (3599, "Bearer") == (body["expires_in"], body["token_type"])
    assert "no-store" in response.headers["cache-control"]


async def test_refreshed_access_token_authenticates(state, http):
    """The new access token works on Drive and belongs to the grant's user."""
    _, refresh_token = state.issue_tokens("bob@example.com")
    token = (await refresh(http, refresh_token)).json()["access_token"]

    response = await http.get(
        "/drive/v3/about",
        params={"fields": "user(emailAddress)"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert {"user": {"emailAddress": "bob@example.com"}} == response.json()


async def test_revoked_refresh_token_gets_invalid_grant(state, http):
    """After revoke, refresh fails with 400 invalid_grant, exactly as Google words it."""
    _, refresh_token = state.issue_tokens()
    state.revoke(refresh_token)

    response = await refresh(http, refresh_token)

    assert 400 == response.status_code
    expected = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    assert expected == response.json()


async def test_revoke_also_kills_access_tokens(state, http):
    """Access tokens minted from a revoked grant stop working at once."""
    access, refresh_token = state.issue_tokens()
    state.revoke(refresh_token)

    response = await http.get("/drive/v3/files", headers={"Authorization": f"Bearer {access}"})

    assert 401 == response.status_code


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"client_id": "other"}, "The OAuth client was not found."),
        ({"client_secret": "wrong"}, "Unauthorized"),
    ],
)
async def test_wrong_client_is_invalid_client(state, http, overrides, description):
    """An unknown client id or a wrong secret is 401 invalid_client."""
    _, refresh_token = state.issue_tokens()

    response = await refresh(http, refresh_token, **overrides)

    assert 401 == response.status_code
    assert {"error": "invalid_client", "error_description": description} == response.json()


async def test_client_credentials_in_basic_auth(state, http):
    """Client credentials may come as HTTP Basic instead of form fields."""
    _, refresh_token = state.issue_tokens()
    basic = base64.b64encode(b"sandbox-client:sandbox-secret").decode()

    response = await http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert 200 == response.status_code


async def test_unsupported_grant_type(http):
    """Unknown grant types are refused."""
    response = await http.post("/token", data={"grant_type": "password", **CLIENT})

    assert (400, "unsupported_grant_type") == (response.status_code, response.json()["error"])


async def test_rotation_makes_refresh_tokens_single_use(state, http):
    """With rotation on, a refresh returns a new refresh token and the old one is dead."""
    state.rotate_refresh_tokens = True
    _, first = state.issue_tokens()

    response = await refresh(http, first)
    second = response.json()["refresh_token"]
    reuse = await refresh(http, first)
    again = await refresh(http, second)

    assert first != second
    assert (400, "invalid_grant") == (reuse.status_code, reuse.json()["error"])
    assert 200 == again.status_code


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}],
)
async def test_missing_or_unknown_token_is_googles_401(http, headers):
    """No token or an unknown one gets 401 in Google's exact envelope."""
    response = await http.get("/drive/v3/files", headers=headers)

    assert 401 == response.status_code
    assert UNAUTHENTICATED == response.json()
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_expire_access_tokens_then_refresh_recovers(state, http):
    """expire_access_tokens makes current tokens 401; a refresh gets a working one."""
    access, refresh_token = state.issue_tokens()
    state.expire_access_tokens()

    stale = await http.get("/drive/v3/files", headers={"Authorization": f"Bearer {access}"})
    fresh = (await refresh(http, refresh_token)).json()["access_token"]
    ok = await http.get("/drive/v3/files", headers={"Authorization": f"Bearer {fresh}"})

    assert (401, 200) == (stale.status_code, ok.status_code)


async def test_access_token_expires_after_ttl(state, http, clock):
    """An access token is rejected once the clock passes its lifetime."""
    access, _ = state.issue_tokens()
    headers = {"Authorization": f"Bearer {access}"}

    before = await http.get("/drive/v3/files", headers=headers)
    clock.now += 3600
    after = await http.get("/drive/v3/files", headers=headers)

    assert (200, 401) == (before.status_code, after.status_code)


async def test_authorization_code_flow(state, http):
    """/authorize redirects back with a code and state; exchanging it yields both tokens for
    the `login_hint` user."""
    redirect = "http://app.test/callback"
    response = await http.get(
        "/authorize",
        params={
            "client_id": "sandbox-client",
            "redirect_uri": redirect,
            "response_type": "code",
            "state": "xyz",
            "login_hint": "carol@example.com",
        },
    )
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)

    token = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect,
            **CLIENT,
        },
    )
    reused = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect,
            **CLIENT,
        },
    )
    about = await http.get(
        "/drive/v3/about",
        params={"fields": "user/emailAddress"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )

    assert 302 == response.status_code
    assert (redirect, ["xyz"]) == (location._replace(query="").geturl(), query["state"])
    assert {"access_token", "refresh_token"} <= set(token.json())
    assert (400, "invalid_grant") == (reused.status_code, reused.json()["error"])
    assert {"user": {"emailAddress": "carol@example.com"}} == about.json()
