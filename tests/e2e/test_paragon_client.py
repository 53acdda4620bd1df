"""Syncline set up exactly as the README says, used the way Paragon's managed-sync-s3-uploader
uses Paragon: real `syncline` processes, a real sandbox Drive and webhook receiver over HTTP.

The client here makes the uploader's calls: tokens with `aud: dashboard.useparagon.com/<project>`,
`POST /api/syncs` without a configurationName, pages of `limit=100` until `remainingRecords` is 0
on `sync_complete`, `GET .../records/{id}` on record events, `.../content` for every file, and on
its own restart a pull from the start that skips records whose `syncedAt` it has already seen.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncline.domain.ids import record_id
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app
from syncline.sandbox.googledrive.settings import googledrive_env
from tests.support.processes import SynclineProcess, clean_env, free_port
from tests.support.receiver import Receiver, create_receiver

pytestmark = pytest.mark.e2e

FOLDER = "application/vnd.google-apps.folder"


def _cli(env: dict[str, str], cwd: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "syncline", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout


def _field(out: str, label: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith(label))
    return line.split()[len(label.split())]


@dataclass
class Uploader:
    """What the uploader keeps: the `syncedAt` of each record it processed, and its files."""

    base: str
    token: str
    seen: dict[str, str] = field(default_factory=dict)
    stored: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return httpx.get(f"{self.base}/api{path}", headers=headers, params=params, timeout=60)

    def process(self, sid: str, record: dict[str, Any]) -> None:
        if self.seen.get(record["id"]) == record["syncedAt"]:
            return  # up to date
        self.fetched.append(record["id"])
        if record.get("deleted"):
            self.stored.pop(record["id"], None)
        elif record.get("mimeType") and not record["mimeType"].startswith(FOLDER):
            content = self.get(f"/syncs/{sid}/records/{record['id']}/content")
            assert 200 == content.status_code, content.text
            self.stored[record["id"]] = content.content
        self.seen[record["id"]] = record["syncedAt"]

    def process_all(self, sid: str) -> None:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.get(f"/syncs/{sid}/records", **params).json()
            cursor = page["paging"]["cursor"] or cursor
            for record in page["data"]:
                self.process(sid, record)
            if page["paging"]["remainingRecords"] <= 0:
                return

    def on_event(self, sid: str, event: dict[str, Any]) -> None:
        rid = event["data"]["recordId"]
        if event["event"] == "record_deleted":
            self.stored.pop(rid, None)
            self.seen.pop(rid, None)
            return
        answer = self.get(f"/syncs/{sid}/records/{rid}")
        assert 200 == answer.status_code, answer.text
        self.seen.pop(rid, None)  # record_updated: reprocess
        self.process(sid, answer.json()["data"])


@dataclass
class ReadmeSetup:
    drive: DriveState
    receiver: Receiver
    server: SynclineProcess
    project: str
    token: str
    env: dict[str, str]


@pytest.fixture
def readme(tmp_path: Path) -> Iterator[ReadmeSetup]:
    """`syncline projects create --webhook-url ...`, `export SYNCLINE_PROJECT_ID=...`,
    `syncline serve`, `syncline token ...`: the README's steps, in a scratch directory."""
    drive = DriveState()
    hooks_port = free_port()
    base_env = clean_env({"SYNCLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'syncline.db'}"})
    created = _cli(
        base_env,
        tmp_path,
        "projects",
        "create",
        "--webhook-url",
        f"http://127.0.0.1:{hooks_port}/api/webhooks",
    )
    project = _field(created, "project id:")
    receiver = create_receiver(_field(created, "webhook secret:"))
    token = _cli(base_env, tmp_path, "token", "--project", project, "--user", "user-42").strip()
    with (
        BackgroundServer(create_drive_app(drive)) as sandbox,
        BackgroundServer(receiver.app, port=hooks_port),
    ):
        env = {
            **base_env,
            "SYNCLINE_PROJECT_ID": project,
            "SYNCLINE_PORT": str(free_port()),
            "SYNCLINE_ALLOW_PRIVATE_WEBHOOKS": "true",  # the receiver is on this machine
            "SYNCLINE_SCHEDULER_POLL_SECONDS": "0.2",
            **googledrive_env(sandbox.url),
        }
        server = SynclineProcess("serve", env, tmp_path / "serve.log")
        try:
            yield ReadmeSetup(drive, receiver, server, project, token, env)
        finally:
            if server.alive:
                server.kill()


