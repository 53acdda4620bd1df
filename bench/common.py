"""Shared benchmark plumbing: a Drive server process, `syncline serve` as a process, per-run
subprocesses, already-synced syncs seeded into a store, medians."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import insert, select

from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.store.store import NewSync
from syncline.store.tables import syncs
from syncline.wiring import Runtime, build_runtime, limit_malloc_arenas, utcnow
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get(
    "SYNCLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Drive:
    url: str
    access: str
    refresh: str
    info: dict = field(default_factory=dict, compare=False)
    """The rest of the server's JSON line (`files`, `reader_files` with `--sharing`)."""
    pid: int = field(default=0, compare=False)
    """The server process (to read its CPU time)."""


def drive_credential(drive: Drive) -> dict[str, str]:
    """The body of `POST /api/credentials` that imports the sandbox Drive's user, for 12 hours."""
    expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
    return {
        "integration": "googledrive",
        "accessToken": drive.access,
        "refreshToken": drive.refresh,
        "expiresAt": expires,
    }


@contextmanager
def upstream_process(module: str, *args: str) -> Iterator[tuple[dict[str, Any], int]]:
    """`python -m module args`, a sandbox upstream that prints one JSON line once it serves and
    runs until its standard input closes: (that line, its pid), until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline()), process.pid
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def drive_server(files: int, *extra: str) -> Iterator[Drive]:
    """Serve a sandbox Drive with `files` generated files from another process; `extra` are
    more `bench.drive_server` arguments (e.g. `--sharing 1000,200`)."""
    with upstream_process("bench.drive_server", "--files", str(files), *extra) as (line, pid):
        url, access, refresh = line.pop("url"), line.pop("access"), line.pop("refresh")
        yield Drive(url, access, refresh, line, pid)


def run_json(module: str, *args: str, python: str = sys.executable) -> dict:
    """Run `python -m module args` in a fresh process (clean peak RSS); its last line is JSON."""
    out = subprocess.run(
        [python, "-m", module, *args], check=False, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise RuntimeError(f"{module} failed with exit status {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def syncline_run(mode: str, database_url: str, drive: Drive, *extra: str) -> dict:
    """One `bench._syncline_run` measurement in a fresh process (`extra`: more arguments)."""
    return run_json(
        "bench._syncline_run", mode, "--db", database_url, "--drive", drive.url,
        "--access", drive.access, "--refresh", drive.refresh, *extra,
    )  # fmt: skip


def dlt_load(python: str, drive: Drive, destination: str, path: str, *extra: str) -> dict:
    """One `bench._dlt_load` measurement with dlt's own interpreter."""
    return run_json(
        "bench._dlt_load", "--drive", drive.url, "--access", drive.access,
        "--destination", destination, "--path", path, *extra, python=python,
    )  # fmt: skip


def fresh_database(kind: str, tmp: Path, name: str) -> str:
    """An empty database URL: a new SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        path = tmp / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    database = f"bench_{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"


async def seed_synced_syncs(
    runtime: Runtime,
    project: str,
    drive_url: str,
    access: str,
    refresh: str,
    count: int,
    *,
    user: str = "u",
    frequency: str = "1m",
) -> None:
    """Create `count` syncs of `user` that look already synced: initial sync done, a change token
    of the sandbox Drive at `drive_url` as cursor, IDLE, and not due for a day (the caller
    schedules them). They share one credential, kept encrypted with `runtime`'s secret key."""
    store = runtime.store
    now = utcnow()
    credential = await runtime.runner._credentials.add(
        project,
        user,
        "googledrive",
        access_token=access,
        refresh_token=refresh,
        expires_at=now + timedelta(hours=12),
        scopes=[],
        account_email=None,
    )
    async with httpx.AsyncClient() as client:
        token = (
            await client.get(
                f"{drive_url}/drive/v3/changes/startPageToken",
                headers={"Authorization": f"Bearer {access}"},
            )
        ).json()["startPageToken"]
    first = str(uuid.uuid4())
    new = NewSync(first, project, user, "googledrive", "files", "c0", {}, credential.id, frequency)
    await store.create_sync(new, now)
    await store.update_sync(
        first,
        now,
        status="IDLE",
        cursor=token,
        initial_completed_at=now,
        next_full_at=now + timedelta(days=7),
        next_run_at=now + timedelta(days=1),
    )
    # The rest are copies of that row, inserted in bulk (one at a time takes minutes).
    async with store.db.write() as conn:
        row = (await conn.execute(select(syncs).where(syncs.c.id == first))).mappings().one()
        copies = [
            {**row, "id": str(uuid.uuid4()), "configuration_name": f"c{i}"} for i in range(1, count)
        ]
        for chunk in range(0, len(copies), 1000):
            await conn.execute(insert(syncs), copies[chunk : chunk + 1000])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


