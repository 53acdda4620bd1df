"""The engine picks how to find changes from a connector's capabilities, not its name:
modified-since windows read from before their mark (overlap) without duplicate events, and a
source with no feed is listed again on every run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncline.connectors.base import Capabilities, ChangeStrategy
from syncline.connectors.registry import Registry
from syncline.domain.ids import record_id
from tests.support.harness import Harness, harness
from tests.support.memory_connector import MemorySource, memory_spec

WINDOW = Capabilities(
    changes=ChangeStrategy.WINDOW, deletions_in_feed=False, window_overlap=timedelta(seconds=5)
)
RELIST = Capabilities(changes=ChangeStrategy.RELIST, deletions_in_feed=False)


def _at(second: int) -> str:
    return f"2024-01-01T00:00:{second:02d}.000Z"


@pytest.fixture
def source() -> MemorySource:
    return MemorySource(items={"a": ("a.txt", _at(5)), "b": ("b.txt", _at(8))}, now=_at(10))


async def _enabled(h: Harness) -> str:
    answer = await h.api.post(
        "/api/credentials", headers=h.auth(), json={"integration": "memory", "accessToken": "t"}
    )
    assert 201 == answer.status_code, answer.text
    sync = await h.enable(integration="memory")
    await h.settle()
    return str(sync["id"])


def _events(h: Harness) -> list[tuple[str, str]]:
    return [
        (e["event"], e["data"]["recordId"])
        for e in h.receiver.events()
        if "recordId" in (e.get("data") or {})
    ]


@pytest.fixture
async def window(database_url, tmp_path, monkeypatch, source):
    monkeypatch.setattr(
        "syncline.wiring.builtin_registry", lambda: Registry([memory_spec(source, WINDOW)])
    )
    async with harness(database_url, tmp_path) as h:
        yield h


async def test_a_window_reads_from_before_its_mark_and_sends_each_change_once(window, source):
    """A change stamped just before the mark (a coarse timestamp, or a clock behind ours) is
    still found, thanks to the overlap; records the overlap reads again unchanged send nothing;
    a second quiet run sends nothing either, and the mark never moves back."""
    h = window
    sid = await _enabled(h)
    source.items["b"] = ("b renamed.txt", _at(9))  # before the mark (10 s): the overlap finds it
    source.items["c"] = ("c.txt", _at(12))
    await h.trigger(sid)
    await h.settle()
    first = _events(h)
    await h.trigger(sid)
    await h.settle()
    status = await h.status(sid)

    assert [
        ("record_updated", record_id(sid, "b")),
        ("record_created", record_id(sid, "c")),
    ] == first
    assert first == _events(h)  # the quiet run found nothing new
    # Each from the mark minus 5 s: after the initial listing (the engine reads at once what
    # changed during it), at the trigger, and at the quiet run after the mark moved to 12 s.
    assert [_at(5), _at(5), _at(7)] == source.window_reads
    assert "IDLE" == status["status"]


async def test_a_window_without_deletions_leaves_them_to_the_full_sync(window, source):
    """A source whose window cannot see deletions: an incremental sync sends nothing for a
    deleted item; the full sync finds it gone and sends record_deleted."""
    h = window
    sid = await _enabled(h)
    del source.items["a"]
    await h.trigger(sid)
    await h.settle()
    after_incremental = _events(h)
    await h.trigger(sid, "full")
    await h.settle()

    assert [] == after_incremental
    assert [("record_deleted", record_id(sid, "a"))] == _events(h)


async def test_a_source_without_a_feed_is_listed_on_every_run(
    database_url, tmp_path, monkeypatch, source
):
    """RELIST: what would be an incremental sync is a full listing that compares hashes; a
    change, a new item and a deletion all arrive with the next run, logged as a full sync."""
    monkeypatch.setattr(
        "syncline.wiring.builtin_registry", lambda: Registry([memory_spec(source, RELIST)])
    )
    async with harness(database_url, tmp_path) as h:
        sid = await _enabled(h)
        source.items["b"] = ("b renamed.txt", _at(9))
        source.items["c"] = ("c.txt", _at(12))
        del source.items["a"]
        await h.trigger(sid)
        await h.settle()
        log = (await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())).json()["data"]

        assert {
            ("record_updated", record_id(sid, "b")),
            ("record_created", record_id(sid, "c")),
            ("record_deleted", record_id(sid, "a")),
        } == set(_events(h))
        assert "FULL_SYNC_STARTED" in {e["syncEvent"] for e in log}
        assert [] == source.window_reads
