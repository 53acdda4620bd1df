"""The fake Box's world: users, groups and their memberships, files, folders and web links with
their collaborations and shared links, and the user event stream that `GET /2.0/events` reads.

Every change goes through a method here, which updates the item (its `sequence_id` and `etag`
grow) and appends what Box's user event stream would show: one event for the item acted on
(trashing or moving a folder says nothing of its descendants), with a snapshot of the item as
it then was in `source`, delivered to each user who could see the item. Events carry the types
Box documents for the user stream (guides/events/user-events/for-user): the `changes` stream
gets `ITEM_CREATE`, `ITEM_UPLOAD`, `ITEM_MOVE`, `ITEM_COPY`, `ITEM_TRASH`,
`ITEM_UNDELETE_VIA_TRASH`, `ITEM_RENAME`, `COLLAB_*` and `GROUP_*_USER`; shared-link events
(`ITEM_SHARED_CREATE`, `ITEM_SHARED_UPDATE`, `ITEM_SHARED_UNSHARE`) are in the `all` stream only,
as Box lists them.

Simplifications, on purpose: one enterprise; an item is owned by the owner of its top folder;
access comes from ownership or a collaboration on the item or an ancestor (directly, or
through a group); an event's `source` is the item as its owner saw it; `stream_type=sync` is
served as `changes`; a purge (`purge`) removes items with no event at all, so only a full
listing notices.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from syncline.sandbox.box.auth import BOX
from syncline.sandbox.box.render import Renderer
from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.oauth import Grants
from syncline.sandbox.kit.traffic import Traffic
from syncline.types import JSONObject

__all__ = [
    "BOX_FAULTS",
    "BOX_PATHS",
    "CHANGES_EVENTS",
    "CONTROL_PREFIX",
    "OAUTH_PATHS",
    "ROLES",
    "STREAM_BASE",
    "BoxState",
    "Collaboration",
    "Event",
    "EventDelivery",
    "Group",
    "Item",
    "Membership",
    "SharedLink",
    "User",
]

BOX_FAULTS = (
    "429",
    "500",
    "503",
    "401",
    "stale_stream_position",
    "content_not_ready",
    "timeout",
    "drop",
)
"""Faults the fake can inject: throttling (429 `rate_limit_exceeded` with `retry-after`), 500
and 503, an access token that expires now (401), a stream position older than the retention
window, a download answered 202 + `Retry-After` ("the file is not ready yet"), a hang and a
dropped connection."""

OAUTH_PATHS = ("/oauth2/", "/api/oauth2/")
CONTROL_PREFIX = "/_box/"
"""The fake's own test controls (never faulted or slowed)."""
READ_SCOPES = frozenset({"root_readonly", "root_readwrite"})
"""Box's application scopes that read files and folders ("Read all files and folders stored
in Box" and its read-write sibling)."""
BOX_PATHS = ("/2.0/", "/oauth2/", "/api/oauth2/", "/_boxcloud/", "/_box/")
"""Every path prefix the fake serves: API v2.0, OAuth, the download host, its test controls."""

ItemType = Literal["file", "folder", "web_link"]
ROLES = (
    "editor",
    "viewer",
    "previewer",
    "uploader",
    "previewer uploader",
    "viewer uploader",
    "co-owner",
    "owner",
)
"""A collaboration's roles (Collaboration resource, `role`)."""

CHANGES_EVENTS = frozenset(
    {
        "ITEM_CREATE", "ITEM_UPLOAD", "ITEM_MOVE", "ITEM_COPY", "LOCK_CREATE", "LOCK_DESTROY",
        "ITEM_TRASH", "ITEM_UNDELETE_VIA_TRASH", "COLLAB_ADD_COLLABORATOR",
        "COLLAB_ROLE_CHANGE", "COLLAB_INVITE_COLLABORATOR", "COLLAB_REMOVE_COLLABORATOR",
        "ITEM_SYNC", "ITEM_UNSYNC", "ITEM_RENAME", "ITEM_MAKE_CURRENT_VERSION",
        "GROUP_ADD_USER", "GROUP_REMOVE_USER",
    }
)  # fmt: skip
"""The event types Box lists as "available in all feeds" (so in `changes`); the others are in
`all` only."""

