"""The fake Microsoft Graph's data: users, Entra groups, SharePoint sites, drives and their
driveItems, with a change log per drive that `delta` reads.

The change log keeps what Graph's delta shows: the latest state of each changed item (an item
changed twice appears twice, its latest state both times), deletions with the `deleted` facet,
and nothing for the descendants of a moved or renamed folder (their path changes silently). A
silent deletion leaves no entry at all, as an item that vanishes from a search index does.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.oauth import Grants
from syncline.sandbox.kit.traffic import Traffic
from syncline.sandbox.msgraph.auth import MICROSOFT

__all__ = [
    "GRAPH_FAULTS",
    "Drive",
    "GraphState",
    "Group",
    "Item",
    "Permission",
    "Site",
    "User",
    "quick_xor_hash",
]

GRAPH_FAULTS = ("429", "503", "500", "401", "stale_delta", "timeout", "drop")
"""Faults the fake can inject: throttling (429 `TooManyRequests`, 503 `serviceNotAvailable`,
both with `Retry-After`), 500, an access token that expires now, a delta token that is no
longer honoured (410 `resyncRequired`), a hang and a dropped connection."""

OAUTH_PREFIX = "/common/oauth2/"

_MASK160 = (1 << 160) - 1


def quick_xor_hash(data: bytes) -> str:
    """OneDrive's QuickXorHash (base64): each byte XORed into a 160-bit circular register at a
    position that advances 11 bits per byte, then the length XORed into the last 8 bytes."""
    register = 0
    for index, byte in enumerate(data):
        shifted = byte << ((index * 11) % 160)
        register ^= (shifted & _MASK160) | (shifted >> 160)
    digest = bytearray(register.to_bytes(20, "little"))
    for i, byte in enumerate(len(data).to_bytes(8, "little")):
        digest[12 + i] ^= byte
    return base64.b64encode(bytes(digest)).decode()


def _id() -> str:
    return "01" + secrets.token_hex(16).upper()[:32]


@dataclass(slots=True)
class User:
    id: str
    mail: str
    display_name: str


@dataclass(slots=True)
class Group:
    id: str
    display_name: str
    mail: str | None
    members: list[str] = field(default_factory=list)
    """User or group ids."""


@dataclass(slots=True)
class Site:
    id: str
    name: str
    web_url: str
    drive_ids: list[str] = field(default_factory=list)
    site_groups: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Site group id -> (display name, role): the site's owners, members and visitors."""


@dataclass(slots=True)
class Drive:
    id: str
    drive_type: str
    """`personal` (a OneDrive) or `documentLibrary` (a SharePoint library)."""
    name: str
    owner: str
    """The owning user's id."""
    root_id: str
    site_id: str | None = None


@dataclass(slots=True)
class Permission:
    id: str
    roles: tuple[str, ...]
    user: str | None = None
    """A user's id (`grantedToV2.user`)."""
    group: str | None = None
    """An Entra group's id (`grantedToV2.group`)."""
    site_group: str | None = None
    """A SharePoint site group's id (`grantedToV2.siteGroup`)."""
    link_scope: str | None = None
    """`anonymous`, `organization` or `users` for a sharing link."""
    link_users: tuple[str, ...] = ()
    """For a `users` link: who it was sent to (`grantedToIdentitiesV2`)."""


@dataclass(slots=True)
class Item:
    id: str
    drive_id: str
    name: str
    parent_id: str | None
    is_folder: bool
    content: bytes = b""
    mime_type: str = "application/octet-stream"
    created: float = 0.0
    modified: float = 0.0
    version: int = 1
    deleted: bool = False
    permissions: list[Permission] = field(default_factory=list)
    fields: dict[str, object] = field(default_factory=dict)
    """The SharePoint list item's columns."""


