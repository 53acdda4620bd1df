"""The append-only change log behind `changes.list`.

Each entry records which users could see the item before or after the mutation (its
audience). Drive's feed lists an item once, at its latest change: an entry is shown to a user
only if no later entry for the same item also concerns that user. Parallel lists rather than
one object per entry keep a million-file log cheap to build.
"""

from __future__ import annotations

from itertools import repeat

__all__ = ["ChangeLog"]


class ChangeLog:
    """Entries are addressed by position; position `len(log)` is "now"."""

    def __init__(self) -> None:
        self.keys: list[str] = []  # file id, or shared-drive id for drive entries
        self.times: list[float] = []
        self.audiences: list[frozenset[str]] = []
        self.drive_ids: list[str | None] = []  # the item's shared drive when it changed
        self.is_drive: list[bool] = []
        self._prev: list[int] = []  # previous entry for the same key, -1 if none
        self._last: tuple[dict[str, int], dict[str, int]] = ({}, {})  # files, drives

    def __len__(self) -> int:
        return len(self.keys)

    def append(
        self,
        key: str,
        time: float,
        audience: frozenset[str],
        drive_id: str | None,
        *,
        is_drive: bool = False,
    ) -> None:
        """Record one mutation."""
        index = len(self.keys)
        self.keys.append(key)
        self.times.append(time)
        self.audiences.append(audience)
        self.drive_ids.append(drive_id)
        self.is_drive.append(is_drive)
        last = self._last[is_drive]
        self._prev.append(last.get(key, -1))
        last[key] = index

    def extend(
        self,
        keys: list[str],
        times: list[float],
        audiences: list[frozenset[str]],
        drive_ids: list[str | None],
    ) -> None:
        """Record many file mutations at once (bulk loading), in order."""
        start = len(self.keys)
        last = self._last[False]
        self._prev.extend([last.get(key, -1) for key in keys])
        self.keys.extend(keys)
        self.times.extend(times)
        self.audiences.extend(audiences)
        self.drive_ids.extend(drive_ids)
        self.is_drive.extend(repeat(False, len(keys)))
        last.update(zip(keys, range(start, start + len(keys)), strict=True))

    def superseded(self, index: int, names: frozenset[str]) -> bool:
        """Whether a later entry for the same item also concerns a user known by `names`
        (the user and their groups)."""
        later = self._last[self.is_drive[index]][self.keys[index]]
        while later > index:
            if not names.isdisjoint(self.audiences[later]):
                return True
            later = self._prev[later]
        return False
