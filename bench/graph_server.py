"""A sandbox Microsoft Graph with one SharePoint site of N generated files, in its own process.

`python -m bench.graph_server --files N` prints one JSON line
`{url, access, refresh, site, drive, files, folders, shared}` once it serves, then runs until
killed or until its standard input closes. The site's library holds N files in about one
folder per 50 files (`--files-per-folder`), three levels deep; about 10% of the folders and
1% of the files are shared with a user or an Entra group, so the connector reads their
`permissions` and expands the groups.

`graph_server(files)` is the context manager benchmarks use to run it.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.common import upstream_process
from syncline.sandbox import BackgroundServer
from syncline.sandbox.msgraph import GraphState, create_graph_app

OWNER = "alice@contoso.com"
SCOPES = ("offline_access", "User.Read", "Files.Read.All", "Sites.Read.All", "GroupMember.Read.All")
FILES_PER_FOLDER = 50
FANOUT = 4
"""Folders per folder below the top level: levels of L, 4L and 16L folders."""
USERS, GROUPS, GROUP_SIZE = 50, 5, 10
FOLDER_SHARE, FILE_SHARE = 0.10, 0.01
_MIX = (
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("png", "image/png"),
)


@dataclass(frozen=True, slots=True)
class Library:
    """What `populate` made."""

    site: str
    drive: str
    files: int
    folders: int
    shared: int


def _folders(state: GraphState, drive: str, count: int) -> list[str]:
    """`count` folders on three levels: L at the top, FANOUT under each, FANOUT again below."""
    top = max(1, -(-count // (1 + FANOUT + FANOUT * FANOUT)))
    made: list[str] = []
    for index in range(count):
        parent = None if index < top else made[(index - top) // FANOUT]
        made.append(state.add_folder(drive, f"Folder {index:05d}", parent))
    return made


def populate(
    state: GraphState, files: int, *, per_folder: int = FILES_PER_FOLDER, seed: int = 7
) -> Library:
    """One SharePoint site whose library holds `files` files (every 200th at the root, the
    rest round-robin over one folder per `per_folder` files), with users, Entra groups (one
    nested) and some shares.

    `add_file` is O(1) (an `Item` and one change-log entry), so 100,000 files take about half
    a second; the collector is paused meanwhile (nothing here is cyclic garbage)."""
    rng = random.Random(seed)
    gc.disable()
    try:
        with state.lock:
            users = [f"user-{i:03d}@contoso.com" for i in range(USERS)]
            site = state.add_site("Engineering", OWNER, members=users[:3], visitors=users[3:6])
            drive = state.sites[site].drive_ids[0]
            groups: list[str] = []
            for g in range(GROUPS):
                members = users[g * GROUP_SIZE : (g + 1) * GROUP_SIZE]
                nested = groups[-1:] if g % 2 else []  # every other group holds the previous
                groups.append(state.add_group(f"Team {g}", [*members, *nested]))
            folders = _folders(state, drive, max(1, files // per_folder) if files else 0)
            made: list[str] = []
            for index in range(files):
                extension, mime = _MIX[index % len(_MIX)]
                parent = folders[index % len(folders)] if folders and index % 200 else None
                # Short content: the fake hashes it (QuickXorHash, in Python) at every render.
                content = f"file {index} of the benchmark library\n".encode()
                name = f"Document {index:06d}.{extension}"
                made.append(state.add_file(drive, name, content, parent=parent, mime_type=mime))
            shared = 0
            for ids, share in ((folders, FOLDER_SHARE), (made, FILE_SHARE)):
                for item_id in ids:
                    if rng.random() >= share:
                        continue
                    if rng.random() < 0.5:
                        state.share(item_id, user=rng.choice(users), roles=("read",))
                    else:
                        state.share(item_id, group=rng.choice(groups), roles=("write",))
                    shared += 1
    finally:
        gc.enable()
    return Library(site, drive, files, len(folders), shared)


@dataclass(frozen=True)
class Graph:
    """A running `bench.graph_server`."""

    url: str
    access: str
    refresh: str
    site: str
    drive: str
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    """The rest of its JSON line: `files`, `folders`, `shared`."""


@contextmanager
def graph_server(files: int, *extra: str) -> Iterator[Graph]:
    """Serve a sandbox Graph with `files` generated files from another process; `extra` are
    more `bench.graph_server` arguments (e.g. `--files-per-folder`)."""
    with upstream_process("bench.graph_server", "--files", str(files), *extra) as (line, _):
        keys = ("url", "access", "refresh", "site", "drive")
        url, access, refresh, site, drive = (line.pop(k) for k in keys)
        yield Graph(url, access, refresh, site, drive, line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--files-per-folder", type=int, default=FILES_PER_FOLDER)
    args = parser.parse_args()
    day = 24 * 3600.0
    state = GraphState(token_ttl=day)
    library = populate(state, args.files, per_folder=args.files_per_folder)
    access, refresh = state.issue_tokens(OWNER, SCOPES)
    gc.freeze()  # a few hundred thousand live objects: keep the collector off them
    with BackgroundServer(create_graph_app(state)) as server:
        line = {
            "url": server.url, "access": access, "refresh": refresh, "site": library.site,
            "drive": library.drive, "files": library.files, "folders": library.folders,
            "shared": library.shared,
        }  # fmt: skip
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
