"""The fake Dropbox's world: accounts (optionally on one team), namespaces (each user's home,
shared folders, team folders), the files and folders in them, groups, sharing members, and the
change log that `files/list_folder/continue` replays.

Dropbox is path-based: a user sees their home namespace at the root of their Dropbox and every
shared folder they belong to mounted in it (at its owner's path for the owner, at `/<name>` for
the others); team folders are mounted at `/<name>` for every team member. An item's path is its
mount plus its path inside its namespace, so one file can have different paths for different
users, and its `id` is the same for all.

Every change appends to the log what `list_folder/continue` shows (the stone spec on
`list_folder`): a file or folder entry for a create or an edit; a `deleted` entry, carrying a
path and no `id`, for a delete (one for a deleted folder, its children implied); a move or
rename is a `deleted` entry at the old path then the item at its new path with the same id,
and moving a folder also lists everything under it at its new path.

A listing (`files/list_folder` and its `continue`s) pages through `DropboxState.listing`: the
rows in order, computed once (one sort) and kept while nothing they derive from changes, so a
page costs what it serves; after a change between two pages the rows are computed again, so
every page shows the Dropbox as it is when it is served, after the last path already served.

Simplifications, on purpose: shared folders do not nest; joining a shared folder later does not
replay its contents into older cursors; casing-only renames are logged like any rename;
entries are not coalesced (an item changed twice since a cursor may appear twice, the last one
current).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from syncline.sandbox.dropbox.auth import DROPBOX, TOKEN_TTL
from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.oauth import Grants
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.sandbox.kit.traffic import Traffic

__all__ = [
    "ACCESS_TYPES",
    "BLOCK_SIZE",
    "CONTENT_PREFIX",
    "CONTROL_PREFIX",
    "DROPBOX_FAULTS",
    "DROPBOX_PATHS",
    "OAUTH_PREFIX",
    "PAPER_EXPORT_OPTIONS",
    "DropboxState",
    "Group",
    "Item",
    "Listing",
    "ListingRow",
    "LogEntry",
    "Member",
    "Namespace",
    "Team",
    "TeamLink",
    "User",
    "content_hash",
    "in_scope",
]

DROPBOX_FAULTS = ("429", "429_text", "500", "503", "401", "reset", "timeout", "drop")
"""Faults the fake can inject: 429 `too_many_requests` with JSON `retry_after` and a
`Retry-After` header, 429 as plain text with only the header, 500 and 503, an access token that
expires now (401 `expired_access_token`), a `reset` cursor on `list_folder/continue`, a hang and
a dropped connection."""

OAUTH_PREFIX = "/dropbox/oauth2/"
"""`api.dropboxapi.com/oauth2/token` and `www.dropbox.com/oauth2/authorize`, under a prefix
(Box's fake already serves `/oauth2/token` on the shared sandbox origin)."""
CONTENT_PREFIX = "/_dropbox-content"
"""The content host (`content.dropboxapi.com`): `{CONTENT_PREFIX}/2/files/download`."""
CONTROL_PREFIX = "/_dropbox/"
DROPBOX_PATHS = ("/2/", OAUTH_PREFIX, CONTENT_PREFIX + "/", CONTROL_PREFIX)
"""Every path prefix the fake serves: the RPC host, OAuth, the content host, its controls."""

BLOCK_SIZE = 4 * 1024 * 1024
ACCESS_TYPES = ("owner", "editor", "viewer", "viewer_no_comment", "traverse", "no_access")
PAPER_EXPORT_OPTIONS = ("markdown", "html", "plain_text")
LISTING_CACHE = 8
"""How many listings' ordered rows the state keeps (the least recently used go first; a listing
whose rows went is computed again on its next page)."""

Tag = Literal["file", "folder"]
NamespaceKind = Literal["home", "shared", "team_folder"]


def content_hash(data: bytes) -> str:
    """Dropbox's `content_hash` (developers/reference/content-hash): SHA-256 of each 4 MiB
    block, the binary digests concatenated, SHA-256 of that, in hex."""
    digests = b"".join(
        hashlib.sha256(data[i : i + BLOCK_SIZE]).digest() for i in range(0, len(data), BLOCK_SIZE)
    )
    return hashlib.sha256(digests).hexdigest()


@dataclass(slots=True)
class User:
    account_id: str
    email: str
    name: str
    home: str
    """The home namespace's id."""
    team_member_id: str | None = None
    is_admin: bool = False


@dataclass(slots=True)
class Group:
    group_id: str
    name: str
    members: list[str]
    """Emails."""
    owners: set[str] = field(default_factory=set)
    management: str = "company_managed"


@dataclass(slots=True)
class Member:
    """One entry of a shared folder's or file's members: a user (by email), a group (by id),
    or an invitee (an email with no account yet)."""

    kind: Literal["user", "group", "invitee"]
    key: str
    access: str


@dataclass(slots=True)
class Namespace:
    ns_id: str
    kind: NamespaceKind
    name: str
    owner: str | None
    """The owner's email (None for team folders)."""
    root_id: str = ""
    """The id of the namespace's root folder (shared and team folders)."""
    owner_mount: str = ""
    """Where the owner sees a shared folder (`/Projects/Acme`)."""
    members: list[Member] = field(default_factory=list)
    created: float = 0.0


@dataclass(slots=True)
class Item:
    id: str
    tag: Tag
    ns: str
    path: str
    """Inside its namespace, display case: `/Reports/q1.txt`; `""` is a namespace's root."""
    content: bytes = b""
    rev: str = ""
    client_modified: float = 0.0
    server_modified: float = 0.0
    modified_by: str | None = None
    members: list[Member] = field(default_factory=list)
    """A file's own (explicit) members."""
    paper: str | None = None
    """A Paper doc's Markdown text (`.paper` files are not downloadable)."""
    hashed: tuple[bytes, str] | None = field(default=None, repr=False, compare=False)
    """(the content it was computed from, `content_hash`): rendering every listed file must
    not hash its bytes again while they stay the same object."""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def hash(self) -> str:
        if self.hashed is None or self.hashed[0] is not self.content:
            self.hashed = (self.content, content_hash(self.content))
        return self.hashed[1]


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    kind: Literal["upsert", "delete"]
    ns: str
    path: str
    """The namespace path it concerns (the old path of a delete)."""
    item: Item | None
    """A snapshot of the item after the change (upserts)."""


@dataclass(slots=True)
class Team:
    team_id: str
    name: str
    root_ns: str
    """The team space's root namespace (`Dropbox-API-Path-Root: {".tag": "root", ...}`)."""


@dataclass(frozen=True, slots=True)
class TeamLink:
    """Who linked a team app, as `team/token/get_authenticated_admin` answers it."""

    admin: str
    """The linking member's account id."""
    as_admin: bool
    """Whether they had the admin role then (losing it since is `admin_not_active`)."""


@dataclass(frozen=True, slots=True)
class ListingRow:
    key: str
    """The path lowercased in the listing's view: what a listing orders and resumes by."""
    shown: str
    """The path in display case."""
    item: Item | None
    """None: a deleted entry (`include_deleted`)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing's rows ordered by `key` (equal keys, from two namespaces mounted at one path,
    in the order the items were created), and what they were computed from."""

    basis: tuple[object, ...]
    keys: list[str]
    rows: list[ListingRow]

    def page(self, after: str, limit: int) -> tuple[list[ListingRow], bool]:
        """Up to `limit` rows whose key sorts after `after`, and whether more follow."""
        start = bisect.bisect_right(self.keys, after)
        return self.rows[start : start + limit], len(self.rows) - start > limit


def lower(path: str) -> str:
    return path.lower()


def in_scope(path_lower: str, scope: str, recursive: bool) -> bool:
    """Whether a listing of `scope` (a lowercased path, "" for the root) shows `path_lower`:
    its direct children, or with `recursive` everything under it and the folder itself."""
    if scope == "":
        return recursive or path_lower.count("/") == 1
    if path_lower == scope:
        return recursive
    if not path_lower.startswith(scope + "/"):
        return False
    return recursive or "/" not in path_lower[len(scope) + 1 :]


class DropboxState:
    """Everything the fake Dropbox serves, and the knobs tests turn. Reads that must agree hold
    `lock` (the API does, per request)."""

    def __init__(
        self, *, token_ttl: float = TOKEN_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.grants = Grants(DROPBOX, token_ttl=token_ttl, clock=clock)
        self.faults = FaultQueue(
            DROPBOX_FAULTS,
            default_scope=lambda path: not path.startswith((OAUTH_PREFIX, CONTROL_PREFIX)),
            applies={"reset": lambda path, _query: path == "/2/files/list_folder/continue"},
            rate_limited=("429", "429_text"),
        )
        self.traffic = Traffic()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self.tokens = PageTokens()
        self.cursor_epoch = 0
        """Cursors carry the epoch they were issued in; `reset_cursors` bumps it."""
        self.users: dict[str, User] = {}  # by account id
        self.groups: dict[str, Group] = {}
        self.namespaces: dict[str, Namespace] = {}
        self.items: dict[str, Item] = {}
        self.log: list[LogEntry] = []
        self.tombstones: dict[tuple[str, str], str] = {}
        """(namespace, lowercased path) -> display path of what was deleted there."""
        self.team: Team | None = None
        self._ns_ids = itertools.count(1_500_000_001)
        self._revs = itertools.count(0x5E1A0000001)
        self._layout = 0
        """Bumped whenever an item appears, moves or goes, or a tombstone does: a listing's
        rows computed before are stale."""
        self._listings: OrderedDict[int, Listing] = OrderedDict()
        self._lookups: dict[tuple[str, str], tuple[object, dict[str, tuple[str, Item]]]] = {}
        self._listing_ids = itertools.count(1)
        self._team_links: dict[str, TeamLink] = {}
        """Access and refresh tokens of team-linked grants -> who linked them."""

    # -- people --------------------------------------------------------------------------------

    def _new_ns(self, kind: NamespaceKind, name: str, owner: str | None) -> Namespace:
        ns = Namespace(str(next(self._ns_ids)), kind, name, owner, created=self.clock())
        self.namespaces[ns.ns_id] = ns
        return ns

    def add_user(self, email: str, name: str | None = None, *, is_admin: bool = False) -> str:
        """A Dropbox account (on the team, if there is one); returns its `dbid:` account id."""
        with self.lock:
            home = self._new_ns("home", email, email)
            user = User(
                "dbid:" + secrets.token_urlsafe(30)[:40],
                email,
                name or email.split("@")[0].title(),
                home.ns_id,
                is_admin=is_admin,
            )
            if self.team is not None:
                user.team_member_id = "dbmid:" + secrets.token_urlsafe(24)[:32]
            self.users[user.account_id] = user
            return user.account_id

    def user(self, email: str) -> User:
        with self.lock:
            for user in self.users.values():
                if user.email.lower() == email.lower():
                    return user
        raise KeyError(f"no user {email}")

    def ensure_user(self, email: str) -> User:
        with self.lock:
            try:
                return self.user(email)
            except KeyError:
                return self.users[self.add_user(email)]

    def member_by_team_id(self, team_member_id: str) -> User | None:
        return next((u for u in self.users.values() if u.team_member_id == team_member_id), None)

    def create_team(self, name: str = "Example Inc") -> Team:
        """Make every account (now and later) a member of one team with a team space."""
        with self.lock:
            root = self._new_ns("team_folder", name, None)
            self.team = Team("dbtid:" + secrets.token_urlsafe(30)[:40], name, root.ns_id)
            for user in self.users.values():
                user.team_member_id = user.team_member_id or (
                    "dbmid:" + secrets.token_urlsafe(24)[:32]
                )
            return self.team

    def issue_tokens(self, email: str = "alice@example.com") -> tuple[str, str]:
        """A user-linked grant for `email` (created if new): (access, refresh)."""
        with self.lock:
            return self.grants.issue(self.ensure_user(email).account_id, ())

    def issue_team_tokens(self, admin: str | None = None) -> tuple[str, str]:
        """A team-linked grant (an admin linked a team app): team routes, and user routes with
        `Dropbox-API-Select-User`. `admin` (an email) is the team member who linked it, by
        default the first member with the admin role, else the first member; with no member
        yet, none is recorded (`team/token/get_authenticated_admin` answers
        `mapping_not_found`)."""
        with self.lock:
            if self.team is None:
                raise ValueError("create_team first")
            if admin is not None:
                linker: User | None = self.user(admin)
            else:
                members = [u for u in self.users.values() if u.team_member_id]
                linker = next((u for u in members if u.is_admin), None)
                linker = linker or (members[0] if members else None)
            access, refresh = self.grants.issue(self.team.team_id, ())
            if linker is not None:
                link = TeamLink(linker.account_id, linker.is_admin)
                self._team_links[access] = self._team_links[refresh] = link
            return access, refresh

    def team_link(self, access_token: str) -> TeamLink | None:
        """Who linked the team app this access token is for (None: not recorded)."""
        with self.lock:
            return self._team_links.get(access_token)

    def refreshed(self, refresh_token: str, access_token: str) -> None:
        """A refresh minted `access_token` from `refresh_token`: it keeps its grant's link."""
        with self.lock:
            link = self._team_links.get(refresh_token)
            if link is not None:
                self._team_links[access_token] = link

    def add_group(
        self, name: str, members: Iterable[str] = (), *, management: str = "company_managed"
    ) -> str:
        with self.lock:
            for email in members:
                self.ensure_user(email)
            group = Group("g:" + secrets.token_hex(16), name, list(members), management=management)
            self.groups[group.group_id] = group
            return group.group_id

    def groups_of(self, email: str) -> set[str]:
        return {g.group_id for g in self.groups.values() if email in g.members}

    # -- namespaces and mounts -----------------------------------------------------------------

    def share_folder(self, email: str, folder_id: str) -> str:
        """Turn `email`'s folder into a shared folder (its owner the only member); returns the
        shared folder id. Its contents move into the new namespace; paths do not change."""
        with self.lock:
            folder = self.items[folder_id]
            home = self.user(email).home
            if folder.tag != "folder" or folder.ns != home:
                raise ValueError("only a folder in the owner's own Dropbox can be shared")
            ns = self._new_ns("shared", folder.name, email)
            ns.root_id, ns.owner_mount = folder.id, folder.path
            ns.members.append(Member("user", email, "owner"))
            prefix = lower(folder.path) + "/"
            for item in self.items.values():
                if item.ns == home and lower(item.path).startswith(prefix):
                    item.ns, item.path = ns.ns_id, item.path[len(folder.path) :]
            folder.ns, folder.path = ns.ns_id, ""
            self._layout += 1
            self._log_upsert(folder)
            return ns.ns_id

    def add_team_folder(self, name: str, members: Iterable[Member] = ()) -> str:
        """A team folder, mounted at `/<name>` for every team member; returns its id."""
        with self.lock:
            if self.team is None:
                raise ValueError("create_team first")
            ns = self._new_ns("team_folder", name, None)
            root = self._new_item("folder", ns.ns_id, "")
            ns.root_id = root.id
            ns.members.extend(members)
            self._log_upsert(root)
            return ns.ns_id

    def add_folder_member(self, shared_folder_id: str, member: Member) -> None:
        with self.lock:
            if member.kind == "user":
                self.ensure_user(member.key)
            self.namespaces[shared_folder_id].members.append(member)

    def add_file_member(self, file_id: str, member: Member) -> None:
        with self.lock:
            if member.kind == "user":
                self.ensure_user(member.key)
            self.items[file_id].members.append(member)

    def access(self, user: User, ns: Namespace) -> str | None:
        """The user's access type on a namespace (the best of direct and group membership)."""
        if ns.kind == "home":
            return "owner" if ns.ns_id == user.home else None
        groups = self.groups_of(user.email)
        found = [
            m.access
            for m in ns.members
            if (m.kind == "user" and m.key.lower() == user.email.lower())
            or (m.kind == "group" and m.key in groups)
        ]
        if not found and ns.kind == "team_folder" and self.team and user.team_member_id:
            found = ["editor"] if not ns.members else []
        if not found:
            return None
        return min(found, key=ACCESS_TYPES.index)

    def mounts(self, user: User, root: str = "home") -> dict[str, str]:
        """Namespace id -> where `user` sees it, in the view a `Dropbox-API-Path-Root` names:
        `home` (the default), `root` (the team space: team folders at `/<name>`, the home
        folder at `/<user name>`), or a namespace id (that namespace at the root)."""
        if root not in ("home", "root"):
            return {root: ""}
        mounts: dict[str, str] = {}
        if root == "root" and self.team is not None:
            mounts[user.home] = "/" + user.name
        else:
            mounts[user.home] = ""
        for ns in self.namespaces.values():
            if ns.kind == "home" or ns.ns_id == (self.team.root_ns if self.team else None):
                continue
            if self.access(user, ns) is None:
                continue
            if ns.kind == "shared" and ns.owner == user.email:
                mounts[ns.ns_id] = mounts[user.home] + ns.owner_mount
            else:
                mounts[ns.ns_id] = "/" + ns.name
        return mounts

    def view(self, user: User, root: str = "home") -> Iterator[tuple[str, Item]]:
        """(path display in this view, item) for everything the user sees."""
        mounts = self.mounts(user, root)
        for item in self.items.values():
            mount = mounts.get(item.ns)
            if mount is None:
                continue
            path = mount + item.path
            if path:
                yield path, item

    def at_path(self, user: User, root: str, key: str) -> tuple[str, Item] | None:
        """(display path, item) at the lower-cased display path `key` in `user`'s `root` view:
        the first in `view`'s order. The table is kept while no item, tombstone or mount has
        changed, so a lookup costs one dict read, not a walk of the whole account."""
        with self.lock:
            mounts = self.mounts(user, root)
            basis = (self._layout, len(self.items), tuple(mounts.items()))
            kept = self._lookups.get((user.account_id, root))
            if kept is None or kept[0] != basis:
                table: dict[str, tuple[str, Item]] = {}
                for shown, item in self.view(user, root):
                    table.setdefault(shown.lower(), (shown, item))
                kept = (basis, table)
                self._lookups[(user.account_id, root)] = kept
            return kept[1].get(key)

    # -- listings ------------------------------------------------------------------------------

    def new_listing(self) -> int:
        """An id for a listing that starts now (its cursors carry it)."""
        with self.lock:
            return next(self._listing_ids)

    def listing(
        self,
        listing_id: int | None,
        user: User,
        root: str,
        scope: str,
        recursive: bool,
        deleted: bool,
    ) -> Listing:
        """What a listing of `scope` (lowercased, "" for the root) in `user`'s `root` view
        pages through now: the items in scope and, with `deleted`, the tombstones there that
        no live item covers. Computed (one sort) on the listing's first page and again only
        when an item, a tombstone or the user's mounts changed since; else its rows as kept."""
        with self.lock:
            mounts = self.mounts(user, root)
            basis = (
                user.account_id,
                root,
                scope,
                recursive,
                deleted,
                self._layout,
                len(self.items),  # also catches items removed from `items` directly
                len(self.tombstones),
                tuple(mounts.items()),
            )
            if listing_id is None:
                return self._compute_listing(basis, mounts, scope, recursive, deleted)
            kept = self._listings.get(listing_id)
            if kept is None or kept.basis != basis:
                kept = self._compute_listing(basis, mounts, scope, recursive, deleted)
                self._listings[listing_id] = kept
            self._listings.move_to_end(listing_id)
            while len(self._listings) > LISTING_CACHE:
                self._listings.popitem(last=False)
            return kept

    def end_listing(self, listing_id: int | None) -> None:
        """The listing served its last page: its rows need not be kept."""
        with self.lock:
            if listing_id is not None:
                self._listings.pop(listing_id, None)

    def _compute_listing(
        self,
        basis: tuple[object, ...],
        mounts: dict[str, str],
        scope: str,
        recursive: bool,
        deleted: bool,
    ) -> Listing:
        rows: list[ListingRow] = []
        live: set[str] = set()
        for item in self.items.values():
            mount = mounts.get(item.ns)
            if mount is None:
                continue
            shown = mount + item.path
            if not shown:
                continue
            key = shown.lower()
            live.add(key)
            if in_scope(key, scope, recursive):
                rows.append(ListingRow(key, shown, item))
        if deleted:
            for (ns, _), path in self.tombstones.items():
                mount = mounts.get(ns)
                if mount is None:
                    continue
                shown = mount + path
                key = shown.lower()
                # "" (a namespace's own root seen at the view's root) sorts before any resume
                # point: never served.
                if key and key not in live and in_scope(key, scope, recursive):
                    rows.append(ListingRow(key, shown, None))
        rows.sort(key=lambda row: row.key)  # stable: equal keys keep the order above
        return Listing(basis, [row.key for row in rows], rows)

    # -- items ---------------------------------------------------------------------------------

    def _new_item(self, tag: Tag, ns: str, path: str, content: bytes = b"") -> Item:
        now = self.clock()
        item = Item(
            "id:" + secrets.token_urlsafe(16)[:22],
            tag,
            ns,
            path,
            content,
            rev=f"{next(self._revs):x}" if tag == "file" else "",
            client_modified=now,
            server_modified=now,
        )
        self.items[item.id] = item
        self._layout += 1
        return item

    def _parent(self, email: str, parent: str | None) -> tuple[str, str]:
        """(namespace, path prefix) for a new child of `parent` (an item id; None: the root)."""
        if parent is None:
            return self.user(email).home, ""
        folder = self.items[parent]
        if folder.tag != "folder":
            raise ValueError(f"{parent} is not a folder")
        return folder.ns, folder.path

    def add_folder(self, name: str, parent: str | None = None, *, owner: str) -> str:
        with self.lock:
            ns, prefix = self._parent(owner, parent)
            item = self._new_item("folder", ns, f"{prefix}/{name}")
            self._log_upsert(item)
            return item.id

    def add_file(
        self,
        name: str,
        content: bytes = b"",
        parent: str | None = None,
        *,
        owner: str,
        paper: str | None = None,
    ) -> str:
        """A file; with `paper` (its Markdown), a Paper doc (name it `*.paper`)."""
        with self.lock:
            ns, prefix = self._parent(owner, parent)
            item = self._new_item("file", ns, f"{prefix}/{name}", content)
            item.modified_by = self.ensure_user(owner).account_id
            if paper is not None:
                item.paper = paper
                item.content = paper.encode()
            self._log_upsert(item)
            return item.id

    def add_paper(self, name: str, markdown: str, parent: str | None = None, *, owner: str) -> str:
        return self.add_file(name, b"", parent, owner=owner, paper=markdown)

    def edit(self, item_id: str, content: bytes, *, by: str | None = None) -> None:
        """Upload a new revision: new `rev`, `content_hash`, `server_modified`."""
        with self.lock:
            item = self.items[item_id]
            item.content = content
            if item.paper is not None:
                item.paper = content.decode("utf-8", "replace")
            item.rev = f"{next(self._revs):x}"
            item.server_modified = item.client_modified = self.clock()
            if by is not None:
                item.modified_by = self.ensure_user(by).account_id
            self._log_upsert(item)

    def move(
        self,
        item_id: str,
        *,
        name: str | None = None,
        parent: str | None = None,
        to_root: bool = False,
    ) -> None:
        """Rename and/or move (within the item's namespace, or into another folder's):
        `deleted` at the old path, then the item (and, for a folder, all under it) at the new."""
        with self.lock:
            item = self.items[item_id]
            old_ns, old_path = item.ns, item.path
            if to_root:
                new_ns, prefix = self.user(self._owner_email(item)).home, ""
            elif parent is None:
                new_ns, prefix = item.ns, item.path.rsplit("/", 1)[0]
            else:
                new_ns, prefix = self.items[parent].ns, self.items[parent].path
            new_path = f"{prefix}/{name or item.name}"
            self._layout += 1
            self._log(LogEntry(self._seq(), "delete", old_ns, old_path, None))
            self.tombstones[(old_ns, lower(old_path))] = old_path
            moved = [item]
            if item.tag == "folder":
                inner = lower(old_path) + "/"
                moved += [
                    i
                    for i in self.items.values()
                    if i.ns == old_ns and lower(i.path).startswith(inner)
                ]
            for each in moved:
                each.path = new_path + each.path[len(old_path) :]
                each.ns = new_ns
                if each.tag == "file":
                    each.server_modified = self.clock()
            moved.sort(key=lambda i: lower(i.path))
            for each in moved:
                self.tombstones.pop((each.ns, lower(each.path)), None)
                self._log_upsert(each)

    def delete(self, item_id: str) -> None:
        """Delete a file or a folder with everything under it: one `deleted` entry."""
        with self.lock:
            item = self.items.pop(item_id)
            self._layout += 1
            inner = lower(item.path) + "/"
            for other in list(self.items.values()):
                if other.ns == item.ns and lower(other.path).startswith(inner):
                    del self.items[other.id]
                    self.tombstones[(other.ns, lower(other.path))] = other.path
            self.tombstones[(item.ns, lower(item.path))] = item.path
            self._log(LogEntry(self._seq(), "delete", item.ns, item.path, None))

    def _owner_email(self, item: Item) -> str:
        ns = self.namespaces[item.ns]
        return ns.owner or next(iter(self.users.values())).email

    def find(self, ns: str, path: str) -> Item | None:
        key = lower(path)
        return next((i for i in self.items.values() if i.ns == ns and lower(i.path) == key), None)

    # -- the change log ------------------------------------------------------------------------

    def _seq(self) -> int:
        return len(self.log) + 1

    def _log(self, entry: LogEntry) -> None:
        self.log.append(entry)

    def _log_upsert(self, item: Item) -> None:
        if self.tombstones.pop((item.ns, lower(item.path)), None) is not None:
            self._layout += 1
        self._log(LogEntry(self._seq(), "upsert", item.ns, item.path, replace(item)))

    @property
    def position(self) -> int:
        """The newest change's number (a cursor taken now replays what comes after it)."""
        return len(self.log)

    def reset_cursors(self) -> None:
        """Every cursor issued so far answers `list_folder/continue` with 409 `reset`."""
        with self.lock:
            self.cursor_epoch += 1

    def expire_access_token(self, token: str) -> None:
        self.grants.expire_access_token(token)
