"""Upstream failures: rate limits, outages, expired and revoked tokens, crashes mid-run."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.harness import harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


async def _events(h, sync_id):
    response = await h.api.get(f"/api/syncs/{sync_id}/events", headers=h.auth())
    return [e["syncEvent"] for e in response.json()["data"]]


async def test_short_rate_limit_is_waited_out_inside_the_run(h):
    """A 429 with a short Retry-After is honoured and the run still completes."""
    for i in range(3):
        h.drive.add_file(f"f{i}.txt", content=b"x")
    await h.connect()
    h.drive.inject("429", path="/drive/v3/files", retry_after=1)
    sync = await h.enable()
    await h.settle()

    status = await h.status(sync["id"])
    assert "IDLE" == status["status"]
    assert 3 == status["summary"]["totalActiveRecords"]
    assert "SYNC_RUN_RATE_LIMITED" in await _events(h, sync["id"])


async def test_long_rate_limit_parks_the_sync_rate_limited(h):
    """A long Retry-After ends the run as RATE_LIMITED with rateLimitBackoffMs, then resumes."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    h.drive.inject("429", path="/drive/v3/files", retry_after=120)
    sync = await h.enable()
    await h.run_due()

    parked = await h.status(sync["id"])
    assert "RATE_LIMITED" == parked["status"]
    assert 120_000 == parked["rateLimitBackoffMs"]

    h.clock.advance(seconds=121)
    await h.settle()
    assert "IDLE" == (await h.status(sync["id"]))["status"]


async def test_drive_403_rate_limit_is_retried(h):
    """Drive's 403 userRateLimitExceeded is a rate limit: retried, never an error."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    h.drive.inject("403_rate", times=2, path="/drive/v3/files")
    sync = await h.enable()
    for _ in range(5):
        await h.settle()
        h.clock.advance(seconds=30)

    assert "IDLE" == (await h.status(sync["id"]))["status"]


async def test_drive_403_permission_error_is_not_retried(h):
    """A 403 insufficientFilePermissions turns the sync ERRORED with a reason, at once."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.inject("403_permission", times=1, path="/drive/v3/changes")
    await h.trigger(sync["id"])
    await h.settle()

    status = await h.status(sync["id"])
    assert "ERRORED" == status["status"]
    assert "insufficientFilePermissions" in status["reason"]
    assert 1 == len(h.receiver.events("sync_errored"))


async def test_outage_is_retried_and_resumes_from_the_checkpoint(h):
    """5xx errors are retried; pages committed before them are not fetched or written again."""
    h.drive.empty_pages = False
    for i in range(2500):
        h.drive.add_file(f"f{i:04d}.txt", content=b"x")
    await h.connect()
    # The third list call fails five times: more than the run retries inline.
    h.drive.inject("503", times=5, path="/drive/v3/files")
    sync = await h.enable()
    for _ in range(6):
        await h.settle()
        h.clock.advance(minutes=2)

    records, _ = await h.pull(sync["id"], page_size=1000)
    assert 2500 == len({r["externalId"] for r in records})
    assert 2500 == len(records)
    assert "IDLE" == (await h.status(sync["id"]))["status"]
    assert "SYNC_RUN_RETRY" in await _events(h, sync["id"])


async def test_expired_access_token_is_refreshed(h):
    """An access token that expires mid-life is refreshed once and the sync continues."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.expire_access_tokens()
    h.drive.add_file("b.txt", content=b"x")
    await h.trigger(sync["id"])
    await h.settle()

    assert "IDLE" == (await h.status(sync["id"]))["status"]
    assert 2 == (await h.status(sync["id"]))["summary"]["totalActiveRecords"]
    assert 1 == h.drive.request_count("/token")


async def test_concurrent_syncs_refresh_a_shared_credential_once(h):
    """Several syncs on one credential hitting 401 together cause a single refresh."""
    for i in range(3):
        h.drive.add_file(f"f{i}.txt", content=b"x")
    await h.connect()
    ids = [(await h.enable(configurationName=f"c{i}"))["id"] for i in range(4)]
    await h.settle()
    h.drive.expire_access_tokens()
    for sid in ids:
        await h.trigger(sid, "full")
    await h.settle()

    assert 1 == h.drive.request_count("/token")
    assert {"IDLE"} == {(await h.status(sid))["status"] for sid in ids}


async def test_rotated_refresh_token_is_kept(h):
    """A provider that rotates refresh tokens gets the new one on the next refresh."""
    h.drive.rotate_refresh_tokens = True
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    for _ in range(2):
        h.drive.expire_access_tokens()
        await h.trigger(sync["id"])
        await h.settle()

    assert "IDLE" == (await h.status(sync["id"]))["status"]
    assert 2 == h.drive.request_count("/token")


async def test_revoked_grant_turns_the_sync_errored(h):
    """A refresh answered invalid_grant errors the sync with a reason and one sync_errored."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    for refresh in h.refresh_tokens.values():
        h.drive.revoke(refresh)
    h.drive.expire_access_tokens()
    await h.trigger(sync["id"])
    await h.settle()

    status = await h.status(sync["id"])
    errored = h.receiver.events("sync_errored")
    assert "ERRORED" == status["status"]
    assert "reconnect" in status["reason"]
    assert [sync["id"]] == [e["syncInstanceId"] for e in errored]
    assert "reconnect" in errored[0]["error"]["message"]


async def test_deleted_credential_errors_its_syncs(h):
    """Deleting a credential turns its syncs ERRORED with the contract's reason."""
    cid = await h.connect()
    sync = await h.enable()
    await h.settle()
    response = await h.api.delete(f"/api/credentials/{cid}", headers=h.auth())

    status = await h.status(sync["id"])
    assert 200 == response.status_code
    assert "ERRORED" == status["status"]
    assert f"Credential ID {cid} is no longer valid or has been deleted." == status["reason"]


async def test_stale_change_cursor_falls_back_to_a_full_sync(h):
    """A change cursor Drive rejects is replaced by a full sync that converges."""
    h.drive.add_file("a.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.add_file("b.txt", content=b"x")
    await h.runtime.store.update_sync(sync["id"], h.clock(), cursor="999999999")
    await h.trigger(sync["id"])
    await h.settle()

    status = await h.status(sync["id"])
    assert "IDLE" == status["status"]
    assert 2 == status["summary"]["totalActiveRecords"]
    assert status["summary"]["lastPeriodicFullSyncedAt"] is not None


async def test_a_killed_run_resumes_without_duplicates(h):
    """A run cancelled mid-listing resumes from its last committed page; the feed holds each
    file exactly once."""
    total = 10_000
    for i in range(total):
        h.drive.add_file(f"f{i:05d}.txt", content=b"x")
    await h.connect()
    sync = await h.enable()
    await h.runtime.scheduler.tick()
    while (await h.status(sync["id"]))["summary"]["totalRecords"] == 0:
        await asyncio.sleep(0.01)
    h.drive.latency = 2.0  # the pages still to come are slow: the kill lands mid-listing
    await asyncio.sleep(0.1)
    for task in list(h.runtime.scheduler._running):
        task.cancel()
    await h.runtime.scheduler.idle()
    partial = (await h.status(sync["id"]))["summary"]["totalRecords"]
    h.drive.latency = 0.0
    h.clock.advance(seconds=61)  # as after a crash: the lease has expired
    await h.settle()

    records, _ = await h.pull(sync["id"], page_size=1000)
    assert 0 < partial < total
    assert total == len(records)
    assert total == len({r["externalId"] for r in records})
    assert 1 == len(h.receiver.events("sync_complete"))
