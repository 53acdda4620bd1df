"""A sandbox Dropbox with one user's Dropbox of N generated files, in its own process.

`python -m bench.dropbox_server --files N` prints one JSON line
`{url, access, refresh, files, folders, shared_folders, shared_files, generate_s}` once it
serves, then runs until killed or until its standard input closes. The Dropbox holds N files in
about one folder per 50 files (`--files-per-folder`), three levels deep (every 200th file at the
root). Every 10th top-level folder is a shared folder (Dropbox's shared folders do not nest)
with a user or a group as a member besides its owner, so the connector reads its
`sharing/list_folder_members`; about 1% of the files have an explicit member of their own, so
it reads their `sharing/list_file_members`. The account is not on a team, so groups stay
opaque (the connector expands them only with `orgWideSync`, a team credential).

`POST /_bench/mutate?update=N&vanish=M`: N files get a new revision (`DropboxState.edit`, one
change-log entry each); M files vanish silently. The fake has no method for that (its `delete`
always logs a `deleted` entry), so they are removed from `DropboxState.items` directly, under
its lock: no log entry, no tombstone, so only a full listing notices.

Built with the fake's own methods (`add_folder`, `share_folder` before the files exist, so it
moves nothing, `add_file`, `add_file_member`): each is O(users), so generation is fast.

`dropbox_server(files)` is the context manager benchmarks use to run it.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from bench.common import upstream_process
from syncline.sandbox import BackgroundServer
from syncline.sandbox.dropbox import DropboxState, Member, create_dropbox_app

OWNER = "alice@example.com"
FILES_PER_FOLDER = 50
FANOUT = 4
"""Folders per folder below the top level: levels of L, 4L and 16L folders."""
USERS, GROUPS, GROUP_SIZE = 20, 4, 5
SHARED_EVERY = 10
"""Every 10th top-level folder (the first included) is a shared folder."""
FILE_SHARE = 0.01
_EXTENSIONS = ("docx", "xlsx", "pdf", "txt", "png")


@dataclass(frozen=True, slots=True)
class Account:
    """What `populate` made."""

    file_ids: list[str]
    folders: int
    shared_folders: int
    shared_files: int


def populate(
    state: DropboxState, files: int, *, per_folder: int = FILES_PER_FOLDER, seed: int = 7
) -> Account:
    """`files` files of OWNER and their folders, users, groups and shares."""
    rng = random.Random(seed)
    gc.disable()
    try:
        with state.lock:
            state.ensure_user(OWNER)
            users = [f"user-{i:03d}@example.com" for i in range(USERS)]
            for email in users:
                state.ensure_user(email)
            groups = [
                state.add_group(f"Team {g}", users[g * GROUP_SIZE : (g + 1) * GROUP_SIZE])
                for g in range(GROUPS)
            ]

            def member() -> Member:
                if rng.random() < 0.5:
                    return Member("user", rng.choice(users), "viewer")
                return Member("group", rng.choice(groups), "editor")

            count = max(1, files // per_folder) if files else 0
            top = max(1, -(-count // (1 + FANOUT + FANOUT * FANOUT)))
            folders: list[str] = []
            for index in range(count):
                parent = None if index < top else folders[(index - top) // FANOUT]
                folders.append(state.add_folder(f"Folder {index:05d}", parent, owner=OWNER))
            shared_folders = 0
            for index in range(0, min(top, count), SHARED_EVERY):
                # Before any file exists: `share_folder` scans every item to move the subtree.
                ns = state.share_folder(OWNER, folders[index])
                state.add_folder_member(ns, member())
                shared_folders += 1
            made: list[str] = []
            for index in range(files):
                parent = folders[index % len(folders)] if folders and index % 200 else None
                name = f"Document {index:06d}.{_EXTENSIONS[index % len(_EXTENSIONS)]}"
                content = f"file {index} of the benchmark account\n".encode()
                made.append(state.add_file(name, content, parent, owner=OWNER))
            shared_files = 0
            for file_id in made:
                if rng.random() < FILE_SHARE:
                    state.add_file_member(file_id, member())
                    shared_files += 1
    finally:
        gc.enable()
    return Account(made, len(folders), shared_folders, shared_files)


@dataclass(frozen=True)
class Dropbox:
    """A running `bench.dropbox_server`."""

    url: str
    access: str
    refresh: str
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    """The rest of its JSON line: `files`, `folders`, `shared_folders`, `shared_files`,
    `generate_s`."""


@contextmanager
def dropbox_server(files: int, *extra: str) -> Iterator[Dropbox]:
    """Serve a sandbox Dropbox with `files` generated files from another process; `extra` are
    more `bench.dropbox_server` arguments (e.g. `--files-per-folder`)."""
    with upstream_process("bench.dropbox_server", "--files", str(files), *extra) as (line, _):
        url, access, refresh = line.pop("url"), line.pop("access"), line.pop("refresh")
        yield Dropbox(url, access, refresh, line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--files-per-folder", type=int, default=FILES_PER_FOLDER)
    args = parser.parse_args()
    state = DropboxState(token_ttl=24 * 3600.0)
    started = time.perf_counter()
    account = populate(state, args.files, per_folder=args.files_per_folder)
    generate_s = time.perf_counter() - started
    access, refresh = state.issue_tokens(OWNER)
    gc.freeze()  # a few hundred thousand live objects: keep the collector off them
    alive = list(account.file_ids)
    rng = random.Random(7)

    async def mutate(request: Request) -> JSONResponse:
        update = int(request.query_params.get("update", "0"))
        vanish = int(request.query_params.get("vanish", "0"))
        started = time.perf_counter()
        with state.lock:
            rng.shuffle(alive)
            for file_id in alive[:update]:
                state.edit(file_id, f"changed {rng.random()}\n".encode())
            for file_id in alive[update : update + vanish]:
                del state.items[file_id]  # no log entry, no tombstone: see the docstring
            del alive[update : update + vanish]
        seconds = time.perf_counter() - started
        return JSONResponse({"updated": update, "vanished": vanish, "seconds": seconds})

    app = Starlette(
        routes=[
            Route("/_bench/mutate", mutate, methods=["POST"]),
            Mount("/", create_dropbox_app(state)),
        ]
    )
    with BackgroundServer(app) as server:
        line = {
            "url": server.url, "access": access, "refresh": refresh, "files": args.files,
            "folders": account.folders, "shared_folders": account.shared_folders,
            "shared_files": account.shared_files, "generate_s": generate_s,
        }  # fmt: skip
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