STREAM_BASE = 1_152_922_976_252_290_000
"""Stream positions are this plus an event's index: JSON integers above 2**53, as Box's are
(`1152922976252290886` in its docs), so a client that parses them as floats breaks here too."""


@dataclass(slots=True)
class User:
    id: str
    name: str
    login: str
    is_admin: bool = False


@dataclass(slots=True)
class Group:
    id: str
    name: str
    group_type: str = "managed_group"


@dataclass(slots=True)
class Membership:
    id: str
    user: str
    group: str
    role: str
    created: float
    modified: float


@dataclass(slots=True)
class SharedLink:
    token: str
    access: str
    """`open`, `company` or `collaborators`."""


@dataclass(slots=True)
class Collaboration:
    id: str
    item: str
    role: str
    created_by: str
    created: float
    modified: float
    user: str | None = None
    group: str | None = None
    status: str = "accepted"


@dataclass(slots=True)
class Item:
    id: str
    type: ItemType
    name: str
    parent: str
    """The parent folder's id; `"0"` is the owner's root ("All Files")."""
    owner: str
    created: float
    modified: float
    content: bytes = b""
    version: str = ""
    """The current `file_version` id (files only)."""
    sequence: int = 0
    url: str = ""
    """A web link's target."""
    description: str = ""
    status: str = "active"
    """`active` or `trashed` (`deleted` items are gone from `items`)."""
    trashed_at: float | None = None
    trashed_with: str | None = None
    """The item whose trashing took this one along (itself when trashed directly)."""
    content_modified: float = 0.0
    shared_link: SharedLink | None = None

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.content, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    index: int
    event_id: str
    event_type: str
    created: float
    actor: str
    source: JSONObject
    recipients: frozenset[str]
    session_id: str


@dataclass(slots=True)
class EventDelivery:
    """How `GET /events` garbles what it serves, as Box warns it may ("Box may return events
    more than once or out of order. Duplicate events can be identified by their event IDs").

    Attributes:
        overlap: each non-empty chunk first repeats up to this many events the caller was
            already served (those just before the position asked for).
        duplicate_rate: the share of events in a chunk that appear twice.
        shuffle: whether a chunk's entries come out of order.
        short_chunks: whether a chunk stops at half the `limit` though more events remain
            (Box: "events less than the limit requested can be returned even when there may
            be more events remaining").
        seed: the generator's seed for the duplicates and the shuffling.
    """

    overlap: int = 0
    duplicate_rate: float = 0.0
    shuffle: bool = False
    short_chunks: bool = False
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def reseed(self) -> None:
        self.rng = random.Random(self.seed)


