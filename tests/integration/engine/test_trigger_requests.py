"""`POST /trigger` under concurrency: a full request survives any number of incremental ones made
at the same moment, and asking never waits for a page a run is writing."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy.engine import make_url

from syncline.domain.syncs import SyncType
from tests.support.harness import Harness, harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


async def _synced(h: Harness) -> str:
    h.drive.add_file("a.txt")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    return str(sync["id"])


def _trigger(h: Harness, sid: str, kind: str):
    return h.api.post(f"/api/syncs/{sid}/trigger", headers=h.auth(), json={"type": kind})


async def test_a_full_request_survives_concurrent_incremental_ones(h):
    """One full and twenty incremental triggers sent at once, in any order: the claim that
    follows runs a full sync."""
    sid = await _synced(h)
    kinds = ["incremental"] * 10 + ["full"] + ["incremental"] * 10

    answers = await asyncio.gather(*(_trigger(h, sid, kind) for kind in kinds))
    (claimed,) = await h.runtime.store.claim_due(
        "test", h.clock(), 10, h.runtime.runner.settings.lease_for
    )

    assert {202} == {a.status_code for a in answers}
    assert SyncType.FULL is claimed.requested_run


async def test_requests_are_taken_once_and_run(h):
    """The claim folds the request into the sync and drops it: the full sync runs once, and the
    next claim finds nothing due."""
    sid = await _synced(h)
    await _trigger(h, sid, "full")
    await _trigger(h, sid, "incremental")
    await h.run_due()
    events = (await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())).json()["data"]
    again = await h.runtime.store.claim_due(
        "test", h.clock(), 10, h.runtime.runner.settings.lease_for
    )

    assert 1 == sum(e["syncEvent"] == "FULL_SYNC_STARTED" for e in events)
    assert [] == again


@pytest.mark.postgres
async def test_a_trigger_does_not_wait_for_a_page_being_written(postgres_url, tmp_path):
    """While another transaction holds the sync's row (as a run does while it commits a page),
    a trigger still answers at once; the run it asked for follows once the row is free."""
    async with harness(postgres_url, tmp_path) as h:
        sid = await _synced(h)
        url = make_url(postgres_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as holder:
            holder.execute("SELECT id FROM syncs WHERE id = %s FOR UPDATE", (sid,))
            answer = await asyncio.wait_for(_trigger(h, sid, "full"), timeout=10)
            holder.rollback()
        await h.run_due()
        events = (await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())).json()["data"]

    assert 202 == answer.status_code
    assert "FULL_SYNC_STARTED" in {e["syncEvent"] for e in events}
