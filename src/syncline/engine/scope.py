"""Which items of an upstream change feed belong to a sync's scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from syncline.connectors.base import Scope
from syncline.domain.records import ChangePage, Upsert


@dataclass(frozen=True, slots=True)
class ScopedChanges:
    upserts: list[Upsert]
    deletions: list[str]
    """Deleted upstream, or moved out of scope: the store tombstones the ones it holds."""
    structure_changed: bool
    """A folder entered or left the scope: its descendants need a full listing to reconcile."""


async def scope_changes(
    page: ChangePage,
    scope: Scope,
    known_folders: Callable[[Iterable[str]], Awaitable[set[str]]],
) -> ScopedChanges:
    """Split a change page into in-scope upserts and deletions.

    A folder-scoped sync holds an item when its parent is the root folder or a folder the sync
    holds; folders met in the same page count as soon as they are found in scope.
    """
    if scope.is_everything:
        return ScopedChanges(list(page.upserts), list(page.deletions), structure_changed=False)
    if scope.file_ids:
        chosen = [u for u in page.upserts if u.external_id in scope.file_ids]
        outside = [u.external_id for u in page.upserts if u.external_id not in scope.file_ids]
        return ScopedChanges(chosen, [*page.deletions, *outside], structure_changed=False)

    assert scope.folder_id is not None
    parents = {p for u in page.upserts for p in u.parent_ids}
    held = await known_folders(parents | {u.external_id for u in page.upserts if u.is_folder})
    folders = held | {scope.folder_id}
    pending = list(page.upserts)
    inside: list[Upsert] = []
    # Fixpoint: a child may precede its (new) parent folder within one page.
    progressed = True
    while progressed:
        progressed = False
        rest = []
        for item in pending:
            if item.external_id == scope.folder_id or folders.intersection(item.parent_ids):
                inside.append(item)
                if item.is_folder and item.external_id not in folders:
                    folders.add(item.external_id)
                    progressed = True
            else:
                rest.append(item)
        pending = rest
    entered = any(u.is_folder and u.external_id not in held for u in inside)
    left_ids = [u.external_id for u in pending]
    left = any(u.is_folder and u.external_id in held for u in pending)
    removed_folders = any(ext in held for ext in page.deletions)
    return ScopedChanges(
        inside,
        [*page.deletions, *left_ids],
        structure_changed=entered or left or removed_folders,
    )
