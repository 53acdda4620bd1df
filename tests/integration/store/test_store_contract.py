"""The store's contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from syncline.domain.ids import record_id
from syncline.domain.records import Upsert
from syncline.errors import LeaseLost
from syncline.store import Store
from syncline.store.database import sync_driver_url
from syncline.store.store import NewCredential, NewSync, Progress, RunWrite
from syncline.store.tables import metadata
from tests.support.store import LEASE, NOW, new_sync


async def _sync(store: Store, name: str = "default"):
    return await new_sync(store, NOW, name)


async def _leased(store: Store, sync, owner="w1"):
    claimed = await store.claim_due(owner, NOW, 10, LEASE)
    assert [sync.id] == [s.id for s in claimed]
    return RunWrite(claimed[0], owner, str(uuid.uuid4()), LEASE, False, claimed[0].generation)


def _items(*names: str, version: int = 1) -> list[Upsert]:
    return [Upsert(n, {"externalId": n, "name": n, "v": version}) for n in names]


PROGRESS = Progress(cursor="c1", checkpoint=None, checkpoint_type=None)


def test_migrations_match_the_tables(database_url):
    """The Alembic migrations produce exactly the schema the code's tables describe."""
    engine = create_engine(sync_driver_url(database_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()

    assert [] == diff


async def test_enable_is_idempotent(store):
    """Creating a sync with an existing id returns the existing sync, not a second one."""
    sync = await _sync(store)
    again = NewSync(sync.id, sync.project_id, "u", "googledrive", "files", "default", {}, "c", None)

    found, created = await store.create_sync(again, NOW)

    assert (sync.id, False) == (found.id, created)


async def test_change_detection_moves_only_changed_records(store):
    """An unchanged record costs no new sequence number; a changed one moves to the feed's end."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    first = await store.commit_page(run, NOW, upserts=_items("a", "b", "c"), progress=PROGRESS)
    second = await store.commit_page(
        run, NOW, upserts=[*_items("a", "c"), *_items("b", version=2)], progress=PROGRESS
    )
    page = await store.records_page(sync.id, 0, 100)

    assert (3, 0) == (first.created, first.updated)
    assert (0, 1) == (second.created, second.updated)
    assert ["a", "c", "b"] == [orjson.loads(r)["externalId"] for r in page.rows]
    assert 4 == page.last_seq


async def test_keyset_pages_cover_the_feed_once(store):
    """Paging by sequence returns every record exactly once, in change order, for any page size."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    names = [f"f{i:03d}" for i in range(57)]
    await store.commit_page(run, NOW, upserts=_items(*names), progress=PROGRESS)
    seen, after = [], 0
    while True:
        page = await store.records_page(sync.id, after, 10)
        if not page.rows:
            break
        seen += [orjson.loads(r)["externalId"] for r in page.rows]
        after = page.last_seq

    assert names == seen
    assert 0 == await store.count_after(sync.id, after)


async def test_deletion_leaves_a_tombstone(store):
    """A deleted record stays in the feed as {id, externalId, deleted: true, syncedAt} (when it
    was deleted); counts follow."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    await store.commit_page(run, NOW, upserts=_items("a", "b"), progress=PROGRESS)
    counts = await store.commit_page(run, NOW, upserts=[], deletions=["a", "zz"], progress=PROGRESS)
    page = await store.records_page(sync.id, 2, 10)
    fresh = await store.get_sync(sync.id)

    assert 1 == counts.deleted
    tombstone = {"id": record_id(sync.id, "a"), "externalId": "a", "deleted": True}
    assert [{**tombstone, "syncedAt": "2026-11-28T12:00:00.000Z"}] == [
        orjson.loads(r) for r in page.rows
    ]
    assert (2, 1) == (fresh.total_records, fresh.active_records)
    assert None is await store.get_record(sync.id, record_id(sync.id, "a"))


async def test_a_lost_lease_refuses_the_write(store):
    """A worker whose lease was taken over cannot commit a page: nothing is written."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    stolen = RunWrite(run.sync, "intruder", run.trace_id, LEASE, False, 1)

    with pytest.raises(LeaseLost):
        await store.commit_page(stolen, NOW, upserts=_items("a"), progress=PROGRESS)

    assert [] == (await store.records_page(sync.id, 0, 10)).rows


async def test_leases_exclude_other_workers_until_they_expire(store):
    """A leased sync is not claimed again until its lease expires; then another worker takes it."""
    sync = await _sync(store)
    await store.claim_due("w1", NOW, 10, LEASE)

    assert [] == await store.claim_due("w2", NOW + timedelta(seconds=30), 10, LEASE)
    later = await store.claim_due("w2", NOW + timedelta(seconds=61), 10, LEASE)
    assert [sync.id] == [s.id for s in later]


async def test_sweep_tombstones_what_the_full_listing_missed(store):
    """After a listing of generation 2, records it did not stamp are tombstoned, with events."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    await store.commit_page(run, NOW, upserts=_items("a", "b", "c"), progress=PROGRESS)
    full = RunWrite(run.sync, run.owner, run.trace_id, LEASE, False, 2)
    await store.commit_page(full, NOW, upserts=_items("a", "c"), progress=PROGRESS)

    assert 1 == await store.count_unseen(sync.id, 2)
    assert 1 == await store.sweep_unseen(full, NOW)
    assert 0 == await store.count_unseen(sync.id, 2)
    assert (await store.get_record(sync.id, record_id(sync.id, "b"))) is None


async def test_outbox_delivers_each_sync_in_order(store):
    """Only the oldest pending event of a sync is claimable; the next follows once it is done."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    await store.commit_page(run, NOW, upserts=_items("a", "b"), progress=PROGRESS)

    first = await store.claim_deliveries(NOW, 10, LEASE)
    assert 1 == len(first)
    assert [] == await store.claim_deliveries(NOW, 10, LEASE)
    await store.delivered([first[0].item.id], NOW)
    second = await store.claim_deliveries(NOW, 10, LEASE)

    assert [record_id(sync.id, "a"), record_id(sync.id, "b")] == [
        orjson.loads(d.item.payload)["data"]["recordId"] for d in (*first, *second)
    ]


async def test_default_credential_is_the_oldest_active(store):
    """With several accounts for one integration, the oldest active one is the default."""
    sync = await _sync(store)
    later = await store.add_credential(
        NewCredential(sync.project_id, "u", "googledrive", "a2", None, None, [], None),
        NOW + timedelta(minutes=1),
    )
    default = await store.default_credential(sync.project_id, "u", "googledrive")
    await store.invalidate_credential(default.id, "gone", NOW, delete_row=False)

    assert sync.credential_id == default.id
    assert later.id == (await store.default_credential(sync.project_id, "u", "googledrive")).id
    assert "ERRORED" == (await store.get_sync(sync.id)).status.value


async def test_refresh_claim_is_exclusive(store):
    """Only one process at a time may refresh a credential's token."""
    sync = await _sync(store)
    cid = sync.credential_id

    assert await store.claim_refresh(cid, NOW, NOW + timedelta(seconds=30))
    assert not await store.claim_refresh(cid, NOW, NOW + timedelta(seconds=30))
    assert await store.claim_refresh(cid, NOW + timedelta(seconds=31), NOW + timedelta(seconds=60))


async def test_initial_pages_skip_records_already_listed(store):
    """An initial listing that meets a file twice (a restarted listing) keeps one record and
    counts it once."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    initial = RunWrite(run.sync, run.owner, run.trace_id, LEASE, True, 1)
    first = await store.commit_page(initial, NOW, upserts=_items("a", "b"), progress=PROGRESS)
    again = await store.commit_page(initial, NOW, upserts=_items("b", "c"), progress=PROGRESS)
    page = await store.records_page(sync.id, 0, 10)
    fresh = await store.get_sync(sync.id)

    assert (2, 1) == (first.created, again.created)
    assert ["a", "b", "c"] == [orjson.loads(r)["externalId"] for r in page.rows]
    assert (3, 3) == (fresh.total_records, fresh.active_records)


async def test_remaining_counts_stay_exact_as_records_move(store):
    """What remains after any cursor is exact while records are created, updated and deleted
    across many blocks of sequence numbers."""
    sync = await _sync(store)
    run = await _leased(store, sync)
    initial = RunWrite(run.sync, run.owner, run.trace_id, LEASE, True, 1)
    names = [f"f{i:05d}" for i in range(9000)]
    for start in range(0, 9000, 1000):
        await store.commit_page(
            initial, NOW, upserts=_items(*names[start : start + 1000]), progress=PROGRESS
        )
    await store.commit_page(run, NOW, upserts=_items(*names[::7], version=2), progress=PROGRESS)
    await store.commit_page(run, NOW, upserts=[], deletions=names[3::11], progress=PROGRESS)
    full = RunWrite(run.sync, run.owner, run.trace_id, LEASE, False, 2)
    await store.commit_page(full, NOW, upserts=_items(*names[:4000]), progress=PROGRESS)
    await store.sweep_unseen(full, NOW, batch=700)

    fresh = await store.get_sync(sync.id)
    every = [0, 1, 4095, 4096, 4097, 8191, 9000, 12000, fresh.last_seq - 1, fresh.last_seq]
    for cursor in every:
        page = await store.records_page(sync.id, cursor, 100_000)

        assert len(page.rows) == await store.count_after(sync.id, cursor)
    assert 9000 == fresh.total_records
    assert 9000 == await store.count_after(sync.id, 0)
