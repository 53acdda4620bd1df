"""A whole Syncline beside a sandbox Dropbox: the harness, the Dropbox server, and a user's
connected Dropbox account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from syncline.sandbox import BackgroundServer
from syncline.sandbox.dropbox import DropboxState, create_dropbox_app, dropbox_env
from tests.support.harness import Harness, harness

ALICE = "alice@example.com"
BOB = "bob@example.com"


@dataclass
class DropboxHarness:
    h: Harness
    dropbox: DropboxState
    url: str

    async def connect(self, user: str = "user-1", email: str = ALICE) -> str:
        access, refresh = self.dropbox.issue_tokens(email)
        answer = await self.h.api.post(
            "/api/credentials",
            headers=self.h.auth(user),
            json={"integration": "dropbox", "accessToken": access, "refreshToken": refresh},
        )
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def enable(self, configuration: dict[str, Any], **body: Any) -> dict[str, Any]:
        answer = await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": "dropbox",
                "pipeline": "files",
                "configuration": configuration,
                **body,
            },
        )
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())

    def silently_delete(self, item_id: str) -> None:
        """The item vanishes with no entry in the change log (what no Dropbox API can do:
        stands for a change the feed lost)."""
        with self.dropbox.lock:
            self.dropbox.items.pop(item_id)


@asynccontextmanager
async def dropbox_harness(database_url: str, **settings: Any) -> AsyncIterator[DropboxHarness]:
    """Syncline beside a sandbox Dropbox in which ALICE and BOB have accounts."""
    dropbox = DropboxState()
    dropbox.add_user(ALICE, "Alice Admin")
    dropbox.add_user(BOB, "Bob Builder")
    with BackgroundServer(create_dropbox_app(dropbox)) as server:
        async with harness(database_url, None, env=dropbox_env(server.url), **settings) as h:
            yield DropboxHarness(h, dropbox, server.url)
