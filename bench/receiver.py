"""A webhook receiver for benchmarks, in its own process: answers 200, keeps arrival times.

`python -m bench.receiver` prints `{url}` once it serves; `GET /stats` returns how many events
arrived, each one's lag (arrival minus the event's `timestamp`) and when the last event of each
type arrived (epoch seconds), then resets.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox import BackgroundServer

lags: list[float] = []
ids: set[str] = set()
last: dict[str, float] = {}
counts: dict[str, int] = {}


async def receive(request: Request) -> Response:
    body = orjson.loads(await request.body())
    sent = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")).timestamp()
    now = time.time()
    lags.append(now - sent)
    ids.add(body["id"])
    last[body["event"]] = now
    counts[body["event"]] = counts.get(body["event"], 0) + 1
    return Response(status_code=200)


async def stats(_request: Request) -> Response:
    out = {
        "count": len(lags),
        "unique": len(ids),
        "lags": lags[:],
        "last": dict(last),
        "counts": dict(counts),
    }
    lags.clear()
    ids.clear()
    last.clear()
    counts.clear()
    return Response(orjson.dumps(out), media_type="application/json")


def main() -> None:
    app = Starlette(routes=[Route("/hooks", receive, methods=["POST"]), Route("/stats", stats)])
    with BackgroundServer(app) as server:
        sys.stdout.write(orjson.dumps({"url": server.url}).decode() + "\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
