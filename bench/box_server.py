"""A sandbox Box with one user's "All Files" of N generated files, in its own process.

`python -m bench.box_server --files N` prints one JSON line
`{url, access, refresh, files, folders, shared}` once it serves, then runs until killed or
until its standard input closes. The account holds N files in about one folder per 50 files
(`--files-per-folder`), three levels deep (every 200th file at the root); about 10% of the
folders and 1% of the files have a collaboration with a user or a managed group, so the
connector reads their `collaborations` and the groups' `memberships`.

`POST /_bench/mutate?update=N&vanish=M`: N files get a new version (`upload_version`, an
`ITEM_UPLOAD` event each), M files are purged (`BoxState.purge`: gone with no event at all, so
only a full listing notices).

The world is built in `BoxState` directly (items, their children index, collaborations)
rather than through `add_file`: every `add_*` emits an event, and each event renders the item
and computes its `viewers()` (every user x every ancestor x every membership and
collaboration), which makes 100,000 `add_file` calls take minutes. Built directly, the
account has no events for its initial contents (the stream starts empty, as though the
account were older than Box's event retention), which no listing reads anyway.

`box_server(files)` is the context manager benchmarks use to run it.
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
from syncline.sandbox.box import BoxState, create_box_app
from syncline.sandbox.box.state import Collaboration, Item

OWNER = "alice@example.com"
FILES_PER_FOLDER = 50
FANOUT = 4
"""Folders per folder below the top level: levels of L, 4L and 16L folders."""
USERS, GROUPS, GROUP_SIZE = 20, 4, 5
"""Few users: each later change's event computes its viewers over every user."""
FOLDER_SHARE, FILE_SHARE = 0.10, 0.01
_EXTENSIONS = ("docx", "xlsx", "pdf", "txt", "png")


@dataclass(frozen=True, slots=True)
class Account:
    """What `populate` made."""

    file_ids: list[str]
    folders: int
    shared: int


def populate(
    state: BoxState, files: int, *, per_folder: int = FILES_PER_FOLDER, seed: int = 7
) -> Account:
    """`files` files of OWNER (an admin) and their folders, users, groups and collaborations,
    written into `state` directly (see the module docstring); about a second per 100,000."""
    rng = random.Random(seed)
    gc.disable()
    try:
        with state.lock:
            owner = state.add_user(OWNER, is_admin=True)
            logins = [f"user-{i:03d}@example.com" for i in range(USERS)]
            users = [state.add_user(login) for login in logins]
            groups = [
                state.add_group(f"Team {g}", logins[g * GROUP_SIZE : (g + 1) * GROUP_SIZE])
                for g in range(GROUPS)
            ]
            now = state.clock()

            def add(kind: str, name: str, parent: str, content: bytes = b"") -> str:
                item = Item(state._id(), kind, name, parent, owner, now, now, content=content)  # type: ignore[arg-type]
                item.content_modified = now
                if kind == "file":
                    item.version = state._id()
                state.items[item.id] = item
                state._children.setdefault(parent, {})[item.id] = None
                return item.id

            count = max(1, files // per_folder) if files else 0
            top = max(1, -(-count // (1 + FANOUT + FANOUT * FANOUT)))
            folders: list[str] = []
            for index in range(count):
                parent = "0" if index < top else folders[(index - top) // FANOUT]
                folders.append(add("folder", f"Folder {index:05d}", parent))
            made: list[str] = []
            for index in range(files):
                parent = folders[index % len(folders)] if folders and index % 200 else "0"
                name = f"Document {index:06d}.{_EXTENSIONS[index % len(_EXTENSIONS)]}"
                content = f"file {index} of the benchmark account\n".encode()
                made.append(add("file", name, parent, content))
            shared = 0
            for ids, share in ((folders, FOLDER_SHARE), (made, FILE_SHARE)):
                for item_id in ids:
                    if rng.random() >= share:
                        continue
                    with_user = rng.random() < 0.5
                    collab = Collaboration(
                        state._id(), item_id, "viewer" if with_user else "editor", owner,
                        now, now,
                        user=rng.choice(users) if with_user else None,
                        group=None if with_user else rng.choice(groups),
                    )  # fmt: skip
                    state.collaborations[collab.id] = collab
                    shared += 1
    finally:
        gc.enable()
    return Account(made, len(folders), shared)


@dataclass(frozen=True)
class Box:
    """A running `bench.box_server`."""

    url: str
    access: str
    refresh: str
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    """The rest of its JSON line: `files`, `folders`, `shared`, `generate_s`."""


@contextmanager
def box_server(files: int, *extra: str) -> Iterator[Box]:
    """Serve a sandbox Box with `files` generated files from another process; `extra` are
    more `bench.box_server` arguments (e.g. `--files-per-folder`)."""
    with upstream_process("bench.box_server", "--files", str(files), *extra) as (line, _):
        url, access, refresh = line.pop("url"), line.pop("access"), line.pop("refresh")
        yield Box(url, access, refresh, line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--files-per-folder", type=int, default=FILES_PER_FOLDER)
    args = parser.parse_args()
    state = BoxState(token_ttl=24 * 3600.0)
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
                state.upload_version(file_id, f"changed {rng.random()}\n".encode())
            for file_id in alive[update : update + vanish]:
                state.purge(file_id)
            del alive[update : update + vanish]
        seconds = time.perf_counter() - started
        return JSONResponse({"updated": update, "vanished": vanish, "seconds": seconds})

    app = Starlette(
        routes=[
            Route("/_bench/mutate", mutate, methods=["POST"]),
            Mount("/", create_box_app(state)),
        ]
    )
    with BackgroundServer(app) as server:
        line = {
            "url": server.url, "access": access, "refresh": refresh, "files": args.files,
            "folders": account.folders, "shared": account.shared, "generate_s": generate_s,
        }  # fmt: skip
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
