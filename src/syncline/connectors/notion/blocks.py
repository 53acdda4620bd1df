"""A page's content as Notion returns it, block by block, with each block's children read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from syncline.types import JSONObject

__all__ = ["CONTAINERS", "BlockNode", "payload", "sub_pages", "walk"]

CONTAINERS = frozenset({"child_page", "child_database"})
"""Blocks that stand for a page or a database of their own (the block's id is theirs): their
content is not their parent's, so it is never read as part of it."""


@dataclass(frozen=True, slots=True)
class BlockNode:
    """A block object (`GET /v1/blocks/{id}/children`) and its own children, read likewise."""

    block: JSONObject
    children: tuple[BlockNode, ...] = ()

    @property
    def type(self) -> str:
        kind = self.block.get("type")
        return kind if isinstance(kind, str) else ""

    @property
    def id(self) -> str:
        value = self.block.get("id")
        return value if isinstance(value, str) else ""


def payload(node: BlockNode) -> JSONObject:
    """The block's type-specific object (`block[block.type]`), empty when absent."""
    value = node.block.get(node.type)
    return value if isinstance(value, dict) else {}


def walk(nodes: Sequence[BlockNode]) -> Iterator[BlockNode]:
    """Every block of the content, depth first, in document order."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def sub_pages(nodes: Sequence[BlockNode]) -> list[tuple[str, str]]:
    """The pages and databases placed in this content, at any depth (in a toggle, a column),
    in document order: `("page" | "database", id)`."""
    found = []
    for node in walk(nodes):
        if node.type in CONTAINERS and node.id:
            found.append(("page" if node.type == "child_page" else "database", node.id))
    return found
