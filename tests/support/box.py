"""A whole Syncline beside a sandbox Box: the harness, the Box server, and a user's connected
Box account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from syncline.sandbox import BackgroundServer
from syncline.sandbox.box import BoxState, box_env, create_box_app
from tests.support.harness import Harness, harness

ALICE = "alice@example.com"
BOB = "bob@example.com"


@dataclass
class BoxHarness:
    h: Harness
    box: BoxState
    url: str

    async def connect(self, user: str = "user-1", login: str = ALICE) -> str:
        access, refresh = self.box.issue_tokens(login)
        answer = await self.h.api.post(
            "/api/credentials",
            headers=self.h.auth(user),
            json={"integration": "box", "accessToken": access, "refreshToken": refresh},
        )
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def enable(self, configuration: dict[str, Any], **body: Any) -> dict[str, Any]:
        answer = await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": "box",
                "pipeline": "files",
                "configuration": configuration,
                **body,
            },
        )
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())


@asynccontextmanager
async def box_harness(database_url: str, **settings: Any) -> AsyncIterator[BoxHarness]:
    """Syncline beside a sandbox Box in which ALICE (an admin) and BOB exist."""
    box = BoxState()
    box.add_user(ALICE, "Alice Admin", is_admin=True)
    box.add_user(BOB, "Bob Builder")
    with BackgroundServer(create_box_app(box)) as server:
        async with harness(database_url, None, env=box_env(server.url), **settings) as h:
            yield BoxHarness(h, box, server.url)
