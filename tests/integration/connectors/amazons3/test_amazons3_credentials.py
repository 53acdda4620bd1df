"""An S3 credential is keys, not tokens (`ConnectorSpec.auth="keys"`): imported as
`providerData` alone, its shape checked (422 naming the key at fault), and the keys checked
with STS `GetCallerIdentity` against moto, which refuses unknown keys, wrong secrets and
wrong session tokens. SQLite only: nothing here depends on the database."""

from __future__ import annotations

import pytest

from tests.support.s3 import Keys, S3Harness, s3_harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def s(database_url):
    async with s3_harness(database_url) as running:
        yield running


async def _import(s: S3Harness, provider_data: object, **body: object):
    return await s.h.api.post(
        "/api/credentials",
        headers=s.h.auth(),
        json={"integration": "amazons3", "providerData": provider_data, **body},
    )


async def test_keys_import_without_an_access_token_and_are_never_shown(s):
    """providerData with an access key and a region is a whole credential: 201 ACTIVE, listed
    afterwards, and no answer ever shows the secret."""
    answer = await s.import_keys()
    listed = await s.h.api.get("/api/credentials", headers=s.h.auth())
    me = await s.h.api.get("/sdk/me", headers=s.h.auth())

    assert 201 == answer.status_code, answer.text
    assert "ACTIVE" == answer.json()["status"]
    assert [answer.json()["id"]] == [c["id"] for c in listed.json()["data"]]
    for text in (answer.text, listed.text, me.text):
        assert s.keys.secret_access_key not in text


async def test_missing_keys_are_a_422_naming_them(s):
    """Without secretAccessKey and region the import is refused, the field naming the first
    key missing and the message every one of them."""
    answer = await _import(s, {"accessKeyId": s.keys.access_key_id})

    assert 422 == answer.status_code
    assert "providerData.secretAccessKey" == answer.json()["field"]
    assert "providerData.region" in answer.json()["message"]


async def test_no_provider_data_at_all_is_a_422(s):
    """An S3 credential with neither providerData nor token is refused, naming
    `providerData.accessKeyId`."""
    answer = await s.h.api.post(
        "/api/credentials", headers=s.h.auth(), json={"integration": "amazons3"}
    )

    assert 422 == answer.status_code
    assert "providerData.accessKeyId" == answer.json()["field"]


@pytest.mark.parametrize("region", ["evil.example.com", "us-east-1/../x", "US-EAST-1", "a b"])
async def test_a_region_that_is_no_region_is_a_422(s, region):
    """The region names the endpoint's host, so anything but lower-case letters, digits and
    hyphens is refused: no providerData can point Syncline at another host."""
    answer = await _import(s, s.keys.provider_data(region))

    assert 422 == answer.status_code
    assert "providerData.region" == answer.json()["field"]


async def test_an_unknown_provider_data_key_is_a_422(s):
    """A misspelt or unknown key (an `endpoint` of its own) is refused by name."""
    answer = await _import(s, {**s.keys.provider_data(), "endpoint": "https://example.com"})

    assert 422 == answer.status_code
    assert "providerData.endpoint" == answer.json()["field"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secretAccessKey": "not-the-secret"}, "SignatureDoesNotMatch"),
        ({"accessKeyId": "AKIANOSUCHKEY0000000"}, "InvalidClientTokenId"),
    ],
)
async def test_keys_sts_refuses_are_a_422_with_its_reason(s, change, reason):
    """STS GetCallerIdentity refuses a wrong secret or an unknown access key: the import is a
    422 CREDENTIAL_INVALID naming providerData, with STS's code in the message."""
    answer = await _import(s, {**s.keys.provider_data(), **change})

    assert 422 == answer.status_code
    assert ("CREDENTIAL_INVALID", "providerData") == (
        answer.json()["code"],
        answer.json()["field"],
    )
    assert reason in answer.json()["message"]


async def test_a_wrong_session_token_is_a_422(s):
    """Temporary keys with a session token that is not theirs are refused at import."""
    session = s.admin.session()
    wrong = Keys(session.access_key_id, session.secret_access_key, "not-the-token")
    answer = await s.import_keys(keys=wrong)

    assert 422 == answer.status_code
    assert "CREDENTIAL_INVALID" == answer.json()["code"]


async def test_sts_down_still_imports_with_a_warning(s):
    """When STS cannot answer (503), the keys are kept with a warning: the first sync will
    tell whether they work."""
    s.proxy.faults.inject("503", path="/", times=3)
    answer = await s.import_keys()

    assert 201 == answer.status_code, answer.text
    assert "could not be checked" in answer.json()["warnings"][0]


async def test_an_oauth_integration_still_needs_its_access_token(s):
    """Only integrations of keys go without a token: a Google Drive credential without
    `accessToken` is a 422 naming it."""
    answer = await s.h.api.post(
        "/api/credentials", headers=s.h.auth(), json={"integration": "googledrive"}
    )

    assert 422 == answer.status_code
    assert "accessToken" == answer.json()["field"]