@dataclass(frozen=True)
class Served:
    """A running `syncline serve` and a client authenticated as one of its project's users."""

    client: httpx.Client
    pid: int


@contextmanager
def serve_process(
    database_url: str,
    project_id: str,
    signing_key: tuple[str, str],
    *,
    user: str = "u",
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[Served]:
    """`syncline serve` in its own process on a free port, until it is ready; stopped after.

    `signing_key` is the project's (private PEM, public PEM); the client's token is `user`'s.
    """
    private_pem, public_pem = signing_key
    port = free_port()
    server_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SYNCLINE_")},
        **(env or {}),
        "SYNCLINE_DATABASE_URL": database_url,
        "SYNCLINE_PORT": str(port),
        "SYNCLINE_PROJECT_ID": project_id,
        "SYNCLINE_SIGNING_PUBLIC_KEY": public_pem,
        "SYNCLINE_SECRET_KEY": generate_key(),
        "SYNCLINE_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([sys.executable, "-m", "syncline", "serve"], cwd=ROOT, env=server_env)
    token = mint_user_token(private_pem, project_id, user)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        ) as client:
            for _ in range(300):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield Served(client, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def embedded_runtime(
    database_url: str, env: Mapping[str, str], **settings: Any
) -> tuple[Runtime, dict[str, str]]:
    """A whole Syncline in this process on `database_url`, with upstream settings `env` (and
    other `Settings` fields), and the auth headers of user `u` of its project."""
    signing = generate_signing_key()
    project = str(uuid.uuid4())
    config = Settings(
        database_url=database_url,
        project_id=project,
        signing_public_key=signing.public_pem,
        secret_key=generate_key(),
        log_level="warning",
        **settings,
    )
    limit_malloc_arenas()  # as `syncline serve` does, and:
    runtime = await build_runtime(config, embedded=True, env=env)
    runtime.runner.workers.start()
    headers = {"Authorization": f"Bearer {mint_user_token(signing.private_pem, project, 'u')}"}
    return runtime, headers


def cpu_seconds(pid: int) -> float:
    """User and system CPU a live process has used (Linux `/proc`), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed_initial_sync(
    runtime: Runtime, api: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> tuple[str, dict[str, float]]:
    """Enable the sync `body` and run the scheduler until nothing is due: (its id,
    {seconds, records, cpu_main_s, cpu_workers_s}), the CPU of this process and of its page
    workers over the sync."""
    workers = runtime.runner.workers.pids()
    main_before, workers_before = time.process_time(), sum(map(cpu_seconds, workers))
    started = time.perf_counter()
    answer = await api.post("/api/syncs", headers=headers, json=body)
    assert answer.status_code == 200, answer.text
    sync_id = str(answer.json()["id"])
    while await runtime.scheduler.tick():
        await runtime.scheduler.idle()
    seconds = time.perf_counter() - started
    cpu_main = time.process_time() - main_before
    cpu_workers = sum(map(cpu_seconds, workers)) - workers_before
    status = (await api.get(f"/api/syncs/{sync_id}", headers=headers)).json()
    assert status["status"] == "IDLE", status
    return sync_id, {
        "seconds": seconds,
        "records": status["summary"]["totalRecords"],
        "cpu_main_s": cpu_main,
        "cpu_workers_s": cpu_workers,
    }
