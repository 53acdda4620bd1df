"""Capacity of the distributed mode: real `syncline worker` processes sharing one PostgreSQL.

    python -m bench.capacity [--workers 1,2] [--syncs 15000] [--concurrency 32]
                             [--saturate-seconds 20] [--steady-seconds 60]
                             [--initial-syncs 4] [--files 25000] [--log-level warning]

Everything runs against one sandbox Drive served over HTTP by another process, on throwaway
PostgreSQL databases (`SYNCLINE_BENCH_POSTGRES_URL`), with K `syncline worker` processes for each
K in `--workers`. The workers keep their default settings but `SYNCLINE_WORKER_CONCURRENCY`
(`--concurrency`) and `SYNCLINE_LOG_LEVEL` (`--log-level`). Two measurements:

1. **Idle syncs per worker.** `--syncs` already-synced syncs at `1m` with nothing changing
   upstream are seeded once (bench.scheduler's seeding) and copied per phase. For each K:
   - *saturation*: every sync is due at once, and the K workers work the backlog off for
     `--saturate-seconds`: the runs/s they sustain, and the CPU each idle run costs in the
     workers, in the PostgreSQL backends serving them, and in the sandbox Drive (from /proc);
   - *steady*: 80% of that rate, as syncs due once a minute (runs/s x 60 x 0.8 syncs, first runs
     spread at random over a minute), for `--steady-seconds`: how late runs start after they
     were due (p50, p99; a run still waiting at the end counts with its lag so far).
   Start lag is read from the database: a bench-only trigger on `syncs` stamps every claim with
   clock_timestamp() beside the sync's `next_run_at`.
2. **Records per second per PostgreSQL.** `--initial-syncs` initial syncs of the `--files` Drive
   at once, one user and credential each, with K workers (each runs ceil(S/K) syncs at a time so
   all of them take part): aggregate records/s written, the CPU of the PostgreSQL backends serving
   the run (and of all postgres processes, other users' included), and the on-disk size of the
   records table per million records, the figure partitioning thresholds rest on.

Prints the tables and a summary with the derived capacity figures.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench.common import (
    PG_ADMIN,
    ROOT,
    Drive,
    drive_server,
    fresh_database,
    seed_synced_syncs,
    table,
)
from syncline.auth import generate_signing_key
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.store.store import NewSync
from syncline.wiring import build_runtime, configure_logging, utcnow

STEADY_LOAD = 0.8
"""The steady phase offers this share of the rate K workers sustained when saturated."""
LAG_TARGET_S = 5.0

CLAIM_TRIGGER = """
CREATE TABLE bench_claims (sync_id text NOT NULL, due timestamptz, claimed_at timestamptz NOT NULL);
CREATE FUNCTION bench_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_claims VALUES (NEW.id, NEW.next_run_at, clock_timestamp());
    RETURN NEW;
END $$;
CREATE TRIGGER bench_claim AFTER UPDATE OF lease_owner ON syncs FOR EACH ROW
    WHEN (OLD.lease_owner IS NULL AND NEW.lease_owner IS NOT NULL) EXECUTE FUNCTION bench_claim();
