"""Where a page sits: the nearest page above it, and whether it is below one of a sync's
configured pages.

A page names its parent (a page, a block of a page's content, a database, or the workspace);
the rest of the chain is learnt from objects already read (every block of content read, every
page listed) and otherwise fetched once per run (`GET /v1/pages|blocks|databases/{id}`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence

from syncline.connectors.notion.blocks import BlockNode, walk
from syncline.connectors.notion.normalize import Ref, parent_ref
from syncline.types import JSONObject

__all__ = ["MAX_DEPTH", "Ancestry"]

MAX_DEPTH = 64
"""Parents followed at most (Notion's nesting is far shallower; this only bounds a loop)."""

Fetch = Callable[[Ref], Awaitable[JSONObject | None]]
"""Reads an object (None: absent, or not shared with the integration)."""


class Ancestry:
    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._parents: dict[Ref, Ref | None] = {}
        self._unreadable: set[Ref] = set()

    def learn(self, ref: Ref, obj: JSONObject) -> None:
        """`obj` (page, block or database `ref`) was read: remember its parent."""
        self._parents[ref] = parent_ref(obj)

    def learn_content(self, nodes: Sequence[BlockNode]) -> None:
        """Blocks of some page's content were read: each names its parent, and a `child_page`
        or `child_database` block names the page's or database's (their ids are one)."""
        for node in walk(nodes):
            if not node.id:
                continue
            self.learn(("block", node.id), node.block)
            if node.type == "child_page":
                self.learn(("page", node.id), node.block)
            elif node.type == "child_database":
                self.learn(("database", node.id), node.block)

    async def _parent(self, ref: Ref) -> tuple[bool, Ref | None]:
        """(whether `ref` could be read, its parent)."""
        if ref in self._parents:
            return True, self._parents[ref]
        if ref in self._unreadable:
            return False, None
        found = await self._fetch(ref)
        if found is None:
            self._unreadable.add(ref)
            return False, None
        self.learn(ref, found)
        return True, self._parents[ref]

    async def folder(self, obj: JSONObject) -> str | None:
        """The nearest page above `obj` (through blocks and databases); None at the workspace,
        or when the chain leads to something the integration cannot read."""
        ref = parent_ref(obj)
        for _ in range(MAX_DEPTH):
            if ref is None:
                return None
            if ref[0] == "page":
                return ref[1]
            readable, ref = await self._parent(ref)
            if not readable:
                return None
        return None

    async def within(self, page_id: str, page: JSONObject, roots: Collection[str]) -> bool:
        """Whether the page is one of `roots` or below one of them."""
        if page_id in roots:
            return True
        ref = parent_ref(page)
        for _ in range(MAX_DEPTH):
            if ref is None:
                return False
            if ref[0] == "page" and ref[1] in roots:
                return True
            readable, ref = await self._parent(ref)
            if not readable:
                return False
        return False
