"""The authorization model, written down as data (OpenFGA's shape), and what follows from it.

    type user
    type group
      relations
        define member: [user, group#member]
    type drive                                  # a shared drive (Paragon calls it a space)
      relations
        define owner: [user, user:*, domain, group#member]
        define editor: [user, user:*, domain, group#member] or owner
        define viewer: [user, user:*, domain, group#member] or editor
        define can_read: viewer
        define can_write: editor
        define is_owner: owner
    type folder, file
      relations
        define parent: [folder, drive]
        define owner: [user, user:*, domain, group#member]
        define editor: [user, user:*, domain, group#member] or owner
        define viewer: [user, user:*, domain, group#member] or editor
        define can_read: viewer or can_read from parent
        define can_write: editor or can_write from parent
        define is_owner: owner

Ownership is not inherited: the owner of a folder can edit what is in it (`can_write from
parent`) but does not own it, as in Google Drive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

__all__ = [
    "MODEL",
    "ROLES",
    "Computed",
    "FromParent",
    "Rule",
    "This",
    "direct_relations",
    "parent_steps",
    "reverse_plan",
]


@dataclass(frozen=True, slots=True)
class This:
    """Subjects that hold the relation through a tuple on the object itself."""


@dataclass(frozen=True, slots=True)
class Computed:
    """Whoever holds `relation` on the same object."""

    relation: str


@dataclass(frozen=True, slots=True)
class FromParent:
    """Whoever holds `relation` on an object this one points to through `tupleset` tuples."""

    tupleset: str
    relation: str


Rule = This | Computed | FromParent

_ITEM: Mapping[str, tuple[Rule, ...]] = {
    "parent": (This(),),
    "owner": (This(),),
    "editor": (This(), Computed("owner")),
    "viewer": (This(), Computed("editor")),
    "can_read": (Computed("viewer"), FromParent("parent", "can_read")),
    "can_write": (Computed("editor"), FromParent("parent", "can_write")),
    "is_owner": (Computed("owner"),),
}

MODEL: Mapping[str, Mapping[str, tuple[Rule, ...]]] = {
    "user": {},
    "group": {"member": (This(),)},
    "drive": {
        "owner": (This(),),
        "editor": (This(), Computed("owner")),
        "viewer": (This(), Computed("editor")),
        "can_read": (Computed("viewer"),),
        "can_write": (Computed("editor"),),
        "is_owner": (Computed("owner"),),
    },
    "folder": _ITEM,
    "file": _ITEM,
}

ROLES = ("can_read", "can_write", "is_owner")
"""The relations the Permissions API answers for."""

PARENT_TYPES = ("folder", "drive")
"""What a `parent` tuple may point to."""


@cache
def _expansion(object_type: str, relation: str) -> tuple[frozenset[str], frozenset[FromParent]]:
    """Follow `Computed` rules from `relation`: the relations granted by their own tuples, and
    the steps to other objects, that together define it."""
    direct: set[str] = set()
    steps: set[FromParent] = set()
    pending, seen = [relation], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for rule in MODEL.get(object_type, {}).get(current, ()):
            if isinstance(rule, This):
                direct.add(current)
            elif isinstance(rule, Computed):
                pending.append(rule.relation)
            else:
                steps.add(rule)
    return frozenset(direct), frozenset(steps)


def direct_relations(object_type: str, relation: str) -> frozenset[str]:
    """The relations whose own tuples grant `relation` on an object of this type."""
    return _expansion(object_type, relation)[0]


def parent_steps(object_type: str, relation: str) -> frozenset[FromParent]:
    """Where else to look: the (tupleset, relation on the target) steps of `relation`."""
    return _expansion(object_type, relation)[1]


@cache
def reverse_plan(object_type: str, relation: str) -> tuple[frozenset[str], bool]:
    """How to find every object of this type on which someone holds `relation`, walking down.

    Returns the direct relations to start from, on any object type, and whether access flows
    down `parent` tuples. Exact only when every type reached grants the relation through the
    same direct relations (true of this model; `tests/unit/permissions` checks it), so that
    "a granted ancestor" is the whole condition.
    """
    relations: set[str] = set(direct_relations(object_type, relation))
    inherited = False
    pending = [(object_type, relation)]
    seen: set[tuple[str, str]] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        relations |= direct_relations(*current)
        for step in parent_steps(*current):
            inherited = True
            pending.extend((target, step.relation) for target in PARENT_TYPES)
    return frozenset(relations), inherited
