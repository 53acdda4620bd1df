"""A sandbox Google Drive with N generated files, in its own process, for benchmarks.

`python -m bench.drive_server --files N` prints one JSON line `{url, access, refresh}` once it
serves, then runs until killed or until its standard input closes. Benchmarks change the drive
with `POST /_bench/mutate?update=N&vanish=M`: N files get new content (each a change in the
feed), M files disappear without a trace (only a full sync can notice).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from syncline.sandbox import BackgroundServer, DriveState, create_drive_app, generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--folders", type=int, default=None)
    args = parser.parse_args()
    state = DriveState(token_ttl=24 * 3600.0)
    made = generate(state, args.files, args.folders)
    gc.freeze()  # a million live objects: keep the collector off them
    access, refresh = state.issue_tokens("alice@example.com")
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

    app = Starlette(
        routes=[
            Route("/_bench/mutate", mutate, methods=["POST"]),
            Mount("/", create_drive_app(state)),
        ]
    )
    with BackgroundServer(app) as server:
        line = {"url": server.url, "access": access, "refresh": refresh}
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
