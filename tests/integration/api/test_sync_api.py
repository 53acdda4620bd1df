"""The Sync API's contract: shapes, idempotence, ownership, and clear errors for bad input."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from syncline.auth import generate_signing_key, mint_user_token
from tests.support.harness import harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


@pytest.fixture
async def synced(h):
    h.drive.add_file("a.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    return sync


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_enable_is_idempotent_with_a_deterministic_id(h):
    """Enabling the same sync twice returns the same id and starts nothing new."""
    await h.connect()
    first = await h.enable()
    second = await h.enable()

    assert first["id"] == second["id"]
    assert {"id", "userId", "integration", "pipeline", "projectId", "status"} <= set(first)
    assert (h.project_id, "user-1") == (first["projectId"], first["userId"])


async def test_list_and_filter_by_credential(h):
    """GET /api/syncs lists the caller's syncs and filters by credentialId."""
    first = await h.connect()
    second = await h.connect(drive_user="bob@example.com")
    await h.enable(credentialId=first)
    await h.enable(configurationName="other", credentialId=second)

    everything = (await h.api.get("/api/syncs", headers=h.auth())).json()["data"]
    only = (await h.api.get(f"/api/syncs?credentialId={second}", headers=h.auth())).json()["data"]

    assert 2 == len(everything)
    assert [("other", second)] == [(s["configurationName"], s["credentialId"]) for s in only]


async def test_default_credential_is_the_oldest(h):
    """Without credentialId a sync uses the user's oldest active credential."""
    oldest = await h.connect()
    await h.connect(drive_user="bob@example.com")

    assert oldest == (await h.enable())["credentialId"]


async def test_another_users_sync_is_not_found(h, synced):
    """Every path with a sync id answers 404 to another user, and changes nothing."""
    other = h.auth("user-2")
    sid = synced["id"]
    calls = [
        ("GET", f"/api/syncs/{sid}"),
        ("PATCH", f"/api/syncs/{sid}"),
        ("DELETE", f"/api/syncs/{sid}"),
        ("POST", f"/api/syncs/{sid}/disable"),
        ("POST", f"/api/syncs/{sid}/reenable"),
        ("POST", f"/api/syncs/{sid}/trigger"),
        ("GET", f"/api/syncs/{sid}/records"),
        ("GET", f"/api/syncs/{sid}/records/x"),
        ("GET", f"/api/syncs/{sid}/records/x/content"),
        ("GET", f"/api/syncs/{sid}/events"),
    ]
    for method, path in calls:
        response = await h.api.request(method, path, headers=other, json={})
        assert (path, 404) == (path, response.status_code)
        assert "message" in response.json()

    assert "IDLE" == (await h.status(sid))["status"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"integration": "nope", "pipeline": "files"}, 422, "UNKNOWN_INTEGRATION"),
        ({"integration": "googledrive", "pipeline": "deals"}, 422, "UNKNOWN_PIPELINE"),
        (
            {
                "integration": "googledrive",
                "pipeline": "files",
                "incrementalAccumulatorFrequency": "2m",
            },
            422,
            "INVALID_FREQUENCY",
        ),
        (
            {"integration": "googledrive", "pipeline": "files", "configuration": {"bogus": 1}},
            422,
            "INVALID_CONFIGURATION",
        ),
        (
            {"integration": "googledrive", "pipeline": "files", "credentialId": "not-a-uuid"},
            422,
            "VALIDATION_ERROR",
        ),
        ({"pipeline": "files"}, 422, "VALIDATION_ERROR"),
    ],
)
async def test_enable_rejects_bad_input(h, body, status, code):
    """Bad enable requests get a JSON error naming the problem, and create nothing."""
    await h.connect()
    response = await h.api.post("/api/syncs", headers=h.auth(), json=body)

    assert (status, code) == (response.status_code, response.json()["code"])
    assert [] == (await h.api.get("/api/syncs", headers=h.auth())).json()["data"]


async def test_enable_without_a_credential_is_explained(h):
    """A user with no connected account is told to import one."""
    response = await h.api.post(
        "/api/syncs", headers=h.auth(), json={"integration": "googledrive", "pipeline": "files"}
    )

    assert (422, "NO_CREDENTIAL") == (response.status_code, response.json()["code"])
    assert "POST /api/credentials" in response.json()["message"]


