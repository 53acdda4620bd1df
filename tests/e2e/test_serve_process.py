"""`syncline serve` as a real process: the lifecycle over HTTP, and a SIGKILL mid-initial-sync."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from syncline.auth import generate_signing_key, mint_user_token
from syncline.crypto import generate_key
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app, generate
from syncline.sandbox.settings import googledrive_env
from syncline.store import Database, Store
from syncline.webhooks.signing import generate_secret
from tests.support.receiver import Receiver, create_receiver
from tests.support.server import serve_in_thread

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    """A Syncline server process, its sandbox Drive and its webhook receiver."""

    drive: DriveState
    receiver: Receiver
    env: dict[str, str]
    base: str
    token: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "syncline", "serve"], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"syncline serve did not become ready:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def wait_status(self, sync_id: str, status: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.call("GET", f"/api/syncs/{sync_id}").json()
            if body["status"] == status:
                return body
            time.sleep(0.1)
        raise AssertionError(f"sync never became {status}: {body}")

    def pull(self, sync_id: str, cursor: str | None = None) -> tuple[list[dict], str | None]:
        records: list[dict] = []
        while True:
            params = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
            body = self.call("GET", f"/api/syncs/{sync_id}/records", params=params).json()
            records += body["data"]
            cursor = body["paging"]["cursor"]
            if not body["data"] or body["paging"]["remainingRecords"] == 0:
                return records, cursor


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    drive = DriveState()
    secret = generate_secret()
    receiver = create_receiver(secret)
    signing = generate_signing_key()
    project = str(uuid.uuid4())
    port = _free_port()
    with ExitStack() as stack:
        sandbox = stack.enter_context(BackgroundServer(create_drive_app(drive)))
        receiver_url = stack.enter_context(serve_in_thread(receiver.app))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SYNCLINE_")},
            "SYNCLINE_PORT": str(port),
            "SYNCLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'syncline.db'}",
            "SYNCLINE_PROJECT_ID": project,
            "SYNCLINE_SIGNING_PUBLIC_KEY": signing.public_pem,
            "SYNCLINE_WEBHOOK_URL": f"{receiver_url}/hooks",
            "SYNCLINE_WEBHOOK_SECRET": secret,
            "SYNCLINE_SECRET_KEY": generate_key(),
            "SYNCLINE_SCHEDULER_POLL_SECONDS": "0.2",
            **googledrive_env(sandbox.url),
        }
        token = mint_user_token(signing.private_pem, project, "user-1")
        deployment = Deployment(
            drive, receiver, env, f"http://127.0.0.1:{port}", token, tmp_path / "serve.log"
        )
        try:
            yield deployment
        finally:
            if deployment.process is not None and deployment.process.poll() is None:
                deployment.process.kill()
                deployment.process.wait()


def _connect(d: Deployment) -> None:
    access, refresh = d.drive.issue_tokens("alice@example.com")
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = d.call(
        "POST",
        "/api/credentials",
        json={
            "integration": "googledrive",
            "accessToken": access,
            "refreshToken": refresh,
            "expiresAt": expires,
        },
    )
    assert 201 == response.status_code, response.text


def test_lifecycle_over_http_with_signed_webhooks(deployment: Deployment):
    """A client drives enable, initial sync, incremental changes and a graceful stop over HTTP."""
    d = deployment
    first = d.drive.add_file("a.txt", content=b"a")
    d.start()
    _connect(d)
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
    _connect(d)
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
