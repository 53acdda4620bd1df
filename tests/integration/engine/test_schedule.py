"""Schedules: incremental frequencies, the periodic full sync, and webhook give-up after days."""

from __future__ import annotations

import pytest

from tests.support.harness import harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


def _changes_calls(h) -> int:
    """How many times the changes feed was read (not counting startPageToken)."""
    return sum(1 for _, path, _ in h.drive.requests if path == "/drive/v3/changes")


@pytest.mark.parametrize(("frequency", "minutes"), [("1m", 1), ("5m", 5), ("1h", 60)])
async def test_incremental_runs_at_its_frequency(h, frequency, minutes):
    """An incremental sync is not due before its frequency has passed, and is due after."""
    await h.connect()
    sync = await h.enable(incrementalAccumulatorFrequency=frequency)
    await h.settle()
    baseline = _changes_calls(h)

    h.clock.advance(minutes=minutes - 0.5)
    await h.settle()
    early = _changes_calls(h)
    h.clock.advance(minutes=1)
    await h.settle()

    assert baseline == early
    assert baseline < _changes_calls(h)
    assert frequency == (await h.status(sync["id"]))["incrementalAccumulatorFrequency"]


async def test_periodic_full_sync_every_day(h):
    """A day after the initial sync, the next run is a full sync."""
    await h.connect()
    sync = await h.enable()
    await h.settle()

    assert (await h.status(sync["id"]))["summary"]["lastPeriodicFullSyncedAt"] is None
    h.clock.advance(hours=24, minutes=1)
    await h.settle()
    assert (await h.status(sync["id"]))["summary"]["lastPeriodicFullSyncedAt"] is not None


async def test_webhooks_give_up_after_three_days_and_say_so(h):
    """An endpoint down for more than three days loses the event, and the event log says so."""
    h.drive.add_file("a.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.run_due()

    h.receiver.down = True
    await h.deliver()
    h.clock.advance(days=3, minutes=1)
    await h.deliver()
    log = (await h.api.get(f"/api/syncs/{sync['id']}/events", headers=h.auth())).json()["data"]

    failures = [e for e in log if e["syncEvent"] == "WEBHOOK_DELIVERY_FAILED"]
    assert {"failed": 1} == await h.runtime.store.outbox_counts()
    assert [True, False] == [f["error"]["final"] for f in failures]


async def test_webhook_endpoint_back_after_a_long_outage_gets_everything_in_order(h):
    """Events held while the endpoint was down arrive, in order, once it answers again."""
    h.drive.add_file("a.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.run_due()
    h.receiver.down = True
    names = [f"n{i}.txt" for i in range(5)]
    for name in names:
        h.drive.add_file(name, content=b"x")
        await h.trigger(sync["id"])
        await h.run_due()
        await h.deliver()

    h.receiver.down = False
    for _ in range(20):
        h.clock.advance(seconds=20)
        await h.deliver()

    events = h.receiver.events()
    assert ["sync_complete"] + ["record_created"] * 5 == [e["event"] for e in events]


async def test_disabling_during_a_run_sticks(h):
    """A sync disabled while a run is in flight stays DISABLED when that run ends."""
    for i in range(1500):
        h.drive.add_file(f"f{i}.txt", content=b"x")
    h.drive.latency = 0.05
    await h.connect()
    sync = await h.enable()
    await h.runtime.scheduler.tick()
    response = await h.api.post(f"/api/syncs/{sync['id']}/disable", headers=h.auth())
    await h.runtime.scheduler.idle()

    assert 200 == response.status_code
    assert "DISABLED" == (await h.status(sync["id"]))["status"]
