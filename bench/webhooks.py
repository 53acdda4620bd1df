"""Webhook delivery: throughput to a local receiver, and lag from change detected to delivered.

    python -m bench.webhooks [--events 20000] [--syncs 50] [--db sqlite,postgres]

Record changes are committed through the store (each writes its `record_created` event to the
outbox in the same transaction), then the real dispatcher delivers them, signed, over HTTP to a
receiver in another process. The event's `timestamp` is when the change was committed, so the
receiver's arrival time minus it is the lag a customer sees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from bench.common import ROOT, fresh_database, median, table
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.domain.projects import Project
from syncline.domain.records import Upsert
from syncline.store.store import NewCredential, NewSync, Progress, RunWrite
from syncline.webhooks.signing import generate_secret
from syncline.wiring import build_runtime, configure_logging, utcnow


async def measure(url: str, receiver: str, events: int, syncs: int) -> dict[str, float]:
    secret = generate_secret()
    settings = Settings(
        database_url=url,
        secret_key=generate_key(),
        log_level="warning",
        webhook_concurrency=32,
        allow_private_webhooks=True,  # the receiver is on 127.0.0.1
    )
    runtime = await build_runtime(settings, embedded=True)
    store = runtime.store
    now = utcnow()
    project = Project(
        str(uuid.uuid4()), "b", "unused", f"{receiver}/hooks", runtime.box.encrypt(secret), now
    )
    await store.create_project(project, now)
    credential = await store.add_credential(
        NewCredential(project.id, "u", "googledrive", "x", None, None, [], None), now
    )
    for i in range(syncs):
        sid = str(uuid.uuid4())
        await store.create_sync(
            NewSync(sid, project.id, "u", "googledrive", "files", f"c{i}", {}, credential.id, None),
            now,
        )
    claimed = await store.claim_due("bench", utcnow(), syncs, timedelta(hours=1))
    runs = [RunWrite(s, "bench", "t", timedelta(hours=1), False, 1) for s in claimed]
    progress = Progress(cursor="1", checkpoint=None, checkpoint_type=None)
    per_sync = events // syncs

    stop = asyncio.Event()
    started = time.perf_counter()
    dispatcher = asyncio.create_task(runtime.dispatcher.run(stop))
    # Changes arrive page by page across the syncs while the dispatcher delivers.
    for start in range(0, per_sync, 100):
        for run in runs:
            items = [
                Upsert(f"f{n}", {"externalId": f"f{n}", "name": f"file {n}"})
                for n in range(start, min(per_sync, start + 100))
            ]
            await store.commit_page(run, utcnow(), upserts=items, progress=progress)
    total = per_sync * syncs
    async with httpx.AsyncClient() as client:
        arrived, lags = 0, []
        while arrived < total and time.perf_counter() - started < 600:
            await asyncio.sleep(0.5)
            stats = (await client.get(f"{receiver}/stats")).json()
            arrived += stats["unique"]
            lags += stats["lags"]
    seconds = time.perf_counter() - started
    stop.set()
    await dispatcher
    await runtime.close()
    ordered = sorted(lags)
    return {
        "events": arrived,
        "seconds": seconds,
        "rate": arrived / seconds,
        "lag_p50": median(lags),
        "lag_p99": ordered[int(0.99 * (len(ordered) - 1))],
    }


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--syncs", type=int, default=50)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    url = json.loads(receiver.stdout.readline())["url"]
    rows = [["db", "events", "events/s", "lag p50 s", "lag p99 s"]]
    try:
        for kind in args.db.split(","):
            r = asyncio.run(
                measure(fresh_database(kind, tmp, "hooks"), url, args.events, args.syncs)
            )
            rows.append(
                [
                    kind,
                    f"{r['events']:.0f}",
                    f"{r['rate']:,.0f}",
                    f"{r['lag_p50']:.2f}",
                    f"{r['lag_p99']:.2f}",
                ]
            )
    finally:
        assert receiver.stdin is not None
        receiver.stdin.close()
        receiver.wait(timeout=30)
    print(
        f"webhooks: {args.events:,} record events over {args.syncs} syncs, signed, delivered"
        " over HTTP in order per sync\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
