"""Credentials carry `providerData`: a per-credential origin (`instanceUrl`) reaches the
connector, so one process syncs many tenants of one provider; a refused origin changes nothing;
the data is encrypted at rest and never returned."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, pool, text

from syncline.connectors import googledrive
from syncline.connectors.registry import Registry
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app
from syncline.store.database import sync_driver_url
from tests.support.harness import harness

# Google Drive, as if each customer had a Drive host of its own (as Salesforce and Zendesk do).
TENANTED = replace(
    googledrive.spec, instance_key="instanceUrl", instance_hosts=("*.drive.example.com",)
)


@pytest.fixture
def tenanted(monkeypatch):
    monkeypatch.setattr("syncline.wiring.builtin_registry", lambda: Registry([TENANTED]))


def _credential(drive: DriveState, url: str, user: str) -> dict[str, object]:
    access, refresh = drive.issue_tokens(user)
    return {
        "integration": "googledrive",
        "accessToken": access,
        "refreshToken": refresh,
        "providerData": {"instanceUrl": url, "tenantKey": "tk-" + user},
    }


async def test_each_credential_is_synced_at_its_own_instance(tenanted, database_url, tmp_path):
    """Two users' credentials name two instances (two sandbox Drives): each sync lists its own
    tenant's files, through one process."""
    other = DriveState()
    other.add_file("tenant-b.txt")
    with BackgroundServer(create_drive_app(other)) as second:
        async with harness(database_url, tmp_path, allow_private_upstreams=True) as h:
            h.drive.add_file("tenant-a.txt")
            answers = [
                await h.api.post(
                    "/api/credentials",
                    headers=h.auth(user),
                    json=_credential(drive, url, "alice@example.com"),
                )
                for user, drive, url in (
                    ("user-a", h.drive, h.drive_url),
                    ("user-b", other, second.url),
                )
            ]
            a = await h.enable("user-a")
            b = await h.enable("user-b")
            await h.settle()
            names = {
                user: [r["name"] for r in (await h.pull(sid, user=user))[0]]
                for user, sid in (("user-a", a["id"]), ("user-b", b["id"]))
            }

    assert [201, 201] == [a.status_code for a in answers]
    assert {"user-a": ["tenant-a.txt"], "user-b": ["tenant-b.txt"]} == names


async def test_an_instance_off_the_providers_hosts_is_refused(tenanted, database_url, tmp_path):
    """Without SYNCLINE_ALLOW_PRIVATE_UPSTREAMS, an instanceUrl that is not https on the
    provider's documented hosts is a 422 INSTANCE_URL_REFUSED, and no credential is stored."""
    async with harness(database_url, tmp_path) as h:
        answer = await h.api.post(
            "/api/credentials",
            headers=h.auth(),
            json=_credential(h.drive, h.drive_url, "alice@example.com"),
        )
        listed = (await h.api.get("/api/credentials", headers=h.auth())).json()["data"]

    assert (422, "INSTANCE_URL_REFUSED") == (answer.status_code, answer.json()["code"])
    assert "providerData" == answer.json()["field"]
    assert [] == listed


async def test_provider_data_is_encrypted_and_never_returned(database_url, tmp_path):
    """The values of providerData are not in the credentials table in clear, nor in any
    credential answer."""
    async with harness(database_url, tmp_path) as h:
        access, refresh = h.drive.issue_tokens("alice@example.com")
        body = {
            "integration": "googledrive",
            "accessToken": access,
            "refreshToken": refresh,
            "providerData": {"secretAccessKey": "pd-very-secret-value"},
        }
        created = await h.api.post("/api/credentials", headers=h.auth(), json=body)
        answers = [
            created.text,
            (await h.api.get("/api/credentials", headers=h.auth())).text,
            (await h.api.get("/sdk/me", headers=h.auth())).text,
        ]
    engine = create_engine(sync_driver_url(database_url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        stored = [str(tuple(r)) for r in conn.execute(text("SELECT * FROM credentials"))]
    engine.dispose()

    assert 201 == created.status_code, created.text
    assert not [a for a in answers if "pd-very-secret" in a or "providerData" in a]
    assert stored
    assert not [row for row in stored if "pd-very-secret" in row]
