"""Reads what Confluence's permissions are made of, for one run: each page's ancestors and
read restriction, spaces' permission assignments, groups' members and users' emails; each read
once per run (the connector is built anew for every run), and in batches where Confluence
allows. What they mean is `permissions`'.

- Pages: one CQL search (`GET /wiki/rest/api/content/search?cql=id in (...)`) expands the
  ancestors, the space and the read restriction (`restrictions.read.restrictions.user`,
  `.group`) of up to `FACTS_BATCH` pages. A page the search does not find (archived pages and
  pages the search index has not caught up with) is read on its own: `GET
  /wiki/api/v2/pages/{id}`, `/ancestors`, and `GET
  /wiki/rest/api/content/{id}/restriction/byOperation/read`, which also completes a
  restriction whose expanded lists may have been cut at their limit.
- Spaces: `GET /wiki/api/v2/spaces/{id}/permissions`.
- Groups: `GET /wiki/rest/api/group/{groupId}/membersByGroupId`.
- Emails: `GET /wiki/rest/api/user/bulk` (100 accounts a call) for the users space permissions
  name (restrictions and group members come with theirs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from syncline.connectors.bodies import objects, text
from syncline.connectors.confluence.client import ConfluenceClient
from syncline.connectors.confluence.permissions import (
    Principals,
    Restriction,
    intersection,
    page_access,
    restriction_of,
    space_grants,
    space_readers,
    subjects,
)
from syncline.domain.permissions import Access, Grant
from syncline.errors import UpstreamNotFound, UpstreamPermissionDenied
from syncline.types import JSON, JSONObject

__all__ = ["FACTS_BATCH", "AccessReader", "PageFacts"]

FACTS_BATCH = 100
"""Pages per CQL `id in (...)` search (its URL stays near a kilobyte)."""
USERS_BATCH = 100
"""Accounts per `user/bulk` ("If more than 100 account ids are passed in, then the first 100
will be returned")."""
MEMBERS_PAGE = 200
"""Members per `membersByGroupId` page: its maximum."""
RESTRICTION_PAGE = 100
ANCESTORS_PAGE = 250
_EXPAND = "ancestors,space,restrictions.read.restrictions.user,restrictions.read.restrictions.group"


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page's access depends on: its space, its ancestors (from the root down), and its
    own read restriction (None: it has none)."""

    space_id: str | None
    ancestors: tuple[str, ...]
    restriction: Restriction | None


def _ids(values: JSON) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(i for v in values if isinstance(v, dict) and (i := text(v, "id")) is not None)


def _space_id(content: JSONObject) -> str | None:
    space = content.get("space")
    if not isinstance(space, dict):
        return None
    value = space.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # v1 spaces' ids are integers
    return text(space, "id")


class AccessReader:
    """One run's reads of permissions, remembered for the rest of the run."""

    def __init__(self, client: ConfluenceClient) -> None:
        self._client = client
        self._facts: dict[str, PageFacts | None] = {}
        self._spaces: dict[str, Principals] = {}
        self._members: dict[str, frozenset[str] | None] = {}
        self._emails: dict[str, str] = {}
        self._looked_up: set[str] = set()

    # -- pages --------------------------------------------------------------------------------

    async def facts(self, page_ids: Iterable[str]) -> dict[str, PageFacts | None]:
        """The facts of these pages (None for a page that is gone or hidden from the user)."""
        wanted = list(dict.fromkeys(page_ids))
        missing = [p for p in wanted if p not in self._facts]
        for first in range(0, len(missing), FACTS_BATCH):
            await self._search(missing[first : first + FACTS_BATCH])
        for page_id in missing:
            known = self._facts.get(page_id)
            if known is None or (known.restriction is not None and known.restriction.truncated):
                self._facts[page_id] = await self._alone(page_id, known)
        return {p: self._facts[p] for p in wanted}

    async def _search(self, batch: Sequence[str]) -> None:
        params = {"cql": f"id in ({','.join(batch)})", "expand": _EXPAND, "limit": str(len(batch))}
        async for listed, _ in self._client.each_page("/wiki/rest/api/content/search", params):
            for content in listed.results:
                page_id = text(content, "id")
                if page_id is None or page_id not in batch:
                    continue
                restrictions = content.get("restrictions")
                read = restrictions.get("read") if isinstance(restrictions, dict) else None
                self._facts[page_id] = PageFacts(
                    _space_id(content),
                    _ids(content.get("ancestors")),
                    restriction_of(read) if isinstance(read, dict) else None,
                )

    async def _alone(self, page_id: str, known: PageFacts | None) -> PageFacts | None:
        """One page's facts from its own endpoints (the search did not find it, or cut its
        restriction short)."""
        quoted = quote(page_id, safe="")
        if known is None:
            try:
                page = await self._client.get(f"/wiki/api/v2/pages/{quoted}")
                ancestors = await self._ancestors(page_id)
            except UpstreamNotFound:
                return None
            space_id, chain = text(page, "spaceId"), ancestors
        else:
            space_id, chain = known.space_id, known.ancestors
        try:
            restriction = await self._restriction(page_id)
        except UpstreamNotFound:
            return None
        return PageFacts(space_id, chain, restriction)

    async def _ancestors(self, page_id: str) -> tuple[str, ...]:
        """From the root down; Confluence gives the nearest `limit` ones, so a deeper chain is
        read on from the first of them."""
        chain: tuple[str, ...] = ()
        below = page_id
        while True:
            body = await self._client.get(
                f"/wiki/api/v2/pages/{quote(below, safe='')}/ancestors",
                {"limit": str(ANCESTORS_PAGE)},
            )
            found = _ids(body.get("results"))
            chain = found + chain
            if len(found) < ANCESTORS_PAGE or not found or found[0] in chain[len(found) :]:
                return chain
            below = found[0]

    async def _restriction(self, page_id: str) -> Restriction | None:
        """A page's read restriction, every user and group of it (`start`/`limit` paging)."""
        path = f"/wiki/rest/api/content/{quote(page_id, safe='')}/restriction/byOperation/read"
        accounts: set[str] = set()
        groups: set[str] = set()
        emails: dict[str, str] = {}
        start = 0
        while True:
            body = await self._client.get(
                path, {"start": str(start), "limit": str(RESTRICTION_PAGE)}
            )
            part = restriction_of(body)
            if part is None:
                break
            accounts |= part.principals.accounts
            groups |= part.principals.groups
            emails.update(part.emails)
            if not part.truncated:
                break
            start += RESTRICTION_PAGE
        if not accounts and not groups:
            return None
        return Restriction(Principals(frozenset(accounts), frozenset(groups)), emails)

    async def restricted_chain(self, page_id: str, facts: PageFacts) -> list[str] | None:
        """The pages with read restrictions from the root down to this one; None when an
        ancestor cannot be read (nothing is granted then)."""
        known = await self.facts(facts.ancestors)
        chain: list[str] = []
        for ancestor in facts.ancestors:
            found = known[ancestor]
            if found is None:
                return None
            if found.restriction is not None:
                chain.append(ancestor)
        if facts.restriction is not None:
            chain.append(page_id)
        return chain

    async def access_of(self, pages: Sequence[JSONObject]) -> dict[str, Access]:
        """The access of each page (by id): see `permissions`."""
        ids = [i for p in pages if (i := text(p, "id")) is not None]
        known = await self.facts(ids)
        # The pages' ancestors, all at once: most are shared.
        await self.facts(a for f in known.values() if f is not None for a in f.ancestors)
        found: dict[str, Access] = {}
        for page in pages:
            page_id = text(page, "id")
            if page_id is None:
                continue
            facts = known.get(page_id)
            chain = None if facts is None else await self.restricted_chain(page_id, facts)
            if facts is None or chain is None:
                found[page_id] = Access()  # unreadable facts: grant nothing
                continue
            found[page_id] = page_access(text(page, "spaceId") or facts.space_id, chain)
        return found

    # -- spaces, groups, users ----------------------------------------------------------------

    async def space_principals(self, space_id: str) -> Principals:
        """Who has `read` on the space.

        Raises:
            UpstreamNotFound: the space is gone or hidden from the user.
        """
        known = self._spaces.get(space_id)
        if known is not None:
            return known
        assignments: list[JSONObject] = []
        path = f"/wiki/api/v2/spaces/{quote(space_id, safe='')}/permissions"
        async for listed, _ in self._client.each_page(path, {"limit": "250"}):
            assignments += listed.results
        found = space_readers(assignments)
        self._spaces[space_id] = found
        return found

    async def members(self, group: str) -> frozenset[str] | None:
        """A group's member accounts; None when this credential may not read them, empty for a
        group that is gone."""
        if group in self._members:
            return self._members[group]
        accounts: set[str] = set()
        path = f"/wiki/rest/api/group/{quote(group, safe='')}/membersByGroupId"
        found: frozenset[str] | None
        try:
            pages = self._client.each_page(path, {"start": "0", "limit": str(MEMBERS_PAGE)})
            async for listed, _ in pages:
                for user in listed.results:
                    account = text(user, "accountId")
                    if account is None:
                        continue
                    accounts.add(account)
                    self._looked_up.add(account)
                    email = text(user, "email")
                    if email and "@" in email:
                        self._emails[account] = email
            found = frozenset(accounts)
        except UpstreamNotFound:
            found = frozenset()
        except UpstreamPermissionDenied:
            found = None
        self._members[group] = found
        return found

    async def emails(self, accounts: Iterable[str]) -> dict[str, str]:
        """The visible emails of these accounts (hidden ones are left out)."""
        wanted = set(accounts)
        unknown = sorted(a for a in wanted - self._looked_up if a not in self._emails)
        for first in range(0, len(unknown), USERS_BATCH):
            chunk = unknown[first : first + USERS_BATCH]
            body = await self._client.get(
                "/wiki/rest/api/user/bulk", [("accountId", a) for a in chunk]
            )
            for user in objects(body, "results", "Confluence"):
                account, email = text(user, "accountId"), text(user, "email")
                if account is not None and email and "@" in email:
                    self._emails[account] = email
            self._looked_up.update(chunk)
        return {a: self._emails[a] for a in wanted if a in self._emails}

    def remember(self, restriction: Restriction) -> None:
        self._emails.update(restriction.emails)

    async def container_grants(self, space_id: str) -> list[Grant]:
        """The space's readers as grants on it.

        Raises:
            UpstreamNotFound: the space is gone or hidden from the user.
        """
        readers = await self.space_principals(space_id)
        return space_grants(readers, await self.emails(readers.accounts))

    async def group_members(self, group: str) -> list[str] | None:
        """A Confluence group's members (`user:<email>`); None when not readable."""
        accounts = await self.members(group)
        if accounts is None:
            return None
        return subjects((), accounts, await self.emails(accounts))

    async def page_readers(self, page_id: str) -> list[str]:
        """Who may read the page, and each page below it that has no restriction of its own:
        the space's readers, narrowed by every read restriction from the root down to it
        (`permissions.intersection`). Nobody when the page, an ancestor or the space cannot be
        read any more (the next listing drops or re-homes the pages)."""
        facts = (await self.facts([page_id]))[page_id]
        if facts is None or facts.space_id is None:
            return []
        chain = await self.restricted_chain(page_id, facts)
        if chain is None:
            return []
        try:
            sets = [await self.space_principals(facts.space_id)]
        except UpstreamNotFound:
            return []
        for restricted in chain:
            found = self._facts.get(restricted)
            if found is None or found.restriction is None:
                return []
            self.remember(found.restriction)
            sets.append(found.restriction.principals)
        members: dict[str, frozenset[str]] = {}
        for group in sorted({g for s in sets for g in s.groups}):
            accounts = await self.members(group)
            if accounts is not None:
                members[group] = accounts
        groups, accounts = intersection(sets, members)
        return subjects(groups, accounts, await self.emails(accounts))
