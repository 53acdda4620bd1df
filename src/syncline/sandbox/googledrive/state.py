"""The fake Drive's in-memory state and the Python API tests use to script it.

Everything a test does (add, share, trash, delete...) appends to the change log, except
`silently_delete` and group membership edits (Drive's feed does not report those either).

Who sees what:
- *Listing* (files.list, the changes feed) shows an item to a user who holds a user or group
  grant on it or on a folder above it (groups count through nested membership), or who is a
  member of its shared drive, directly or through a group. My Drive roots pass nothing down.
- *Opening* (files.get, export, permissions.list) also works through a link (`anyone` grants)
  or a domain grant for the user's email domain, on the item or a folder above it. Such items
  are never listed to the people they reach only that way: Drive shows link- and domain-shared
  files only once a user opens them, and the sandbox does not model "opened".
- A sharing change is one change entry for the item shared, whose audience is everyone who
  could list it before or after; items below a shared folder get no entries of their own.

Indexes are append-only lists whose entries stay live only while the item
still points back at them, so page tokens can be plain positions and a page costs O(page
size) however many files exist. One re-entrant lock guards it all: the server thread reads
while the test thread mutates; no lock is ever held across an await.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from syncline.sandbox.googledrive.auth import DRIVE_SCOPE, GOOGLE
from syncline.sandbox.googledrive.changes import ChangeLog
from syncline.sandbox.googledrive.model import (
    DRIVE_ROLES,
    FOLDER,
    ROLES,
    SHORTCUT,
    DriveFile,
    Permission,
    SharedDrive,
    anyone_permission,
    domain_permission,
    drive_like_id,
    file_id,
    group_permission,
    user_permission,
)
from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, Grants
from syncline.sandbox.kit.traffic import Traffic

__all__ = ["CHAOS_FAULTS", "DRIVE_FAULTS", "ChangeView", "DriveState", "GroupActivity", "Position"]

DRIVE_FAULTS = (
    "429",
    "403_rate",
    "403_rate_project",
    "403_permission",
    "500",
    "502",
    "503",
    "timeout",
    "drop",
    "401",
    "stale_list_token",
    "stale_change_token",
    "incomplete",
    "truncated",
)
"""Every fault the fake Drive can inject; see `DriveState.inject`."""
CHAOS_FAULTS = tuple(kind for kind in DRIVE_FAULTS if kind != "403_permission")
"""The faults `DriveState.chaos` draws from by default: every one a client can get past."""
_RATE_LIMIT_FAULTS = ("429", "403_rate", "403_rate_project")
DEFAULT_USER = "alice@example.com"
OAUTH_PATHS = ("/token", "/authorize")

Position = tuple[int, int]
"""(segment, offset) in the list of index segments a listing walks."""

_Segment = tuple[list[str], Callable[[DriveFile, int], bool]]


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One change as a given user sees it."""

    time: float
    key: str  # file id, or shared-drive id when `drive` entry
    is_drive: bool
    removed: bool
    drive_id: str | None
    file: DriveFile | None
    drive: SharedDrive | None


@dataclass(frozen=True, slots=True)
class GroupActivity:
    """One membership change of a Google Group, for the Admin Reports API."""

    time: float
    name: str
    """`add_user` or `remove_user`."""
    group: str
    member: str


