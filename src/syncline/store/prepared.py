"""Pages in the form the store writes: ids, hashes, JSON and permission tuples, built ahead.

Building these is most of a listing's CPU (hashing, serializing, numbering tuples), and it
needs no database: `prepare` is pure, so the engine can run it in a worker process beside the
upstream's decoding and normalizing, and hand the store rows it only has to write. Everything
here pickles cheaply (tuples of strings and ints), because a prepared page crosses a pipe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import orjson

from syncline.domain.ids import record_id
from syncline.domain.records import Upsert, record_hash
from syncline.store.permissions import Key, access_digest, item_tuples

__all__ = ["PreparedItem", "PreparedPage", "prepare"]


class PreparedItem(NamedTuple):
    """One upserted item, ready to write."""

    external_id: str
    record_id: str
    hash: str
    fields: str
    """The record's JSON object without its braces: the store adds `id` and `syncedAt`."""
    is_folder: bool
    access_hash: str | None
    """None: the connector read no permissions for it (and `tuples` is empty)."""
    tuples: tuple[tuple[Key, int, Key], ...]


@dataclass(frozen=True, slots=True)
class PreparedPage:
    """A page's items, with the permission containers and groups they name (for the run's
    membership scan, which reads those once the listing is done)."""

    items: list[PreparedItem]
    containers: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


def prepare(sync_id: str, upserts: Iterable[Upsert]) -> PreparedPage:
    """The store-ready form of these items; a repeated item keeps its last version."""
    latest: dict[str, Upsert] = {}
    for item in upserts:
        latest[item.external_id] = item  # an upstream page may repeat an item: last wins
    items: list[PreparedItem] = []
    containers: set[str] = set()
    groups: set[str] = set()
    for ext, item in latest.items():
        rid = record_id(sync_id, ext)
        access = item.access
        if access is not None:
            if access.container is not None:
                containers.add(access.container)
            groups.update(g.subject[6:] for g in access.grants if g.subject.startswith("group:"))
        items.append(
            PreparedItem(
                ext,
                rid,
                record_hash(item.data),
                orjson.dumps(item.data).decode()[1:-1],
                item.is_folder,
                access_digest(item),
                tuple(item_tuples(sync_id, rid, item)),
            )
        )
    return PreparedPage(items, frozenset(containers), frozenset(groups))
