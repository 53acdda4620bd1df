"""The fake Confluence's world: one Cloud site (its cloud id, URL and time zone), its users
(account ids, emails that privacy settings may hide), groups and memberships, spaces and their
permission assignments, pages (a tree per space, with versions, statuses and view/edit
restrictions), and the knobs tests turn (faults, latency, a burst rate limit, the OAuth grants).

Every change goes through a method here and bumps `revision`, which the listing caches key on.

How Confluence behaves, as emulated here:

- A user sees a space when a `read`/`space` permission names them or a group they belong to.
  They see a page when they see its space **and every page from it up to the space root admits
  them**: a page with read restrictions admits only the users and groups listed (view
  restrictions are inherited down the tree, as Confluence Cloud's page restrictions work; the
  help page itself was not looked up for this fake). Edit (`update`) restrictions do not hide
  a page.
- Trashing a page sets `status: trashed` and moves its children up to its parent, as trashing a
  single page does in Confluence (recalled from the product, not re-verified: GUESS);
  `with_descendants=True` trashes the page tree instead.
  Restoring puts the page back under its old parent if that is still live, else at the space
  root. Purging deletes it for good (a 404 from then on, with no trace in any listing).
- Editing adds a version (`version.number` grows by one, `version.createdAt` and the CQL
  `lastmodified` move); renaming is an edit. Moving a page changes `parentId` (and maybe
  `spaceId`) **without a new version** (GUESS: Confluence records no version for a move; so a
  move is invisible to `lastmodified >=` searches and only a full listing notices).
- Archiving sets `status: archived` (listed by default in v2, left out of CQL search).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from syncline.sandbox.confluence.auth import AtlassianGrants
from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.traffic import Traffic

__all__ = [
    "API_PREFIX",
    "AUTHORIZE_PATH",
    "CONFLUENCE_FAULTS",
    "CONFLUENCE_PATHS",
    "CONTROL_PREFIX",
    "DEFAULT_SCOPES",
    "RESOURCES_PATH",
    "TOKEN_PATH",
    "BurstLimiter",
    "ConfluenceState",
    "Group",
    "Page",
    "Restriction",
    "Space",
    "SpacePermission",
    "User",
    "Version",
    "Viewer",
]

API_PREFIX = "/ex/confluence/"
"""`https://api.atlassian.com/ex/confluence/{cloudId}/wiki/...` on the sandbox's origin."""
RESOURCES_PATH = "/oauth/token/accessible-resources"
"""`https://api.atlassian.com/oauth/token/accessible-resources`."""
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
"""`https://auth.atlassian.com/oauth/token`."""
AUTHORIZE_PATH = "/authorize"
"""`https://auth.atlassian.com/authorize`."""
CONTROL_PREFIX = "/_confluence/"
"""The fake's own test controls (never faulted, slowed or rate limited)."""
CONFLUENCE_PATHS = (API_PREFIX, "/oauth/", AUTHORIZE_PATH, CONTROL_PREFIX)
"""Every path prefix the fake serves."""

CONFLUENCE_FAULTS = (
    "429",
    "429_quota",
    "500",
    "503",
    "401",
    "stale_cursor",
    "timeout",
    "drop",
)
"""Faults the fake can inject: a burst rate limit (429, `RateLimit-Reason:
confluence-burst-based`), the hourly points quota (429, `confluence-quota-global-based`,
`Retry-After` to the top of the next UTC hour), 500, 503 with `Retry-After`, an access token
that expires now (401), a cursor refused as invalid (requests that carry one), a hang and a
dropped connection."""

DEFAULT_SCOPES = (
    "read:page:confluence",
    "read:space:confluence",
    "read:hierarchical-content:confluence",
    "read:content.metadata:confluence",
    "search:confluence",
    "read:confluence-content.all",
    "read:confluence-groups",
    "read:confluence-user",
    "offline_access",
)
"""What `issue_tokens` grants unless told otherwise: every scope the emulated endpoints
need (granular ones for v2, classic ones for v1) and `offline_access`."""

SPACE_READ = ("read", "space")


@dataclass(slots=True)
class User:
    account_id: str
    display_name: str
    email: str
    email_visible: bool = True
    """False: the user's profile hides their email ("Depending on the user's privacy setting,
    this may return an empty string")."""
    time_zone: str | None = None
    account_type: str = "atlassian"
    is_guest: bool = False

    @property
    def public_name(self) -> str:
        return self.display_name.split(" ")[0]


