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


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


@dataclass(slots=True)
class PathIndex:
    """Lower-cased path -> (id, is folder), and back. `complete`: it holds every item of the
    sync's scope (built by a whole listing), so a path it does not hold holds nothing.

    `children` (a path -> the paths directly below it) makes a subtree cost its own size: a
    listing puts every item, and looking for what sits below each one must not scan them all."""

    complete: bool
    paths: dict[str, tuple[str, bool]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    def id_at(self, path: str) -> str | None:
        found = self.paths.get(path)
        return None if found is None else found[0]

    def _set(self, path: str, entry: tuple[str, bool]) -> None:
        self.paths[path] = entry
        # Link the path to its parent, and up the chain to the first ancestor already linked:
        # a feed can bring `/a/b/c` without `/a/b`, and `/a`'s subtree must still find it.
        while path:
            parent = _parent(path)
            siblings = self.children.setdefault(parent, set())
            if path in siblings:
                break
            siblings.add(path)
            path = parent

    def _pop(self, path: str) -> tuple[str, bool] | None:
        entry = self.paths.pop(path, None)
        # Unlink what no longer leads to an indexed path, up the chain.
        while path and path not in self.paths and not self.children.get(path):
            self.children.pop(path, None)
            parent = _parent(path)
            siblings = self.children.get(parent)
            if siblings is None:
                break
            siblings.discard(path)
            path = parent
        return entry

    def _under(self, path: str) -> list[str]:
        """Every indexed path below `path`, parents before their children."""
        found: list[str] = []
        pending = [path]
        while pending:
            for child in self.children.get(pending.pop(), ()):
                pending.append(child)
                if child in self.paths:
                    found.append(child)
        return found

    def put(self, path: str, item_id: str, is_folder: bool) -> list[str]:
        """`item_id` is now at `path`; returns the ids this displaced (whatever else was at the
        path, and for a file there, all its children: Dropbox's rule for a file entry).

        A folder moving takes its subtree to the new path."""
        displaced: list[str] = []
        old = self.ids.get(item_id)
        if old is not None and old != path:
            self._pop(old)
            if is_folder:
                for child in self._under(old):
                    entry = self._pop(child)
                    if entry is None:
                        continue
                    moved = path + child[len(old) :]
                    self._set(moved, entry)
                    self.ids[entry[0]] = moved
        there = self.paths.get(path)
        if there is not None and there[0] != item_id:
            displaced.append(there[0])
            self.ids.pop(there[0], None)
        if not is_folder:
            displaced += self._drop_under(path)
        self._set(path, (item_id, is_folder))
        self.ids[item_id] = path
        return displaced

    def _drop_under(self, path: str) -> list[str]:
        gone = []
        for child in self._under(path):
            entry = self._pop(child)
            if entry is not None:
                self.ids.pop(entry[0], None)
                gone.append(entry[0])
        return gone

    def remove(self, path: str) -> tuple[tuple[str, bool] | None, list[str]]:
        """Take out what is at `path` and below: ((the id at the path, whether a folder) or
        None, its descendants' ids)."""
        top = self._pop(path)
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
