"""PostgreSQL for the crash scenario: a scratch database, a restart command, a private cluster.

The crash scenario restarts PostgreSQL itself. On the machine's server that is what a reviewer
asks for; in the test suite, where other tests share that server, `private_cluster` starts a
throwaway one (initdb in a temporary directory, its own port) that may be restarted freely.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = [
    "DEFAULT_POSTGRES_URL",
    "Cluster",
    "default_restart_command",
    "pg_bindir",
    "private_cluster",
    "scratch_database",
]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def default_restart_command() -> str:
    """Restart the machine's (Debian) cluster `main` of the newest installed version."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
    if not versions:
        raise RuntimeError("no PostgreSQL under /etc/postgresql; pass --restart-postgres-command")
    return f"pg_ctlcluster --skip-systemctl-redirect {versions[-1]} main restart"


@contextmanager
def scratch_database(admin_url: str, prefix: str = "crash", *, keep: bool = False) -> Iterator[str]:
    """A new, uniquely named, empty database on the server of `admin_url`; dropped after
    unless `keep` (to look into a failure)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_bindir() -> Path | None:
    """Where `initdb` and `pg_ctl` live (Debian keeps them off the PATH), if anywhere."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


@dataclass(frozen=True)
class Cluster:
    """A running private cluster: its admin URL and the shell command that restarts it."""

    admin_url: str
    restart_command: str


@contextmanager
def private_cluster(port: int) -> Iterator[Cluster]:
    """initdb a throwaway cluster, serve it on 127.0.0.1:`port`, remove it after.

    PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.

    Raises:
        RuntimeError: no PostgreSQL binaries, or the cluster did not start.
    """
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("initdb not found")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    home = Path(tempfile.mkdtemp(prefix="syncline-pg-"))
    data, log = home / "data", home / "postgres.log"
    if as_user:
        shutil.chown(home, "postgres")
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w"]
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=300"
    try:
        _run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
        _run([*pg_ctl, "-o", options, "start"])
        # pg_ctl restart reuses the options of the last start (postmaster.opts).
        restart = shlex.join([*pg_ctl, "-m", "fast", "restart"])
        yield Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", restart)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}")
