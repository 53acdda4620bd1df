"""A Syncline SharePoint initial sync in a fresh process, against a `bench.graph_server`.

Builds a runtime on `--db` pointed at the sandbox Graph, imports the user's credential, enables a
`sharepoint` files sync of `--site`, and times it from enable to sync_complete, as
`bench._syncline_run initial` does for Drive; prints {seconds, records, rss_mb}.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from bench.common import embedded_runtime, timed_initial_sync
from bench.graph_server import SCOPES
from syncline.sandbox.msgraph import graph_env
from syncline.wiring import configure_logging


async def initial(
    database_url: str, graph_url: str, access: str, refresh: str, site: str
) -> dict[str, float]:
    runtime, headers = await embedded_runtime(database_url, graph_env(graph_url))
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://syncline") as api:
        # An expiry far off: the run must not refresh, since Microsoft's refresh tokens rotate
        # and the next run imports the same pair.
        expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
        answer = await api.post(
            "/api/credentials",
            headers=headers,
            json={
                "integration": "sharepoint",
                "accessToken": access,
                "refreshToken": refresh,
                "expiresAt": expires,
                "scopes": list(SCOPES),
            },
        )
        assert answer.status_code == 201, answer.text
        body = {"integration": "sharepoint", "pipeline": "files", "configuration": {"siteId": site}}
        _, result = await timed_initial_sync(runtime, api, headers, body)
    await runtime.close()
    return result


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--graph", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--refresh", required=True)
    parser.add_argument("--site", required=True)
    args = parser.parse_args()
    result = asyncio.run(initial(args.db, args.graph, args.access, args.refresh, args.site))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
