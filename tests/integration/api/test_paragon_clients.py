"""What Paragon's own clients send and expect: `dashboard.useparagon.com` audiences, records with
`syncedAt`, the singular `/api/sync` paths and `reader`/`writer`/`owner` roles of the earlier API,
bodies without a JSON Content-Type, and a front door at `/`."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from syncline.auth import mint_user_token
from syncline.domain.ids import record_id
from tests.support.harness import DRIVE_USER, harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


@pytest.fixture
async def synced(h):
    h.drive.add_file("a.txt", content=b"a")
    h.drive.add_file("b.txt", content=b"b")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    return sync


def _when(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_tokens_minted_as_paragons_dashboard_does_are_accepted(h):
    """With the default SYNCLINE_AUDIENCE_HOSTS, `aud: dashboard.useparagon.com/<project>` (what
    managed-sync-s3-uploader signs) is as good as `useparagon.com/<project>`."""
    tokens = [
        mint_user_token(h.private_pem, h.project_id, "user-1", host=host)
        for host in ("dashboard.useparagon.com", "useparagon.com")
    ]

    answers = [
        await h.api.get("/api/syncs", headers={"Authorization": f"Bearer {token}"})
        for token in tokens
    ]

    assert [200, 200] == [a.status_code for a in answers]


async def test_a_token_without_aud_is_told_that_aud_is_missing(h):
    """A token with no `aud` is refused with a message that names the missing claim and its
    form, not a generic audience error."""
    token = mint_user_token(h.private_pem, h.project_id, "user-1", extra_claims={"aud": None})

    answer = await h.api.get("/api/syncs", headers={"Authorization": f"Bearer {token}"})

    assert 401 == answer.status_code
    assert "missing the required claim aud" in answer.json()["message"]
    assert "<host>/<projectId>" in answer.json()["message"]


async def test_every_record_carries_synced_at_from_the_write_that_placed_it(h, synced):
    """Records in the feed and from the single-record endpoint carry `syncedAt` (ISO-8601 UTC):
    an untouched record keeps it, a changed or deleted one gets a later one with its new place
    in the feed, and the feed and the single record agree."""
    sid = synced["id"]
    before, cursor = await h.pull(sid)
    a = next(r for r in before if r["name"] == "a.txt")
    b = next(r for r in before if r["name"] == "b.txt")
    h.clock.advance(seconds=5)
    h.drive.update_file(a["externalId"], content=b"changed")
    h.drive.trash(b["externalId"])
    await h.trigger(sid)
    await h.settle()
    after, _ = await h.pull(sid, cursor)
    everything, _ = await h.pull(sid)
    one = (await h.api.get(f"/api/syncs/{sid}/records/{a['id']}", headers=h.auth())).json()

    assert all(_when(r["syncedAt"]).tzinfo is UTC for r in before)
    changed = {r["id"]: r for r in after}
    assert _when(changed[a["id"]]["syncedAt"]) > _when(a["syncedAt"])
    assert _when(changed[b["id"]]["syncedAt"]) > _when(b["syncedAt"])
    assert {"id", "externalId", "deleted", "syncedAt"} == set(changed[b["id"]])
    assert changed[a["id"]] == one["data"]
    assert {r["id"]: r["syncedAt"] for r in everything} == {
        r["id"]: r["syncedAt"] for r in after
    } | {r["id"]: r["syncedAt"] for r in before if r["id"] not in changed}


async def test_the_singular_paths_of_the_earlier_api_are_aliases(h, synced):
    """`/api/sync` and `/api/sync/{id}/...` answer as `/api/syncs...` do, and the OpenAPI schema
    lists only the plural paths."""
    sid = synced["id"]
    pairs = [
        ("GET", ""),
        ("GET", f"/{sid}"),
        ("GET", f"/{sid}/records?limit=1"),
        ("GET", f"/{sid}/events"),
    ]
    for method, tail in pairs:
        old = await h.api.request(method, f"/api/sync{tail}", headers=h.auth())
        new = await h.api.request(method, f"/api/syncs{tail}", headers=h.auth())
        assert (200, old.json()) == (new.status_code, new.json()), tail
    disabled = await h.api.post(f"/api/sync/{sid}/disable", headers=h.auth())
    schema = (await h.api.get("/openapi.json")).json()

    assert ("DISABLED", "DISABLED") == (disabled.json()["status"], (await h.status(sid))["status"])
    assert not [path for path in schema["paths"] if path.startswith("/api/sync/")]
    assert 404 == (await h.api.get("/api/synced", headers=h.auth())).status_code


async def test_the_roles_of_the_earlier_permissions_api_are_aliases(h, synced):
    """`reader`, `writer` and `owner` answer as `can_read`, `can_write` and `is_owner` do, in
    check, batch-check and list-users."""
    sid = synced["id"]
    records, _ = await h.pull(sid)
    rid = records[0]["id"]
    base = f"/api/permissions/{sid}"
    answers = {}
    for old, new in (("reader", "can_read"), ("writer", "can_write"), ("owner", "is_owner")):
        pair = []
        for role in (old, new):
            check = await h.api.post(
                f"{base}/check",
                headers=h.auth(),
                json={"object": rid, "user": DRIVE_USER, "role": role},
            )
            users = await h.api.post(
                f"{base}/list-users", headers=h.auth(), json={"object": rid, "role": role}
            )
            batch = await h.api.post(
                f"{base}/batch-check",
                headers=h.auth(),
                json={"checks": [{"object": rid, "user": "nobody@example.com", "role": role}]},
            )
            allowed = batch.json()["result"][0]["allowed"]
            pair.append((check.json(), users.json(), allowed, batch.status_code))
        answers[old] = pair

    for old, (legacy, current) in answers.items():
        assert legacy == current, old
    assert {"hasAccess": True} == answers["owner"][0][0]
    assert [DRIVE_USER] == answers["reader"][0][1]["users"]


async def test_a_json_body_without_a_json_content_type_is_parsed(h):
    """A body sent with curl's default form Content-Type, or none at all, is read as JSON when
    it is JSON."""
    await h.connect()
    body = orjson.dumps({"integration": "googledrive", "pipeline": "files"})
    form = await h.api.post(
        "/api/syncs",
        headers={**h.auth(), "Content-Type": "application/x-www-form-urlencoded"},
        content=body,
    )
    bare = h.api.build_request("POST", "/api/syncs", headers=h.auth(), content=body)
    assert "content-type" not in bare.headers
    none = await h.api.send(bare)

    assert (200, 200) == (form.status_code, none.status_code), form.text
    assert form.json()["id"] == none.json()["id"]


async def test_a_body_that_is_not_json_is_refused_naming_the_header(h):
    """A body that is not JSON and not sent as JSON answers 415 and says which header to send;
    invalid JSON sent as JSON still answers 400 MALFORMED_JSON."""
    refused = await h.api.post(
        "/api/syncs",
        headers={**h.auth(), "Content-Type": "application/x-www-form-urlencoded"},
        content=b"integration=googledrive&pipeline=files",
    )
    malformed = await h.api.post(
        "/api/syncs",
        headers={**h.auth(), "Content-Type": "application/json"},
        content=b"integration=googledrive",
    )

    assert 415 == refused.status_code
    assert "UNSUPPORTED_MEDIA_TYPE" == refused.json()["code"]
    assert "Content-Type: application/json" in refused.json()["message"]
    assert "application/x-www-form-urlencoded" in refused.json()["message"]
    assert (400, "MALFORMED_JSON") == (malformed.status_code, malformed.json()["code"])


async def test_the_front_door_names_the_docs_health_and_version(h):
    """`GET /` answers JSON with the docs, health and version (a page for a browser), not 404."""
    data = await h.api.get("/")
    page = await h.api.get("/", headers={"Accept": "text/html,application/xhtml+xml"})

    assert 200 == data.status_code
    assert {"name", "version", "docs", "health"} <= set(data.json())
    assert "/docs" == data.json()["docs"]
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in page.text


async def test_record_ids_in_webhooks_resolve_through_the_singular_record_path(h, synced):
    """An older client that reads a `record_created` webhook and calls
    `GET /api/sync/{id}/records/{recordId}` gets the record."""
    sid = synced["id"]
    new = h.drive.add_file("c.txt", content=b"c")
    await h.trigger(sid)
    await h.settle()
    created = h.receiver.events("record_created")
    rid = created[-1]["data"]["recordId"]
    one = await h.api.get(f"/api/sync/{sid}/records/{rid}", headers=h.auth())

    assert record_id(sid, new) == rid
    assert (200, "c.txt") == (one.status_code, one.json()["data"]["name"])