@dataclass(slots=True)
class Group:
    id: str
    name: str


@dataclass(slots=True)
class Space:
    id: str
    key: str
    name: str
    author_id: str
    created: float
    type: str = "global"
    status: str = "current"
    description: str = ""
    homepage_id: str | None = None


@dataclass(slots=True)
class SpacePermission:
    id: str
    space_id: str
    principal_type: str
    """`user` or `group`."""
    principal_id: str
    key: str
    """`read`, `create`, `delete`, `administer`, ... (the v2 operation keys)."""
    target_type: str
    """`space`, `page`, `blogpost`, `comment`, `attachment`, ..."""


@dataclass(slots=True)
class Restriction:
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.users or self.groups)


@dataclass(slots=True)
class Version:
    number: int
    created: float
    author_id: str
    message: str
    minor_edit: bool
    title: str
    body: str


@dataclass(slots=True)
class Page:
    id: str
    space_id: str
    parent_id: str | None
    author_id: str
    owner_id: str
    created: float
    position: int
    versions: list[Version]
    status: str = "current"
    """`current`, `archived` or `trashed` (a purged page is gone from the state)."""
    last_owner_id: str | None = None
    restrictions: dict[str, Restriction] = field(default_factory=dict)
    """By operation (`read`, `update`); only the page's own, not inherited ones."""
    restore_parent: str | None = None

    @property
    def version(self) -> Version:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.versions[-1].title

    @property
    def body(self) -> str:
        return self.versions[-1].body

    @property
    def modified(self) -> float:
        return self.versions[-1].created

    @property
    def number(self) -> int:
        return int(self.id)


class BurstLimiter:
    """A token bucket per caller: `rate` requests a second, bursts up to `capacity`."""

    def __init__(self, rate: float, capacity: int, clock: Callable[[], float]) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.refused = 0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> float | None:
        """None when the request may go on, else the seconds until a token is free."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(caller, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return None
            self._buckets[caller] = (tokens, now)
            self.refused += 1
            return (1.0 - tokens) / self.rate


class Viewer:
    """What one user may see, memoised for the length of a request."""

    def __init__(self, state: ConfluenceState, account_id: str) -> None:
        self.state = state
        self.account_id = account_id
        self.groups = state.groups_of(account_id)
        self._spaces: dict[str, bool] = {}
        self._pages: dict[str, bool] = {}

    def sees_space(self, space_id: str) -> bool:
        found = self._spaces.get(space_id)
        if found is None:
            found = self.state.permits(self.account_id, self.groups, space_id, SPACE_READ)
            self._spaces[space_id] = found
        return found

    def admitted_by(self, page: Page) -> bool:
        """Whether the page's own read restrictions (if any) let this user in."""
        restriction = page.restrictions.get("read")
        if not restriction:
            return True
        return self.account_id in restriction.users or any(
            group in self.groups for group in restriction.groups
        )

    def sees(self, page: Page) -> bool:
        """The space, and the read restrictions of the page and of every ancestor."""
        if not self.sees_space(page.space_id):
            return False
        memo = self._pages
        chain: list[Page] = []
        node: Page | None = page
        verdict = True
        while node is not None:
            known = memo.get(node.id)
            if known is not None:
                verdict = known
                break
            chain.append(node)
            if not self.admitted_by(node):
                verdict = False
                break
            node = self.state.pages.get(node.parent_id) if node.parent_id else None
        for visited in chain:
            memo[visited.id] = verdict
        return verdict


