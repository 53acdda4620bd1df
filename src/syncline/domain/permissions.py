"""Who may open an item upstream, as connectors report it: grants, containers and groups.

Subjects are typed strings, the same shape the Permissions API speaks:
- `user:<email>` (lowercased), or `user:*` for anyone with the link;
- `domain:<domain>` for everyone in a Workspace domain;
- `group:<email>` for the members of a group (nested groups resolve through the directory).

Relations on items are `owner`, `editor` and `viewer`; connectors map their provider's roles
onto these (see each connector's README).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ANYONE",
    "Access",
    "Grant",
    "Relation",
    "domain_subject",
    "group_subject",
    "user_subject",
]


class Relation(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"
    PARENT = "parent"
    MEMBER = "member"


ANYONE = "user:*"


def user_subject(email: str) -> str:
    return f"user:{email.strip().lower()}"


def group_subject(email: str) -> str:
    return f"group:{email.strip().lower()}"


def domain_subject(domain: str) -> str:
    return f"domain:{domain.strip().lower()}"


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """`subject` holds `relation` (owner, editor or viewer) directly on an item."""

    relation: Relation
    subject: str


@dataclass(frozen=True, slots=True)
class Access:
    """What a connector knows of an item's permissions, beside the item itself.

    `grants` are the item's own grants: access inherited from a parent folder or from the
    shared drive is not repeated here, because the evaluator follows parents itself (and so a
    folder unshared upstream takes its children's inherited access with it at once).
    `container` is the shared drive (or space) the item lives in, whose members reach every item
    inside it even when the folders between are not synced.
    """

    grants: tuple[Grant, ...] = ()
    container: str | None = None
