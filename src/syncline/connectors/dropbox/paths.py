"""Which item ids sit at which Dropbox paths: how an id-less deleted entry becomes deletions.

Dropbox's change feed names a deleted item only by its path (`DeletedMetadata` has no id), and
a deleted folder by one entry for the folder alone ("remove it and all its children"). Records
are keyed by id, so the connector keeps, per sync, the path of every item in scope: a listing
builds it, and every feed page moves it on (an entry puts its id at its path, a folder moving
takes its subtree with it, a deleted entry takes the path and its subtree out).

The index lives in this process, keyed by the feed cursor it is exact after; a feed read takes
it (so two runs never share one) and hands it back under its last cursor. A run that finds none
(the process restarted, another process ran the sync, or it was evicted) builds a partial one
from the feed itself, and a deletion that partial index cannot resolve calls for a full sync
(which builds a complete index again): nothing is missed, nothing is invented.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["MAX_INDEXED_ITEMS", "PathIndex", "put_index", "take_index"]

MAX_INDEXED_ITEMS = 2_000_000
"""Paths kept in one process across every sync; the least recently used indexes go first."""


@dataclass(slots=True)
class PathIndex:
    """Lower-cased path -> (id, is folder), and back. `complete`: it holds every item of the
    sync's scope (built by a whole listing), so a path it does not hold holds nothing."""

    complete: bool
    paths: dict[str, tuple[str, bool]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    def id_at(self, path: str) -> str | None:
        found = self.paths.get(path)
        return None if found is None else found[0]

    def _under(self, path: str) -> list[str]:
        prefix = path + "/"
        return [p for p in self.paths if p.startswith(prefix)]

    def put(self, path: str, item_id: str, is_folder: bool) -> list[str]:
        """`item_id` is now at `path`; returns the ids this displaced (whatever else was at the
        path, and for a file there, all its children: Dropbox's rule for a file entry).

        A folder moving takes its subtree to the new path."""
        displaced: list[str] = []
        old = self.ids.get(item_id)
        if old is not None and old != path:
            self.paths.pop(old, None)
            if is_folder:
                for child in self._under(old):
                    child_id, child_folder = self.paths.pop(child)
                    moved = path + child[len(old) :]
                    self.paths[moved] = (child_id, child_folder)
                    self.ids[child_id] = moved
        there = self.paths.get(path)
        if there is not None and there[0] != item_id:
            displaced.append(there[0])
            self.ids.pop(there[0], None)
        if not is_folder:
            displaced += self._drop_under(path)
        self.paths[path] = (item_id, is_folder)
        self.ids[item_id] = path
        return displaced

    def _drop_under(self, path: str) -> list[str]:
        gone = []
        for child in self._under(path):
            child_id, _ = self.paths.pop(child)
            self.ids.pop(child_id, None)
            gone.append(child_id)
        return gone

    def remove(self, path: str) -> tuple[tuple[str, bool] | None, list[str]]:
        """Take out what is at `path` and below: ((the id at the path, whether a folder) or
        None, its descendants' ids)."""
        top = self.paths.pop(path, None)
        if top is not None:
            self.ids.pop(top[0], None)
        return top, self._drop_under(path)


_lock = threading.Lock()
_indexes: OrderedDict[str, PathIndex] = OrderedDict()


def take_index(cursor: str) -> PathIndex | None:
    """The index exact after `cursor`, removed from the process's keeping (None: none kept)."""
    with _lock:
        return _indexes.pop(cursor, None)


def put_index(cursor: str, index: PathIndex) -> None:
    """Keep `index` as exact after `cursor`, evicting the oldest past `MAX_INDEXED_ITEMS`."""
    with _lock:
        _indexes.pop(cursor, None)
        _indexes[cursor] = index
        total = sum(len(i) for i in _indexes.values())
        while total > MAX_INDEXED_ITEMS and len(_indexes) > 1:
            _, evicted = _indexes.popitem(last=False)
            total -= len(evicted)
