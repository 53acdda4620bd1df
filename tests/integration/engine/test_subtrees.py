"""`ChangePage.subtrees`: a source whose items are not folders (Notion's pages have sub-pages)
names the changed items with descendants the change page does not bring. One the sync does
not hold yet (created, moved into scope, restored) makes the engine run a full listing, which
alone finds what is below it; one it holds costs nothing more."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from syncline.connectors.base import Capabilities, ChangeStrategy
from syncline.connectors.registry import Registry
from syncline.domain.ids import record_id
from syncline.domain.records import ChangePage
from tests.support.harness import Harness, harness
from tests.support.memory_connector import MemoryConnector, MemorySource, memory_spec

WINDOW = Capabilities(
    changes=ChangeStrategy.WINDOW, deletions_in_feed=False, window_overlap=timedelta(seconds=5)
)


def _at(second: int) -> str:
    return f"2024-01-01T00:00:{second:02d}.000Z"


@dataclass
class TreeSource(MemorySource):
    below: dict[str, list[str]] = field(default_factory=dict)
    """Each item's descendants (the window does not bring those edited before it)."""


class TreeConnector(MemoryConnector):
    """The memory connector, naming in `subtrees` each changed item with descendants the
    window did not bring."""

    def __init__(self, source: TreeSource) -> None:
        super().__init__(source, WINDOW)
        self._tree = source

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        async for page in super().changes(cursor):
            brought = {u.external_id for u in page.upserts}
            subtrees = tuple(
                u.external_id
                for u in page.upserts
                if not brought.issuperset(self._tree.below.get(u.external_id, ()))
            )
            yield ChangePage(page.upserts, page.deletions, page.cursor, subtrees=subtrees)


@pytest.fixture
def source() -> TreeSource:
    return TreeSource(items={"a": ("a", _at(5))}, now=_at(10))


@pytest.fixture
async def h(database_url, tmp_path, monkeypatch, source):
    tree_spec = dataclasses.replace(
        memory_spec(source, WINDOW), build=lambda _config, _ctx: TreeConnector(source)
    )
    monkeypatch.setattr("syncline.wiring.builtin_registry", lambda: Registry([tree_spec]))
    async with harness(database_url, tmp_path) as running:
        yield running


async def _enabled(h: Harness) -> str:
    answer = await h.api.post(
        "/api/credentials", headers=h.auth(), json={"integration": "memory", "accessToken": "t"}
    )
    assert 201 == answer.status_code, answer.text
    sync = await h.enable(integration="memory")
    await h.settle()
    return str(sync["id"])


async def _log(h: Harness, sid: str) -> list[str]:
    answer = await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())
    return [e["syncEvent"] for e in answer.json()["data"]]


def _created(h: Harness) -> set[str]:
    return {e["data"]["recordId"] for e in h.receiver.events("record_created")}


async def test_an_item_new_to_the_sync_with_unseen_descendants_brings_a_full_listing(h, source):
    """An item arrives with descendants edited long ago (outside the window): the engine
    lists everything, and the descendants arrive too."""
    sid = await _enabled(h)
    source.items["p"] = ("p", _at(12))  # moved into scope now
    source.items["q"] = ("q", _at(1))  # below it, unchanged for long
    source.below["p"] = ["q"]
    await h.trigger(sid)
    await h.settle()

    assert {record_id(sid, "p"), record_id(sid, "q")} == _created(h)
    assert "FULL_SYNC_STARTED" in await _log(h, sid)


async def test_an_item_the_sync_holds_costs_no_listing(h, source):
    """An edit to an item the sync already holds, descendants unseen or not, is an update
    and nothing more."""
    source.items["q"] = ("q", _at(1))
    source.below["a"] = ["q"]
    sid = await _enabled(h)
    source.items["a"] = ("a renamed", _at(12))
    await h.trigger(sid)
    await h.settle()

    assert [record_id(sid, "a")] == [
        e["data"]["recordId"] for e in h.receiver.events("record_updated")
    ]
    assert "FULL_SYNC_STARTED" not in await _log(h, sid)