class GraphState:
    """Everything the fake Graph serves, and the knobs tests turn.

    All reads that must agree hold `lock` (the app does, per request).
    """

    def __init__(
        self,
        *,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
        tenant_domain: str = "contoso.com",
    ) -> None:
        self.clock = clock
        self.tenant_domain = tenant_domain
        self.lock = threading.RLock()
        self.grants = Grants(MICROSOFT, token_ttl=token_ttl, clock=clock)
        self.faults = FaultQueue(
            GRAPH_FAULTS,
            default_scope=lambda path: not path.startswith(OAUTH_PREFIX),
            applies={
                "stale_delta": lambda path, query: path.endswith("/delta") and "token" in query
            },
            rate_limited=("429", "503"),
        )
        self.traffic = Traffic()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.sites: dict[str, Site] = {}
        self.drives: dict[str, Drive] = {}
        self.items: dict[str, Item] = {}
        self._children: dict[str, dict[str, None]] = {}  # folder id -> child ids (ordered set)
        self._log: dict[str, list[str]] = {}  # drive id -> item ids, in change order
        self._horizon: dict[str, int] = {}  # drive id -> oldest change a delta token may name
        self.download_tokens: dict[str, tuple[str, float]] = {}  # token -> (item id, expiry)

    # -- tenants and drives -------------------------------------------------------------------

    def add_user(self, mail: str, display_name: str | None = None) -> str:
        with self.lock:
            user = User(
                secrets.token_hex(4) + "-0000-4000-8000-" + secrets.token_hex(6),
                mail,
                display_name or mail.split("@")[0].title(),
            )
            self.users[user.id] = user
            return user.id

    def user_by_mail(self, mail: str) -> User:
        """The user with this mail (any case); KeyError when there is none."""
        with self.lock:
            for user in self.users.values():
                if user.mail.lower() == mail.lower():
                    return user
        raise KeyError(f"no user {mail}")

    def issue_tokens(
        self,
        mail: str,
        scopes: Iterable[str] = ("Files.Read.All", "Sites.Read.All", "User.Read", "offline_access"),
    ) -> tuple[str, str]:
        """A grant for the user with `mail` (created if new): (access token, refresh token)."""
        with self.lock:
            return self.grants.issue(self._ensure_user(mail), scopes)

    def add_group(
        self, display_name: str, members: Iterable[str] = (), *, mail: str | None = None
    ) -> str:
        """An Entra group; `members` are user mails or group ids."""
        with self.lock:
            group = Group(_guid(), display_name, mail, self._member_ids(members))
            self.groups[group.id] = group
            return group.id

    def set_group_members(self, group_id: str, members: Iterable[str]) -> None:
        with self.lock:
            self.groups[group_id].members = self._member_ids(members)

    def _member_ids(self, members: Iterable[str]) -> list[str]:
        ids = []
        for member in members:
            if member in self.groups:
                ids.append(member)
            else:
                ids.append(self._ensure_user(member) if "@" in member else member)
        return ids

    def add_personal_drive(self, owner_mail: str) -> str:
        """The user's OneDrive (created with the user if needed)."""
        with self.lock:
            return self._add_drive("OneDrive", "personal", self._ensure_user(owner_mail), None)

    def add_site(
        self,
        name: str,
        owner_mail: str,
        *,
        members: Iterable[str] = (),
        visitors: Iterable[str] = (),
    ) -> str:
        """A SharePoint site with its default document library ("Documents") and its three
        site groups; `members` and `visitors` are user mails with edit and read access."""
        with self.lock:
            host = f"{self.tenant_domain.split('.')[0]}.sharepoint.com"
            site_id = f"{host},{_guid()},{_guid()}"
            site = Site(site_id, name, f"https://{host}/sites/{name.replace(' ', '')}")
            self.sites[site_id] = site
            owner = (
                self.user_by_mail(owner_mail)
                if any(u.mail == owner_mail for u in self.users.values())
                else self.users[self.add_user(owner_mail)]
            )
            drive_id = self._add_drive("Documents", "documentLibrary", owner.id, site_id)
            site.drive_ids.append(drive_id)
            site.site_groups = {
                "3": (f"{name} Owners", "owner"),
                "4": (f"{name} Visitors", "read"),
                "5": (f"{name} Members", "write"),
            }
            root = self.items[self.drives[drive_id].root_id]
            root.permissions = [
                Permission(secrets.token_hex(8), ("owner",), site_group="3"),
                Permission(secrets.token_hex(8), ("read",), site_group="4"),
                Permission(secrets.token_hex(8), ("write",), site_group="5"),
                Permission(secrets.token_hex(8), ("owner",), user=owner.id),
            ]
            for mail in members:
                root.permissions.append(
                    Permission(secrets.token_hex(8), ("write",), user=self._ensure_user(mail))
                )
            for mail in visitors:
                root.permissions.append(
                    Permission(secrets.token_hex(8), ("read",), user=self._ensure_user(mail))
                )
            return site_id

    def _ensure_user(self, mail: str) -> str:
        found = [u.id for u in self.users.values() if u.mail.lower() == mail.lower()]
        return found[0] if found else self.add_user(mail)

    def _add_drive(self, name: str, drive_type: str, owner: str, site_id: str | None) -> str:
        drive_id = "b!" + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        root = Item(
            _id(), drive_id, "root", None, True, created=self.clock(), modified=self.clock()
        )
        if drive_type == "personal":
            root.permissions = [Permission(secrets.token_hex(8), ("owner",), user=owner)]
        self.items[root.id] = root
        self.drives[drive_id] = Drive(drive_id, drive_type, name, owner, root.id, site_id)
        self._log[drive_id] = []
        self._horizon[drive_id] = 0
        return drive_id

    def root_id(self, drive_id: str) -> str:
        return self.drives[drive_id].root_id

    # -- items --------------------------------------------------------------------------------

    def add_folder(self, drive_id: str, name: str, parent: str | None = None) -> str:
        return self._add(drive_id, name, parent, is_folder=True)

    def add_file(
        self,
        drive_id: str,
        name: str,
        content: bytes = b"...",
        *,
        parent: str | None = None,
        mime_type: str = "text/plain",
        fields: dict[str, object] | None = None,
    ) -> str:
        return self._add(
            drive_id, name, parent, content=content, mime_type=mime_type, fields=fields
        )

    def _add(
        self,
        drive_id: str,
        name: str,
        parent: str | None,
        *,
        is_folder: bool = False,
        content: bytes = b"",
        mime_type: str = "",
        fields: dict[str, object] | None = None,
    ) -> str:
        with self.lock:
            now = self.clock()
            item = Item(
                _id(),
                drive_id,
                name,
                parent or self.root_id(drive_id),
                is_folder,
                content,
                mime_type,
                now,
                now,
                fields=dict(fields or {}),
            )
            self.items[item.id] = item
            self._children.setdefault(item.parent_id or "", {})[item.id] = None
            self._changed(item)
            return item.id

    def update(
        self,
        item_id: str,
        *,
        content: bytes | None = None,
        name: str | None = None,
        parent: str | None = None,
        fields: dict[str, object] | None = None,
    ) -> None:
        """New content, a rename or a move: one delta entry for this item only."""
        with self.lock:
            item = self.items[item_id]
            if content is not None:
                item.content = content
            if name is not None:
                item.name = name
            if parent is not None and parent != item.parent_id:
                self._children.get(item.parent_id or "", {}).pop(item.id, None)
                self._children.setdefault(parent, {})[item.id] = None
                item.parent_id = parent
            if fields is not None:
                item.fields = dict(fields)
            item.version += 1
            item.modified = self.clock()
            self._changed(item)

    def delete(self, item_id: str) -> None:
        """To the recycle bin, with its descendants: each gets a `deleted` entry."""
        with self.lock:
            for item in self._subtree(self.items[item_id]):
                item.deleted = True
                self._changed(item)

    def silently_delete(self, item_id: str) -> None:
        """Gone without a trace: no delta entry, so only a full listing notices."""
        with self.lock:
            for item in self._subtree(self.items[item_id]):
                del self.items[item.id]
                self._children.get(item.parent_id or "", {}).pop(item.id, None)

    def share(
        self,
        item_id: str,
        *,
        roles: tuple[str, ...] = ("read",),
        user: str | None = None,
        group: str | None = None,
    ) -> str:
        """A direct grant to a user (mail) or Entra group (id); the item changes."""
        with self.lock:
            permission = Permission(
                secrets.token_hex(8),
                roles,
                user=self._ensure_user(user) if user else None,
                group=group,
            )
            self.items[item_id].permissions.append(permission)
            self._touch(item_id)
            return permission.id

    def create_link(
        self,
        item_id: str,
        scope: str,
        *,
        roles: tuple[str, ...] = ("read",),
        users: Iterable[str] = (),
    ) -> str:
        if scope not in ("anonymous", "organization", "users"):
            raise ValueError("scope must be anonymous, organization or users")
        with self.lock:
            permission = Permission(
                secrets.token_hex(8),
                roles,
                link_scope=scope,
                link_users=tuple(self._ensure_user(u) for u in users),
            )
            self.items[item_id].permissions.append(permission)
            self._touch(item_id)
            return permission.id

    def unshare(self, item_id: str, permission_id: str) -> None:
        with self.lock:
            item = self.items[item_id]
            item.permissions = [p for p in item.permissions if p.id != permission_id]
            self._touch(item_id)

    def _touch(self, item_id: str) -> None:
        item = self.items[item_id]
        item.version += 1
        self._changed(item)

    def _changed(self, item: Item) -> None:
        self._log[item.drive_id].append(item.id)

    def _subtree(self, top: Item) -> list[Item]:
        found = [top]
        index = 0
        while index < len(found):
            found += self._live_children(found[index].id)
            index += 1
        return found

    # -- reading ------------------------------------------------------------------------------

    def path_of(self, item: Item) -> str:
        """`parentReference.path`: `/drives/{id}/root:` and the folders between."""
        names: list[str] = []
        parent = self.items.get(item.parent_id or "")
        while parent is not None and parent.parent_id is not None:
            names.append(parent.name)
            parent = self.items.get(parent.parent_id)
        suffix = "".join(f"/{n}" for n in reversed(names))
        return f"/drives/{item.drive_id}/root:{suffix}"

    def children(self, folder_id: str) -> list[Item]:
        """A folder's live items, by name, as Graph orders them."""
        with self.lock:
            return sorted(self._live_children(folder_id), key=lambda i: (i.name.lower(), i.id))

    def _live_children(self, folder_id: str) -> list[Item]:
        items = self.items
        return [
            item
            for child in self._children.get(folder_id, ())
            if (item := items.get(child)) is not None and not item.deleted
        ]

    def changes_since(self, drive_id: str, position: int) -> tuple[list[str], int]:
        """Item ids changed after `position` in the drive's log, and the log's end."""
        with self.lock:
            log = self._log[drive_id]
            return list(log[position:]), len(log)

    def log_end(self, drive_id: str) -> int:
        with self.lock:
            return len(self._log[drive_id])

    def honours(self, drive_id: str, position: int) -> bool:
        """Whether a delta token at `position` can still be honoured."""
        with self.lock:
            return self._horizon[drive_id] <= position <= len(self._log[drive_id])

    def expire_delta_tokens(self, drive_id: str) -> None:
        """Every delta token issued so far answers 410 `resyncRequired` from now on."""
        with self.lock:
            self._horizon[drive_id] = len(self._log[drive_id])

    def inherited(self, item: Item) -> list[tuple[Permission, Item]]:
        """The permissions the item gets from its ancestors, with the ancestor each comes from."""
        found: list[tuple[Permission, Item]] = []
        parent = self.items.get(item.parent_id or "")
        while parent is not None:
            found += [(p, parent) for p in parent.permissions]
            parent = self.items.get(parent.parent_id or "")
        return found

    def inject(
        self,
        fault: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.faults.inject(fault, times=times, path=path, retry_after=retry_after)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.traffic.requests

    def request_count(self, path_prefix: str = "") -> int:
        return self.traffic.count(path_prefix)


def _guid() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-8{raw[17:20]}-{raw[20:32]}"
