"""The fake Drive's data: files, shared drives, permissions, ids and timestamps."""

from __future__ import annotations

import base64
import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "APPS_PREFIX",
    "DRIVE_ROLES",
    "FOLDER",
    "ROLES",
    "SHORTCUT",
    "DriveFile",
    "Permission",
    "SharedDrive",
    "anyone_permission",
    "display_name",
    "domain_permission",
    "drive_like_id",
    "file_id",
    "group_permission",
    "permission_id",
    "rfc3339",
    "user_permission",
]

APPS_PREFIX = "application/vnd.google-apps."
FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
"""Drive's roles, strongest first."""
DRIVE_ROLES = ROLES[1:]
"""The roles a shared-drive member may hold (shared drives have no owner)."""


def file_id() -> str:
    """A random 33-character id shaped like a My Drive file id."""
    return "1" + base64.urlsafe_b64encode(os.urandom(24)).decode()


def drive_like_id() -> str:
    """A random 19-character id shaped like a shared-drive or root-folder id."""
    return "0A" + base64.urlsafe_b64encode(os.urandom(9)).decode()[:11] + "Uk9PVA"


@lru_cache(maxsize=1024)  # bulk-generated files share timestamps
def rfc3339(ts: float) -> str:
    """RFC 3339 in UTC with milliseconds, as Drive writes every timestamp."""
    seconds = math.floor(ts)
    millis = min(999, int((ts - seconds) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@lru_cache(maxsize=65536)
def permission_id(email: str) -> str:
    """Drive gives each user one numeric permission id, the same on every file."""
    digest = hashlib.sha256(email.lower().encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**20).zfill(20)


@lru_cache(maxsize=4096)
def display_name(email: str) -> str:
    """`bob.smith@example.com` -> `Bob Smith`."""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


@dataclass(frozen=True, slots=True)
class Permission:
    """One grant: `type` is user or group (with `email`), domain (with `domain`) or anyone.

    Direct grants live in `DriveFile.perms`; shared-drive membership lives on `SharedDrive`.
    """

    id: str
    type: str
    role: str
    email: str | None = None
    domain: str | None = None
    discoverable: bool = False
    """`allowFileDiscovery` of domain and anyone grants."""


# Permissions are immutable, so equal grants share one object (a million files stay small).
@lru_cache(maxsize=65536)
def user_permission(email: str, role: str) -> Permission:
    """A user's grant: Drive gives each user one permission id, the same on every file."""
    return Permission(permission_id(email), "user", role, email)


@lru_cache(maxsize=65536)
def group_permission(email: str, role: str) -> Permission:
    """A Google Group's grant; its members reach the item through the group."""
    return Permission(permission_id(email.lower()), "group", role, email.lower())


@lru_cache(maxsize=1024)
def domain_permission(domain: str, role: str, discoverable: bool = False) -> Permission:
    """Everyone signed in with an account of `domain`."""
    domain = domain.lower()
    return Permission(permission_id(domain) + "k", "domain", role, None, domain, discoverable)


@lru_cache(maxsize=16)
def anyone_permission(role: str, discoverable: bool = False) -> Permission:
    """Anyone with the link (`anyoneWithLink`), or anyone at all when discoverable (`anyone`)."""
    return Permission(
        "anyone" if discoverable else "anyoneWithLink", "anyone", role, None, None, discoverable
    )


@dataclass(slots=True)
class SharedDrive:
    """A shared drive; its root folder has the drive's id.

    `members` maps each member's email to its role; `groups` says which of them are groups.
    """

    id: str
    name: str
    members: dict[str, str]
    created: float
    groups: set[str] = field(default_factory=set)

    def member_permissions(self) -> list[Permission]:
        """The members as grants, by email."""
        return [
            group_permission(email, role) if email in self.groups else user_permission(email, role)
            for email, role in sorted(self.members.items())
        ]


@dataclass(slots=True, eq=False)
class DriveFile:
    """One item. Drive v3 allows a single parent, so the parent is one id.

    `seq`, `parent_pos` and `drive_pos` are positions in the state's append-only indexes;
    an index entry is live only while the file still points back at it.
    """

    id: str
    name: str
    mime_type: str
    parent: str | None
    drive_id: str | None
    creator: str
    content: bytes | None
    created: float
    modified: float
    perms: tuple[Permission, ...]
    version: int = 1
    trashed: bool = False
    explicitly_trashed: bool = False
    shortcut_target: str | None = None
    shortcut_target_mime: str | None = None
    is_root: bool = False
    seq: int = -1
    parent_pos: int = -1
    drive_pos: int = -1
    _digests: dict[str, str] | None = field(default=None, repr=False)

    @property
    def is_apps(self) -> bool:
        """Google-native types (Docs, folders, shortcuts...) have no bytes of their own."""
        return self.mime_type.startswith(APPS_PREFIX)

    @property
    def size(self) -> int | None:
        """Byte size of binary content; None for Google-native types."""
        if self.is_apps or self.content is None:
            return None
        return len(self.content)

    def digest(self, algorithm: str) -> str | None:
        """Checksum of binary content, computed on first use (generated files are many)."""
        if self.is_apps or self.content is None:
            return None
        if self._digests is None:
            self._digests = {}
        value = self._digests.get(algorithm)
        if value is None:
            value = hashlib.new(algorithm, self.content).hexdigest()
            self._digests[algorithm] = value
        return value

    def set_content(self, content: bytes) -> None:
        """Replace the bytes and forget cached checksums."""
        self.content = content
        self._digests = None

    def owner_email(self) -> str | None:
        """My Drive items have exactly one owner; shared-drive items have none."""
        for perm in self.perms:
            if perm.role == "owner":
                return perm.email
        return None

    def has_grant(self, email: str) -> bool:
        """Whether a direct permission names this user."""
        return any(perm.email == email for perm in self.perms)
