"""Importing a credential checks it with the provider (Drive `about.get`): refused tokens are a
422 with the provider's reason, expired ones are refreshed first, an unreachable provider still
imports with a warning, and the account's email is filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from tests.support.harness import DRIVE_USER, harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


def _body(access: str, refresh: str | None = None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"integration": "googledrive", "accessToken": access, **extra}
    if refresh is not None:
        body["refreshToken"] = refresh
    return body


async def _about_calls(h) -> int:
    return sum(1 for _, path, _ in h.drive.requests if path == "/drive/v3/about")


async def test_a_garbage_token_is_refused_with_the_providers_reason(h):
    """An access token Drive does not know, without a refresh token, answers 422
    CREDENTIAL_INVALID naming Drive's answer, and nothing is stored."""
    answer = await h.api.post("/api/credentials", headers=h.auth(), json=_body("garbage"))
    listed = (await h.api.get("/api/credentials", headers=h.auth())).json()["data"]

    assert 422 == answer.status_code, answer.text
    assert "CREDENTIAL_INVALID" == answer.json()["code"]
    assert "HTTP 401" in answer.json()["message"]
    assert "accessToken" == answer.json()["field"]
    assert [] == listed


async def test_a_dead_refresh_token_is_refused(h):
    """A refused access token whose refresh token the provider also refuses (invalid_grant) is
    a 422 that says the grant is no longer valid."""
    access, refresh = h.drive.issue_tokens(DRIVE_USER)
    h.drive.expire_access_token(access)
    h.drive.revoke(refresh)

    answer = await h.api.post("/api/credentials", headers=h.auth(), json=_body(access, refresh))

    assert 422 == answer.status_code, answer.text
    assert "CREDENTIAL_INVALID" == answer.json()["code"]
    assert "no longer valid" in answer.json()["message"]


async def test_a_token_without_a_drive_scope_is_refused(h):
    """A token Drive accepts but that grants no Drive scope (403 insufficientPermissions) cannot
    sync anything: 422."""
    access, _ = h.drive.issue_tokens(
        DRIVE_USER, ["https://www.googleapis.com/auth/admin.directory.group.readonly"]
    )

    answer = await h.api.post("/api/credentials", headers=h.auth(), json=_body(access))

    assert 422 == answer.status_code, answer.text
    assert "insufficientPermissions" in answer.json()["message"]


async def test_an_expired_token_is_refreshed_before_the_check_and_stored_refreshed(h):
    """With `expiresAt` in the past the refresh comes first (no request with the stale token),
    the rotated refresh token is what is stored, and syncs then run with it."""
    h.drive.rotate_refresh_tokens = True
    access, refresh = h.drive.issue_tokens(DRIVE_USER, (DRIVE_SCOPE,))
    h.drive.expire_access_token(access)
    h.drive.add_file("a.txt")
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    answer = await h.api.post(
        "/api/credentials", headers=h.auth(), json=_body(access, refresh, expiresAt=past)
    )
    calls = [path for _, path, _ in h.drive.requests]
    sync = await h.enable()
    await h.settle()
    records, _ = await h.pull(sync["id"])

    assert 201 == answer.status_code, answer.text
    assert ["/token", "/drive/v3/about"] == calls[:2]
    assert "warnings" not in answer.json()
    assert ["a.txt"] == [r["name"] for r in records]  # the old refresh token no longer works


async def test_the_account_email_is_filled_from_the_provider(h):
    """Without `accountEmail` the import takes Drive's `user.emailAddress`; a given one wins."""
    access, refresh = h.drive.issue_tokens(DRIVE_USER)
    filled = await h.api.post("/api/credentials", headers=h.auth(), json=_body(access, refresh))
    given = await h.api.post(
        "/api/credentials",
        headers=h.auth(),
        json=_body(access, refresh, accountEmail="ops@example.com"),
    )

    assert DRIVE_USER == filled.json()["accountEmail"]
    assert "ops@example.com" == given.json()["accountEmail"]


async def test_a_provider_that_is_down_still_imports_with_a_warning(h):
    """Drive answering 503 (and then timing out on the retry the client does not make) does not
    lose the import: 201, ACTIVE, with a warning that says the tokens were not checked."""
    access, refresh = h.drive.issue_tokens(DRIVE_USER)
    h.drive.inject("503", path="/drive/v3/about")

    answer = await h.api.post("/api/credentials", headers=h.auth(), json=_body(access, refresh))

    assert 201 == answer.status_code, answer.text
    assert "ACTIVE" == answer.json()["status"]
    assert 1 == len(answer.json()["warnings"])
    assert "could not be checked" in answer.json()["warnings"][0]
    assert "HTTP 503" in answer.json()["warnings"][0]
    assert 1 == await _about_calls(h)
