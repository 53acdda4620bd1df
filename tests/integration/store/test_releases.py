"""Quiet run endings written together: each caller's own lease decides, a pause set meanwhile
stays, and a failed batch reaches every caller."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from syncline.domain.events import SyncEvent
from syncline.domain.notifications import LogEntry
from syncline.domain.syncs import SyncStatus, SyncType
from syncline.errors import LeaseLost, StoreError
from syncline.store import Store
from syncline.store.shapes import RunWrite
from syncline.store.tables import syncs
from tests.support.store import LEASE, NOW, new_sync

QUIET = {"status": SyncStatus.IDLE, "reason": None, "failures": 0, "last_synced_at": NOW}


def _run(sync, owner: str) -> RunWrite:
    return RunWrite(
        sync=sync, owner=owner, trace_id="t", lease_for=LEASE, initial=False, generation=0
    )


async def _lease_owner(store: Store, sync_id: str) -> str | None:
    async with store.db.read() as conn:
        owner: str | None = (
            await conn.execute(select(syncs.c.lease_owner).where(syncs.c.id == sync_id))
        ).scalar_one()
        return owner


async def _claimed(store: Store, count: int) -> list:
    first = await new_sync(store, NOW, "s0")
    for n in range(1, count):
        await new_sync(store, NOW, f"s{n}", project_id=first.project_id)
    return await store.claim_due("w1", NOW, count, LEASE)


async def test_endings_at_once_each_set_their_own_next_run_and_free_their_lease(store):
    """Five runs ending at the same moment each get their own next due time, with the lease
    given back, written in fewer transactions than runs."""
    claimed = await _claimed(store, 5)
    writes = 0
    original = store.releases._write

    async def counted(batch):
        nonlocal writes
        writes += 1
        return await original(batch)

    store.releases._write = counted  # counting, not changing
    due = {s.id: NOW + timedelta(minutes=n + 1) for n, s in enumerate(claimed)}

    await asyncio.gather(
        *(
            store.update_run(
                _run(s, "w1"), NOW, values={**QUIET, "next_run_at": due[s.id]}, release=True
            )
            for s in claimed
        )
    )

    for sync in claimed:
        stored = await store.get_sync(sync.id)
        assert stored is not None
        assert stored.next_run_at == due[sync.id]
        assert stored.last_synced_at == NOW
        assert await _lease_owner(store, sync.id) is None
    assert 1 <= writes < len(claimed)


async def test_a_lost_lease_fails_only_its_own_run(store):
    """In one batch, the run whose lease another worker took gets LeaseLost and changes
    nothing; the others are written."""
    claimed = await _claimed(store, 3)
    stolen = claimed[1]
    later = NOW + timedelta(minutes=1)
    # Its lease lapsed and another worker took the sync over.
    await store.update_sync(stolen.id, NOW, lease_owner="w2", lease_expires_at=later)

    results = await asyncio.gather(
        *(
            store.update_run(
                _run(s, "w1"), NOW, values={**QUIET, "next_run_at": later}, release=True
            )
            for s in claimed
        ),
        return_exceptions=True,
    )

    assert [isinstance(r, LeaseLost) for r in results] == [False, True, False]
    assert await _lease_owner(store, stolen.id) == "w2"
    assert [await _lease_owner(store, s.id) for s in (claimed[0], claimed[2])] == [None, None]


async def test_a_pause_set_during_the_run_survives_its_quiet_ending(store):
    """A sync paused (DISABLED) while its run was going stays DISABLED when the run ends."""
    [sync] = await _claimed(store, 1)
    await store.update_sync(sync.id, NOW, status=SyncStatus.DISABLED.value)

    await store.update_run(
        _run(sync, "w1"), NOW, values={**QUIET, "next_run_at": NOW}, release=True
    )

    stored = await store.get_sync(sync.id)
    assert stored is not None
    assert stored.status is SyncStatus.DISABLED


async def test_a_failed_batch_reaches_every_caller_and_the_next_batch_still_runs(store):
    """When the database refuses a batch, each of its callers gets the error; endings queued
    afterwards are written."""
    claimed = await _claimed(store, 3)
    original = store.releases._write
    failures = 1

    async def flaky(batch):
        nonlocal failures
        if failures:
            failures -= 1
            raise StoreError("database unavailable")
        return await original(batch)

    store.releases._write = flaky  # one injected failure
    first = await asyncio.gather(
        *(
            store.update_run(_run(s, "w1"), NOW, values={**QUIET, "next_run_at": NOW}, release=True)
            for s in claimed[:2]
        ),
        return_exceptions=True,
    )
    await store.update_run(
        _run(claimed[2], "w1"), NOW, values={**QUIET, "next_run_at": NOW}, release=True
    )

    assert all(isinstance(r, StoreError) for r in first)
    # Nothing of the failed batch was written; the next one was.
    assert [await _lease_owner(store, s.id) for s in claimed] == ["w1", "w1", None]


async def test_an_ending_with_a_log_entry_is_written_on_its_own(store):
    """An ending that carries log entries is not queued: it is written in its own transaction,
    with them."""
    [sync] = await _claimed(store, 1)
    kind = SyncType.INCREMENTAL
    entry = LogEntry(SyncEvent.completed(kind.value), kind, SyncStatus.IDLE, {"created": 1})

    await store.update_run(
        _run(sync, "w1"), NOW, values={**QUIET, "next_run_at": NOW}, entries=[entry], release=True
    )

    [logged] = await store.list_events(sync.id, None, 10)
    assert logged["sync_event"] == SyncEvent.completed(kind.value).value
    assert await _lease_owner(store, sync.id) is None
