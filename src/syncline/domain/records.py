"""Normalized records and how their changes are detected."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from syncline.domain.permissions import Access
from syncline.types import JSONObject


def record_hash(data: JSONObject) -> str:
    """A hash of a normalized record: equal records, whatever their key order, hash equal."""
    return hashlib.blake2b(
        orjson.dumps(data, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class Upsert:
    """An item that exists upstream, normalized; `data` excludes `id`, which the store derives."""

    external_id: str
    data: JSONObject
    is_folder: bool = False
    parent_ids: tuple[str, ...] = ()
    access: Access | None = None
    """The item's permissions; None when the connector does not read permissions."""


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A page's items still as the upstream sent them, with the pure function that reads them.

    The engine calls `parse(body)` off the event loop, in a worker process, so `parse` must be
    a module-level function (it is pickled by name) that needs nothing but the bytes: no
    request, no connector state.
    """

    parse: Callable[[bytes], list[Upsert]]
    body: bytes


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a full listing, and where to resume after it (None: the listing is finished)."""

    items: list[Upsert]
    checkpoint: JSONObject | None
    complete: bool = True
    """False when the upstream said this listing may be missing items (Drive `incompleteSearch`)."""
    unparsed: Unparsed | None = None
    """More items of the page, for the engine to parse (a connector gives `items`, this, or
    both: `items` first)."""

    def parsed(self) -> list[Upsert]:
        """Every item of the page, parsing `unparsed` here (the engine does it elsewhere)."""
        if self.unparsed is None:
            return self.items
        return [*self.items, *self.unparsed.parse(self.unparsed.body)]


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of an upstream change feed, and the feed position after it."""

    upserts: list[Upsert]
    deletions: list[str]
    """External ids that were deleted, trashed, or are no longer accessible."""
    cursor: str
    """Store this once the page is committed; resuming from it never skips a change."""
    changed_containers: tuple[str, ...] = ()
    """Shared drives (or spaces) whose membership may have changed: re-read their grants."""
    subtrees: tuple[str, ...] = ()
    """Items of this page with descendants the page does not bring (a page's sub-pages): one
    the sync does not hold yet (just created, moved into scope, restored) calls for a full
    listing, which alone finds what is below it. For sources whose items are not folders."""


@dataclass(frozen=True, slots=True)
class RecordCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    processed: int = 0

    @property
    def changed(self) -> int:
        """Records created, updated or deleted: what sent webhooks."""
        return self.created + self.updated + self.deleted

    def __add__(self, other: RecordCounts) -> RecordCounts:
        return RecordCounts(
            self.created + other.created,
            self.updated + other.updated,
            self.deleted + other.deleted,
            self.processed + other.processed,
        )
