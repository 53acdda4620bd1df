"""Which items of a hierarchical source's change feed belong to a sync's scope.

For any connector whose items sit in folders (`Capabilities.hierarchical`: Google Drive,
SharePoint and OneDrive, Box, Dropbox, ...). A change feed lists an item with its parents but
says nothing of items whose place changed only through an ancestor: a folder moved into the
scope arrives without its contents, one moved out leaves its descendants behind. This keeps what
the feed itself proves in scope, and says when only a full listing can reconcile the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from syncline.connectors.base import Scope
from syncline.domain.records import ChangePage, Upsert


@runtime_checkable
class FolderReader(Protocol):
    """A connector that can list a folder's items (to reconcile folders a feed shows bare)."""

    async def children(self, folder_id: str, limit: int) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ScopedChanges:
    upserts: list[Upsert]
    deletions: list[str]
    """Deleted upstream, or moved out of scope: the store tombstones the ones it holds."""
    structure_changed: bool
    """A folder entered or left the scope: its descendants need a full listing to reconcile."""


MAX_PROBES = 10
"""New folders of one page checked for contents; past this many, a full sync follows anyway."""
PROBE_LIMIT = 100
"""Children read per new folder; a folder with more needs a full sync."""


def flat_changes(page: ChangePage, scope: Scope) -> ScopedChanges:
    """The in-scope part of a page from a source without folders: everything, or the chosen
    items (others are deletions, so one that leaves the selection leaves the sync)."""
    if not scope.file_ids:
        return ScopedChanges(list(page.upserts), list(page.deletions), structure_changed=False)
    chosen = [u for u in page.upserts if u.external_id in scope.file_ids]
    outside = [u.external_id for u in page.upserts if u.external_id not in scope.file_ids]
    return ScopedChanges(chosen, [*page.deletions, *outside], structure_changed=False)


async def scope_changes(
    page: ChangePage,
    scope: Scope,
    known_folders: Callable[[Iterable[str]], Awaitable[set[str]]],
    children: Callable[[str, int], Awaitable[list[str]]] | None = None,
) -> ScopedChanges:
    """Split a change page into in-scope upserts and deletions.

    A folder-scoped sync holds an item when its parent is the root folder or a folder the sync
    holds; folders met in the same page count as soon as they are found in scope.

    A sync of everything has the same blind spot in a feed that lists a folder, but not its
    contents, when the folder becomes visible or invisible (Drive: shared with or unshared from
    the user, moved from or to where the user cannot see): a held folder that leaves, or a
    folder new to the sync with `children` (up to a limit of ids) the page does not bring, means
    its descendants need a full listing to reconcile.
    """
    if scope.is_everything:
        return ScopedChanges(
            list(page.upserts),
            list(page.deletions),
            structure_changed=await _visibility_changed(page, known_folders, children),
        )
    if scope.file_ids:
        return flat_changes(page, scope)

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


async def _visibility_changed(
    page: ChangePage,
    known_folders: Callable[[Iterable[str]], Awaitable[set[str]]],
    children: Callable[[str, int], Awaitable[list[str]]] | None,
) -> bool:
    new_folders = [u.external_id for u in page.upserts if u.is_folder]
    if not page.deletions and not new_folders:
        return False
    held = await known_folders([*page.deletions, *new_folders])
    if any(ext in held for ext in page.deletions):
        return True  # what was below it may have left with it, with no change of its own
    arrived = [ext for ext in new_folders if ext not in held]
    if not arrived:
        return False
    if children is None or len(arrived) > MAX_PROBES:
        return True
    # A folder just created is empty, or its items come in the feed beside it.
    in_page = {u.external_id for u in page.upserts}
    for folder in arrived:
        found = await children(folder, PROBE_LIMIT)
        if len(found) >= PROBE_LIMIT or not in_page.issuperset(found):
            return True
    return False
