"""The OAuth connect flow over HTTP, through the sandbox Drive's consent screen: PKCE, a
single-use state bound to project and user, the code exchanged and the account checked, and a
clear JSON error for a replayed or forged state or a code the provider refuses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.harness import DRIVE_USER, Harness, harness

APP = "https://app.example.com/connected"


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _consent(h: Harness, **params: str) -> str:
    """Start the flow and pass the consent screen; returns the callback URL the provider sent
    the user back to."""
    start = await h.api.get(
        "/connect/googledrive/authorize", headers=h.auth(), params={"redirect": APP, **params}
    )
    assert 302 == start.status_code, start.text
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(start.headers["location"])
    assert 302 == consent.status_code, consent.text
    return str(consent.headers["location"])


async def test_the_whole_flow_stores_a_working_credential(h):
    """Authorize, consent, callback: the user lands on the application's page with the new
    credential's id; the credential carries the account's email and a sync runs on it."""
    start = await h.api.get(
        "/connect/googledrive/authorize", headers=h.auth(), params={"redirect": APP}
    )
    asked = _query(start.headers["location"])
    callback = await _consent(h)
    done = await h.api.get(callback)
    landed = _query(done.headers["location"])
    listed = (await h.api.get("/api/credentials", headers=h.auth())).json()["data"]
    h.drive.add_file("a.txt")
    sync = await h.enable()
    await h.settle()
    records, _ = await h.pull(sync["id"])

    assert ("S256", "offline", "code") == (
        asked["code_challenge_method"],
        asked["access_type"],
        asked["response_type"],
    )
    assert asked["redirect_uri"].endswith("/connect/googledrive/callback")
    assert 302 == done.status_code, done.text
    assert done.headers["location"].startswith(APP + "?")
    assert "connected" == landed["status"]
    assert [(landed["credentialId"], DRIVE_USER)] == [(c["id"], c["accountEmail"]) for c in listed]
    assert ["a.txt"] == [r["name"] for r in records]


async def test_a_replayed_or_forged_state_is_refused(h):
    """The callback's state works once: a replay, or a state never issued, answers 422
    CONNECT_STATE_INVALID in JSON and stores nothing more."""
    callback = await _consent(h)
    first = await h.api.get(callback)
    replayed = await h.api.get(callback)
    forged = await h.api.get(
        "/connect/googledrive/callback", params={"state": "made-up", "code": "4/whatever"}
    )
    listed = (await h.api.get("/api/credentials", headers=h.auth())).json()["data"]

    assert 302 == first.status_code
    for answer in (replayed, forged):
        assert (422, "CONNECT_STATE_INVALID") == (answer.status_code, answer.json()["code"])
    assert 1 == len(listed)


async def test_a_code_the_provider_refuses_is_a_json_error(h):
    """A code the provider does not know (tampered, or used already) answers 422
    CREDENTIAL_INVALID with the provider's reason; no credential is stored."""
    callback = await _consent(h)
    params = _query(callback)
    refused = await h.api.get(
        "/connect/googledrive/callback", params={"state": params["state"], "code": "4/forged"}
    )
    listed = (await h.api.get("/api/credentials", headers=h.auth())).json()["data"]

    assert (422, "CREDENTIAL_INVALID") == (refused.status_code, refused.json()["code"])
    assert "refused the authorization code" in refused.json()["message"]
    assert [] == listed


async def test_a_declined_consent_goes_back_with_the_error(h):
    """When the user declines, the provider sends `error`; the user goes back to the
    application with it, and the state is used up."""
    start = await h.api.get(
        "/connect/googledrive/authorize", headers=h.auth(), params={"redirect": APP}
    )
    state = _query(start.headers["location"])["state"]
    declined = await h.api.get(
        "/connect/googledrive/callback", params={"state": state, "error": "access_denied"}
    )
    again = await h.api.get(
        "/connect/googledrive/callback", params={"state": state, "error": "access_denied"}
    )

    assert 302 == declined.status_code
    assert "access_denied" == _query(declined.headers["location"])["error"]
    assert 422 == again.status_code


async def test_a_browser_link_carries_the_token_in_the_query(h):
    """A link the application hands the browser may carry the user token as `token=`; without
    any token the answer is 401, and a redirect that is not an http(s) URL is a 422."""
    with_token = await h.api.get(
        "/connect/googledrive/authorize", params={"redirect": APP, "token": h.token()}
    )
    anonymous = await h.api.get("/connect/googledrive/authorize", params={"redirect": APP})
    bad = await h.api.get(
        "/connect/googledrive/authorize", headers=h.auth(), params={"redirect": "javascript:x"}
    )
    unknown = await h.api.get(
        "/connect/nothing/authorize", headers=h.auth(), params={"redirect": APP}
    )

    assert 302 == with_token.status_code
    assert 401 == anonymous.status_code
    assert (422, "redirect") == (bad.status_code, bad.json()["field"])
    assert (422, "UNKNOWN_INTEGRATION") == (unknown.status_code, unknown.json()["code"])
