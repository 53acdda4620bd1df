"""Claiming due runs across workers: fair shares, cluster-wide caps, never one sync twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from syncline.domain.fairness import RunCaps
from syncline.store import Database, Store
from tests.support.store import LEASE, NOW, new_sync


async def _project_with(store: Store, count: int) -> str:
    first = await new_sync(store, NOW, "s0")
    for n in range(1, count):
        await new_sync(store, NOW, f"s{n}", project_id=first.project_id)
    return first.project_id


async def test_a_big_project_does_not_starve_a_small_one(store):
    """One worker with 4 free slots, 20 due syncs in one project and 1 in another: the small
    project's sync is among the 4 claimed."""
    big = await _project_with(store, 20)
    small = await _project_with(store, 1)

    claimed = await store.claim_due("w1", NOW, 4, LEASE)

    assert len(claimed) == 4
    assert sum(s.project_id == small for s in claimed) == 1
    assert sum(s.project_id == big for s in claimed) == 3


async def test_the_project_cap_holds_across_workers(store):
    """With a cap of 3 per project, three workers claiming in turn lease 3 syncs in all; once a
    run's lease lapses, its slot is free again."""
    await _project_with(store, 10)
    caps = RunCaps(per_project=3)

    first = await store.claim_due("w1", NOW, 2, LEASE, caps)
    second = await store.claim_due("w2", NOW, 2, LEASE, caps)
    third = await store.claim_due("w3", NOW, 2, LEASE, caps)
    later = await store.claim_due("w3", NOW + LEASE + timedelta(seconds=1), 5, LEASE, caps)

    assert [len(first), len(second), len(third)] == [2, 1, 0]
    assert len(later) == 3


async def test_the_total_cap_counts_every_project(store):
    """A cluster-wide cap of 2 leases 2 runs however many projects have due syncs."""
    for _ in range(4):
        await _project_with(store, 2)

    claimed = await store.claim_due("w1", NOW, 10, LEASE, RunCaps(total=2))
    more = await store.claim_due("w2", NOW, 10, LEASE, RunCaps(total=2))

    assert len(claimed) == 2
    assert more == []


async def test_concurrent_claims_never_lease_one_sync_twice_nor_break_the_cap(database_url):
    """Eight workers, each with its own connection pool, claim at the same moment: every sync is
    leased once at most, and no project has more runs than its cap."""
    stores = [Store(Database(database_url)) for _ in range(8)]
    try:
        projects = [await _project_with(stores[0], 6) for _ in range(3)]
        caps = RunCaps(per_project=4)
        results = await asyncio.gather(
            *(s.claim_due(f"w{n}", NOW, 3, LEASE, caps) for n, s in enumerate(stores))
        )
        leased = [sync for batch in results for sync in batch]

        assert len({s.id for s in leased}) == len(leased)
        assert {p: sum(s.project_id == p for s in leased) for p in projects} == dict.fromkeys(
            projects, 4
        )
    finally:
        for s in stores:
            await s.db.dispose()
