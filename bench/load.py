"""Load: N concurrent API clients pull records and poll status while syncs run; then overload.

    python -m bench.load [--clients 50] [--seconds 30] [--syncs 20] [--files 2000]
                         [--apis 1] [--workers 1] [--database postgres|sqlite]

A sandbox Google Drive (its own process) serves `--files` files. A fresh database, `--apis`
`syncline api` processes and `--workers` `syncline worker` processes start (`syncline serve`
alone with `--database sqlite`), and `--syncs` users each connect the Drive and enable a sync.
While the syncs run (initial syncs first; then the Drive changes every couple of seconds and
every sync is triggered, with a full sync now and then) each client, with its own user's token,
pulls its sync's records page by page with the cursor until caught up, polls the sync's status,
pauses briefly and pulls again. An observer in its own process reads `/healthz`, a status and a
records page in turn: its event loop stays prompt however busy the clients' process is, so its
latencies are the server's (the clients' include their own process's event-loop lag, printed).

Phase `steady` runs `--clients` clients against the configured in-flight limit. Phase `overload`
restarts the API processes with `SYNCLINE_MAX_INFLIGHT_REQUESTS=--overload-limit` and runs
`--overload-clients` clients with no pause: the server must shed with 429 + Retry-After (which the
clients honour), keep the latency of what it serves bounded, answer its health probe and never
answer 5xx.

Each phase prints per endpoint: requests, req/s, records/s, p50/p99 latency of served requests,
429s, 5xx and other errors (transport failures, timeouts, unexpected 4xx). The last line is
`requests N, 429s N, 500s N, errors N`; the exit status is 1 on any 5xx or error, or when the
overload phase shed nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import psycopg

from bench.common import (
    PG_ADMIN,
    ROOT,
    Drive,
    drive_credential,
    drive_server,
    fresh_database,
    table,
)
from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.store.migrate import upgrade
from tests.support.processes import SynclineProcess, clean_env, free_port

DEFAULT_LIMIT = Settings.model_fields["max_inflight_requests"].default

# -- measurements ------------------------------------------------------------------------------


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    """Seconds per served (2xx) request."""
    requests: int = 0
    records: int = 0
    shed: int = 0
    shed_bad: int = 0
    """429s without a usable Retry-After or error body (counted as errors too)."""
    server_errors: int = 0
    errors: int = 0


@dataclass
class Recorder:
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    """The first few 5xx and error descriptions, to show what went wrong."""
    reconnects: int = 0
    """GETs sent again on a new connection after the server closed a kept-alive one."""

    def of(self, name: str) -> Endpoint:
        return self.endpoints.setdefault(name, Endpoint())

    def note(self, what: str) -> None:
        if len(self.samples) < 10:
            self.samples.append(what)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- clients -----------------------------------------------------------------------------------

_TLS = ssl.create_default_context()
"""Shared by every client: building a context per client (httpx's default) loads the CA bundle
each time, ~0.4 s of CPU here, which made the load generator its own bottleneck."""


@dataclass(frozen=True)
class Target:
    """One sync and the token of the user who owns it."""

    sync_id: str
    token: str


class Client:
    """One API client: honours Retry-After on 429, records every answer."""

    def __init__(self, base_url: str, token: str, recorder: Recorder, deadline: float) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=httpx.Timeout(30.0, connect=10.0),
            # Below the server's 5 s keep-alive, so an idle connection is not reused just as
            # the server closes it.
            limits=httpx.Limits(keepalive_expiry=2.0),
            verify=_TLS,
        )
        self.recorder = recorder
        self.deadline = deadline

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self, endpoint: str, method: str, url: str, **kwargs: object
    ) -> httpx.Response | None:
        """The 2xx answer, retrying after each 429; None on anything else or at the deadline."""
        stats = self.recorder.of(endpoint)
        retried = False
        while time.monotonic() < self.deadline:
            started = time.perf_counter()
            try:
                response = await self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.RemoteProtocolError as exc:
                if method == "GET" and "without sending a response" in str(exc) and not retried:
                    # A kept-alive connection the server closed as the request left: what any
                    # HTTP client does is retry an idempotent request once, on a new connection.
                    retried = True
                    self.recorder.reconnects += 1
                    continue
                stats.requests += 1
                stats.errors += 1
                self.recorder.note(f"{endpoint}: {type(exc).__name__}: {exc}")
                await self._pause(0.5)
                return None
            except httpx.HTTPError as exc:
                stats.requests += 1
                stats.errors += 1
                took = time.perf_counter() - started
                self.recorder.note(f"{endpoint}: {type(exc).__name__}: {exc} after {took:.2f} s")
                await self._pause(0.5)
                return None
            elapsed = time.perf_counter() - started
            stats.requests += 1
            status = response.status_code
            if status == 429:
                stats.shed += 1
                wait = _retry_after(response)
                if wait is None:
                    stats.shed_bad += 1
                    stats.errors += 1
                    self.recorder.note(f"{endpoint}: 429 without Retry-After: {response.text}")
                    wait = 1.0
                await self._pause(wait)
                continue
            if status >= 500:
                stats.server_errors += 1
                self.recorder.note(f"{endpoint}: {status} {response.text[:300]}")
                await self._pause(_retry_after(response) or 1.0)
                return None
            if status >= 400:
                stats.errors += 1
                self.recorder.note(f"{endpoint}: {status} {response.text[:300]}")
                await self._pause(0.5)
                return None
            stats.latencies.append(elapsed)
            return response
        return None

    async def _pause(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    if not value.isdigit():
        return None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(body, dict) and "message" in body and "code" in body):
        return None
    return float(value)


async def puller(client: Client, target: Target, page_size: int, think: float) -> None:
    """Pull the sync's feed to its end with the cursor, poll its status, pause; again."""
    cursor: str | None = None
    records = client.recorder.of("GET records")
    try:
        while time.monotonic() < client.deadline:
            params: dict[str, str | int] = {"pageSize": page_size}
            if cursor:
                params["cursor"] = cursor
            response = await client.call(
                "GET records", "GET", f"/api/syncs/{target.sync_id}/records", params=params
            )
            if response is None:
                continue
            body = orjson.loads(response.content)
            records.records += len(body["data"])
            cursor = body["paging"]["cursor"] or cursor
            if body["data"] and body["paging"]["remainingRecords"] > 0:
                continue
            await client.call("GET status", "GET", f"/api/syncs/{target.sync_id}")
            await client._pause(think)
    finally:
        await client.aclose()


async def observe(base_url: str, target: Target, seconds: float) -> dict[str, dict[str, object]]:
    """What one light client sees: `/healthz`, a status and a first records page, in turn,
    five times a second. It runs in its own process (`--observe`), whose event loop stays
    prompt however busy the clients' process is, so its latencies are the server's."""
    recorder = Recorder()
    client = Client(base_url, target.token, recorder, time.monotonic() + seconds)
    paths = [
        ("observer: GET /healthz", "/healthz", {}),
        ("observer: GET status", f"/api/syncs/{target.sync_id}", {}),
        ("observer: GET records", f"/api/syncs/{target.sync_id}/records", {"pageSize": 100}),
    ]
    try:
        while time.monotonic() < client.deadline:
            for name, path, params in paths:
                await client.call(name, "GET", path, params=params)
            await client._pause(0.2)
    finally:
        await client.aclose()
    return {
        name: {
            "latencies": e.latencies,
            "requests": e.requests,
            "shed": e.shed,
            "server_errors": e.server_errors,
            "errors": e.errors,
        }
        for name, e in recorder.endpoints.items()
    } | {"samples": {"notes": recorder.samples}}


async def observer(base_url: str, target: Target, seconds: float, recorder: Recorder) -> None:
    """Run `observe` in a child process and add what it saw to `recorder`."""
    spec = orjson.dumps({"url": base_url, "sync": target.sync_id, "token": target.token})
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.load", "--observe", spec.decode(), "--seconds", str(seconds),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await child.communicate()
    seen = orjson.loads(out.strip().splitlines()[-1])
    for note in seen.pop("samples")["notes"]:
        recorder.note(note)
    for name, values in seen.items():
        stats = recorder.of(name)
        stats.latencies += values["latencies"]
        stats.requests += values["requests"]
        stats.shed += values["shed"]
        stats.server_errors += values["server_errors"]
        stats.errors += values["errors"]


async def churn(
    drive: Drive,
    update: int,
    api_urls: list[str],
    targets: list[Target],
    recorder: Recorder,
    deadline: float,
) -> None:
    """Change `update` files and trigger every sync every 2 s; every 5th round one of them is
    a full sync."""
    clients = [
        Client(api_urls[i % len(api_urls)], t.token, recorder, deadline)
        for i, t in enumerate(targets)
    ]
    rounds = 0
    try:
        async with httpx.AsyncClient(timeout=30, verify=_TLS) as upstream:
            while time.monotonic() < deadline:
                await upstream.post(f"{drive.url}/_bench/mutate", params={"update": update})
                full = rounds % 5 == 4
                await asyncio.gather(
                    *(
                        c.call(
                            "POST trigger",
                            "POST",
                            f"/api/syncs/{t.sync_id}/trigger",
                            json={
                                "type": "full"
                                if full and i == rounds % len(targets)
                                else "incremental"
                            },
                        )
                        for i, (c, t) in enumerate(zip(clients, targets, strict=True))
                    )
                )
                rounds += 1
                await clients[0]._pause(2.0)
    finally:
        for client in clients:
            await client.aclose()


async def connections_peak(database_url: str | None, deadline: float) -> int:
    """The most PostgreSQL connections to the benchmark database seen, sampled each second."""
    if database_url is None:
        return 0
    database = database_url.rsplit("/", 1)[1]
    peak = 0
    while time.monotonic() < deadline:
        peak = max(peak, await asyncio.to_thread(_connections, database_url, database))
        await asyncio.sleep(1.0)
    return peak


def _connections(url: str, database: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    return int(row[0]) if row else 0


async def loop_lag(deadline: float) -> list[float]:
    """How late this process's event loop wakes from 50 ms sleeps: when it is late, every
    latency measured here is inflated by as much."""
    lags = []
    while time.monotonic() < deadline:
        started = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - started - 0.05)
    return lags


@dataclass
class PhaseResult:
    name: str
    seconds: float
    recorder: Recorder
    peak_connections: int
    lags: list[float]


async def phase(
    name: str,
    *,
    seconds: float,
    clients: int,
    think: float,
    page_size: int,
    api_urls: list[str],
    targets: list[Target],
    drive: Drive,
    update: int,
    database_url: str | None,
) -> PhaseResult:
    recorder = Recorder()
    started = time.monotonic()
    deadline = started + seconds
    tasks = [
        puller(
            Client(
                api_urls[i % len(api_urls)], targets[i % len(targets)].token, recorder, deadline
            ),
            targets[i % len(targets)],
            page_size,
            think,
        )
        for i in range(clients)
    ]
    tasks += [observer(url, targets[0], seconds, recorder) for url in api_urls]
    tasks.append(churn(drive, update, api_urls, targets, recorder, deadline))
    peak, lags, *_ = await asyncio.gather(
        connections_peak(database_url, deadline), loop_lag(deadline), *tasks
    )
    return PhaseResult(name, time.monotonic() - started, recorder, peak, lags)


# -- processes ---------------------------------------------------------------------------------


@contextlib.contextmanager
def running(processes: list[SynclineProcess]) -> Iterator[list[SynclineProcess]]:
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            if process.alive:
                process.stop()


def log_problems(logs: list[Path]) -> list[str]:
    """Lines of the servers' logs that report a bug (unhandled errors, tracebacks)."""
    found = []
    for path in logs:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if "api.unhandled" in line or line.startswith("Traceback") or "[error" in line:
                found.append(f"{path.name}: {line[:200]}")
    return found


# -- setup -------------------------------------------------------------------------------------


async def enable_syncs(
    api_url: str, drive: Drive, private_pem: str, project_id: str, count: int
) -> list[Target]:
    """One user per sync: connect the Drive, enable the files sync."""

    async def one(i: int) -> Target:
        token = mint_user_token(private_pem, project_id, f"load-user-{i}", ttl=timedelta(hours=2))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=api_url, headers=headers, timeout=60, verify=_TLS
        ) as http:
            credential = await _post(http, "/api/credentials", json=drive_credential(drive))
            credential.raise_for_status()
            sync = await _post(
                http, "/api/syncs", json={"integration": "googledrive", "pipeline": "files"}
            )
            sync.raise_for_status()
            return Target(sync.json()["id"], token)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _post(http: httpx.AsyncClient, url: str, json: object) -> httpx.Response:
    """POST, honouring the server's 429s (a low in-flight limit sheds the setup too)."""
    while True:
        response = await http.post(url, json=json)
        wait = _retry_after(response) if response.status_code == 429 else None
        if wait is None:
            return response
        await asyncio.sleep(wait)


