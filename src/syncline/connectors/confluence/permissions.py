"""Confluence's permissions in Syncline's permission model: pure functions, no I/O.

Confluence lets a user read a page when a space permission (`read` on `space`) names them or
a group of theirs, **and** every page from it up to the space's root that has a read
restriction lists them or a group of theirs (view restrictions are inherited down the tree).
That is an intersection; Syncline's model (`permissions.model`) only unites: an object's
readers are its own grants, its parents' readers and its drive's members. So:

- A page with no read restriction on it or above it is in its space's container
  (`Access.container` = the space id): its readers are the space's readers
  (`container_grants`), users by email and groups by id.
- A page under (or with) read restrictions gets no container and no parent, only one grant:
  `viewer` to the group `page-readers:<id>`, where `<id>` is the nearest restricted page (the
  page itself or its lowest restricted ancestor; every page below it without a restriction of
  its own has the same readers). That group is not Confluence's: the connector computes its
  members when the engine asks (`group_members`), as the intersection of the space's readers
  and of every restriction on the way up (`intersection`). Groups named by every one of those
  sets stay groups (their members are then read, and re-read, as any group's); other users are
  named one by one. So the answer follows Confluence's at the pace of group memberships
  (`SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE`), restrictions and space permissions included.

Never more than Confluence grants, at the time of reading: a user whose email their profile
hides cannot be named (the Permissions API speaks emails) and gets nothing; principals other
than users and groups (roles, anonymous access) give nothing; only reading is modelled
(`can_read`: Confluence's edit rights, space permissions to edit with page edit restrictions
that are not inherited, are not derived, so `can_write` and `is_owner` are never granted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from syncline.connectors.bodies import objects, text
from syncline.domain.permissions import Access, Grant, Relation, group_subject, user_subject
from syncline.types import JSONObject

__all__ = [
    "READERS_PREFIX",
    "Principals",
    "Restriction",
    "intersection",
    "page_access",
    "readers_group",
    "restricted_page",
    "restriction_of",
    "space_grants",
    "space_readers",
    "subjects",
]

READERS_PREFIX = "page-readers:"
"""The groups Syncline makes of restricted pages' readers: `group:page-readers:<page id>`
(Confluence's own group ids are UUIDs, so the names cannot meet)."""


@dataclass(frozen=True, slots=True)
class Principals:
    """Who a space permission or a restriction names: account ids and group ids."""

    accounts: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def admits(self, account: str, members: Mapping[str, frozenset[str]]) -> bool:
        """Whether the account is named, or is a member of a named group (a group whose members
        are unknown admits nobody)."""
        return account in self.accounts or any(
            account in members.get(group, frozenset()) for group in self.groups
        )


@dataclass(frozen=True, slots=True)
class Restriction:
    """A page's own read restriction: who it names, their emails where the answer showed them,
    and whether the answer may have left some out (a list as long as its limit)."""

    principals: Principals
    emails: Mapping[str, str]
    truncated: bool = False


def readers_group(page_id: str) -> str:
    return f"{READERS_PREFIX}{page_id}"


def restricted_page(group: str) -> str | None:
    """The page whose readers `group` is, for a group `readers_group` made; else None."""
    if not group.startswith(READERS_PREFIX):
        return None
    page = group[len(READERS_PREFIX) :]
    return page if page.isdigit() else None


def _email(user: JSONObject) -> str | None:
    """A v1 user's email: empty when the user's privacy settings hide it."""
    email = text(user, "email")
    return email if email and "@" in email else None


def restriction_of(operation: JSONObject) -> Restriction | None:
    """The v1 `ContentRestriction` of the `read` operation (`{operation, restrictions: {user:
    {results, size, limit}, group: {...}}}`) as a restriction; None when it names nobody (the
    page is not read-restricted)."""
    restrictions = operation.get("restrictions")
    if not isinstance(restrictions, dict):
        return None
    accounts: set[str] = set()
    groups: set[str] = set()
    emails: dict[str, str] = {}
    truncated = False
    for kind in ("user", "group"):
        listing = restrictions.get(kind)
        if not isinstance(listing, dict):
            continue
        results = objects(listing, "results", "Confluence")
        limit = listing.get("limit")
        if isinstance(limit, int) and limit > 0 and len(results) >= limit:
            truncated = True
        for entry in results:
            if kind == "user" and (account := text(entry, "accountId")) is not None:
                accounts.add(account)
                if (email := _email(entry)) is not None:
                    emails[account] = email
            elif kind == "group" and (group := text(entry, "id")) is not None:
                groups.add(group)
    if not accounts and not groups and not truncated:
        return None
    return Restriction(Principals(frozenset(accounts), frozenset(groups)), emails, truncated)


def space_readers(assignments: Iterable[JSONObject]) -> Principals:
    """The users and groups a space's v2 permission assignments give `read` on `space`."""
    accounts: set[str] = set()
    groups: set[str] = set()
    for assignment in assignments:
        operation = assignment.get("operation")
        principal = assignment.get("principal")
        if not isinstance(operation, dict) or not isinstance(principal, dict):
            continue
        if operation.get("key") != "read" or operation.get("targetType") != "space":
            continue
        kind, principal_id = principal.get("type"), text(principal, "id")
        if principal_id is None:
            continue
        if kind == "user":
            accounts.add(principal_id)
        elif kind == "group":
            groups.add(principal_id)
    return Principals(frozenset(accounts), frozenset(groups))


def page_access(space_id: str | None, restricted: Sequence[str]) -> Access:
    """A page's access: in its space when nothing restricts it (`restricted` lists the pages
    with read restrictions from the root down to the page), else the readers of the lowest of
    them."""
    if not restricted:
        return Access((), space_id)
    return Access((Grant(Relation.VIEWER, group_subject(readers_group(restricted[-1]))),), None)


def intersection(
    sets: Sequence[Principals], members: Mapping[str, frozenset[str]]
) -> tuple[frozenset[str], frozenset[str]]:
    """Who every one of `sets` admits, as (groups named by all of them, the other accounts all
    of them admit). `members` holds the member accounts of the groups the sets name; a group
    missing from it admits nobody through its members."""
    if not sets:
        return frozenset(), frozenset()
    groups = frozenset.intersection(*(s.groups for s in sets))
    candidates: set[str] = set()
    for principals in sets:
        candidates |= principals.accounts
        for group in principals.groups:
            candidates |= members.get(group, frozenset())
    covered = {a for g in groups for a in members.get(g, frozenset())}
    accounts = frozenset(a for a in candidates - covered if all(s.admits(a, members) for s in sets))
    return groups, accounts


def subjects(
    groups: Iterable[str], accounts: Iterable[str], emails: Mapping[str, str]
) -> list[str]:
    """Groups and accounts as subjects (`group:<id>`, `user:<email>`), sorted; accounts whose
    email is unknown are left out."""
    found = {group_subject(g) for g in groups}
    found |= {user_subject(emails[a]) for a in accounts if a in emails}
    return sorted(found)


def space_grants(readers: Principals, emails: Mapping[str, str]) -> list[Grant]:
    """A space's readers as `viewer` grants on the space (the container of its unrestricted
    pages)."""
    return [Grant(Relation.VIEWER, s) for s in subjects(readers.groups, readers.accounts, emails)]
