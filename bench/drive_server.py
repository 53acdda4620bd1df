"""A sandbox Google Drive with N generated files, in its own process, for benchmarks.

`python -m bench.drive_server --files N` prints one JSON line `{url, access, refresh}` once it
serves, then runs until killed or until its standard input closes.
"""

from __future__ import annotations

import argparse
import gc
import sys

import orjson

from syncline.sandbox import BackgroundServer, DriveState, create_drive_app, generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--folders", type=int, default=None)
    args = parser.parse_args()
    state = DriveState(token_ttl=24 * 3600.0)
    generate(state, args.files, args.folders)
    gc.freeze()  # a million live objects: keep the collector off them
    access, refresh = state.issue_tokens("alice@example.com")
    with BackgroundServer(create_drive_app(state)) as server:
        line = {"url": server.url, "access": access, "refresh": refresh}
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or exits) when it is done


if __name__ == "__main__":
    main()
