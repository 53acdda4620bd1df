"""One event the receiver always refuses must not stop its sync's webhooks for days: after
SYNCLINE_WEBHOOK_BLOCK_AFTER it is parked and the events behind it flow, while an endpoint that is
simply down keeps every event in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncline.domain.ids import record_id
from tests.support.harness import Harness, harness

# The harness clock runs hours ahead of the receiver's: accept any signature age.
LENIENT = timedelta(days=30)


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path, receiver_tolerance=LENIENT) as running:
        yield running


async def _synced(h: Harness) -> str:
    h.drive.add_file("a.txt")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    assert ["sync_complete"] == [e["event"] for e in h.receiver.events()]
    return str(sync["id"])


async def _change(h: Harness, sid: str, *names: str) -> list[str]:
    """Add files and run an incremental sync; returns their record ids."""
    ids = [record_id(sid, h.drive.add_file(name)) for name in names]
    await h.trigger(sid)
    await h.run_due()
    return ids


def _created(h: Harness) -> list[str]:
    return [e["data"]["recordId"] for e in h.receiver.events("record_created")]


async def _log(h: Harness, sid: str, event: str) -> list[dict]:
    entries = (await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())).json()["data"]
    return [e for e in entries if e["syncEvent"] == event]


async def test_an_event_the_receiver_always_refuses_is_parked_after_block_after(h):
    """The refused event holds back the events behind it for an hour (order first); then it is
    parked, they are delivered, the event log says so, and the parked one is still retried and
    delivered once the receiver's bug is fixed."""
    sid = await _synced(h)
    (poison,) = await _change(h, sid, "poison.txt")
    h.receiver.refuse = lambda body: body.get("data", {}).get("recordId") == poison
    await h.deliver()
    behind = await _change(h, sid, "b.txt", "c.txt")
    await h.deliver()
    h.clock.advance(minutes=40)
    await h.deliver()
    waiting_at_40_minutes = _created(h)
    parked_at_40_minutes = await _log(h, sid, "WEBHOOK_DELIVERY_PARKED")

    h.clock.advance(minutes=21)
    await h.deliver()
    flowing = _created(h)
    parked = await _log(h, sid, "WEBHOOK_DELIVERY_PARKED")
    h.receiver.refuse = None
    h.clock.advance(hours=1, minutes=1)
    await h.deliver()

    assert [] == waiting_at_40_minutes
    assert [] == parked_at_40_minutes
    assert behind == flowing
    assert 1 == len(parked)
    refused = {
        d["body"]["id"]
        for d in h.receiver.deliveries
        if (d["body"].get("data") or {}).get("recordId") == poison and d["status"] == 500
    }
    assert {parked[0]["error"]["eventId"]} == refused
    assert "parked" in parked[0]["error"]["message"]
    assert [*behind, poison] == _created(h)
    assert 1 == _created(h).count(poison)


async def test_an_endpoint_that_is_down_keeps_the_order(h):
    """When every delivery fails (the endpoint is down for hours), nothing is parked: once it is
    back, the events arrive in the order they happened."""
    sid = await _synced(h)
    h.receiver.down = True
    first = await _change(h, sid, "one.txt")
    second = await _change(h, sid, "two.txt", "three.txt")
    for _ in range(6):
        h.clock.advance(minutes=30)
        await h.deliver()
    parked = await _log(h, sid, "WEBHOOK_DELIVERY_PARKED")
    h.receiver.down = False
    h.clock.advance(hours=1, minutes=1)
    await h.deliver()

    assert [] == parked
    assert [*first, *second] == _created(h)


async def test_block_after_is_a_setting(database_url, tmp_path):
    """SYNCLINE_WEBHOOK_BLOCK_AFTER=10m parks the refused event ten minutes in, not an hour."""
    async with harness(
        database_url, tmp_path, receiver_tolerance=LENIENT, webhook_block_after="10m"
    ) as h:
        sid = await _synced(h)
        (poison,) = await _change(h, sid, "poison.txt")
        h.receiver.refuse = lambda body: body.get("data", {}).get("recordId") == poison
        await h.deliver()
        behind = await _change(h, sid, "b.txt")
        h.clock.advance(minutes=11)
        await h.deliver()

        assert behind == _created(h)
