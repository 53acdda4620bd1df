"""Distributed mode as real processes on PostgreSQL: `syncline api` beside `syncline worker`, and
how a worker stops: SIGTERM finishes the page in hand and gives the sync back; a second SIGTERM
leaves at once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from syncline.sandbox import generate
from tests.support.client import Client, sandboxed
from tests.support.processes import SynclineProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@dataclass
class Cluster(Client):
    """One `syncline api` process and any number of `syncline worker` processes."""

    logs: Path
    processes: list[SynclineProcess] = field(default_factory=list)

    def spawn(self, command: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{command}-{len(self.processes)}.log"
        process = SynclineProcess(command, self.env, log)
        process.start()
        self.processes.append(process)
        assert process.process is not None
        return process.process

    def start_api(self) -> None:
        self.spawn("api")
        self.processes[-1].wait_ready()

    def log_text(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("*.log")))

    def connect_and_enable(self) -> str:
        self.connect_drive()
        sync = self.call(
            "POST", "/api/syncs", json={"integration": "googledrive", "pipeline": "files"}
        )
        return str(sync.json()["id"])

    def total_records(self, sync_id: str) -> int:
        return int(self.call("GET", f"/api/syncs/{sync_id}").json()["summary"]["totalRecords"])

    def wait_records(self, sync_id: str, at_least: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (done := self.total_records(sync_id)) >= at_least:
                return done
            time.sleep(0.05)
        raise AssertionError(f"fewer than {at_least} records after {timeout}s:\n{self.log_text()}")

    def feed_ids(self, sync_id: str) -> list[str]:
        records, _ = self.pull(sync_id)
        return [r["externalId"] for r in records]


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    with sandboxed(postgres_url, {"SYNCLINE_LEASE_SECONDS": "6"}) as sandbox:
        running = Cluster(sandbox, tmp_path)
        try:
            yield running
        finally:
            for process in running.processes:
                if process.alive:
                    process.kill()


def _lease(url: str, sync_id: str) -> tuple[str | None, datetime, str | None]:
    """The sync's lease owner, next run time and checkpoint, read straight from the table."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT lease_owner, next_run_at, checkpoint FROM syncs WHERE id = %s", (sync_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_api_and_worker_processes_sync_over_one_postgres(cluster: Cluster):
    """A sync enabled through the API process is run by a separate worker process: its records
    are served by the API and its webhook is delivered by the worker."""
    first = cluster.drive.add_file("a.txt", content=b"a")
    cluster.start_api()
    cluster.spawn("worker")

    sid = cluster.connect_and_enable()
    cluster.wait_status(sid, "IDLE")
    cluster.receiver.wait_until(lambda: len(cluster.receiver.events("sync_complete")) == 1)

    assert [first] == cluster.feed_ids(sid)


def test_sigterm_finishes_the_page_gives_the_sync_back_and_another_worker_resumes(
    cluster: Cluster,
):
    """SIGTERM mid initial sync: the worker exits 0 within a page's time, leaving the sync
    unleased, due now, with its checkpoint; a new worker finishes from there, every file once."""
    total = 4_000
    generate(cluster.drive, total, n_folders=20)
    cluster.drive.latency = 0.3
    cluster.start_api()
    worker = cluster.spawn("worker")
    sid = cluster.connect_and_enable()
    cluster.wait_records(sid, 1_000)

    worker.send_signal(signal.SIGTERM)
    code = worker.wait(timeout=10)
    stopped = cluster.total_records(sid)
    owner, next_run, checkpoint = _lease(cluster.env["SYNCLINE_DATABASE_URL"], sid)

    assert 0 == code, cluster.log_text()
    assert "sync.run_paused" in cluster.log_text()
    assert owner is None
    assert checkpoint is not None
    assert next_run <= datetime.now(UTC)
    assert stopped < total

    cluster.drive.latency = 0.0
    cluster.drive.traffic.reset()
    cluster.spawn("worker")
    cluster.wait_status(sid, "IDLE")
    ids = cluster.feed_ids(sid)
    listings = [q for _, path, q in cluster.drive.traffic.requests if path == "/drive/v3/files"]
    assert len(ids) == len(set(ids))
    assert total <= len(ids)
    assert listings
    assert "pageToken" in listings[0]  # resumed where the first worker stopped


def test_a_second_sigterm_exits_at_once(cluster: Cluster):
    """With a page request hanging upstream, a first SIGTERM waits for it; a second one makes the
    worker leave at once (exit 1), and its lease lapses for another worker to take over."""
    generate(cluster.drive, 8_000, n_folders=5)
    cluster.start_api()
    worker = cluster.spawn("worker")
    sid = cluster.connect_and_enable()
    cluster.wait_records(sid, 1_000)
    cluster.drive.latency = 10.0
    time.sleep(2)  # pages already fetched are committed; the run now waits on a hanging one

    worker.send_signal(signal.SIGTERM)
    time.sleep(1)
    assert worker.poll() is None  # still waiting for the page in hand
    worker.send_signal(signal.SIGTERM)
    code = worker.wait(timeout=5)

    assert 1 == code
    cluster.drive.latency = 0.0
    cluster.spawn("worker")
    cluster.wait_status(sid, "IDLE", timeout=60)
    ids = cluster.feed_ids(sid)
    assert len(ids) == len(set(ids)) >= 8_000
