"""Syncline measurements in a fresh process, against a benchmark Drive server.

`initial`: enable a sync and time it to sync_complete; prints {seconds, records, rss_mb}.
`lifecycle`: the initial sync, then an incremental with no change, an incremental after 1% of
the files changed, and a full sync after 1% vanished; prints the time and the SQL statements of
each, and the peak RSS. With `--receiver`, the dispatcher runs during the 1% incremental and
`changed_webhooks_s` is when the last of its `record_updated` events reached that receiver,
counted from the trigger.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlalchemy import event

from bench.common import embedded_runtime, timed_initial_sync
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.webhooks.signing import generate_secret
from syncline.wiring import Runtime, configure_logging


async def initial(
    database_url: str,
    drive_url: str,
    access: str,
    refresh: str,
    *,
    lifecycle: bool = False,
    receiver: str | None = None,
) -> dict[str, float]:
    hooks: dict[str, object] = {}
    if receiver is not None:
        hooks = {
            "webhook_url": f"{receiver}/hooks",
            "webhook_secret": generate_secret(),
            "allow_private_webhooks": True,  # the receiver is on 127.0.0.1
        }
    runtime, headers = await embedded_runtime(database_url, googledrive_env(drive_url), **hooks)
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://syncline") as api:
        expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
        await api.post(
            "/api/credentials",
            headers=headers,
            json={
                "integration": "googledrive",
                "accessToken": access,
                "refreshToken": refresh,
                "expiresAt": expires,
            },
        )
        body = {"integration": "googledrive", "pipeline": "files"}
        sync_id, result = await timed_initial_sync(runtime, api, headers, body)
        result["initial_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if lifecycle:
            result |= await _later_runs(runtime, api, headers, sync_id, drive_url, receiver)
    await runtime.close()
    return result


async def _later_runs(
    runtime: Runtime,
    api: httpx.AsyncClient,
    headers: dict[str, str],
    sid: str,
    drive_url: str,
    receiver: str | None,
) -> dict[str, float]:
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    total = (await api.get(f"/api/syncs/{sid}", headers=headers)).json()["summary"]["totalRecords"]
    one_percent = max(1, total // 100)
    out: dict[str, float] = {}

    async def run(kind: str, name: str) -> None:
        nonlocal statements
        statements = 0
        started = time.perf_counter()
        await api.post(f"/api/syncs/{sid}/trigger", headers=headers, json={"type": kind})
        while await runtime.scheduler.tick():
            await runtime.scheduler.idle()
        out[f"{name}_s"] = time.perf_counter() - started
        out[f"{name}_sql"] = statements
        out[f"{name}_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    await run("incremental", "idle_incremental")
    async with httpx.AsyncClient(timeout=None) as drive:  # a fake's mutation may take a while
        await drive.post(f"{drive_url}/_bench/mutate", params={"update": one_percent})
    if receiver is None:
        await run("incremental", "changed_incremental")
    else:
        out |= await _delivered(runtime, receiver, one_percent, run)
    async with httpx.AsyncClient(timeout=None) as drive:  # a fake's mutation may take a while
        await drive.post(f"{drive_url}/_bench/mutate", params={"vanish": one_percent})
    await run("full", "full")
    status = (await api.get(f"/api/syncs/{sid}", headers=headers)).json()
    out["changed"] = one_percent
    out["active_after"] = status["summary"]["totalActiveRecords"]
    return out


async def _delivered(
    runtime: Runtime, receiver: str, changes: int, run: Callable[[str, str], Awaitable[None]]
) -> dict[str, float]:
    """The 1% incremental with the dispatcher delivering beside it: how long from the trigger
    until the last `record_updated` event arrived at the receiver."""
    async with httpx.AsyncClient() as client:
        await client.get(f"{receiver}/stats")  # forget what came before
        stop = asyncio.Event()
        dispatcher = asyncio.create_task(runtime.dispatcher.run(stop))
        triggered = time.time()
        await run("incremental", "changed_incremental")
        seen: dict[str, int] = {}
        arrived: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while seen.get("record_updated", 0) < changes and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            stats = (await client.get(f"{receiver}/stats")).json()
            for event, n in stats["counts"].items():
                seen[event] = seen.get(event, 0) + n
            arrived |= stats["last"]
        stop.set()
        await dispatcher
    return {
        "changed_webhooks": seen.get("record_updated", 0),
        "changed_webhooks_s": arrived.get("record_updated", float("nan")) - triggered,
    }


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["initial", "lifecycle"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--drive", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--refresh", required=True)
    parser.add_argument("--receiver", help="a bench.receiver URL: time the 1% run's webhooks")
    args = parser.parse_args()
    result = asyncio.run(
        initial(
            args.db,
            args.drive,
            args.access,
            args.refresh,
            lifecycle=args.mode == "lifecycle",
            receiver=args.receiver,
        )
    )
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
