"""`syncline serve` as a real process: the lifecycle over HTTP, and a SIGKILL mid-initial-sync."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from syncline.sandbox import generate
from syncline.store import Database, Store
from tests.support.client import Client, sandboxed
from tests.support.processes import SynclineProcess

pytestmark = pytest.mark.e2e


@dataclass
class Deployment(Client):
    """A Syncline server process, its sandbox Drive and its webhook receiver."""

    log: Path
    server: SynclineProcess = field(init=False)

    def __post_init__(self) -> None:
        self.server = SynclineProcess("serve", self.env, self.log)

    def start(self) -> None:
        self.server.start()
        self.server.wait_ready()

    def kill(self) -> None:
        self.server.kill()

    def stop(self) -> int:
        return self.server.stop()

    def log_text(self) -> str:
        return self.server.log_text()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with sandboxed(f"sqlite:///{tmp_path / 'syncline.db'}") as sandbox:
        deployment = Deployment(sandbox, tmp_path / "serve.log")
        try:
            yield deployment
        finally:
            if deployment.server.alive:
                deployment.server.kill()


def test_lifecycle_over_http_with_signed_webhooks(deployment: Deployment):
    """A client drives enable, initial sync, incremental changes and a graceful stop over HTTP."""
    d = deployment
    first = d.drive.add_file("a.txt", content=b"a")
    d.start()
    d.connect_drive()
    sync = d.call("POST", "/api/syncs", json={"integration": "googledrive", "pipeline": "files"})
    sid = sync.json()["id"]
    d.wait_status(sid, "IDLE")
    d.receiver.wait_until(lambda: len(d.receiver.events("sync_complete")) == 1, timeout=30)
    records, cursor = d.pull(sid)

    d.drive.update_file(first, content=b"changed")
    second = d.drive.add_file("b.txt", content=b"b")
    assert (
        202 == d.call("POST", f"/api/syncs/{sid}/trigger", json={"type": "incremental"}).status_code
    )
    d.receiver.wait_until(lambda: len(d.receiver.events()) >= 3, timeout=30)
    changes, _ = d.pull(sid, cursor)

    assert [first] == [r["externalId"] for r in records]
    assert {first, second} == {r["externalId"] for r in changes}
    assert ["sync_complete", "record_updated", "record_created"] == [
        e["event"] for e in d.receiver.events()
    ]
    assert all(delivery["verified"] for delivery in d.receiver.deliveries)
    assert 0 == d.stop()


def test_sigkill_during_initial_sync_loses_and_repeats_nothing(deployment: Deployment):
    """Killed with SIGKILL mid-way through a large initial sync, the restarted server finishes it:
    every file is in the feed exactly once and every event reaches the receiver."""
    d = deployment
    total = 20_000
    generate(d.drive, total, n_folders=50)
    d.drive.latency = 0.15
    d.start()
    d.connect_drive()
    sid = d.call(
        "POST", "/api/syncs", json={"integration": "googledrive", "pipeline": "files"}
    ).json()["id"]
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline:
        done = d.call("GET", f"/api/syncs/{sid}").json()["summary"]["totalRecords"]
        if done >= 3000:
            break
        time.sleep(0.05)
    d.kill()
    assert 0 < done < total + 50

    d.drive.latency = 0.0
    d.start()
    d.wait_status(sid, "IDLE", timeout=120)
    records, cursor = d.pull(sid)
    extra = d.drive.add_file("after-restart.txt", content=b"x")
    d.call("POST", f"/api/syncs/{sid}/trigger", json={"type": "incremental"})
    d.receiver.wait_until(lambda: len(d.receiver.events("record_created")) == 1, timeout=30)
    later, _ = d.pull(sid, cursor)

    ids = [r["externalId"] for r in records]
    assert len(ids) == len(set(ids))
    assert total + 50 <= len(ids)
    assert [extra] == [r["externalId"] for r in later]
    assert 1 == len({e["id"] for e in d.receiver.events("sync_complete")})
    assert 0 == d.stop()
    assert {"delivered": 2} == asyncio.run(_outbox(d.env["SYNCLINE_DATABASE_URL"]))


async def _outbox(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        return await Store(db).outbox_counts()
    finally:
        await db.dispose()