class ConfluenceState:
    """Everything the fake Confluence serves, and the knobs tests turn.

    Args:
        cloud_id: the site's cloud id (a UUID when not given).
        site: the site's subdomain (`https://{site}.atlassian.net`).
        time_zone: the site's time zone, in which CQL reads its dates (Atlassian's own
            tracker, CONFCLOUD-70966: CQL date searches use "the instance's timezone instead of
            the one defined on the user's profile"). Not UTC by default, on purpose.
        token_ttl: access-token lifetime in seconds.
        clock: the time source (tests pass a settable one).
    """

    def __init__(
        self,
        *,
        cloud_id: str | None = None,
        site: str = "syncline-sandbox",
        time_zone: str = "Australia/Sydney",
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.cloud_id = cloud_id or str(uuid.uuid4())
        self.site_name = site
        self.site_url = f"https://{site}.atlassian.net"
        self.zone = ZoneInfo(time_zone)
        self.lock = threading.RLock()
        self.grants = AtlassianGrants(token_ttl=token_ttl, clock=clock)
        self.faults = FaultQueue(
            CONFLUENCE_FAULTS,
            default_scope=_faultable,
            applies={"stale_cursor": lambda _path, query: bool(query.get("cursor"))},
            rate_limited=("429", "429_quota", "503"),
        )
        self.traffic = Traffic()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self.limiter: BurstLimiter | None = None
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.members: dict[str, dict[str, None]] = {}
        """Group id -> member account ids, in the order they joined."""
        self.spaces: dict[str, Space] = {}
        self.permissions: dict[str, list[SpacePermission]] = {}
        self.pages: dict[str, Page] = {}
        self.page_order: list[Page] = []
        """Every page in id order (ids only grow)."""
        self.revision = 0
        self._children: dict[str, dict[str, None]] = {}
        self._space_ids = itertools.count(98_305)
        self._page_ids = itertools.count(1_048_577)
        self._permission_ids = itertools.count(2_555_905)
        self._sorted: dict[str, tuple[int, list[Page], list[tuple[float | int | str, int]]]] = {}

    def _changed(self) -> None:
        self.revision += 1

    # -- people -------------------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        name: str | None = None,
        *,
        email_visible: bool = True,
        account_id: str | None = None,
        time_zone: str | None = None,
        is_guest: bool = False,
    ) -> str:
        """A licensed user; returns their account id (`557058:<uuid>`)."""
        with self.lock:
            account = account_id or f"557058:{uuid.uuid4()}"
            display = name or email.split("@")[0].replace(".", " ").title()
            self.users[account] = User(
                account, display, email, email_visible, time_zone, is_guest=is_guest
            )
            self._changed()
            return account

    def user_by_email(self, email: str) -> User:
        """KeyError when no user has this email (any case)."""
        with self.lock:
            for user in self.users.values():
                if user.email.lower() == email.lower():
                    return user
        raise KeyError(f"no user {email}")

    def ensure_user(self, email: str) -> str:
        with self.lock:
            try:
                return self.user_by_email(email).account_id
            except KeyError:
                return self.add_user(email)

    def account(self, ref: str) -> str:
        """An account id, given one or an email (KeyError when neither is known)."""
        with self.lock:
            if ref in self.users:
                return ref
            return self.user_by_email(ref).account_id

    def add_group(self, name: str, members: Iterable[str] = ()) -> str:
        """A group (its id a UUID, as Confluence's are); `members` are account ids or
        emails (unknown emails become users)."""
        with self.lock:
            group = Group(str(uuid.uuid4()), name)
            self.groups[group.id] = group
            self.members[group.id] = {}
            for member in members:
                self.add_member(group.id, member)
            self._changed()
            return group.id

    def group(self, ref: str) -> Group:
        """By id or name (KeyError when neither)."""
        with self.lock:
            if ref in self.groups:
                return self.groups[ref]
            for group in self.groups.values():
                if group.name == ref:
                    return group
        raise KeyError(f"no group {ref}")

    def add_member(self, group_ref: str, user_ref: str) -> None:
        with self.lock:
            group = self.group(group_ref)
            account = user_ref if user_ref in self.users else self.ensure_user(user_ref)
            self.members[group.id][account] = None
            self._changed()

    def remove_member(self, group_ref: str, user_ref: str) -> None:
        with self.lock:
            group = self.group(group_ref)
            self.members[group.id].pop(self.account(user_ref), None)
            self._changed()

    def groups_of(self, account_id: str) -> set[str]:
        with self.lock:
            return {gid for gid, members in self.members.items() if account_id in members}

    def issue_tokens(
        self, email: str = "alice@example.com", scopes: Sequence[str] = DEFAULT_SCOPES
    ) -> tuple[str, str | None]:
        """A grant for the user with `email` (created if new): (access, refresh or None)."""
        with self.lock:
            account = self.ensure_user(email)
        return self.grants.issue(account, scopes)

    # -- spaces -------------------------------------------------------------------------------

    def add_space(
        self,
        key: str,
        name: str,
        *,
        author: str | None = None,
        readers: Iterable[str] = (),
        reader_groups: Iterable[str] = (),
        description: str = "",
        space_type: str = "global",
        homepage: bool = True,
        at: float | None = None,
    ) -> str:
        """A space with its homepage (`{name} Home`, at the root), as Confluence creates one.
        Its author gets `read` and `administer`; `readers` (account ids or emails) and
        `reader_groups` (ids or names) get `read` on `space`."""
        with self.lock:
            if any(s.key == key for s in self.spaces.values()):
                raise ValueError(f"a space with key {key} exists")
            author_id = self.account(author) if author else self.default_user()
            now = self.clock() if at is None else at
            space = Space(
                str(next(self._space_ids)),
                key,
                name,
                author_id,
                now,
                type=space_type,
                description=description,
            )
            self.spaces[space.id] = space
            self.permissions[space.id] = []
            self.grant_space(space.id, user=author_id)
            self.grant_space(space.id, user=author_id, key="administer")
            for reader in readers:
                self.grant_space(space.id, user=reader)
            for group in reader_groups:
                self.grant_space(space.id, group=group)
            if homepage:
                space.homepage_id = self.add_page(
                    space.id, f"{name} Home", "<p>Welcome.</p>", author=author_id, at=now
                )
            self._changed()
            return space.id

    def space(self, ref: str) -> Space:
        """By id or key (KeyError when neither)."""
        with self.lock:
            if ref in self.spaces:
                return self.spaces[ref]
            for space in self.spaces.values():
                if space.key == ref:
                    return space
        raise KeyError(f"no space {ref}")

    def grant_space(
        self,
        space_ref: str,
        *,
        user: str | None = None,
        group: str | None = None,
        key: str = "read",
        target: str = "space",
    ) -> str:
        """A permission assignment for a user (account id or email) or a group (id or name)."""
        if (user is None) == (group is None):
            raise ValueError("give a user or a group")
        with self.lock:
            space = self.space(space_ref)
            if user is not None:
                kind, principal = "user", self.account(user)
            else:
                kind, principal = "group", self.group(group or "").id
            permission = SpacePermission(
                str(next(self._permission_ids)), space.id, kind, principal, key, target
            )
            self.permissions[space.id].append(permission)
            self._changed()
            return permission.id

    def revoke_space(
        self,
        space_ref: str,
        *,
        user: str | None = None,
        group: str | None = None,
        key: str = "read",
        target: str = "space",
    ) -> int:
        """Remove the matching assignments; returns how many went."""
        with self.lock:
            space = self.space(space_ref)
            principal = self.account(user) if user else self.group(group or "").id
            kept = [
                p
                for p in self.permissions[space.id]
                if not (p.principal_id == principal and p.key == key and p.target_type == target)
            ]
            removed = len(self.permissions[space.id]) - len(kept)
            self.permissions[space.id] = kept
            self._changed()
            return removed

    def permits(
        self, account_id: str, groups: set[str], space_id: str, operation: tuple[str, str]
    ) -> bool:
        key, target = operation
        return any(
            p.key == key
            and p.target_type == target
            and (
                (p.principal_type == "user" and p.principal_id == account_id)
                or (p.principal_type == "group" and p.principal_id in groups)
            )
            for p in self.permissions.get(space_id, ())
        )

    # -- pages --------------------------------------------------------------------------------

    def add_page(
        self,
        space_ref: str,
        title: str,
        body: str = "<p></p>",
        *,
        parent: str | None = None,
        author: str | None = None,
        at: float | None = None,
    ) -> str:
        """A new current page (version 1) in the space, under `parent` (None: the root)."""
        with self.lock:
            space = self.space(space_ref)
            author_id = self.account(author) if author else space.author_id
            if parent is not None and self.pages[parent].space_id != space.id:
                raise ValueError("the parent page is in another space")
            now = self.clock() if at is None else at
            page = Page(
                str(next(self._page_ids)),
                space.id,
                parent,
                author_id,
                author_id,
                now,
                self._next_position(space.id, parent),
                [Version(1, now, author_id, "", False, title, body)],
            )
            self._insert(page)
            self._changed()
            return page.id

    def add_pages(
        self,
        space_ref: str,
        rows: Iterable[tuple[str, str, int | None, float]],
        *,
        author: str | None = None,
    ) -> list[str]:
        """Many pages at once, for benchmarks: each row is (title, body, the index in `rows`
        of its parent or None for the root, time of creation). Costs O(len(rows))."""
        with self.lock:
            space = self.space(space_ref)
            author_id = self.account(author) if author else space.author_id
            created: list[str] = []
            for title, body, parent_index, at in rows:
                parent = created[parent_index] if parent_index is not None else None
                page = Page(
                    str(next(self._page_ids)),
                    space.id,
                    parent,
                    author_id,
                    author_id,
                    at,
                    self._next_position(space.id, parent),
                    [Version(1, at, author_id, "", False, title, body)],
                )
                self._insert(page)
                created.append(page.id)
            self._changed()
            return created

    def _insert(self, page: Page) -> None:
        self.pages[page.id] = page
        self.page_order.append(page)
        self._children.setdefault(_slot(page.space_id, page.parent_id), {})[page.id] = None

    def _next_position(self, space_id: str, parent: str | None) -> int:
        return len(self._children.get(_slot(space_id, parent), ()))

    def edit_page(
        self,
        page_id: str,
        *,
        title: str | None = None,
        body: str | None = None,
        author: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        at: float | None = None,
    ) -> int:
        """A new version with the new title and/or body; returns its number."""
        with self.lock:
            page = self.pages[page_id]
            current = page.version
            author_id = self.account(author) if author else current.author_id
            version = Version(
                current.number + 1,
                self.clock() if at is None else at,
                author_id,
                message,
                minor_edit,
                current.title if title is None else title,
                current.body if body is None else body,
            )
            page.versions.append(version)
            self._changed()
            return version.number

    def move_page(
        self, page_id: str, parent: str | None = None, *, space: str | None = None
    ) -> None:
        """Under another parent (None: the root of its space, or of `space`); descendants go
        along, into the new space too. No new version."""
        with self.lock:
            page = self.pages[page_id]
            space_id = self.space(space).id if space else page.space_id
            if parent is not None:
                if parent == page_id or page_id in self.ancestor_ids(self.pages[parent]):
                    raise ValueError("a page cannot move under itself")
                space_id = self.pages[parent].space_id
            self._children.get(_slot(page.space_id, page.parent_id), {}).pop(page.id, None)
            if space_id != page.space_id:
                for descendant in self.descendants(page):
                    descendant.space_id = space_id
            page.space_id, page.parent_id = space_id, parent
            page.position = self._next_position(space_id, parent)
            self._children.setdefault(_slot(space_id, parent), {})[page.id] = None
            self._changed()

    def trash_page(self, page_id: str, *, with_descendants: bool = False) -> None:
        """To the trash (`status: trashed`); its children move up to its parent unless the
        whole tree goes."""
        with self.lock:
            page = self.pages[page_id]
            if page.status == "trashed":
                return
            if with_descendants:
                for descendant in self.descendants(page):
                    descendant.status = "trashed"
            else:
                for child in self.children(page.id, statuses=("current", "archived")):
                    self._reparent(child, page.parent_id)
            page.status = "trashed"
            page.restore_parent = page.parent_id
            self._changed()

    def _reparent(self, page: Page, parent: str | None) -> None:
        self._children.get(_slot(page.space_id, page.parent_id), {}).pop(page.id, None)
        page.parent_id = parent
        page.position = self._next_position(page.space_id, parent)
        self._children.setdefault(_slot(page.space_id, parent), {})[page.id] = None

    def restore_page(self, page_id: str) -> None:
        """Out of the trash, under its old parent if still live, else at the space root."""
        with self.lock:
            page = self.pages[page_id]
            parent = self.pages.get(page.restore_parent or "")
            if page.parent_id is not None and (parent is None or parent.status == "trashed"):
                self._reparent(page, None)
            page.status, page.restore_parent = "current", None
            self._changed()

    def archive_page(self, page_id: str) -> None:
        with self.lock:
            self.pages[page_id].status = "archived"
            self._changed()

    def unarchive_page(self, page_id: str) -> None:
        with self.lock:
            self.pages[page_id].status = "current"
            self._changed()

    def purge_page(self, page_id: str) -> None:
        """Deleted for good (trashed first if it was not, as Confluence only purges from the
        trash): every request for it answers 404 and no listing shows it."""
        with self.lock:
            page = self.pages[page_id]
            if page.status != "trashed":
                self.trash_page(page_id)
            doomed = [page, *(d for d in self.descendants(page) if d.status == "trashed")]
            for gone in doomed:
                self.pages.pop(gone.id, None)
                self._children.get(_slot(gone.space_id, gone.parent_id), {}).pop(gone.id, None)
            alive = self.pages
            self.page_order = [p for p in self.page_order if p.id in alive]
            for space in self.spaces.values():
                if space.homepage_id is not None and space.homepage_id not in alive:
                    space.homepage_id = None
            self._changed()

    def restrict(
        self,
        page_id: str,
        operation: str = "read",
        *,
        users: Iterable[str] = (),
        groups: Iterable[str] = (),
    ) -> None:
        """Replace the page's own `read` or `update` restriction (users by account id or
        email, groups by id or name); empty lists lift it."""
        if operation not in ("read", "update"):
            raise ValueError("operation must be read or update")
        with self.lock:
            page = self.pages[page_id]
            page.restrictions[operation] = Restriction(
                [self.account(u) for u in users], [self.group(g).id for g in groups]
            )
            self._changed()

    def default_user(self) -> str:
        """The first user (Alice Admin, created if there is nobody yet)."""
        if not self.users:
            return self.add_user("alice@example.com", "Alice Admin")
        return next(iter(self.users))

    # -- reading ------------------------------------------------------------------------------

    def viewer(self, account_id: str) -> Viewer:
        return Viewer(self, account_id)

    def children(self, parent_id: str, *, statuses: Sequence[str] = ("current",)) -> list[Page]:
        """A page's children with these statuses, by position."""
        page = self.pages[parent_id]
        found = [
            child
            for cid in self._children.get(_slot(page.space_id, parent_id), ())
            if (child := self.pages.get(cid)) is not None and child.status in statuses
        ]
        found.sort(key=lambda p: (p.position, p.number))
        return found

    def root_pages(self, space_id: str) -> list[Page]:
        return [
            page
            for pid in self._children.get(_slot(space_id, None), ())
            if (page := self.pages.get(pid)) is not None
        ]

    def descendants(self, page: Page) -> list[Page]:
        """Every page below, breadth first (any status)."""
        found: list[Page] = []
        frontier = [page]
        while frontier:
            following: list[Page] = []
            for node in frontier:
                kids = [
                    self.pages[c]
                    for c in self._children.get(_slot(node.space_id, node.id), ())
                    if c in self.pages
                ]
                kids.sort(key=lambda p: (p.position, p.number))
                following += kids
            found += following
            frontier = following
        return found

    def ancestor_ids(self, page: Page) -> list[str]:
        """From the root down to the parent."""
        chain: list[str] = []
        parent = page.parent_id
        while parent is not None and parent in self.pages:
            chain.append(parent)
            parent = self.pages[parent].parent_id
        chain.reverse()
        return chain

    def sorted_pages(self, sort: str) -> tuple[list[Page], list[tuple[float | int | str, int]]]:
        """Every page ascending by `sort` (`id`, `created-date`, `modified-date`, `title`),
        with the keys a cursor remembers; cached until the next change."""
        cached = self._sorted.get(sort)
        if cached is not None and cached[0] == self.revision:
            return cached[1], cached[2]
        key = _SORT_KEYS[sort]
        ordered = list(self.page_order) if sort == "id" else sorted(self.page_order, key=key)
        keys = [key(p) for p in ordered]
        self._sorted[sort] = (self.revision, ordered, keys)
        return ordered, keys

    # -- knobs --------------------------------------------------------------------------------

    def inject(
        self,
        fault: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.faults.inject(fault, times=times, path=path, retry_after=retry_after)

    def set_rate_limit(self, rate: float | None, capacity: int = 10) -> BurstLimiter | None:
        """Refuse a caller's requests beyond `rate` a second (bursts up to `capacity`) with
        Confluence's burst 429; None lifts the limit."""
        self.limiter = None if rate is None else BurstLimiter(rate, capacity, self.clock)
        return self.limiter

    def expire_access_tokens(self) -> None:
        self.grants.expire_access_tokens()

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.traffic.requests

    def request_count(self, path_prefix: str = "") -> int:
        return self.traffic.count(path_prefix)


def _slot(space_id: str, parent: str | None) -> str:
    """The children index's key: a parent page's id, or the space's root."""
    return parent if parent is not None else f"space:{space_id}"


def _faultable(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == RESOURCES_PATH


_SORT_KEYS: dict[str, Callable[[Page], tuple[float | int | str, int]]] = {
    "id": lambda p: (p.number, p.number),
    "created-date": lambda p: (p.created, p.number),
    "modified-date": lambda p: (p.modified, p.number),
    # GUESS: Confluence's title order is case-insensitive.
    "title": lambda p: (p.title.casefold(), p.number),
}
