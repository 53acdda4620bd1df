"""Sample content for the fake Drive: a small realistic drive (demos) and bulk data (benchmarks)."""

from __future__ import annotations

import base64
import gc
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from syncline.sandbox.googledrive.export import export_bytes
from syncline.sandbox.googledrive.model import (
    FOLDER,
    DriveFile,
    Permission,
    anyone_permission,
    domain_permission,
    group_permission,
    user_permission,
)
from syncline.sandbox.googledrive.state import DriveState

__all__ = ["Generated", "Sharing", "generate", "populate"]

_DOC = "application/vnd.google-apps.document"
_SHEET = "application/vnd.google-apps.spreadsheet"
_SLIDES = "application/vnd.google-apps.presentation"
_DRAWING = "application/vnd.google-apps.drawing"


def _pdf(text: str) -> bytes:
    return export_bytes(_DOC, "application/pdf", text)


def populate(
    state: DriveState, *, user: str = "alice@example.com", colleague: str = "bob@example.com"
) -> dict[str, str]:
    """Fill `state` with a small, realistic drive for `user`; returns {path: id}.

    Folders, Docs/Sheets/Slides/Drawings, PDFs, text files, a shortcut, a trashed file, a
    file `colleague` shared with `user`, and a shared drive both belong to.
    """
    ids: dict[str, str] = {}

    def folder(path: str, parent: str | None = None, drive: str | None = None) -> str:
        ids[path] = state.add_folder(
            path.rsplit("/", 1)[-1], parent=parent, drive_id=drive, owner=user
        )
        return ids[path]

    def file(
        path: str,
        mime: str,
        content: bytes,
        parent: str | None = None,
        drive: str | None = None,
        owner: str = user,
    ) -> str:
        name = path.rsplit("/", 1)[-1]
        ids[path] = state.add_file(
            name, mime_type=mime, content=content, parent=parent, drive_id=drive, owner=owner
        )
        return ids[path]

    projects = folder("Projects")
    planning = folder("Projects/Q3 Planning", projects)
    finance = folder("Finance")
    folder("Archive")

    plan = file(
        "Projects/Q3 Planning/Q3 plan",
        _DOC,
        b"Q3 plan\n\nShip the sync engine.\nHire two engineers.\n",
        planning,
    )
    file("Projects/Meeting notes", _DOC, b"Standup 2024-05-02\n- sync: on track\n", projects)
    file("Finance/Budget 2024", _SHEET, b"item,amount\nSalaries,120000\nCloud,18000\n", finance)
    file("Projects/Quarterly review", _SLIDES, b"Quarterly review\nRevenue up 12%\n", projects)
    file("Projects/Architecture", _DRAWING, b"API -> Engine -> Store\n", projects)
    file(
        "Finance/Invoice-0042.pdf",
        "application/pdf",
        _pdf("Invoice 0042\nTotal: 1,200 EUR"),
        finance,
    )
    file("Projects/Contract.pdf", "application/pdf", _pdf("Services agreement\nSigned."), projects)
    file("README.txt", "text/plain", b"Welcome to the Syncline sandbox drive.\n")
    file("Projects/todo.md", "text/markdown", b"# TODO\n- [ ] write the connector\n", projects)
    file("Finance/data.csv", "text/csv", b"month,visits\n2024-04,1200\n2024-05,1350\n", finance)
    ids["Finance/Q3 plan (shortcut)"] = state.add_shortcut(
        "Q3 plan", plan, parent=finance, owner=user
    )
    old = file("Old draft.txt", "text/plain", b"superseded\n")
    state.trash(old)
    shared = file("Bob's notes", _DOC, b"Notes Bob shared with Alice\n", owner=colleague)
    state.share(shared, user, "writer")

    drive = ids["Engineering"] = state.add_shared_drive("Engineering", [user, colleague])
    design = folder("Engineering/Design docs", drive=drive)
    file(
        "Engineering/Design docs/RFC-001 Sync engine", _DOC, b"RFC-001\nCursor handling.\n", design
    )
    file(
        "Engineering/diagram.png", "image/png", export_bytes(_DRAWING, "image/png", ""), drive=drive
    )
    file("Engineering/runbook.txt", "text/plain", b"Page the on-call.\n", drive=drive)
    return ids


@dataclass(frozen=True, slots=True)
class Generated:
    """Ids `generate` created: folders (parents first) and files; users and groups with
    `sharing`."""

    folder_ids: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Sharing:
    """How `generate` shares what it creates (a permission-rich drive, for issue 4 benchmarks).

    `users` people `user-0000@<domain>`… and `groups` Google Groups `group-000@<domain>`…, each
    with `group_size` user members; every `nest_every`-th group also contains the next group
    (nesting is acyclic). Each folder gets a grant with probability `folder_share`, each file
    with `file_share`: mostly a user or a group (reader, commenter or writer), sometimes the
    whole domain or anyone with the link. Grants reach everything below a shared folder.
    """

    users: int = 1_000
    groups: int = 200
    domain: str = "example.com"
    group_size: int = 12
    nest_every: int = 5
    folder_share: float = 0.3
    file_share: float = 0.1


