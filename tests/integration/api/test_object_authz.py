"""Object-level authorization: no tenant reaches another's objects by id.

Alice (user-a) owns a credential, a settled sync and its records. Bob (user-b, same project)
and Carol (a second project, whose user id is also user-a) each have their own. Every route
with an id in its path is taken from the app itself, so a new route that nobody thought about
is tried too; Bob and Carol using Alice's ids get 404 (never 403, never her data), and
Alice's objects are exactly as they were afterwards.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from syncline.auth import generate_signing_key, mint_user_token
from syncline.domain.projects import Project
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from tests.support.harness import Harness, harness

ADMIN_TOKEN = "admin-" + "x" * 32
OPERATOR_PREFIX = "/admin/"
"""Routes behind the operator's admin token: any user token gets 401 there."""

ALICE_DRIVE = "alice@example.com"


class World:
    """Alice's objects and the three users' credentials."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.ids: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {}

    async def build(self) -> World:
        h = self.h
        folder = h.drive.add_folder("alice-docs")
        h.drive.add_file("alice-secret.txt", content=b"alice only", parent=folder)
        h.drive.add_file("bob.txt", content=b"bob", owner="bob@example.com")
        credential = await h.connect("user-a")
        sync = await h.enable("user-a")
        await h.connect("user-b", drive_user="bob@example.com")
        bob_sync = await h.enable("user-b")
        await h.settle()
        # No scheduled run may change Alice's state while the test runs, however slowly.
        slow = await h.api.patch(
            f"/api/syncs/{sync['id']}",
            headers=h.auth("user-a"),
            json={"incrementalAccumulatorFrequency": "24h"},
        )
        assert 200 == slow.status_code, slow.text
        await h.settle()
        records, _ = await h.pull(sync["id"], user="user-a")
        record = next(r for r in records if r["name"] == "alice-secret.txt")
        self.ids = {
            "sync_id": sync["id"],
            "record_id": record["id"],
            "credential_id": credential,
            "project_id": h.project_id,
            "bob_sync_id": bob_sync["id"],
        }
        self.headers = {"alice": h.auth("user-a"), "bob": h.auth("user-b")}
        self.headers["carol"] = await self._other_project("user-a")
        # Carol has a credential and a sync of her own in her project.
        carol = self.headers["carol"]
        access, refresh = h.drive.issue_tokens("carol@example.com", (DRIVE_SCOPE,))
        created = await h.api.post(
            "/api/credentials",
            headers=carol,
            json={"integration": "googledrive", "accessToken": access, "refreshToken": refresh},
        )
        assert 201 == created.status_code, created.text
        enabled = await h.api.post(
            "/api/syncs", headers=carol, json={"integration": "googledrive", "pipeline": "files"}
        )
        assert 200 == enabled.status_code, enabled.text
        return self

    async def _other_project(self, user: str) -> dict[str, str]:
        signing = generate_signing_key()
        project_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        project = Project(project_id, "other", signing.public_pem, None, None, now)
        await self.h.runtime.store.create_project(project, now)
        return {"Authorization": f"Bearer {mint_user_token(signing.private_pem, project_id, user)}"}

    async def alice_state(self) -> dict[str, Any]:
        """Everything of Alice's the API shows her, with what moves on its own left out."""
        h, alice, sid = self.h, self.headers["alice"], self.ids["sync_id"]
        status = (await h.api.get(f"/api/syncs/{sid}", headers=alice)).json()
        records = (await h.api.get(f"/api/syncs/{sid}/records", headers=alice)).json()["data"]
        events = (await h.api.get(f"/api/syncs/{sid}/events", headers=alice)).json()["data"]
        credentials = (await h.api.get("/api/credentials", headers=alice)).json()["data"]
        check = await h.api.post(
            f"/api/permissions/{sid}/check",
            headers=alice,
            json={"object": self.ids["record_id"], "user": ALICE_DRIVE, "role": "can_read"},
        )
        return {
            "status": status,
            "records": records,
            "events": [(e["id"], e["syncEvent"]) for e in events],
            "credentials": credentials,
            "access": check.json(),
            "content": (
                await h.api.get(
                    f"/api/syncs/{sid}/records/{self.ids['record_id']}/content", headers=alice
                )
            ).content,
        }


@pytest.fixture
async def world(database_url, tmp_path):
    async with harness(database_url, tmp_path, admin_token=ADMIN_TOKEN) as h:
        yield await World(h).build()