"""


# --------------------------------------------------------------------------- processes and CPU


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (all its threads), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _backend_pids(database: str) -> Callable[[], list[int]]:
    """The PostgreSQL backends connected to `database` (they come and go with the pools)."""

    def pids() -> list[int]:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchall()
        return [r[0] for r in rows]

    return pids


class CpuMeter:
    """CPU seconds that groups of processes use while the meter runs. Sampled every half second,
    so a process that appears meanwhile counts in full and one that exits counts until its last
    sample."""

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]]) -> None:
        self._groups = groups
        self._first: dict[str, dict[int, float]] = {name: {} for name in groups}
        self._last: dict[str, dict[int, float]] = {name: {} for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.seconds = 0.0

    def _sample(self, initial: bool) -> None:
        for name, pids in self._groups.items():
            for pid in pids():
                cpu = _cpu_seconds(pid)
                if cpu is None:
                    continue
                self._first[name].setdefault(pid, cpu if initial else 0.0)
                self._last[name][pid] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample(initial=False)

    def __enter__(self) -> CpuMeter:
        self._sample(initial=True)
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(initial=False)
        self.seconds = time.perf_counter() - self._started

    def cpu(self, name: str) -> float:
        first, last = self._first[name], self._last[name]
        return sum(last[pid] - first[pid] for pid in last)


def _local_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's sockets."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports = set()
    for table_path in (f"/proc/{pid}/net/tcp", f"/proc/{pid}/net/tcp6"):
        with open(table_path) as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _connected(pid: int, database: str) -> bool:
    """Whether the process holds a connection to `database` (its runtime is up)."""
    rows = _sql(
        PG_ADMIN, "SELECT client_port FROM pg_stat_activity WHERE datname = %s", (database,)
    )
    return bool({r[0] for r in rows} & _local_ports(pid))


@dataclass(frozen=True)
class Cluster:
    """What every worker of a run shares: the database, the sandbox and the secret key."""

    database_url: str
    drive: Drive
    secret_key: str
    logs: Path
    log_level: str

    @property
    def database(self) -> str:
        return self.database_url.rsplit("/", 1)[1]


@contextmanager
def workers(cluster: Cluster, count: int, concurrency: int, label: str) -> Iterator[list[int]]:
    """`count` `syncline worker` processes, once each is connected to the database and a second
    has passed (its scheduler is then polling); SIGTERM and wait after."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SYNCLINE_")},
        **googledrive_env(cluster.drive.url),
        "SYNCLINE_DATABASE_URL": cluster.database_url,
        "SYNCLINE_SECRET_KEY": cluster.secret_key,
        "SYNCLINE_WORKER_CONCURRENCY": str(concurrency),
        "SYNCLINE_LOG_LEVEL": cluster.log_level,
    }
    logs = [cluster.logs / f"{label}-worker-{i}.log" for i in range(count)]
    processes = []
    for log in logs:
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "syncline", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all(_connected(p.pid, cluster.database) for p in processes):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker did not start; see {cluster.logs}")
            time.sleep(0.2)
        time.sleep(1)
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _sql(url: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def _clone(template_url: str, name: str) -> str:
    """A copy of the database at `template_url` (which nobody may be connected to)."""
    template = template_url.rsplit("/", 1)[1]
    database = f"bench_{name}"
    _sql(PG_ADMIN, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _sql(PG_ADMIN, f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"


def _drop(url: str) -> None:
    _sql(PG_ADMIN, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _meter(cluster: Cluster, pids: list[int]) -> CpuMeter:
    return CpuMeter(
        {
            "workers": lambda: pids,
            "backends": _backend_pids(cluster.database),
            "postgres": _postgres_pids,
            "drive": lambda: [cluster.drive.pid],
        }
    )


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --------------------------------------------------------------------------- 1. idle syncs


def _settings(url: str, secret: str) -> tuple[Settings, str]:
    project = str(uuid.uuid4())
    settings = Settings(
        database_url=url,
        project_id=project,
        signing_public_key=generate_signing_key().public_pem,
        secret_key=secret,
        log_level="warning",
    )
    return settings, project


def seed_idle(cluster: Cluster, syncs: int) -> float:
    """The template database: `syncs` synced syncs at 1m, not yet due, and the claim trigger."""

    async def seed() -> None:
        settings, project = _settings(cluster.database_url, cluster.secret_key)
        runtime = await build_runtime(settings, embedded=False, env=googledrive_env(""))
        try:
            drive = cluster.drive
            await seed_synced_syncs(runtime, project, drive.url, drive.access, drive.refresh, syncs)
        finally:
            await runtime.close()

    started = time.perf_counter()
    asyncio.run(seed())
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:
        conn.execute(CLAIM_TRIGGER)  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE syncs")
    return time.perf_counter() - started


def _claims(url: str, since: datetime) -> list[tuple[datetime, datetime]]:
    rows = _sql(url, "SELECT due, claimed_at FROM bench_claims WHERE claimed_at >= %s", (since,))
    return [(r[0], r[1]) for r in rows]


def saturate(cluster: Cluster, k: int, concurrency: int, seconds: float) -> dict[str, float]:
    """Every sync due at once: the runs/s `k` workers sustain and the CPU per run."""
    with workers(cluster, k, concurrency, f"saturate-{k}") as pids:
        _sql(
            cluster.database_url,
            "UPDATE syncs SET next_run_at = now() - random() * interval '10 seconds'",
        )
        start = utcnow()
        with _meter(cluster, pids) as meter:
            time.sleep(seconds)
        end = utcnow()
        runs = sum(1 for _, claimed in _claims(cluster.database_url, start) if claimed < end)
        backlog = _sql(
            cluster.database_url, "SELECT count(*) FROM syncs WHERE next_run_at <= now()"
        )
    if backlog[0][0] == 0:
        print(f"  (K={k}: the backlog ran out; raise --syncs for a true ceiling)", file=sys.stderr)
    wall = (end - start).total_seconds()
    return {
        "runs": runs,
        "runs_per_s": runs / wall,
        "worker_ms": 1000 * meter.cpu("workers") / runs,
        "backend_ms": 1000 * meter.cpu("backends") / runs,
        "drive_ms": 1000 * meter.cpu("drive") / runs,
        "worker_cores": meter.cpu("workers") / meter.seconds,
        "postgres_cores": meter.cpu("postgres") / meter.seconds,
    }


def steady(
    cluster: Cluster, k: int, concurrency: int, syncs: int, seconds: float
) -> dict[str, float]:
    """`syncs` syncs due once a minute, first runs spread over the next minute: start lag."""
    with workers(cluster, k, concurrency, f"steady-{k}") as pids:
        start = utcnow()
        _sql(
            cluster.database_url,
            "UPDATE syncs SET next_run_at = %s + random() * interval '60 seconds' "
            "WHERE id IN (SELECT id FROM syncs ORDER BY id LIMIT %s)",
            (start, syncs),
        )
        with _meter(cluster, pids) as meter:
            time.sleep(seconds + 2)
        end = utcnow()
        claims = _claims(cluster.database_url, start)
        waiting = _sql(
            cluster.database_url,
            "SELECT next_run_at FROM syncs "
            "WHERE next_run_at >= %s AND next_run_at < %s AND lease_owner IS NULL",
            (start, start + timedelta(seconds=seconds)),
        )
    window_end = start + timedelta(seconds=seconds)
    lags = [(c - d).total_seconds() for d, c in claims if d < window_end]
    lags += [(end - r[0]).total_seconds() for r in waiting]  # never started: lag so far
    runs = sum(1 for _, c in claims if c < window_end)
    return {
        "syncs": syncs,
        "runs_per_s": runs / seconds,
        "p50": _quantile(lags, 0.5),
        "p99": _quantile(lags, 0.99),
        "max": max(lags),
        "unstarted": len(waiting),
        "worker_cores": meter.cpu("workers") / meter.seconds,
        "backend_cores": meter.cpu("backends") / meter.seconds,
        "worker_ms": 1000 * meter.cpu("workers") / len(claims),
        "backend_ms": 1000 * meter.cpu("backends") / len(claims),
    }


# --------------------------------------------------------------------------- 2. records


def seed_initial(cluster: Cluster, count: int) -> None:
    """`count` new syncs, one user and credential each, not yet due."""

    async def seed() -> None:
        settings, project = _settings(cluster.database_url, cluster.secret_key)
        runtime = await build_runtime(settings, embedded=False, env=googledrive_env(""))
        now = utcnow()
        try:
            for i in range(count):
                user = f"user{i}"
                credential = await runtime.runner._credentials.add(
                    project,
                    user,
                    "googledrive",
                    access_token=cluster.drive.access,
                    refresh_token=cluster.drive.refresh,
                    expires_at=now + timedelta(hours=12),
                    scopes=[],
                    account_email=None,
                )
                sid = str(uuid.uuid4())
                new = NewSync(
                    sid, project, user, "googledrive", "files", "drive", {}, credential.id, "1h"
                )
                await runtime.store.create_sync(new, now)
                await runtime.store.update_sync(sid, now, next_run_at=now + timedelta(days=1))
        finally:
            await runtime.close()

    asyncio.run(seed())


def initial_syncs(cluster: Cluster, k: int, count: int, timeout: float = 900) -> dict[str, float]:
    """`count` initial syncs at once on `k` workers: records/s, PostgreSQL CPU, table sizes."""
    url = cluster.database_url
    seed_initial(cluster, count)
    with workers(cluster, k, math.ceil(count / k), f"records-{k}") as pids:
        start = utcnow()
        _sql(url, "UPDATE syncs SET next_run_at = %s", (start,))
        with _meter(cluster, pids) as meter:
            deadline = time.monotonic() + timeout
            while _sql(url, "SELECT count(*) FROM syncs WHERE initial_completed_at IS NULL")[0][0]:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"initial syncs still running after {timeout:.0f} s")
                time.sleep(0.25)
    ((end, records, per_sync),) = _sql(
        url,
        "SELECT max(initial_completed_at), sum(active_records)::bigint, min(active_records) "
        "FROM syncs",
    )
    ((tuples,),) = _sql(url, "SELECT count(*) FROM permission_tuples")
    ((heap, indexes, total, perm_total, blocks_total),) = _sql(
        url,
        "SELECT pg_table_size('records'), pg_indexes_size('records'), "
        "pg_total_relation_size('records'), pg_total_relation_size('permission_tuples'), "
        "pg_total_relation_size('record_blocks')",
    )
    wall = (end - start).total_seconds()
    return {
        "records": records,
        "per_sync": per_sync,
        "tuples": tuples,
        "seconds": wall,
        "records_per_s": records / wall,
        "backend_cores": meter.cpu("backends") / meter.seconds,
        "postgres_cores": meter.cpu("postgres") / meter.seconds,
        "worker_cores": meter.cpu("workers") / meter.seconds,
        "drive_cores": meter.cpu("drive") / meter.seconds,
        "backend_ms_per_1k": 1e6 * meter.cpu("backends") / records,
        "heap_per_m": heap / records * 1e6,
        "indexes_per_m": indexes / records * 1e6,
        "total_per_m": total / records * 1e6,
        "tuples_per_m": perm_total / records * 1e6,
        "blocks_per_m": blocks_total / records * 1e6,
    }


# --------------------------------------------------------------------------- report


def _mb(size: float) -> str:
    return f"{size / 2**20:,.0f} MB"


def _row(*cells: object) -> list[str]:
    return [c if isinstance(c, str) else f"{c:,.2f}" for c in cells]


def report(
    args: argparse.Namespace,
    saturated: dict[int, dict[str, float]],
    steadied: dict[int, dict[str, float]],
    records: dict[int, dict[str, float]],
) -> None:
    print(
        f"\n1. idle syncs at 1m, nothing changing upstream, {args.concurrency} runs at once per "
        f"worker\n\n   saturation: all {args.syncs:,} syncs due, {args.saturate_seconds:.0f} s "
        "(CPU in ms per run; cores over the phase)\n"
    )
    rows = [["K", "runs/s", "per worker", "worker ms", "PG ms", "sandbox ms", "worker cores"]]
    rows[0].append("all PG cores (others' too)")
    for k, r in saturated.items():
        rows.append(
            _row(
                str(k), f"{r['runs_per_s']:.0f}", f"{r['runs_per_s'] / k:.0f}", r["worker_ms"],
                r["backend_ms"], r["drive_ms"], r["worker_cores"], r["postgres_cores"],
            )
        )  # fmt: skip
    print(table(rows))
    print(
        f"\n   steady: {STEADY_LOAD:.0%} of the saturated rate, as syncs due once a minute, "
        f"{args.steady_seconds:.0f} s\n"
    )
    rows = [["K", "syncs", "runs/s", "lag p50 s", "lag p99 s", "lag max s", "never started"]]
    rows[0] += ["worker cores", "PG cores", "worker ms", "PG ms"]
    for k, r in steadied.items():
        rows.append(
            _row(
                str(k), f"{r['syncs']:,}", f"{r['runs_per_s']:.0f}", r["p50"], r["p99"], r["max"],
                str(r["unstarted"]), r["worker_cores"], r["backend_cores"], r["worker_ms"],
                r["backend_ms"],
            )
        )  # fmt: skip
    print(table(rows))

    first, last = records[min(records)], records[max(records)]
    print(
        f"\n2. {args.initial_syncs} initial syncs at once of a {args.files:,}-file Drive "
        f"({first['per_sync']:,} records each, one user and credential each)\n"
    )
    rows = [["K", "records", "seconds", "records/s", "PG cores", "all PG cores (others' too)"]]
    rows[0] += ["PG ms / 1k records", "worker cores", "sandbox cores"]
    for k, r in records.items():
        rows.append(
            _row(
                str(k), f"{r['records']:,}", f"{r['seconds']:.1f}", f"{r['records_per_s']:,.0f}",
                r["backend_cores"], r["postgres_cores"], f"{r['backend_ms_per_1k']:.0f}",
                r["worker_cores"], r["drive_cores"],
            )
        )  # fmt: skip
    print(table(rows))
    print(f"\n   on disk per million records (K={max(records)}; records has fillfactor 70)\n")
    keys = ["heap_per_m", "indexes_per_m", "total_per_m", "tuples_per_m", "blocks_per_m"]
    names = ["records heap", "records indexes", "records total", "permission_tuples"]
    print(table([[*names, "record_blocks"], [_mb(last[key]) for key in keys]]))

    one = min(saturated)
    best = max(records.values(), key=lambda r: r["records_per_s"])
    on_disk = last["total_per_m"] + last["tuples_per_m"] + last["blocks_per_m"]
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print("\nsummary")
    for k, r in steadied.items():
        verdict = "met" if r["p99"] < LAG_TARGET_S else "NOT met"
        print(
            f"  K={k}: {r['syncs']:,} syncs at 1m ({r['syncs'] / k:,.0f} per worker): p99 start "
            f"lag {r['p99']:.2f} s, < {LAG_TARGET_S:.0f} s {verdict}; saturated ceiling "
            f"{saturated[k]['runs_per_s'] * 60:,.0f} syncs at 1m"
        )
    cost = saturated[one]
    print(
        f"  CPU per idle run (K={one}): {cost['worker_ms']:.1f} ms in the worker, "
        f"{cost['backend_ms']:.1f} ms in PostgreSQL; 10,000 syncs at 1m = 167 runs/s = "
        f"{167 * cost['worker_ms'] / 1000:.2f} worker cores + "
        f"{167 * cost['backend_ms'] / 1000:.2f} PostgreSQL cores"
    )
    print(
        f"  records written: {best['records_per_s']:,.0f}/s at best on this PostgreSQL; "
        f"{best['backend_ms_per_1k']:.0f} ms of PostgreSQL CPU per 1,000 records, "
        f"so about {1e6 / best['backend_ms_per_1k']:,.0f} records/s per PostgreSQL core"
    )
    print(
        f"  on disk: {_mb(last['total_per_m'])} of records table per million records, "
        f"{_mb(on_disk)} with permission tuples and record blocks; {ram / 2**30:.0f} GB of "
        f"RAM caches those of about {ram / on_disk:,.0f} million records"
    )


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2", help="worker counts K to measure")
    parser.add_argument("--syncs", type=int, default=15_000, help="idle syncs seeded")
    parser.add_argument("--concurrency", type=int, default=32, help="runs at once per worker")
    parser.add_argument("--saturate-seconds", type=float, default=20.0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--initial-syncs", type=int, default=4)
    parser.add_argument("--files", type=int, default=25_000, help="files in the sandbox Drive")
    parser.add_argument("--log-level", default="warning", help="the workers' SYNCLINE_LOG_LEVEL")
    args = parser.parse_args()
    if args.steady_seconds > 60:
        parser.error("--steady-seconds is at most 60 (one period of the 1m frequency)")
    ks = [int(k) for k in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="syncline-capacity-"))
    began, started_at, load_before = time.perf_counter(), datetime.now(UTC), os.getloadavg()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - began:4.0f} s] {what}", file=sys.stderr, flush=True)

    saturated: dict[int, dict[str, float]] = {}
    steadied: dict[int, dict[str, float]] = {}
    records: dict[int, dict[str, float]] = {}
    secret = generate_key()
    with drive_server(args.files) as drive:

        def cluster(url: str) -> Cluster:
            return Cluster(url, drive, secret, tmp, args.log_level)

        template = fresh_database("postgres", tmp, "capacity_idle")
        seed_idle(cluster(template), args.syncs)
        progress(f"seeded {args.syncs:,} idle syncs")
        for k in ks:
            url = _clone(template, f"capacity_saturate_{k}")
            saturated[k] = saturate(cluster(url), k, args.concurrency, args.saturate_seconds)
            _drop(url)
            target = min(args.syncs, round(saturated[k]["runs_per_s"] * 60 * STEADY_LOAD))
            url = _clone(template, f"capacity_steady_{k}")
            steadied[k] = steady(cluster(url), k, args.concurrency, target, args.steady_seconds)
            _drop(url)
            progress(f"idle syncs, K={k}: done")
        _drop(template)
        for k in ks:
            url = fresh_database("postgres", tmp, f"capacity_records_{k}")
            records[k] = initial_syncs(cluster(url), k, args.initial_syncs)
            _drop(url)
            progress(f"initial syncs, K={k}: done")

    report(args, saturated, steadied, records)
    load_after = os.getloadavg()
    print(
        f"\n(started {started_at:%Y-%m-%d %H:%M} UTC, took {time.perf_counter() - began:.0f} s; "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after, "
        f"on {os.cpu_count()} cores; worker logs in {tmp})"
    )


if __name__ == "__main__":
    main()
