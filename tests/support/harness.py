"""A whole Syncline (store, engine, scheduler, dispatcher, API) wired to a sandbox Drive over HTTP.

The API is called in-process through ASGI; the sandbox Drive and the webhook receiver are real
HTTP servers on 127.0.0.1, so every upstream call and every delivery crosses a socket.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.domain.retry import RetryPolicy
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.webhooks.signing import generate_secret
from syncline.wiring import Runtime, build_runtime
from tests.support.receiver import Receiver, create_receiver
from tests.support.server import serve_in_thread

DRIVE_USER = "alice@example.com"


class Clock:
    """Real time plus an offset that tests move forward to make schedules and retries due."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Harness:
    runtime: Runtime
    drive: DriveState
    drive_url: str
    receiver: Receiver
    project_id: str
    private_pem: str
    api: httpx.AsyncClient
    clock: Clock
    receiver_server: BackgroundServer
    refresh_tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str = "user-1", **claims: Any) -> str:
        return mint_user_token(self.private_pem, self.project_id, user, extra_claims=claims or None)

    def auth(self, user: str = "user-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    async def connect(
        self,
        user: str = "user-1",
        drive_user: str = DRIVE_USER,
        *,
        expires_in: float = 3600,
        scopes: Iterable[str] = (DRIVE_SCOPE,),
    ) -> str:
        """Give `user` a Google Drive credential for `drive_user`; returns the credential id."""
        access, refresh = self.drive.issue_tokens(drive_user, scopes)
        expires = datetime.now(UTC) + timedelta(seconds=expires_in)
        response = await self.api.post(
            "/api/credentials",
            headers=self.auth(user),
            json={
                "integration": "googledrive",
                "accessToken": access,
                "refreshToken": refresh,
                "expiresAt": expires.isoformat(),
                "accountEmail": drive_user,
            },
        )
        assert 201 == response.status_code, response.text
        cid = str(response.json()["id"])
        self.refresh_tokens[cid] = refresh
        return cid

    async def enable(self, user: str = "user-1", **body: Any) -> dict[str, Any]:
        payload = {"integration": "googledrive", "pipeline": "files", **body}
        response = await self.api.post("/api/syncs", headers=self.auth(user), json=payload)
        assert 200 == response.status_code, response.text
        return dict(response.json())

    async def status(self, sync_id: str, user: str = "user-1") -> dict[str, Any]:
        response = await self.api.get(f"/api/syncs/{sync_id}", headers=self.auth(user))
        assert 200 == response.status_code, response.text
        return dict(response.json())

    async def trigger(self, sync_id: str, kind: str = "incremental", user: str = "user-1") -> None:
        response = await self.api.post(
            f"/api/syncs/{sync_id}/trigger", headers=self.auth(user), json={"type": kind}
        )
        assert 202 == response.status_code, response.text

    async def run_due(self, rounds: int = 50) -> None:
        """Run every due sync to the end, repeatedly, until nothing is due."""
        scheduler = self.runtime.scheduler
        for _ in range(rounds):
            started = await scheduler.tick()
            await scheduler.idle()
            if not started:
                return
        raise AssertionError("syncs kept being due")

    async def deliver(self, rounds: int = 1000) -> None:
        """Attempt every due webhook until none is due now."""
        for _ in range(rounds):
            if not await self.runtime.dispatcher.tick():
                return
        raise AssertionError("webhooks kept being due")

    async def settle(self) -> None:
        await self.run_due()
        await self.deliver()

    async def pull(
        self, sync_id: str, cursor: str | None = None, page_size: int = 100, user: str = "user-1"
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every record after `cursor`, page by page; returns them and the last cursor."""
        records: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"pageSize": page_size}
            if cursor:
                params["cursor"] = cursor
            response = await self.api.get(
                f"/api/syncs/{sync_id}/records", headers=self.auth(user), params=params
            )
            assert 200 == response.status_code, response.text
            body = response.json()
            records += body["data"]
            cursor = body["paging"]["cursor"]
            if not body["data"] or body["paging"]["remainingRecords"] == 0:
                return records, cursor


@asynccontextmanager
async def harness(
    database_url: str,
    tmp_path: Path | None = None,
    *,
    drive: DriveState | None = None,
    env: Mapping[str, str] | None = None,
    receiver_tolerance: timedelta = timedelta(minutes=5),
    webhook: bool = True,
    **settings: Any,
) -> AsyncIterator[Harness]:
    """Run a whole Syncline; `drive` replaces the sandbox's state and `env` adds to (or
    overrides) the `SYNCLINE_GOOGLEDRIVE_*` variables that point Syncline at it;
    `receiver_tolerance` is how old a webhook's signature timestamp may be; without `webhook`
    the project has no webhook URL (the receiver still runs)."""
    drive = DriveState() if drive is None else drive
    secret = generate_secret()
    receiver = create_receiver(secret, tolerance=receiver_tolerance)
    signing = generate_signing_key()
    project_id = str(uuid.uuid4())
    with ExitStack() as stack:
        drive_url = stack.enter_context(serve_in_thread(create_drive_app(drive)))
        receiver_server = stack.enter_context(BackgroundServer(receiver.app))
        config = Settings(
            database_url=database_url,
            project_id=project_id,
            signing_public_key=signing.public_pem,
            webhook_url=f"{receiver_server.url}/webhooks" if webhook else None,
            webhook_secret=secret if webhook else None,
            secret_key=generate_key(),
            # Pages are parsed in the test's own process unless a test asks for workers: a
            # spawned pool per harness would cost each test a second of start-up.
            **{"parse_processes": 0, **settings},
        )
        clock = Clock()
        runtime = await build_runtime(
            config, embedded=True, env={**googledrive_env(drive_url), **(env or {})}, clock=clock
        )
        # Keep inline retries quick: the waits are the policy's business, not the test's.
        fast = RetryPolicy(base=timedelta(milliseconds=50), factor=2.0, cap=timedelta(seconds=1))
        runtime.runner.settings = replace(runtime.runner.settings, inline_retry=fast)
        transport = httpx.ASGITransport(app=runtime.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://syncline") as api:
            try:
                yield Harness(
                    runtime,
                    drive,
                    drive_url,
                    receiver,
                    project_id,
                    signing.private_pem,
                    api,
                    clock,
                    receiver_server,
                )
            finally:
                await runtime.close()