def _bodies(ids: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that takes one, so the request gets past validation and
    only ownership can refuse it."""
    check = {"object": ids["record_id"], "user": ALICE_DRIVE, "role": "can_read"}
    listing = {"user": ALICE_DRIVE, "role": "can_read"}
    return {
        ("PATCH", "/api/syncs/{sync_id}"): {"incrementalAccumulatorFrequency": "5m"},
        ("POST", "/api/syncs/{sync_id}/trigger"): {"type": "full"},
        ("POST", "/api/permissions/{sync_id}/check"): check,
        ("POST", "/api/permissions/{sync_id}/batch-check"): {"checks": [check]},
        ("POST", "/api/permissions/{sync_id}/list-users"): {
            "object": ids["record_id"],
            "role": "can_read",
        },
        ("POST", "/api/permissions/{sync_id}/list-objects"): listing,
        ("POST", "/api/permissions/{sync_id}/streamed-list-objects"): listing,
        ("POST", "/api/permissions/{sync_id}/expand"): {
            "object": ids["record_id"],
            "relation": "can_read",
        },
        ("PUT", "/admin/projects/{project_id}/webhook"): {"url": "https://example.com/hook"},
    }


def _routes_with_ids(world: World) -> list[tuple[str, str, bool]]:
    """(method, path, takes a body) of every operation with an id in its path. Read from the
    app's OpenAPI schema: FastAPI no longer flattens included routers into `app.routes`, and
    the fuzzing test holds every route to being in the schema."""
    paths = world.h.runtime.app.openapi()["paths"]
    return sorted(
        (method.upper(), path, "requestBody" in operation)
        for path, operations in paths.items()
        if set(re.findall(r"{(\w+)}", path)) - NOT_OWNED
        for method, operation in operations.items()
    )


NOT_OWNED = {"integration"}
"""Path parameters that name no tenant's object (`/connect/{integration}/...`)."""


async def test_every_route_with_an_id_answers_404_to_other_tenants(world):
    """Bob (same project) and Carol (another project, same user id) get 404 from every route
    with an id in its path when they use Alice's ids, and 401 from operator routes; no body
    carries her data, and her credential, sync, records, events and access are unchanged."""
    h, ids = world.h, world.ids
    routes = _routes_with_ids(world)
    bodies = _bodies(ids)
    before = await world.alice_state()
    problems: list[str] = []
    for method, path, takes_body in routes:
        names = re.findall(r"{(\w+)}", path)
        if missing := [n for n in names if n not in ids]:
            problems.append(f"{method} {path}: no id of Alice's for {missing}; add one")
            continue
        if takes_body and (method, path) not in bodies:
            problems.append(f"{method} {path}: takes a body; add a valid one to _bodies")
            continue
        expected = 401 if path.startswith(OPERATOR_PREFIX) else 404
        for attacker in ("bob", "carol"):
            response = await h.api.request(
                method,
                path.format(**ids),
                headers=world.headers[attacker],
                json=bodies.get((method, path)),
            )
            if response.status_code != expected or "alice" in response.text:
                problems.append(
                    f"{attacker} {method} {path}: {response.status_code} {response.text[:200]}"
                )
    await h.settle()
    after = await world.alice_state()

    assert [] == problems
    assert len(routes) >= 20  # the sweep saw the routes, not an empty app
    assert before == after
    assert b"alice only" == after["content"]


async def test_ids_of_other_tenants_inside_requests_are_not_honoured(world):
    """Alice's ids put in the body or next to Bob's own sync id reach nothing of hers: her
    credential cannot be attached to Bob's syncs, her record is not found under his sync,
    and his permission queries never see her files or her."""
    h, ids = world.h, world.ids
    bob = world.headers["bob"]
    bob_sync = ids["bob_sync_id"]
    before = await world.alice_state()
    bob_before = (await h.api.get(f"/api/syncs/{bob_sync}", headers=bob)).json()

    patched = await h.api.patch(
        f"/api/syncs/{bob_sync}", headers=bob, json={"credentialId": ids["credential_id"]}
    )
    enabled = await h.api.post(
        "/api/syncs",
        headers=bob,
        json={
            "integration": "googledrive",
            "pipeline": "files",
            "configurationName": "stolen",
            "credentialId": ids["credential_id"],
        },
    )
    record = await h.api.get(f"/api/syncs/{bob_sync}/records/{ids['record_id']}", headers=bob)
    content = await h.api.get(
        f"/api/syncs/{bob_sync}/records/{ids['record_id']}/content", headers=bob
    )
    check = await h.api.post(
        f"/api/permissions/{bob_sync}/check",
        headers=bob,
        json={"object": ids["record_id"], "user": ALICE_DRIVE, "role": "can_read"},
    )
    users = await h.api.post(
        f"/api/permissions/{bob_sync}/list-users",
        headers=bob,
        json={"object": ids["record_id"], "role": "can_read"},
    )
    objects = await h.api.post(
        f"/api/permissions/{bob_sync}/list-objects",
        headers=bob,
        json={"user": ALICE_DRIVE, "role": "can_read"},
    )
    await h.settle()

    assert (404, 404, 404, 404) == (
        patched.status_code,
        enabled.status_code,
        record.status_code,
        content.status_code,
    )
    assert {"hasAccess": False} == check.json()
    assert {"users": []} == users.json()
    assert {"objects": []} == objects.json()
    assert bob_before == (await h.api.get(f"/api/syncs/{bob_sync}", headers=bob)).json()
    assert ["default"] == [
        s["configurationName"] for s in (await h.api.get("/api/syncs", headers=bob)).json()["data"]
    ]
    assert before == await world.alice_state()


@pytest.mark.parametrize("attacker", ["bob", "carol"])
async def test_listings_show_only_the_callers_own_objects(world, attacker: str):
    """The sync list, the credential list and /sdk/me of another tenant never include Alice's
    sync or credential."""
    h, ids = world.h, world.ids
    headers = world.headers[attacker]
    syncs = (await h.api.get("/api/syncs", headers=headers)).json()["data"]
    credentials = (await h.api.get("/api/credentials", headers=headers)).json()["data"]
    me = (await h.api.get("/sdk/me", headers=headers)).json()

    assert 1 == len(syncs) == len(credentials) == len(me["allCredentials"])
    assert ids["sync_id"] not in {s["id"] for s in syncs}
    assert ids["credential_id"] not in {c["id"] for c in credentials + me["allCredentials"]}
