"""A sandbox Google Drive with N generated files, in its own process, for benchmarks.

`python -m bench.drive_server --files N` prints one JSON line `{url, access, refresh}` once it
serves, then runs until killed or until its standard input closes. Benchmarks change the drive
with `POST /_bench/mutate?update=N&vanish=M`: N files get new content (each a change in the
feed), M files disappear without a trace (only a full sync can notice).

With `--sharing USERS,GROUPS` the drive is permission-rich (`Sharing`), the tokens carry a
Directory scope too (so group members can be read), the JSON line adds `files` (how many were
generated), and `GET /_bench/generated` returns the generated `file_ids`, `users` and `groups`.
`--reader EMAIL --reader-share F` then also lets EMAIL read about that fraction of the files,
through top-level folders shared with EMAIL directly or with a group EMAIL is in; the JSON line
adds `reader_files`, how many files EMAIL may open by the drive's own rules.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from syncline.sandbox import BackgroundServer, DriveState, Sharing, create_drive_app, generate
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from syncline.sandbox.googledrive.samples import Generated

DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"
READERS_GROUP = "bench-readers@example.com"


def _share_with_reader(state: DriveState, made: Generated, reader: str, share: float) -> None:
    """Share whole top-level folders (alternately with `reader`, and with a group `reader` is
    in) until about `share` of the generated files are below them."""
    parent_of = {fid: state.get(fid).parent for fid in made.folder_ids}  # type: ignore[union-attr]
    folders = set(made.folder_ids)
    below: dict[str, int] = {}
    for fid in made.file_ids:
        folder = state.get(fid).parent  # type: ignore[union-attr]
        while folder in folders and parent_of[folder] in folders:
            folder = parent_of[folder]
        if folder in folders:
            below[folder] = below.get(folder, 0) + 1
    state.add_group(READERS_GROUP, [reader])
    reached = 0
    for index, folder in enumerate(sorted(below, key=made.folder_ids.index)):
        if reached >= share * len(made.file_ids):
            break
        if index % 2 == 0:
            state.share(folder, reader, "reader")
        else:
            state.share(folder, READERS_GROUP, "reader", type="group")
        reached += below[folder]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--folders", type=int, default=None)
    parser.add_argument("--sharing", default=None, help="USERS,GROUPS: a permission-rich drive")
    parser.add_argument("--reader", default=None, help="an email that may read --reader-share")
    parser.add_argument("--reader-share", type=float, default=0.5)
    args = parser.parse_args()
    state = DriveState(token_ttl=24 * 3600.0)
    extra: dict[str, object] = {}
    if args.sharing is None:
        made = generate(state, args.files, args.folders)
        scopes: tuple[str, ...] = (DRIVE_SCOPE,)
    else:
        users, groups = (int(part) for part in args.sharing.split(","))
        sharing = Sharing(users=users, groups=groups)
        made = generate(state, args.files, args.folders, sharing=sharing)
        scopes = (DRIVE_SCOPE, DIRECTORY_SCOPE)
        extra["files"] = len(made.file_ids)
        if args.reader is not None:
            _share_with_reader(state, made, args.reader.lower(), args.reader_share)
            extra["reader_files"] = sum(
                state.can_open(state.get(fid), args.reader.lower())  # type: ignore[arg-type]
                for fid in made.file_ids
            )
    gc.freeze()  # a million live objects: keep the collector off them
    access, refresh = state.issue_tokens("alice@example.com", scopes)
    alive = list(made.file_ids)
    rng = random.Random(7)

    async def mutate(request: Request) -> JSONResponse:
        update = int(request.query_params.get("update", "0"))
        vanish = int(request.query_params.get("vanish", "0"))
        rng.shuffle(alive)
        for file_id in alive[:update]:
            state.update_file(file_id, content=f"changed {rng.random()}".encode())
        for file_id in alive[update : update + vanish]:
            state.silently_delete(file_id)
        del alive[update : update + vanish]
        return JSONResponse({"updated": update, "vanished": vanish})

    async def generated(_request: Request) -> Response:
        body = {"file_ids": made.file_ids, "users": made.users, "groups": made.groups}
        return Response(orjson.dumps(body), media_type="application/json")

    app = Starlette(
        routes=[
            Route("/_bench/mutate", mutate, methods=["POST"]),
            Route("/_bench/generated", generated, methods=["GET"]),
            Mount("/", create_drive_app(state)),
        ]
    )
    with BackgroundServer(app) as server:
        line = {"url": server.url, "access": access, "refresh": refresh, **extra}
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