# (extension, MIME type) in proportion: mostly plain files, some native Google types.
_MIX = [
    ("txt", "text/plain"),
    ("txt", "text/plain"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("", _DOC),
    ("", _SHEET),
    ("", _SLIDES),
]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million new objects would trigger repeated full GC passes over everything already
    allocated (none of it cyclic garbage): pausing the collector halves bulk-load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate(
    state: DriveState,
    n_files: int,
    n_folders: int | None = None,
    *,
    owner: str = "alice@example.com",
    drive_id: str | None = None,
    seed: int = 0,
    sharing: Sharing | None = None,
) -> Generated:
    """Bulk-create `n_files` files in `n_folders` folders (default: one per 100 files).

    Folders form two levels under the root (about sqrt(n) at the top); files are spread
    round-robin. Ids are deterministic for a given `seed`. Fast: a million files take a few
    seconds, with one change entry each. With `sharing`, users and groups are created and
    folders and files get grants (`Sharing`); 100,000 files with 1,000 users and 200 groups
    take about a second.
    """
    if n_folders is None:
        n_folders = max(1, n_files // 100) if n_files else 0
    rng = random.Random(seed)
    # One base64 pass over 24 random bytes per id: 32 characters each, no per-id encoding.
    blob = base64.urlsafe_b64encode(rng.randbytes(24 * (n_files + n_folders))).decode()
    perms: tuple[Permission, ...] = () if drive_id else (user_permission(owner, "owner"),)
    grant = _Grants(state, sharing, perms, seed) if sharing is not None else None
    root = drive_id or state.root_id(owner)
    now = state.clock()
    with _gc_paused(), state.lock:
        if drive_id is not None and state.drive(drive_id) is None:
            raise KeyError(f"no such shared drive: {drive_id}")
        top = math.isqrt(n_folders) if n_folders else 0
        folder_ids = ["1" + blob[32 * i : 32 * i + 32] for i in range(n_folders)]
        folders = [
            DriveFile(
                fid,
                f"folder-{i:05d}",
                FOLDER,
                root if i < top else folder_ids[i % top],
                drive_id,
                owner,
                None,
                now,
                now,
                perms if grant is None else grant.folder(),
            )
            for i, fid in enumerate(folder_ids)
        ]
        state.insert_many(folders)
        parents = folder_ids or [root]
        offset = 32 * n_folders
        file_ids = ["1" + blob[offset + 32 * i : offset + 32 * i + 32] for i in range(n_files)]
        mix, n_mix, n_parents = _MIX, len(_MIX), len(parents)
        state.insert_many(
            DriveFile(
                fid,
                f"file-{i:07d}.{mix[i % n_mix][0]}".rstrip("."),
                mix[i % n_mix][1],
                parents[i % n_parents],
                drive_id,
                owner,
                b"generated file %d\n" % i,
                now,
                now,
                perms if grant is None else grant.file(),
            )
            for i, fid in enumerate(file_ids)
        )
    if grant is None:
        return Generated(folder_ids, file_ids)
    return Generated(folder_ids, file_ids, grant.users, grant.groups)


class _Grants:
    """Creates `sharing`'s users and groups, then hands out perms tuples for new items.

    Tuples are interned: equal grants on many items share one tuple (and one audience).
    """

    _ROLES = ("reader", "reader", "commenter", "writer")

    def __init__(
        self, state: DriveState, sharing: Sharing, base: tuple[Permission, ...], seed: int
    ) -> None:
        self.rng = random.Random(seed + 1)
        self.sharing = sharing
        self.base = base
        self.domain = sharing.domain
        self.users = [f"user-{i:04d}@{sharing.domain}" for i in range(sharing.users)]
        self.groups = [f"group-{i:03d}@{sharing.domain}" for i in range(sharing.groups)]
        self._interned: dict[tuple[Permission, ...], tuple[Permission, ...]] = {}
        # Create the innermost groups first, so each nested group already exists.
        for index in reversed(range(sharing.groups)):
            members = self.rng.sample(self.users, min(sharing.group_size, len(self.users)))
            nests = sharing.nest_every and index % sharing.nest_every == 0
            if nests and index + 1 < sharing.groups:
                members.append(self.groups[index + 1])
            state.add_group(self.groups[index], members)

    def folder(self) -> tuple[Permission, ...]:
        return self._perms(self.sharing.folder_share)

    def file(self) -> tuple[Permission, ...]:
        return self._perms(self.sharing.file_share)

    def _perms(self, probability: float) -> tuple[Permission, ...]:
        rng = self.rng
        if rng.random() >= probability:
            return self.base
        role = rng.choice(self._ROLES)
        pick = rng.random()
        if pick < 0.55 and self.users:
            perm = user_permission(rng.choice(self.users), role)
        elif pick < 0.9 and self.groups:
            perm = group_permission(rng.choice(self.groups), role)
        elif pick < 0.96:
            perm = domain_permission(self.domain, "reader", discoverable=rng.random() < 0.5)
        else:
            perm = anyone_permission("reader")
        perms = (*self.base, perm)
        return self._interned.setdefault(perms, perms)