def test_the_s3_uploaders_flow_works_unmodified_across_restarts(readme: ReadmeSetup):
    """Initial files, then a create, an update and a deletion, then a restart of Syncline (the
    stored webhook survives it: events keep arriving), then a restart of the client that pulls
    by `syncedAt` and refetches only what changed meanwhile."""
    r = readme
    notes = r.drive.add_file("notes.txt", content=b"first notes")
    doc = r.drive.add_file("Plan", mime_type="application/vnd.google-apps.document", content=b"x")
    old = r.drive.add_file("old.txt", content=b"old")
    r.drive.add_folder("Folder")
    r.server.start()
    r.server.wait_ready()
    client = Uploader(r.server.url, r.token)
    access, refresh = r.drive.issue_tokens("alice@example.com")
    headers = {"Authorization": f"Bearer {r.token}"}
    imported = httpx.post(
        f"{r.server.url}/api/credentials",
        headers=headers,
        json={"integration": "googledrive", "accessToken": access, "refreshToken": refresh},
    )
    assert 201 == imported.status_code, imported.text
    enabled = httpx.post(
        f"{r.server.url}/api/syncs",
        headers={**headers, "Content-Type": "application/json"},
        json={"integration": "googledrive", "pipeline": "files", "configuration": {}},
    )
    assert 200 == enabled.status_code, enabled.text
    sid = enabled.json()["id"]
    r.receiver.wait_until(lambda: bool(r.receiver.events("sync_complete")), timeout=60)
    client.process_all(sid)
    initial = dict(client.stored)

    r.drive.update_file(notes, content=b"second notes")
    added = r.drive.add_file("new.txt", content=b"new")
    r.drive.trash(old)
    httpx.post(f"{r.server.url}/api/syncs/{sid}/trigger", headers=headers, json={})
    r.receiver.wait_until(lambda: len(r.receiver.events()) >= 4, timeout=60)
    for event in r.receiver.events()[1:]:
        client.on_event(sid, event)

    assert 0 == r.server.stop()
    r.server.start()
    r.server.wait_ready()
    after_restart = r.drive.add_file("after-restart.txt", content=b"still delivered")
    httpx.post(f"{r.server.url}/api/syncs/{sid}/trigger", headers=headers, json={})
    r.receiver.wait_until(lambda: len(r.receiver.events()) >= 5, timeout=60)

    restarted = Uploader(r.server.url, r.token, seen=dict(client.seen), stored=dict(client.stored))
    restarted.process_all(sid)

    assert {record_id(sid, i) for i in (notes, doc, old)} == set(initial)  # not the folder
    assert b"first notes" == initial[record_id(sid, notes)]
    assert initial[record_id(sid, doc)].startswith(b"PK")  # the Doc, exported to DOCX
    events = [e["event"] for e in r.receiver.events()]
    assert "sync_complete" == events[0]
    assert {"record_updated", "record_created", "record_deleted"} == set(events[1:4])
    assert ["record_created"] == events[4:]  # sent by the restarted server
    assert all(d["verified"] for d in r.receiver.deliveries)
    assert b"second notes" == client.stored[record_id(sid, notes)]
    assert b"new" == client.stored[record_id(sid, added)]
    assert record_id(sid, old) not in client.stored
    # Nothing else is refetched: the tombstone, which the client forgot on record_deleted as
    # the uploader does, and the file created after the restart.
    assert [record_id(sid, old), record_id(sid, after_restart)] == restarted.fetched
    assert b"still delivered" == restarted.stored[record_id(sid, after_restart)]
    assert 0 == r.server.stop()
