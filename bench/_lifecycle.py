"""A Syncline `files` sync's lifecycle in a fresh process, against a benchmark server of any
provider that serves `POST /_bench/mutate?update=N&vanish=M` (`bench.box_server`,
`bench.dropbox_server`, `bench.drive_server`).

Builds a runtime on `--db` pointed at the sandbox, imports the user's credential (expiring in
12 hours, so no run refreshes it), enables a sync and times it from enable to sync_complete;
then, as `bench._syncline_run lifecycle` does (its `_later_runs`), an incremental with nothing
changed, an incremental after 1% of the files changed, and a full sync after 1% vanished.
Prints {seconds, records, initial_rss_mb, idle_incremental_s, changed_incremental_s, full_s,
..._sql, changed, active_after, rss_mb}.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from bench._syncline_run import _later_runs
from bench.common import embedded_runtime, timed_initial_sync
from syncline.wiring import configure_logging


async def lifecycle(
    integration: str,
    env: Mapping[str, str],
    database_url: str,
    url: str,
    access: str,
    refresh: str,
    *,
    initial_only: bool = False,
) -> dict[str, float]:
    runtime, headers = await embedded_runtime(database_url, env)
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://syncline") as api:
        expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
        answer = await api.post(
            "/api/credentials",
            headers=headers,
            json={
                "integration": integration,
                "accessToken": access,
                "refreshToken": refresh,
                "expiresAt": expires,
            },
        )
        assert answer.status_code == 201, answer.text
        body = {"integration": integration, "pipeline": "files"}
        sync_id, result = await timed_initial_sync(runtime, api, headers, body)
        result["initial_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if not initial_only:
            result |= await _later_runs(runtime, api, headers, sync_id, url, None)
    await runtime.close()
    return result


def main(integration: str, env: Callable[[str], Mapping[str, str]]) -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["initial", "lifecycle"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True, help="the benchmark server")
    parser.add_argument("--access", required=True)
    parser.add_argument("--refresh", required=True)
    args = parser.parse_args()
    result = asyncio.run(
        lifecycle(
            integration, env(args.url), args.db, args.url, args.access, args.refresh,
            initial_only=args.mode == "initial",
        )
    )  # fmt: skip
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
