"""A user's view of Syncline run as processes (`tests/support/processes.py`), for end-to-end tests.

`sandboxed` starts a sandbox Google Drive and a webhook receiver, and gives the environment of a
Syncline deployment that uses them (a free port, a new project, its keys) and a user's token.
`Client` is that user: calls with the bearer token, waits for a sync's status, pulls the records
feed with its cursor and connects the Drive. The tests' deployments extend it with their processes
and their logs (`log_text`, shown when a wait times out).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from syncline.auth import generate_signing_key, mint_user_token
from syncline.crypto import generate_key
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.webhooks.signing import generate_secret
from tests.support.processes import clean_env, free_port
from tests.support.receiver import Receiver, create_receiver
from tests.support.server import serve_in_thread

__all__ = ["Client", "Sandbox", "sandboxed"]


@dataclass(frozen=True)
class Sandbox:
    """What `sandboxed` started and the settings of a deployment that uses it."""

    drive: DriveState
    receiver: Receiver
    env: dict[str, str]
    token: str
    """A token of user `user-1` of the deployment's project."""
    project: str
    signing_key: str
    """The project's private key (PEM), to mint tokens of other users."""


@contextmanager
def sandboxed(database_url: str, settings: Mapping[str, str] | None = None) -> Iterator[Sandbox]:
    """A sandbox Drive and a signed-webhook receiver, each in its own thread, until the end.

    The environment is this process's without its `SYNCLINE_*` variables, plus a free port, a new
    project, `database_url`, fast scheduler polls and `settings`.
    """
    drive = DriveState()
    secret = generate_secret()
    receiver = create_receiver(secret)
    signing = generate_signing_key()
    project = str(uuid.uuid4())
    with ExitStack() as stack:
        sandbox = stack.enter_context(BackgroundServer(create_drive_app(drive)))
        receiver_url = stack.enter_context(serve_in_thread(receiver.app))
        env = clean_env(
            {
                "SYNCLINE_PORT": str(free_port()),
                "SYNCLINE_DATABASE_URL": database_url,
                "SYNCLINE_PROJECT_ID": project,
                "SYNCLINE_SIGNING_PUBLIC_KEY": signing.public_pem,
                "SYNCLINE_WEBHOOK_URL": f"{receiver_url}/hooks",
                "SYNCLINE_WEBHOOK_SECRET": secret,
                "SYNCLINE_SECRET_KEY": generate_key(),
                "SYNCLINE_SCHEDULER_POLL_SECONDS": "0.2",
                **(settings or {}),
                **googledrive_env(sandbox.url),
            }
        )
        token = mint_user_token(signing.private_pem, project, "user-1")
        yield Sandbox(drive, receiver, env, token, project, signing.private_pem)


@dataclass
class Client:
    """User `user-1` of a deployment started on `sandbox`'s settings, over HTTP."""

    sandbox: Sandbox

    @property
    def drive(self) -> DriveState:
        return self.sandbox.drive

    @property
    def receiver(self) -> Receiver:
        return self.sandbox.receiver

    @property
    def env(self) -> dict[str, str]:
        return self.sandbox.env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['SYNCLINE_PORT']}"

    def log_text(self) -> str:
        """The deployment's logs, for failure messages."""
        return ""

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.sandbox.token}"}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def wait_status(self, sync_id: str, status: str, timeout: float = 120) -> dict[str, Any]:
        """The sync, once its status is `status`."""
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.call("GET", f"/api/syncs/{sync_id}").json()
            if body["status"] == status:
                return body
            time.sleep(0.1)
        raise AssertionError(f"sync never became {status}: {body}\n{self.log_text()}")

    def pull(
        self, sync_id: str, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The sync's records after `cursor`, page by page until caught up, and the next cursor."""
        records: list[dict[str, Any]] = []
        while True:
            params = {"pageSize": 1000, **({"cursor": cursor} if cursor else {})}
            body = self.call("GET", f"/api/syncs/{sync_id}/records", params=params).json()
            records += body["data"]
            cursor = body["paging"]["cursor"]
            if not body["data"] or body["paging"]["remainingRecords"] == 0:
                return records, cursor

    def connect_drive(self) -> None:
        """Import a credential of the sandbox Drive's user `alice@example.com`."""
        access, refresh = self.drive.issue_tokens("alice@example.com")
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        response = self.call(
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