async def statuses(api_url: str, targets: list[Target]) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=api_url, timeout=60, verify=_TLS) as http:
        for target in targets:
            response = await http.get(
                f"/api/syncs/{target.sync_id}",
                headers={"Authorization": f"Bearer {target.token}"},
            )
            status = response.json().get("status", str(response.status_code))
            counts[status] = counts.get(status, 0) + 1
    return counts


# -- report ------------------------------------------------------------------------------------


def report(result: PhaseResult) -> tuple[int, int, int, int]:
    """Print the phase's table; returns (requests, 429s, 5xx, errors)."""
    header = ["endpoint", "requests", "req/s", "records/s", "p50 ms", "p99 ms", "429s", "5xx"]
    rows = [[*header, "errors"]]
    total = Endpoint()
    for name in sorted(result.recorder.endpoints):
        stats = result.recorder.endpoints[name]
        rows.append(_row(name, stats, result.seconds))
        total.latencies += stats.latencies if not name.startswith("observer") else []
        total.requests += stats.requests
        total.records += stats.records
        total.shed += stats.shed
        total.server_errors += stats.server_errors
        total.errors += stats.errors
    rows.append(_row("all (p50/p99 of the clients)", total, result.seconds))
    print(table(rows))
    print(
        f"load generator's event loop lag: p50 {_percentile(result.lags, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(result.lags, 0.99) * 1000:.0f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if result.recorder.reconnects:
        print(
            f"GETs sent again after the server closed an idle kept-alive connection: "
            f"{result.recorder.reconnects}"
        )
    if result.peak_connections:
        print(f"PostgreSQL connections to the benchmark database, peak: {result.peak_connections}")
    for sample in result.recorder.samples:
        print(f"  ! {sample}")
    return total.requests, total.shed, total.server_errors, total.errors


def _row(name: str, stats: Endpoint, seconds: float) -> list[str]:
    return [
        name,
        f"{stats.requests:,}",
        f"{stats.requests / seconds:,.0f}",
        f"{stats.records / seconds:,.0f}" if stats.records else "",
        f"{_percentile(stats.latencies, 0.50) * 1000:.1f}",
        f"{_percentile(stats.latencies, 0.99) * 1000:.1f}",
        f"{stats.shed:,}",
        f"{stats.server_errors:,}",
        f"{stats.errors:,}",
    ]


# -- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--syncs", type=int, default=20)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--apis", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--think", type=float, default=0.25, help="pause once caught up (s)")
    parser.add_argument("--limit", type=int, default=None, help="in-flight limit, steady phase")
    parser.add_argument("--overload-clients", type=int, default=100)
    parser.add_argument("--overload-limit", type=int, default=8)
    parser.add_argument("--overload-seconds", type=float, default=20)
    parser.add_argument("--observe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.observe:
        spec = orjson.loads(args.observe)
        target = Target(spec["sync"], spec["token"])
        seen = asyncio.run(observe(spec["url"], target, args.seconds))
        sys.stdout.write(orjson.dumps(seen).decode() + "\n")
        return 0
    # SIGTERM unwinds like Ctrl+C, so the server processes started here are stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return asyncio.run(run(args))


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="syncline-load-"))
    # A name of its own: runs side by side (or another benchmark's) never share a database.
    database_url = fresh_database(args.database, tmp, f"load_{uuid.uuid4().hex[:8]}")
    try:
        return await _run(args, tmp, database_url)
    finally:
        if args.database == "postgres":
            drop_database(database_url)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(args: argparse.Namespace, tmp: Path, database_url: str) -> int:
    await asyncio.to_thread(upgrade, database_url)
    signing = generate_signing_key()
    project_id = str(uuid.uuid4())
    logs: list[Path] = []
    with drive_server(args.files) as drive:
        base = clean_env(
            {
                **googledrive_env(drive.url),
                "SYNCLINE_DATABASE_URL": database_url,
                "SYNCLINE_PROJECT_ID": project_id,
                "SYNCLINE_SIGNING_PUBLIC_KEY": signing.public_pem,
                "SYNCLINE_SECRET_KEY": generate_key(),
                "SYNCLINE_LOG_LEVEL": "warning",
            }
        )

        def servers(limit: int | None, tag: str) -> list[SynclineProcess]:
            env = dict(base)
            if limit is not None:
                env["SYNCLINE_MAX_INFLIGHT_REQUESTS"] = str(limit)
            commands = ["serve"] if args.database == "sqlite" else ["api"] * args.apis
            made = []
            for i, command in enumerate(commands):
                log = tmp / f"{command}-{i}-{tag}.log"
                logs.append(log)
                port = {"SYNCLINE_PORT": str(free_port())}
                made.append(SynclineProcess(command, {**env, **port}, log))
            return made

        workers = []
        if args.database == "postgres":
            for i in range(args.workers):
                log = tmp / f"worker-{i}.log"
                logs.append(log)
                workers.append(SynclineProcess("worker", base, log))
        pg_url = database_url if args.database == "postgres" else None
        results = []
        with running(workers):
            steady_servers = servers(args.limit, "steady")
            with running(steady_servers):
                for server in steady_servers:
                    server.wait_ready(timeout=60)
                urls = [s.url for s in steady_servers]
                targets = await enable_syncs(
                    urls[0], drive, signing.private_pem, project_id, args.syncs
                )
                print(
                    f"load: {args.syncs} syncs of {args.files:,} files, "
                    f"{len(steady_servers)} x `syncline {steady_servers[0].command}`"
                    + (f", {args.workers} x `syncline worker`" if workers else "")
                    + f", {args.database}; logs in {tmp}\n"
                )
                results.append(
                    await phase(
                        "steady",
                        seconds=args.seconds,
                        clients=args.clients,
                        think=args.think,
                        page_size=args.page_size,
                        api_urls=urls,
                        targets=targets,
                        drive=drive,
                        update=max(1, args.files // 100),
                        database_url=pg_url,
                    )
                )
                print(
                    f"phase steady: {args.clients} clients, {args.seconds:.0f} s, in-flight limit "
                    f"{args.limit or f'default ({DEFAULT_LIMIT})'} per process, "
                    f"pause {args.think} s once caught up, pages of {args.page_size}"
                )
                steady = report(results[-1])
                print(f"sync statuses after: {await statuses(urls[0], targets)}\n")
            overload_servers = servers(args.overload_limit, "overload")
            with running(overload_servers):
                for server in overload_servers:
                    server.wait_ready(timeout=60)
                urls = [s.url for s in overload_servers]
                results.append(
                    await phase(
                        "overload",
                        seconds=args.overload_seconds,
                        clients=args.overload_clients,
                        think=0.0,
                        page_size=args.page_size,
                        api_urls=urls,
                        targets=targets,
                        drive=drive,
                        update=max(1, args.files // 100),
                        database_url=pg_url,
                    )
                )
                print(
                    f"phase overload: {args.overload_clients} clients with no pause, "
                    f"{args.overload_seconds:.0f} s, in-flight limit {args.overload_limit} per "
                    "process"
                )
                overload = report(results[-1])
                print(f"sync statuses after: {await statuses(urls[0], targets)}\n")
    problems = log_problems(logs)
    for line in problems[:10]:
        print(f"  ! {line}")
    requests = steady[0] + overload[0]
    shed = steady[1] + overload[1]
    server_errors = steady[2] + overload[2]
    errors = steady[3] + overload[3] + len(problems)
    failed = server_errors > 0 or errors > 0
    if overload[1] == 0:
        print("overload: nothing was shed; raise --overload-clients or lower --overload-limit")
        failed = True
    print(f"requests {requests}, 429s {shed}, 500s {server_errors}, errors {errors}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
