"""The scheduler holding many syncs at the `1m` frequency with nothing changing upstream.

    python -m bench.scheduler [--syncs 10000] [--seconds 150] [--db sqlite,postgres]

Seeds N synced syncs (their initial sync done, each with a change token) due at random moments
of the next minute, then runs the real scheduler and engine for `--seconds` against an idle
sandbox Drive. Prints how late runs start after they were due (p50, p99, max), how many runs
per second it sustained, the CPU it used, and the SQL statements per run (with `--statements`,
the commonest ones).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bench.common import (
    drive_server,
    embedded_runtime,
    fresh_database,
    seed_synced_syncs,
    table,
)
from syncline.domain.syncs import Sync
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.wiring import configure_logging, utcnow


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    url: str,
    drive: str,
    access: str,
    refresh: str,
    syncs: int,
    seconds: float,
    concurrency: int,
    verbose: bool = False,
) -> dict[str, float]:
    runtime, _ = await embedded_runtime(
        url, googledrive_env(drive), worker_concurrency=concurrency, scheduler_poll_seconds=0.2
    )
    project = runtime.settings.project_id
    assert project is not None
    store = runtime.store
    started_seed = time.perf_counter()
    await seed_synced_syncs(runtime, project, drive, access, refresh, syncs)
    seed_s = time.perf_counter() - started_seed
    rng = random.Random(1)
    # Spread the first runs over a minute from now, as a minute of steady state would.
    start = utcnow()
    for sync in await store.list_syncs(project, "u"):
        offset = timedelta(seconds=15 + rng.random() * 60)
        await store.update_sync(sync.id, start, next_run_at=start + offset)

    lags: list[float] = []
    original = runtime.runner.run

    async def timed(sync: Sync, owner: str) -> None:
        assert sync.next_run_at is not None
        lags.append((utcnow() - sync.next_run_at).total_seconds())
        await original(sync, owner)

    runtime.runner.run = timed  # type: ignore[method-assign]  # measuring, not changing behaviour
    statements = Counter[str]()

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements[" ".join(sql.split()[:6])] += 1

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    stop = asyncio.Event()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    task = asyncio.create_task(runtime.scheduler.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    wall = time.perf_counter() - wall
    event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    if verbose:
        for shape, n in statements.most_common(12):
            print(f"  {n / max(1, len(lags)):6.2f} per run  {shape}")
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    await runtime.close()
    return {
        "seed_s": seed_s,
        "runs": len(lags),
        "runs_per_s": len(lags) / wall,
        "p50": _quantile(lags, 0.5),
        "p99": _quantile(lags, 0.99),
        "max": max(lags),
        "cpu_cores": cpu / wall,
        "sql_per_run": sum(statements.values()) / max(1, len(lags)),
    }


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--syncs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--statements", action="store_true", help="print the commonest SQL statements per run"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [
        ["db", "runs", "runs/s", "lag p50 s", "lag p99 s", "lag max s", "CPU (cores)", "SQL/run"]
    ]
    with drive_server(1000) as drive:
        for kind in args.db.split(","):
            r = asyncio.run(
                measure(
                    fresh_database(kind, tmp, "sched"),
                    drive.url,
                    drive.access,
                    drive.refresh,
                    args.syncs,
                    args.seconds,
                    args.concurrency,
                    args.statements,
                )
            )
            rows.append(
                [
                    kind,
                    str(r["runs"]),
                    f"{r['runs_per_s']:.0f}",
                    f"{r['p50']:.2f}",
                    f"{r['p99']:.2f}",
                    f"{r['max']:.2f}",
                    f"{r['cpu_cores']:.2f}",
                    f"{r['sql_per_run']:.1f}",
                ]
            )
    print(
        f"{args.syncs:,} syncs at 1m, nothing changing upstream, {args.seconds:.0f} s, "
        f"{args.concurrency} concurrent runs per process (the Drive server's CPU not counted)\n"
    )
    print(table(rows))
    print(f"\n(started at {datetime.now(UTC):%H:%M:%S} UTC)")


if __name__ == "__main__":
    main()