class DriveState:
    """A whole fake Google Drive: users' files, shared drives, OAuth grants and failure knobs.

    Args:
        client_id: the OAuth client the token endpoint accepts.
        client_secret: its secret.
        token_ttl: access-token lifetime in seconds.
        clock: source of "now" (epoch seconds) for timestamps and token expiry.
    """

    def __init__(
        self,
        *,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.grants = Grants(
            GOOGLE,
            client_id=client_id,
            client_secret=client_secret,
            token_ttl=token_ttl,
            clock=clock,
        )
        self.faults = FaultQueue(
            DRIVE_FAULTS,
            default_scope=lambda path: not path.startswith(OAUTH_PATHS),
            applies=_FAULT_APPLIES,
            rate_limited=_RATE_LIMIT_FAULTS,
        )
        self.traffic = Traffic()
        self.lock = threading.RLock()
        """Hold while reading several things that must agree (the app does, per request)."""

        self.empty_pages = False
        """List and changes responses interleave empty pages that still carry a next token."""
        self.incomplete_search = False
        """files.list reports `incompleteSearch: true`."""
        self.latency = 0.0
        """Seconds added to every Drive response."""
        self.export_limit_bytes = 10 * 1024 * 1024
        """Exports larger than this fail with 403 exportSizeLimitExceeded."""
        self.hang_seconds = 30.0
        """How long a `timeout` fault hangs when the client never disconnects."""

        self._files: dict[str, DriveFile] = {}
        self._order: list[str] = []
        self._children: dict[str, list[str]] = {}
        self._drive_items: dict[str, list[str]] = {}
        self._drives: dict[str, SharedDrive] = {}
        self._groups: dict[str, tuple[str, ...]] = {}  # group email -> member emails
        self._group_activity: list[GroupActivity] = []
        self._principals: dict[str, frozenset[str]] = {}  # user -> user + groups, cached
        self._roots: dict[str, str] = {}
        self._vanished: set[str] = set()
        self._empty_served: set[int] = set()
        self.changes = ChangeLog()

    # -- OAuth -------------------------------------------------------------------------

    def issue_tokens(
        self, user: str = DEFAULT_USER, scopes: Iterable[str] = (DRIVE_SCOPE,)
    ) -> tuple[str, str]:
        """Register a grant for `user`; return (access_token, refresh_token).

        `scopes` default to Drive read-only; the Directory API also needs one of
        `DIRECTORY_SCOPES` (e.g. `.../auth/admin.directory.group.readonly`).
        """
        return self.grants.issue(user, scopes)

    def revoke(self, refresh_token: str) -> None:
        """Later refreshes with this token get `invalid_grant`; its access tokens die too."""
        self.grants.revoke(refresh_token)

    def expire_access_tokens(self) -> None:
        """Every current access token now gets 401."""
        self.grants.expire_access_tokens()

    def expire_access_token(self, access_token: str) -> None:
        """This access token now gets 401 (what the "401" fault does to the token it meets)."""
        self.grants.expire_access_token(access_token)

    @property
    def rotate_refresh_tokens(self) -> bool:
        """When True, each refresh returns a new refresh token and the old one stops working."""
        return self.grants.rotate_refresh_tokens

    @rotate_refresh_tokens.setter
    def rotate_refresh_tokens(self, value: bool) -> None:
        self.grants.rotate_refresh_tokens = value

    # -- failure knobs and observation ------------------------------------------------

    def inject(
        self,
        fault: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Fail the next `times` requests whose path starts with `path`.

        Args:
            fault: one of `DRIVE_FAULTS`:
                - "429" (`rateLimitExceeded`), "403_rate" (`userRateLimitExceeded`),
                  "403_rate_project" (403 `rateLimitExceeded`): Drive's rate limits;
                - "403_permission" (`insufficientFilePermissions`, not retryable);
                - "500" (`internalError`), "503" (`backendError`), and "502", which Google's
                  front end answers with its HTML error page, not JSON;
                - "timeout" (hang until the client gives up, at most `hang_seconds`), "drop"
                  (close the connection without a response). In-process
                  (httpx.ASGITransport) there is no socket: they raise httpx.ReadTimeout and
                  httpx.RemoteProtocolError into the client instead;
                - "401": the access token the request carries expires now (Drive's
                  `authError`); only a refreshed token works again;
                - "stale_list_token": a `files.list` with a `pageToken` gets Drive's 400
                  `invalid` at location `pageToken`; "stale_change_token": the same for a
                  `changes.list`;
                - "incomplete": an all-drives (or domain) `files.list` page reports
                  `incompleteSearch: true` and leaves out the shared-drive items it would
                  have held (those corpora were not searched); "truncated": such a page
                  reports `incompleteSearch: true` and ends the listing (no `nextPageToken`).
                Faults that fit only some requests wait for the first one they fit.
            times: how many requests it applies to.
            path: path prefix; None means every Drive path but never the token endpoint.
            retry_after: seconds to send in `Retry-After` (rate-limit faults only).
        """
        self.faults.inject(fault, times=times, path=path, retry_after=retry_after)

    def chaos(
        self,
        rate: float,
        *,
        kinds: Iterable[str] = CHAOS_FAULTS,
        seed: int | None = None,
        retry_after: Iterable[float | None] = (None, None, 1.0, 2.0, 90.0),
    ) -> None:
        """Steady faults: from now on a `rate` share of data requests fail, each as one of
        `kinds` (drawn among those that fit the request); the token endpoint is spared.

        Args:
            rate: share of requests that fail, in [0, 1]; `chaos(0)` or `calm()` stops it.
            kinds: fault names from `DRIVE_FAULTS` (see `inject`); by default every fault a
                client can get past (`CHAOS_FAULTS`).
            seed: seeds the draws, so a failing run can be replayed (exactly so only when
                requests arrive one at a time).
            retry_after: what a drawn rate limit sends as `Retry-After` (None: no header).
        """
        self.faults.chaos(rate, kinds=tuple(kinds), seed=seed, retry_after=tuple(retry_after))

    def calm(self) -> None:
        """Stop steady faults; armed ones stay armed."""
        self.faults.calm()

    @property
    def faults_fired(self) -> dict[str, int]:
        """How many faults of each kind were served so far (scripted and steady)."""
        return self.faults.fired

    def request_count(self, path_prefix: str = "") -> int:
        """How many requests arrived with a path starting with `path_prefix`."""
        return self.traffic.count(path_prefix)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, query) of every request, in arrival order."""
        return self.traffic.requests

    @property
    def max_concurrent(self) -> int:
        """Peak number of requests in flight at once."""
        return self.traffic.max_concurrent

    # -- content -----------------------------------------------------------------------

    def root_id(self, user: str = "alice@example.com") -> str:
        """The id of `user`'s My Drive root folder (what `'root'` stands for)."""
        with self.lock:
            root = self._roots.get(user)
            if root is None:
                root = drive_like_id()
                now = self.clock()
                self._files[root] = DriveFile(
                    root,
                    "My Drive",
                    FOLDER,
                    None,
                    None,
                    user,
                    None,
                    now,
                    now,
                    (user_permission(user, "owner"),),
                    is_root=True,
                )
                self._roots[user] = root
            return root

    def add_shared_drive(
        self,
        name: str,
        members: Iterable[str] | Mapping[str, str] = (DEFAULT_USER,),
        *,
        id: str | None = None,
    ) -> str:
        """Create a shared drive; its root folder's id is the drive id, which is returned.

        `members` are emails (organizers) or a mapping email -> role (`DRIVE_ROLES`); an email
        already added with `add_group` joins as that group.
        """
        roles = dict(members) if isinstance(members, Mapping) else dict.fromkeys(members, ROLES[1])
        for role in roles.values():
            _check_role(role, DRIVE_ROLES)
        with self.lock:
            drive_id = id or drive_like_id()
            now = self.clock()
            # Group emails are keyed lowercase, as everywhere groups are matched.
            roles = {e.lower() if e.lower() in self._groups else e: r for e, r in roles.items()}
            groups = {email for email in roles if email in self._groups}
            drive = SharedDrive(drive_id, name, roles, now, groups)
            self._drives[drive_id] = drive
            self._files[drive_id] = DriveFile(
                drive_id, name, FOLDER, None, drive_id, "", None, now, now, (), is_root=True
            )
            self.changes.append(drive_id, now, frozenset(drive.members), drive_id, is_drive=True)
            return drive_id

    def add_folder(
        self,
        name: str,
        *,
        parent: str | None = None,
        drive_id: str | None = None,
        owner: str = "alice@example.com",
        id: str | None = None,
    ) -> str:
        """Create a folder; returns its id."""
        return self.add_file(
            name,
            mime_type=FOLDER,
            content=b"",
            parent=parent,
            drive_id=drive_id,
            owner=owner,
            id=id,
        )

    def add_file(
        self,
        name: str,
        *,
        mime_type: str = "text/plain",
        content: bytes = b"...",
        parent: str | None = None,
        drive_id: str | None = None,
        owner: str = "alice@example.com",
        id: str | None = None,
    ) -> str:
        """Create a file; returns its id.

        For Google-native types `content` is the text their exports are made from; they
        report no size or checksum.
        """
        with self.lock:
            f = self._new(name, mime_type, parent, drive_id, owner, id)
            f.content = None if mime_type in (FOLDER, SHORTCUT) else content
            self._insert(f)
            return f.id

    def add_shortcut(
        self,
        name: str,
        target_id: str,
        *,
        parent: str | None = None,
        drive_id: str | None = None,
        owner: str = "alice@example.com",
        id: str | None = None,
    ) -> str:
        """Create a shortcut to `target_id`; returns its id. The target may later dangle."""
        with self.lock:
            target = self._get(target_id)
            f = self._new(name, SHORTCUT, parent, drive_id, owner, id)
            f.shortcut_target, f.shortcut_target_mime = target.id, target.mime_type
            self._insert(f)
            return f.id

    def update_file(
        self,
        file_id: str,
        *,
        name: str | None = None,
        content: bytes | None = None,
        parent: str | None = None,
        mime_type: str | None = None,
    ) -> None:
        """Rename, rewrite, move (`parent`) or retype a file: new version and modifiedTime."""
        with self.lock:
            f = self._get(file_id)
            before = self._audience(f)
            if name is not None:
                f.name = name
            if content is not None:
                f.set_content(content)
            if mime_type is not None:
                f.mime_type = mime_type
            if parent is not None and parent != f.parent:
                self._move(f, parent)
            f.modified = self.clock()
            self._touch(f, before)

    def share(self, file_id: str, email: str, role: str = "reader", *, type: str = "user") -> None:
        """Grant a user or group (`type`) a direct permission on the item (and, for a folder,
        everything below it); whoever newly sees the item gets a change for it."""
        if type not in ("user", "group"):
            raise ValueError("type must be user or group; see share_with_domain/_anyone")
        _check_role(role, ROLES)
        perm = user_permission(email, role) if type == "user" else group_permission(email, role)
        with self.lock:
            f = self._get(file_id)
            if f.owner_email() == email:
                raise ValueError("the owner already has access")
            self._set_grant(f, perm, lambda p: p.email == perm.email)

    def share_with_domain(
        self, file_id: str, domain: str, role: str = "reader", discoverable: bool = False
    ) -> None:
        """Grant everyone with an account of `domain` (`allowFileDiscovery` = `discoverable`)."""
        _check_role(role, ROLES[3:])
        perm = domain_permission(domain, role, discoverable)
        with self.lock:
            self._set_grant(self._get(file_id), perm, lambda p: p.domain == perm.domain)

    def share_with_anyone(self, file_id: str, role: str = "reader") -> None:
        """Anyone with the link may open the item (`anyoneWithLink`, not discoverable)."""
        _check_role(role, ROLES[3:])
        with self.lock:
            f = self._get(file_id)
            self._set_grant(f, anyone_permission(role), lambda p: p.type == "anyone")

    def unshare(self, file_id: str, email_or_domain: str) -> None:
        """Remove a user's, group's or domain's direct grant, or the link (`"anyone"`); who
        can no longer see the item gets `removed: true`."""
        key = email_or_domain.lower()

        def named(p: Permission) -> bool:
            if key == "anyone":
                return p.type == "anyone"
            return (p.email or p.domain or "").lower() == key

        with self.lock:
            f = self._get(file_id)
            if (f.owner_email() or "").lower() == key:
                raise ValueError("cannot unshare a file from its owner")
            before = self._audience(f)
            f.perms = tuple(p for p in f.perms if not named(p))
            self._touch(f, before)

    def _set_grant(
        self, f: DriveFile, perm: Permission, replaces: Callable[[Permission], bool]
    ) -> None:
        before = self._audience(f)
        f.perms = (*(p for p in f.perms if not replaces(p)), perm)
        self._touch(f, before)

    # -- groups and shared-drive members ----------------------------------------------------

    def add_group(self, email: str, members: Iterable[str] = ()) -> None:
        """Create a Google Group; `members` are user or group emails (groups may nest)."""
        with self.lock:
            if email.lower() in self._groups:
                raise ValueError(f"group already exists: {email}")
            self._set_group(email, members)

    def set_group_members(self, email: str, members: Iterable[str]) -> None:
        """Replace a group's direct members. Drive reports no change for this."""
        with self.lock:
            if email.lower() not in self._groups:
                raise KeyError(f"no such group: {email}")
            self._set_group(email, members)

    def group(self, key: str) -> tuple[str, ...] | None:
        """A group's direct member emails, by email (any case); None when there is no such group."""
        return self._groups.get(key.lower())

    def group_emails(self) -> list[str]:
        """Every group's email, in creation order."""
        return list(self._groups)

    def is_group(self, email: str) -> bool:
        """Whether `email` names a group."""
        return email.lower() in self._groups

    def set_drive_member(
        self, drive_id: str, email: str, role: str | None, *, type: str = "user"
    ) -> None:
        """Add a member, change its role, or remove it (`role` None); a `drive` change follows.

        Args:
            drive_id: the shared drive.
            email: the user's or group's email.
            role: one of `DRIVE_ROLES`, or None to remove the member.
            type: "user" or "group".
        """
        if type not in ("user", "group"):
            raise ValueError("type must be user or group")
        if role is not None:
            _check_role(role, DRIVE_ROLES)
        with self.lock:
            drive = self._drives.get(drive_id)
            if drive is None:
                raise KeyError(f"no such shared drive: {drive_id}")
            before = frozenset(drive.members)
            email = email.lower() if type == "group" else email
            if role is None:
                drive.members.pop(email, None)
                drive.groups.discard(email)
            else:
                drive.members[email] = role
                if type == "group":
                    drive.groups.add(email)
            audience = before | frozenset(drive.members)
            self.changes.append(drive_id, self.clock(), audience, drive_id, is_drive=True)

    def group_activity(self, since: float) -> list[GroupActivity]:
        """Membership changes at or after `since` (epoch s), newest first, as the Admin
        Reports API's groups application lists them."""
        with self.lock:
            return [a for a in reversed(self._group_activity) if a.time >= since]

    def _set_group(self, email: str, members: Iterable[str]) -> None:
        group = email.lower()
        before = self._groups.get(group, ())
        after = tuple(dict.fromkeys(members))
        now = self.clock()
        for member in before:
            if member not in after:
                self._group_activity.append(GroupActivity(now, "remove_user", group, member))
        for member in after:
            if member not in before:
                self._group_activity.append(GroupActivity(now, "add_user", group, member))
        self._groups[group] = after
        self._principals.clear()

    def trash(self, file_id: str) -> None:
        """Trash a file (and implicitly its descendants): `removed: false, trashed: true`."""
        with self.lock:
            f = self._get(file_id)
            for item in self._subtree(f):
                if item is f or not item.trashed:
                    before = self._audience(item)
                    item.trashed, item.explicitly_trashed = True, item is f
                    self._touch(item, before)

    def untrash(self, file_id: str) -> None:
        """Restore a trashed file and the descendants trashed along with it."""
        with self.lock:
            f = self._get(file_id)
            for item in self._subtree(f):
                if item is f or (item.trashed and not item.explicitly_trashed):
                    before = self._audience(item)
                    item.trashed = item.explicitly_trashed = False
                    self._touch(item, before)

    def delete(self, file_id: str) -> None:
        """Delete permanently (with descendants): `removed: true` for everyone who saw it."""
        with self.lock:
            now = self.clock()
            for item in self._subtree(self._get(file_id)):
                audience = self._audience(item)
                del self._files[item.id]
                self.changes.append(item.id, now, audience, item.drive_id)

    def silently_delete(self, file_id: str) -> None:
        """Make a file (and descendants) vanish with no change entry at all."""
        with self.lock:
            for item in self._subtree(self._get(file_id)):
                del self._files[item.id]
                self._vanished.add(item.id)

    def get(self, file_id: str) -> DriveFile | None:
        """The live item with this id, for assertions (do not mutate it directly)."""
        with self.lock:
            return self._files.get(file_id)

    def insert_many(self, files: Iterable[DriveFile]) -> int:
        """Bulk-load prepared items (for generators); each gets a change entry.

        Parents must already exist or come earlier in `files`. Returns the count.
        """
        keys: list[str] = []
        times: list[float] = []
        audiences: list[frozenset[str]] = []
        drive_ids: list[str | None] = []
        # Generated items share perms tuples and parents: compute each audience once and
        # share the frozensets (speed, and memory with a million entries).
        inherited_by_parent: dict[str | None, frozenset[str]] = {}
        shared: dict[tuple[int, frozenset[str]], frozenset[str]] = {}
        with self.lock:
            for f in files:
                self._index(f)
                inherited = inherited_by_parent.get(f.parent)
                if inherited is None:
                    inherited = inherited_by_parent[f.parent] = self._inherited_audience(f)
                key = (id(f.perms), inherited)
                audience = shared.get(key)
                if audience is None:
                    audience = shared[key] = _names_in(f.perms) | inherited
                keys.append(f.id)
                times.append(f.modified)
                audiences.append(audience)
                drive_ids.append(f.drive_id)
            self.changes.extend(keys, times, audiences, drive_ids)
        return len(keys)

    # -- reading (the app holds `lock` around these) ------------------------------------

    def drive(self, drive_id: str) -> SharedDrive | None:
        """A shared drive by id."""
        return self._drives.get(drive_id)

    def drives_of(self, user: str) -> list[SharedDrive]:
        """Shared drives `user` is a member of (directly or through a group), oldest first."""
        return [d for d in self._drives.values() if self.is_member(d, user)]

    def is_member(self, drive: SharedDrive, user: str) -> bool:
        """Whether `user`, or a group `user` belongs to, is a member of `drive`."""
        return not self.principals(user).isdisjoint(drive.members)

    def member_role(self, drive: SharedDrive, user: str) -> str | None:
        """`user`'s strongest role in `drive`, through any of its principals."""
        roles = [drive.members[name] for name in self.principals(user) if name in drive.members]
        return min(roles, key=ROLES.index) if roles else None

    def principals(self, user: str) -> frozenset[str]:
        """`user` and every group `user` belongs to, directly or through nested groups."""
        cached = self._principals.get(user)
        if cached is None:
            found = {user}
            grew = True
            while grew:  # a fixed point: groups are few, nesting shallow
                grew = False
                for group, members in self._groups.items():
                    if group not in found and not found.isdisjoint(members):
                        found.add(group)
                        grew = True
            cached = self._principals[user] = frozenset(found)
        return cached

    def ancestors(self, f: DriveFile) -> Iterator[DriveFile]:
        """The folders above `f` that pass their grants down, nearest first.

        Roots pass nothing: a My Drive root is its owner's alone, and a shared drive's members
        are its root's grants (see `SharedDrive.members`).
        """
        parent = f.parent
        while parent is not None:
            folder = self._files.get(parent)
            if folder is None or folder.is_root:
                return
            yield folder
            parent = folder.parent

    def visible_files(self, user: str) -> list[DriveFile]:
        """Every untrashed item `user` sees (My Drive and shared drives), oldest first."""
        with self.lock:
            return [
                f
                for f in self._files.values()
                if not f.trashed and not f.is_root and self.can_see(f, user)
            ]

    def lookup(self, file_id: str, user: str, *, all_drives: bool) -> DriveFile | None:
        """What `files.get` may return: visible to `user`, shared drives only if supported."""
        if file_id == "root":
            file_id = self.root_id(user)
        f = self._files.get(file_id)
        if f is None or not self.can_open(f, user):
            return None
        if f.drive_id is not None and not all_drives:
            return None
        return f

    def can_see(self, f: DriveFile, user: str) -> bool:
        """Whether `f` is listed to `user` (see the module docstring)."""
        return self._lists_to(f, self.principals(user))

    def can_open(self, f: DriveFile, user: str) -> bool:
        """Whether `user` may open `f`: listed to them, or reached by link or domain."""
        if self.can_see(f, user):
            return True
        domain = user.rpartition("@")[2].lower()
        for item in (f, *self.ancestors(f)):
            for p in item.perms:
                if p.type == "anyone" or (p.type == "domain" and p.domain == domain):
                    return True
        return False

    def _lists_to(self, f: DriveFile, names: frozenset[str]) -> bool:
        # Hot path of every listing: the item's own grants first (its owner is the usual caller).
        for p in f.perms:
            if p.email is not None and p.email in names:
                return True
        if f.drive_id is not None:
            drive = self._drives.get(f.drive_id)
            if drive is not None and not names.isdisjoint(drive.members):
                return True
        for folder in self.ancestors(f):
            for p in folder.perms:
                if p.email is not None and p.email in names:
                    return True
        return False

    def resolve_alias(self, user: str) -> Callable[[str], str]:
        """Maps `'root'` in queries to `user`'s My Drive root."""
        return lambda fid: self.root_id(user) if fid == "root" else fid

    def list_files(
        self,
        user: str,
        *,
        matches: Callable[[DriveFile], bool],
        folders: tuple[str, ...] | None,
        drive_id: str | None,
        include_drives: bool,
        start: Position,
        want: int,
        budget: int,
    ) -> tuple[list[DriveFile], Position | None]:
        """One page of matching items, walking at most `budget` index entries.

        Returns the items and where the next page starts (None when nothing is left).
        Fewer than `want` items with a next position is a legal partial page.
        """
        segments = self._segments(folders, drive_id)
        names = self.principals(user)

        def accept(f: DriveFile) -> bool:
            if f.drive_id is not None and not include_drives:
                return False
            if drive_id is not None and f.drive_id != drive_id:
                return False
            return self._lists_to(f, names) and matches(f)

        found: list[DriveFile] = []
        seg, off = start
        scanned = 0
        while seg < len(segments):
            ids, live = segments[seg]
            while off < len(ids):
                if len(found) == want or scanned == budget:
                    return found, (seg, off)
                f = self._files.get(ids[off])
                if f is not None and live(f, off) and accept(f):
                    found.append(f)
                off += 1
                scanned += 1
            seg, off = seg + 1, 0
        return found, None

    def read_changes(
        self,
        user: str,
        *,
        start: int,
        want: int,
        budget: int,
        include_removed: bool,
        include_drives: bool,
        drive_id: str | None,
        restrict_to_my_drive: bool,
    ) -> tuple[list[ChangeView], int]:
        """Changes for `user` from log position `start`; returns them and the next position.

        The next position equals `len(self.changes)` when the log is exhausted.
        """
        log = self.changes
        names = self.principals(user)
        found: list[ChangeView] = []
        pos, end = start, min(len(log), start + budget)
        while pos < end and len(found) < want:
            view = self._view(pos, names, include_drives)
            pos += 1
            if view is None or (view.removed and not include_removed):
                continue
            if drive_id is not None and view.drive_id != drive_id:
                continue
            if restrict_to_my_drive and view.drive_id is not None:
                continue
            found.append(view)
        return found, pos

    def serve_empty_first(self, position: int) -> bool:
        """With `empty_pages` on, True the first time a changes position is read."""
        if not self.empty_pages or position in self._empty_served:
            return False
        self._empty_served.add(position)
        return True

    # -- internals ---------------------------------------------------------------------

    def _get(self, file_id: str) -> DriveFile:
        f = self._files.get(file_id)
        if f is None:
            raise KeyError(f"no such file: {file_id}")
        return f

    def _new(
        self,
        name: str,
        mime_type: str,
        parent: str | None,
        drive_id: str | None,
        owner: str,
        id: str | None,
    ) -> DriveFile:
        if id is not None and id in self._files:
            raise ValueError(f"id already used: {id}")
        if parent is not None:
            folder = self._get(parent)
            if drive_id is not None and folder.drive_id != drive_id:
                raise ValueError("parent is not in that shared drive")
            drive_id = folder.drive_id
        elif drive_id is not None:
            if drive_id not in self._drives:
                raise KeyError(f"no such shared drive: {drive_id}")
            parent = drive_id
        else:
            parent = self.root_id(owner)
        now = self.clock()
        perms: tuple[Permission, ...] = () if drive_id else (user_permission(owner, "owner"),)
        return DriveFile(
            id or file_id(), name, mime_type, parent, drive_id, owner, None, now, now, perms
        )

    def _insert(self, f: DriveFile) -> None:
        self._index(f)
        self.changes.append(f.id, f.modified, self._audience(f), f.drive_id)

    def _index(self, f: DriveFile) -> None:
        if f.id in self._files:
            raise ValueError(f"id already used: {f.id}")
        self._files[f.id] = f
        f.seq = len(self._order)
        self._order.append(f.id)
        assert f.parent is not None
        siblings = self._children.get(f.parent)
        if siblings is None:
            siblings = self._children[f.parent] = []
        f.parent_pos = len(siblings)
        siblings.append(f.id)
        if f.drive_id is not None:
            items = self._drive_items.setdefault(f.drive_id, [])
            f.drive_pos = len(items)
            items.append(f.id)

    def _move(self, f: DriveFile, parent: str) -> None:
        folder = self._get(parent)
        if folder.drive_id != f.drive_id:
            raise ValueError("the sandbox does not move items between drives")
        if any(item is folder for item in self._subtree(f)):
            raise ValueError("cannot move a folder into itself")
        f.parent = parent
        siblings = self._children.setdefault(parent, [])
        f.parent_pos = len(siblings)
        siblings.append(f.id)

    def _touch(self, f: DriveFile, before: frozenset[str]) -> None:
        f.version += 1
        self.changes.append(f.id, self.clock(), before | self._audience(f), f.drive_id)

    def _audience(self, f: DriveFile) -> frozenset[str]:
        """Who `f` is listed to right now (users and groups a change to it concerns)."""
        return _names_in(f.perms) | self._inherited_audience(f)

    def _inherited_audience(self, f: DriveFile) -> frozenset[str]:
        """Who reaches `f` through the folders above it or its shared drive."""
        names: set[str] = set()
        for folder in self.ancestors(f):
            names.update(p.email for p in folder.perms if p.email is not None)
        drive = self._drives.get(f.drive_id) if f.drive_id else None
        if drive is not None:
            names.update(drive.members)
        return frozenset(names)

    def _subtree(self, f: DriveFile) -> Iterator[DriveFile]:
        """`f` then its descendants, parents before children."""
        stack = [f]
        while stack:
            item = stack.pop()
            yield item
            for pos, child_id in enumerate(self._children.get(item.id, ())):
                child = self._files.get(child_id)
                if child is not None and child.parent == item.id and child.parent_pos == pos:
                    stack.append(child)

    def _segments(self, folders: tuple[str, ...] | None, drive_id: str | None) -> list[_Segment]:
        if folders is not None:
            return [(self._children.get(folder, []), _child_of(folder)) for folder in folders]
        if drive_id is not None:
            return [(self._drive_items.get(drive_id, []), _in_drive_at)]
        return [(self._order, _at_seq)]

    def _view(self, index: int, names: frozenset[str], include_drives: bool) -> ChangeView | None:
        log = self.changes
        key, drive_id = log.keys[index], log.drive_ids[index]
        if names.isdisjoint(log.audiences[index]) or key in self._vanished:
            return None
        if drive_id is not None and not include_drives:
            return None
        if log.superseded(index, names):
            return None
        time_ = log.times[index]
        if log.is_drive[index]:
            drive = self._drives.get(key)
            gone = drive is None or names.isdisjoint(drive.members)
            return ChangeView(time_, key, True, gone, key, None, None if gone else drive)
        f = self._files.get(key)
        if f is None or not self._lists_to(f, names):
            return ChangeView(time_, key, False, True, drive_id, None, None)
        return ChangeView(time_, key, False, False, f.drive_id, f, None)


def _all_drives_listing(path: str, query: Mapping[str, str]) -> bool:
    # Drive sets incompleteSearch when a search spans corpora it could not all search.
    return path == "/drive/v3/files" and query.get("corpora") in ("allDrives", "domain")


_FAULT_APPLIES: dict[str, Callable[[str, Mapping[str, str]], bool]] = {
    "stale_list_token": lambda path, query: path == "/drive/v3/files" and "pageToken" in query,
    "stale_change_token": lambda path, query: path == "/drive/v3/changes" and "pageToken" in query,
    "incomplete": _all_drives_listing,
    "truncated": _all_drives_listing,
}


def _names_in(perms: tuple[Permission, ...]) -> frozenset[str]:
    """The users and groups `perms` name (domain and link grants list to nobody)."""
    return frozenset(p.email for p in perms if p.email is not None)


def _check_role(role: str, allowed: tuple[str, ...]) -> None:
    if role not in allowed:
        raise ValueError(f"role must be one of {allowed}, not {role!r}")


def _child_of(folder: str) -> Callable[[DriveFile, int], bool]:
    return lambda f, pos: f.parent == folder and f.parent_pos == pos


def _in_drive_at(f: DriveFile, pos: int) -> bool:
    return f.drive_pos == pos


def _at_seq(f: DriveFile, pos: int) -> bool:
    return f.seq == pos