async def test_enable_with_someone_elses_credential_is_not_found(h):
    """A credentialId that is not the caller's answers 404."""
    foreign = await h.connect(user="user-2")
    await h.connect()

    response = await h.api.post(
        "/api/syncs",
        headers=h.auth(),
        json={"integration": "googledrive", "pipeline": "files", "credentialId": foreign},
    )

    assert 404 == response.status_code


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b""])
async def test_malformed_json_is_a_400(h, raw):
    """A body that is not a JSON object answers 400 MALFORMED_JSON, never a 500."""
    headers = {**h.auth(), "content-type": "application/json"}
    response = await h.api.post("/api/syncs", headers=headers, content=raw)

    assert (400, "MALFORMED_JSON") == (response.status_code, response.json()["code"])


@pytest.mark.parametrize(
    "query", ["pageSize=0", "pageSize=1000000000", "pageSize=-1", "pageSize=ten", "limit=1001"]
)
async def test_page_size_out_of_range(h, synced, query):
    """pageSize outside 1..1000 answers 422 naming the parameter."""
    response = await h.api.get(f"/api/syncs/{synced['id']}/records?{query}", headers=h.auth())

    assert (422, "INVALID_PAGE_SIZE") == (response.status_code, response.json()["code"])


@pytest.mark.parametrize("alias", ["pageSize", "page_size", "limit"])
async def test_page_size_aliases(h, synced, alias):
    """Paragon clients' page_size and limit work like pageSize."""
    h.drive.add_file("b.txt", content=b"b")
    await h.trigger(synced["id"])
    await h.settle()
    response = await h.api.get(f"/api/syncs/{synced['id']}/records?{alias}=1", headers=h.auth())

    assert (1, 1) == (len(response.json()["data"]), response.json()["paging"]["remainingRecords"])


async def test_tampered_cursor_is_refused(h, synced):
    """A cursor that was altered is refused with INVALID_CURSOR, not silently reset."""
    _, cursor = await h.pull(synced["id"])
    bad = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = await h.api.get(f"/api/syncs/{synced['id']}/records?cursor={bad}", headers=h.auth())

    assert (422, "INVALID_CURSOR") == (response.status_code, response.json()["code"])


async def test_paging_fields(h, synced):
    """A page reports totals, what remains, an opaque cursor and lastSeen as epoch ms."""
    body = (await h.api.get(f"/api/syncs/{synced['id']}/records", headers=h.auth())).json()

    paging = body["paging"]
    assert (1, 1, 0) == (
        paging["totalRecords"],
        paging["totalActiveRecords"],
        paging["remainingRecords"],
    )
    assert isinstance(paging["cursor"], str)
    assert isinstance(paging["lastSeen"], int)


async def test_single_record_and_deleted_record(h, synced):
    """GET one record returns it; once deleted upstream it answers 404."""
    records, _ = await h.pull(synced["id"])
    rid = records[0]["id"]
    found = await h.api.get(f"/api/syncs/{synced['id']}/records/{rid}", headers=h.auth())
    h.drive.delete(records[0]["externalId"])
    await h.trigger(synced["id"])
    await h.settle()
    gone = await h.api.get(f"/api/syncs/{synced['id']}/records/{rid}", headers=h.auth())

    assert (200, rid) == (found.status_code, found.json()["data"]["id"])
    assert 404 == gone.status_code


async def test_disable_stops_runs_and_reenable_resumes(h, synced):
    """A disabled sync never runs; re-enabling resumes from where it left off."""
    disabled = await h.api.post(f"/api/syncs/{synced['id']}/disable", headers=h.auth())
    h.drive.add_file("b.txt", content=b"b")
    h.clock.advance(minutes=5)
    await h.settle()
    paused = await h.status(synced["id"])
    reenabled = await h.api.post(f"/api/syncs/{synced['id']}/reenable", headers=h.auth())
    await h.settle()

    assert {"id": synced["id"], "status": "DISABLED"} == {
        k: disabled.json()[k] for k in ("id", "status")
    }
    assert ("DISABLED", 1) == (paused["status"], paused["summary"]["totalActiveRecords"])
    assert 200 == reenabled.status_code
    assert 2 == (await h.status(synced["id"]))["summary"]["totalActiveRecords"]


async def test_patch_frequency_and_credential(h, synced):
    """PATCH changes the frequency, and a new credential triggers a reconciling full sync."""
    other = await h.connect(drive_user="bob@example.com")
    h.drive.add_file("bob.txt", content=b"b", owner="bob@example.com")
    bad = await h.api.patch(
        f"/api/syncs/{synced['id']}",
        headers=h.auth(),
        json={"incrementalAccumulatorFrequency": "7m"},
    )
    response = await h.api.patch(
        f"/api/syncs/{synced['id']}",
        headers=h.auth(),
        json={"incrementalAccumulatorFrequency": "5m", "credentialId": other},
    )
    await h.settle()
    status = await h.status(synced["id"])
    records, _ = await h.pull(synced["id"])

    assert 422 == bad.status_code
    assert "Update request accepted and is being processed" == response.json()["message"]
    assert ("5m", other) == (status["incrementalAccumulatorFrequency"], status["credentialId"])
    assert ["bob.txt"] == [r["name"] for r in records if not r.get("deleted")]


