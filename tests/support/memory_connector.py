"""A connector over an in-memory table, for engine tests of the change strategies a real
provider would need a sandbox for: modified-since windows (CRMs) and re-listing (no feed).

Items are `{id: (name, modified ISO time)}` in a `MemorySource`; `changes(since)` returns, for
`WINDOW`, every item modified at or after `since`, as a timestamp-window query does, and never
a deletion; `RELIST` connectors have no usable `changes` at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from syncline.connectors.base import (
    Capabilities,
    ChangeStrategy,
    ConnectorContext,
    ConnectorSpec,
    Download,
    Scope,
)
from syncline.domain.records import ChangePage, ListPage, Upsert
from syncline.types import Checkpoint, JSONObject


@dataclass
class MemorySource:
    """The upstream: items by id, each a name and its modification time (ISO-8601 UTC)."""

    items: dict[str, tuple[str, str]] = field(default_factory=dict)
    now: str = "2024-01-01T00:00:00.000Z"
    """What `start_cursor` reports as the provider's present."""
    window_reads: list[str] = field(default_factory=list)
    """Every `since` a window read was asked for."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _upsert(item_id: str, name: str, modified: str) -> Upsert:
    data: JSONObject = {
        "externalId": item_id,
        "name": name,
        "mimeType": "text/plain",
        "size": None,
        "url": None,
        "thumbnailUrl": None,
        "createdAt": None,
        "updatedAt": modified,
        "hash": None,
        "parentFolderId": None,
        "customFields": {},
    }
    return Upsert(item_id, data)


class MemoryConnector:
    def __init__(self, source: MemorySource, capabilities: Capabilities) -> None:
        self._source = source
        self.capabilities = capabilities

    @property
    def scope(self) -> Scope:
        return Scope()

    async def start_cursor(self) -> str:
        return self._source.now

    async def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        items = [_upsert(i, n, m) for i, (n, m) in sorted(self._source.items.items())]
        yield ListPage(items=items, checkpoint=None)

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        assert self.capabilities.changes is ChangeStrategy.WINDOW, "no feed to read"
        self._source.window_reads.append(cursor)
        found = [(i, n, m) for i, (n, m) in self._source.items.items() if m >= cursor]
        found.sort(key=lambda item: item[2])
        newest = max((m for _, _, m in found), default=cursor)
        yield ChangePage(upserts=[_upsert(*item) for item in found], deletions=[], cursor=newest)

    async def download(self, external_id: str) -> Download:
        raise NotImplementedError


def memory_spec(source: MemorySource, capabilities: Capabilities) -> ConnectorSpec:
    """An integration `memory` (pipeline `files`) serving `source`."""

    def build(_config: BaseModel, _ctx: ConnectorContext) -> MemoryConnector:
        return MemoryConnector(source, capabilities)

    return ConnectorSpec(
        integration="memory",
        pipelines=frozenset({"files"}),
        config_model=_Config,
        default_api_url="http://127.0.0.1:9",
        default_token_url="http://127.0.0.1:9/token",
        default_auth_url="http://127.0.0.1:9/authorize",
        build=build,
        capabilities=capabilities,
    )