class BoxState:
    """Everything the fake Box serves, and the knobs tests turn.

    Reads that must agree hold `lock` (the app does, per request).
    """

    def __init__(
        self,
        *,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
        enterprise: str = "example.com",
        utc_offset_hours: int = -7,
    ) -> None:
        self.clock = clock
        self.enterprise = enterprise
        self.utc_offset_hours = utc_offset_hours
        """Box writes times in the user's zone (`2024-05-02T10:53:43-07:00`), not UTC."""
        self.lock = threading.RLock()
        self.grants = Grants(BOX, token_ttl=token_ttl, clock=clock)
        self.faults = FaultQueue(
            BOX_FAULTS,
            default_scope=lambda path: not path.startswith((*OAUTH_PATHS, CONTROL_PREFIX)),
            applies={
                "stale_stream_position": lambda path, query: (
                    path == "/2.0/events"
                    and query.get("stream_position", "now") not in ("now", "", "0")
                ),
                "content_not_ready": lambda path, query: (
                    path.startswith("/2.0/files/") and path.endswith("/content")
                ),
            },
            rate_limited=("429",),
        )
        self.traffic = Traffic()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self.delivery = EventDelivery()
        self.retention_seconds: float | None = None
        """Events older than this are dropped (Box keeps user events 2 weeks to 2 months);
        a position before the oldest kept event is refused as stale."""
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.memberships: dict[str, Membership] = {}
        self.items: dict[str, Item] = {}
        self.collaborations: dict[str, Collaboration] = {}
        self.events: list[Event] = []
        self.horizon = 0
        """The index of the oldest event still kept; positions before it are stale."""
        self.download_tokens: dict[str, tuple[str, float]] = {}
        self._children: dict[str, dict[str, None]] = {}  # folder id -> child ids (ordered set)
        self._ids = itertools.count(1_204_000_000_001)

    def _id(self) -> str:
        return str(next(self._ids))

    # -- people -------------------------------------------------------------------------------

    def add_user(self, login: str, name: str | None = None, *, is_admin: bool = False) -> str:
        with self.lock:
            user = User(self._id(), name or login.split("@")[0].title(), login, is_admin)
            self.users[user.id] = user
            return user.id

    def user_by_login(self, login: str) -> User:
        """The user with this login (any case); KeyError when there is none."""
        with self.lock:
            for user in self.users.values():
                if user.login.lower() == login.lower():
                    return user
        raise KeyError(f"no user {login}")

    def ensure_user(self, login: str) -> str:
        with self.lock:
            try:
                return self.user_by_login(login).id
            except KeyError:
                return self.add_user(login)

    def issue_tokens(
        self, login: str = "alice@example.com", scopes: Iterable[str] = ()
    ) -> tuple[str, str]:
        """A grant for the user with `login` (created if new): (access token, refresh token).
        No `scopes` stands for an app with every scope; a grant naming scopes, none of them in
        `READ_SCOPES`, is refused `insufficient_scope` by the API."""
        with self.lock:
            return self.grants.issue(self.ensure_user(login), scopes)

    def add_group(self, name: str, members: Iterable[str] = ()) -> str:
        """A managed group; `members` are logins."""
        with self.lock:
            group = Group(self._id(), name)
            self.groups[group.id] = group
            for login in members:
                self.add_member(group.id, login)
            return group.id

    def add_member(self, group_id: str, login: str, *, role: str = "member") -> str:
        """`GROUP_ADD_USER` on the user's stream."""
        with self.lock:
            now = self.clock()
            user = self.ensure_user(login)
            membership = Membership(self._id(), user, group_id, role, now, now)
            self.memberships[membership.id] = membership
            self._group_event("GROUP_ADD_USER", group_id, user)
            return membership.id

    def remove_member(self, group_id: str, login: str) -> None:
        with self.lock:
            user = self.user_by_login(login).id
            for membership in list(self.memberships.values()):
                if membership.group == group_id and membership.user == user:
                    del self.memberships[membership.id]
            self._group_event("GROUP_REMOVE_USER", group_id, user)

    def groups_of(self, user_id: str) -> set[str]:
        return {m.group for m in self.memberships.values() if m.user == user_id}

    def members_of(self, group_id: str) -> list[Membership]:
        return [m for m in self.memberships.values() if m.group == group_id]

    # -- items --------------------------------------------------------------------------------

    def add_folder(self, name: str, parent: str = "0", *, owner: str = "alice@example.com") -> str:
        """A folder in `parent` ("0": the owner's root); `ITEM_CREATE`."""
        return self._add("folder", name, parent, owner, event="ITEM_CREATE")

    def add_file(
        self,
        name: str,
        content: bytes = b"...",
        parent: str = "0",
        *,
        owner: str = "alice@example.com",
    ) -> str:
        """A file uploaded to `parent`; `ITEM_UPLOAD`."""
        return self._add("file", name, parent, owner, content=content, event="ITEM_UPLOAD")

    def add_web_link(
        self, name: str, url: str, parent: str = "0", *, owner: str = "alice@example.com"
    ) -> str:
        """A bookmark (type `web_link`) in `parent`; `ITEM_CREATE`."""
        return self._add("web_link", name, parent, owner, url=url, event="ITEM_CREATE")

    def _add(
        self,
        kind: ItemType,
        name: str,
        parent: str,
        owner_login: str,
        *,
        content: bytes = b"",
        url: str = "",
        event: str,
    ) -> str:
        with self.lock:
            now = self.clock()
            owner = self.ensure_user(owner_login) if parent == "0" else self.items[parent].owner
            item = Item(self._id(), kind, name, parent, owner, now, now, content=content, url=url)
            item.content_modified = now
            if kind == "file":
                item.version = self._id()
            self.items[item.id] = item
            self._children.setdefault(parent, {})[item.id] = None
            self._emit(event, item)
            return item.id

    def upload_version(self, item_id: str, content: bytes) -> None:
        """New content for a file: a new `file_version`, `sha1` and `size`; `ITEM_UPLOAD`."""
        with self.lock:
            item = self.items[item_id]
            item.content = content
            item.version = self._id()
            item.content_modified = item.modified = self.clock()
            self._bump(item)
            self._emit("ITEM_UPLOAD", item)

    def rename(self, item_id: str, name: str) -> None:
        with self.lock:
            item = self.items[item_id]
            item.name = name
            item.modified = self.clock()
            self._bump(item)
            self._emit("ITEM_RENAME", item)

    def move(self, item_id: str, parent: str) -> None:
        """To another folder; one `ITEM_MOVE` for the item only (its descendants' paths
        change silently)."""
        with self.lock:
            item = self.items[item_id]
            self._children.get(item.parent, {}).pop(item.id, None)
            self._children.setdefault(parent, {})[item.id] = None
            item.parent = parent
            item.modified = self.clock()
            self._bump(item)
            self._emit("ITEM_MOVE", item)

    def copy(self, item_id: str, parent: str, name: str | None = None) -> str:
        """A copy (a folder with its subtree) in `parent`; one `ITEM_COPY` whose source is
        the new item."""
        with self.lock:
            top = self._copy_tree(self.items[item_id], parent, name)
            self._emit("ITEM_COPY", top)
            return top.id

    def _copy_tree(self, original: Item, parent: str, name: str | None) -> Item:
        now = self.clock()
        owner = self.items[parent].owner if parent != "0" else original.owner
        item = Item(
            self._id(), original.type, name or original.name, parent, owner, now, now,
            content=original.content, url=original.url, description=original.description,
        )  # fmt: skip
        item.content_modified = original.content_modified
        if item.type == "file":
            item.version = self._id()
        self.items[item.id] = item
        self._children.setdefault(parent, {})[item.id] = None
        for child in self.live_children(original.id):
            self._copy_tree(child, item.id, None)
        return item

    def trash(self, item_id: str) -> None:
        """To the trash with its subtree (`item_status: trashed`); one `ITEM_TRASH`."""
        with self.lock:
            top = self.items[item_id]
            now = self.clock()
            for item in self._subtree(top):
                if item.status == "active":
                    item.status, item.trashed_at, item.trashed_with = "trashed", now, top.id
            self._bump(top)
            self._emit("ITEM_TRASH", top)

    def restore(self, item_id: str) -> None:
        """Out of the trash, with what its trashing took along; `ITEM_UNDELETE_VIA_TRASH`."""
        with self.lock:
            top = self.items[item_id]
            for item in self._subtree(top, trashed=True):
                if item.trashed_with == top.id:
                    item.status, item.trashed_at, item.trashed_with = "active", None, None
            self._bump(top)
            self._emit("ITEM_UNDELETE_VIA_TRASH", top)

    def purge(self, item_id: str) -> None:
        """Deleted for good with its subtree, leaving no event: only a full listing notices."""
        with self.lock:
            for item in self._subtree(self.items[item_id], trashed=True):
                del self.items[item.id]
                self._children.get(item.parent, {}).pop(item.id, None)
                for collab in list(self.collaborations.values()):
                    if collab.item == item.id:
                        del self.collaborations[collab.id]

    def set_shared_link(self, item_id: str, access: str | None) -> None:
        """Create (`ITEM_SHARED_CREATE`), change (`ITEM_SHARED_UPDATE`) or remove
        (`ITEM_SHARED_UNSHARE`) the item's shared link; these are in the `all` stream only."""
        if access not in (None, "open", "company", "collaborators"):
            raise ValueError("access must be open, company or collaborators")
        with self.lock:
            item = self.items[item_id]
            before = item.shared_link
            if access is None:
                item.shared_link, event = None, "ITEM_SHARED_UNSHARE"
            elif before is None:
                item.shared_link = SharedLink(secrets.token_hex(16), access)
                event = "ITEM_SHARED_CREATE"
            else:
                before.access, event = access, "ITEM_SHARED_UPDATE"
            self._bump(item)
            self._emit(event, item)

    def collaborate(
        self,
        item_id: str,
        *,
        user: str | None = None,
        group: str | None = None,
        role: str = "viewer",
        status: str = "accepted",
    ) -> str:
        """A collaboration for a user (login) or a group (id); `COLLAB_ADD_COLLABORATOR`
        (`COLLAB_INVITE_COLLABORATOR` while `pending`)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        if (user is None) == (group is None):
            raise ValueError("give a user or a group")
        with self.lock:
            item = self.items[item_id]
            now = self.clock()
            collab = Collaboration(
                self._id(), item_id, role, item.owner, now, now,
                user=self.ensure_user(user) if user else None, group=group, status=status,
            )  # fmt: skip
            self.collaborations[collab.id] = collab
            event = (
                "COLLAB_ADD_COLLABORATOR" if status == "accepted" else "COLLAB_INVITE_COLLABORATOR"
            )
            self._emit(event, item)
            return collab.id

    def change_role(self, collaboration_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self.lock:
            collab = self.collaborations[collaboration_id]
            collab.role, collab.modified = role, self.clock()
            self._emit("COLLAB_ROLE_CHANGE", self.items[collab.item])

    def remove_collaboration(self, collaboration_id: str) -> None:
        with self.lock:
            collab = self.collaborations[collaboration_id]
            item = self.items[collab.item]
            extra = self._grantees(collab)
            del self.collaborations[collaboration_id]
            self._emit("COLLAB_REMOVE_COLLABORATOR", item, extra=extra)

    def _bump(self, item: Item) -> None:
        item.sequence += 1

    def _subtree(self, top: Item, *, trashed: bool = False) -> list[Item]:
        found = [top]
        index = 0
        while index < len(found):
            found += self.live_children(found[index].id, trashed=trashed)
            index += 1
        return found

    # -- reading ------------------------------------------------------------------------------

    def live_children(self, folder_id: str, *, trashed: bool = False) -> list[Item]:
        """A folder's items (with trashed ones when `trashed`)."""
        items = self.items
        return [
            item
            for child in self._children.get(folder_id, ())
            if (item := items.get(child)) is not None and (trashed or item.status == "active")
        ]

    def _grantees(self, collab: Collaboration) -> set[str]:
        if collab.user is not None:
            return {collab.user}
        return {m.user for m in self.members_of(collab.group or "")}

    def direct_role(self, user_id: str, item: Item) -> str | None:
        """The user's role from collaborations on this very item (the strongest)."""
        groups = self.groups_of(user_id)
        roles = [
            c.role
            for c in self.collaborations.values()
            if c.item == item.id
            and c.status == "accepted"
            and (c.user == user_id or (c.group is not None and c.group in groups))
        ]
        return min(roles, key=_strength) if roles else None

    def can_see(self, user_id: str, item: Item) -> bool:
        """Owner, or collaborator on the item or an ancestor."""
        if item.owner == user_id:
            return True
        node: Item | None = item
        while node is not None:
            if self.direct_role(user_id, node) is not None:
                return True
            node = self.items.get(node.parent)
        return False

    def viewers(self, item: Item) -> set[str]:
        """Every user who can see the item now."""
        return {u for u in self.users if self.can_see(u, item)}

    def root_children(self, user_id: str) -> list[Item]:
        """What the user's "All Files" (folder `0`) lists: their own top items, and the items
        shared with them whose parent they cannot see."""
        found = self.live_children("0")
        own = [i for i in found if i.owner == user_id]
        shared = [
            i
            for i in self.items.values()
            if i.status == "active"
            and i.owner != user_id
            and self.direct_role(user_id, i) is not None
            and (i.parent == "0" or not self.can_see(user_id, self.items[i.parent]))
        ]
        return own + shared

    def visible_parent(self, user_id: str, item: Item) -> str:
        """The parent as the user sees it: the real one when visible, else their root."""
        parent = self.items.get(item.parent)
        return parent.id if parent is not None and self.can_see(user_id, parent) else "0"

    def ancestors(self, user_id: str, item: Item) -> list[Item]:
        """The visible folders above the item, outermost first (`path_collection` after
        "All Files")."""
        chain: list[Item] = []
        parent_id = self.visible_parent(user_id, item)
        while parent_id != "0":
            parent = self.items[parent_id]
            chain.append(parent)
            parent_id = self.visible_parent(user_id, parent)
        chain.reverse()
        return chain

    def folder_size(self, item: Item) -> int:
        return sum(len(i.content) for i in self._subtree(item) if i.type == "file")

    # -- the event stream ---------------------------------------------------------------------

    def _emit(self, event_type: str, item: Item, *, extra: Iterable[str] = ()) -> None:
        source = Renderer(self, item.owner).standard(item)
        self._append(event_type, item.owner, source, self.viewers(item) | set(extra))

    def _group_event(self, event_type: str, group_id: str, user_id: str) -> None:
        group = self.groups[group_id]
        source: JSONObject = {
            "type": "group",
            "id": group.id,
            "name": group.name,
            "group_type": group.group_type,
        }
        admins = {u.id for u in self.users.values() if u.is_admin}
        self._append(event_type, next(iter(admins), user_id), source, {user_id})

    def _append(
        self, event_type: str, actor: str, source: JSONObject, recipients: set[str]
    ) -> None:
        self.events.append(
            Event(
                len(self.events),
                secrets.token_hex(20),
                event_type,
                self.clock(),
                actor,
                source,
                frozenset(recipients),
                secrets.token_hex(11),
            )
        )

    def stream_end(self) -> int:
        """`next_stream_position` of `stream_position=now`."""
        with self.lock:
            return STREAM_BASE + len(self.events)

    def oldest_kept(self) -> int:
        """The index of the oldest event still kept, after the retention window."""
        with self.lock:
            if self.retention_seconds is not None:
                cutoff = self.clock() - self.retention_seconds
                while (
                    self.horizon < len(self.events) and self.events[self.horizon].created < cutoff
                ):
                    self.horizon += 1
            return self.horizon

    def expire_stream_positions(self) -> None:
        """Every stream position issued so far is refused as stale from now on, as though the
        events before now had aged out of Box's retention."""
        with self.lock:
            self.horizon = len(self.events)

    def set_delivery(
        self,
        *,
        overlap: int = 0,
        duplicate_rate: float = 0.0,
        shuffle: bool = False,
        short_chunks: bool = False,
        seed: int | None = None,
    ) -> EventDelivery:
        """How `GET /events` repeats, duplicates and reorders from now on (see
        `EventDelivery`)."""
        if overlap < 0 or not 0.0 <= duplicate_rate <= 1.0:
            raise ValueError("overlap must be >= 0 and duplicate_rate within [0, 1]")
        with self.lock:
            self.delivery = EventDelivery(overlap, duplicate_rate, shuffle, short_chunks, seed)
            self.delivery.reseed()
            return self.delivery

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

    def expire_access_token(self, token: str) -> None:
        self.grants.expire_access_token(token)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.traffic.requests

    @property
    def max_concurrent(self) -> int:
        return self.traffic.max_concurrent

    def request_count(self, path_prefix: str = "") -> int:
        return self.traffic.count(path_prefix)


def _strength(role: str) -> int:
    """Lower is stronger, for picking the strongest of several roles."""
    order = ("owner", "co-owner", "editor", "viewer uploader", "previewer uploader", "viewer",
             "previewer", "uploader")  # fmt: skip
    return order.index(role)