async def test_delete_removes_the_sync_and_its_records(h, synced):
    """DELETE removes the sync and records; enabling again gives the same id, synced afresh."""
    response = await h.api.delete(f"/api/syncs/{synced['id']}", headers=h.auth())
    missing = await h.api.get(f"/api/syncs/{synced['id']}", headers=h.auth())
    again = await h.enable()
    await h.settle()

    assert (200, 404) == (response.status_code, missing.status_code)
    assert synced["id"] == again["id"]
    assert 1 == (await h.status(again["id"]))["summary"]["totalActiveRecords"]


async def test_trigger_rejects_unknown_type(h, synced):
    """A trigger type other than incremental or full is a 422."""
    response = await h.api.post(
        f"/api/syncs/{synced['id']}/trigger", headers=h.auth(), json={"type": "sideways"}
    )

    assert 422 == response.status_code


async def test_event_log_pages_newest_first(h, synced):
    """The event log lists runs newest first, with syncType, status and a summary; a listing
    is followed by its PERMISSION entry, a quiet incremental has none."""
    h.drive.add_file("b.txt", content=b"b")
    await h.trigger(synced["id"])
    await h.settle()
    first = (
        await h.api.get(f"/api/syncs/{synced['id']}/events?pageSize=2", headers=h.auth())
    ).json()
    rest = (
        await h.api.get(
            f"/api/syncs/{synced['id']}/events?cursor={first['paging']['cursor']}", headers=h.auth()
        )
    ).json()

    events = [e["syncEvent"] for e in first["data"] + rest["data"]]
    assert [
        "INCREMENTAL_SYNC_COMPLETED",
        "INCREMENTAL_SYNC_STARTED",
        "PERMISSION_SYNC_COMPLETED",  # every listing reads memberships too
        "INITIAL_SYNC_COMPLETED",
        "INITIAL_SYNC_STARTED",
    ] == events
    assert {"created": 1, "updated": 0, "deleted": 0, "processed": 1} == {
        k: first["data"][0]["summary"][k] for k in ("created", "updated", "deleted", "processed")
    }


async def test_sdk_me_and_credentials_never_show_tokens(h):
    """/sdk/me and the credential list show accounts, never tokens."""
    cid = await h.connect()
    me = await h.api.get("/sdk/me", headers=h.auth())
    listed = await h.api.get("/api/credentials", headers=h.auth())

    assert ("user-1", [cid]) == (
        me.json()["userId"],
        [c["id"] for c in me.json()["allCredentials"]],
    )
    assert "Token" not in listed.text
    assert h.refresh_tokens[cid] not in listed.text


def _forge(payload: dict, header: dict, signature: bytes = b"") -> str:
    return ".".join(
        [_b64(header), _b64(payload), base64.urlsafe_b64encode(signature).decode().rstrip("=")]
    )


async def test_bad_tokens_are_401(h):
    """Wrong aud, alg none, expired, foreign key, garbage and missing tokens all answer 401."""
    import time

    now = int(time.time())
    claims = {"sub": "user-1", "aud": f"useparagon.com/{h.project_id}", "iat": now, "exp": now + 60}
    other = generate_signing_key()
    tokens = [
        h.token(aud=f"useparagon.com/{'0' * 8}-0000-0000-0000-000000000000"),
        h.token(aud=f"evil.example/{h.project_id}"),
        _forge(claims, {"alg": "none", "typ": "JWT"}),
        mint_user_token(h.private_pem, h.project_id, "user-1", ttl=timedelta(seconds=-120)),
        mint_user_token(other.private_pem, h.project_id, "user-1"),
        "not.a.token",
    ]
    for token in tokens:
        response = await h.api.get("/api/syncs", headers={"Authorization": f"Bearer {token}"})
        assert 401 == response.status_code
        assert "UNAUTHORIZED" == response.json()["code"]
    assert 401 == (await h.api.get("/api/syncs")).status_code


async def test_health_and_readiness(h):
    """/healthz answers while the process runs; /readyz when the database is current."""
    assert 200 == (await h.api.get("/healthz")).status_code
    assert {"status": "ready"} == (await h.api.get("/readyz")).json()


async def test_unknown_path_is_json_404(h):
    """An unknown path answers a JSON 404."""
    response = await h.api.get("/api/nothing-here", headers=h.auth())

    assert (404, "NOT_FOUND") == (response.status_code, response.json()["code"])
