"""A whole Syncline beside a sandbox Confluence Cloud: the harness, the Atlassian server (3LO
authorization server, gateway, Confluence), and a user's connected Atlassian account."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncline.domain.ids import record_id
from syncline.sandbox import BackgroundServer
from syncline.sandbox.confluence import ConfluenceState, confluence_env, create_confluence_app
from tests.support.harness import Harness, harness

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"


class SiteClock:
    """The sandbox site's clock: real time, or earlier while `earlier` holds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    @contextmanager
    def earlier(self, hours: float = 1.0) -> Iterator[None]:
        """What happens inside was done `hours` ago: outside the incremental's overlap."""
        self.offset = -hours * 3600.0
        try:
            yield
        finally:
            self.offset = 0.0


class Bearer(httpx.Auth):
    """A fixed access token, for driving a connector directly."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass
class ConfluenceHarness:
    h: Harness
    confluence: ConfluenceState
    url: str
    clock: SiteClock = field(default_factory=SiteClock)
    """The site's clock, when the harness made the site."""

    async def connect(
        self, user: str = "user-1", email: str = ALICE, *, cloud_id: bool = False
    ) -> str:
        """Give `user` a credential for `email`'s grant; with `cloud_id`, its `providerData`
        names the site (else the connector asks accessible-resources)."""
        access, refresh = self.confluence.issue_tokens(email)
        body: dict[str, Any] = {
            "integration": "confluence",
            "accessToken": access,
            "refreshToken": refresh,
        }
        if cloud_id:
            body["providerData"] = {"cloudId": self.confluence.cloud_id}
        answer = await self.h.api.post("/api/credentials", headers=self.h.auth(user), json=body)
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def enable(self, configuration: dict[str, Any], **body: Any) -> dict[str, Any]:
        answer = await self.enable_answer(configuration, **body)
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())

    async def enable_answer(self, configuration: dict[str, Any], **body: Any) -> httpx.Response:
        return await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": "confluence",
                "pipeline": "files",
                "configuration": configuration,
                **body,
            },
        )

    async def records(self, sid: str, user: str = "user-1") -> dict[str, dict[str, Any]]:
        """The sync's records by page id (tombstones included)."""
        records, _ = await self.h.pull(sid, user=user)
        return {r["externalId"]: r for r in records}

    async def live(self, sid: str, user: str = "user-1") -> set[str]:
        found = await self.records(sid, user)
        return {k for k, r in found.items() if not r.get("deleted")}

    async def incremental(self, sid: str) -> None:
        await self.h.trigger(sid)
        await self.h.settle()

    async def full(self, sid: str) -> None:
        await self.h.trigger(sid, "full")
        await self.h.settle()

    async def can_read(self, sid: str, user: str, page_id: str) -> bool:
        body = {"object": record_id(sid, page_id), "user": user, "role": "can_read"}
        answer = await self.h.api.post(
            f"/api/permissions/{sid}/check", headers=self.h.auth(), json=body
        )
        assert 200 == answer.status_code, answer.text
        return bool(answer.json()["hasAccess"])


@asynccontextmanager
async def confluence_harness(
    database_url: str, *, state: ConfluenceState | None = None, **settings: Any
) -> AsyncIterator[ConfluenceHarness]:
    """Syncline beside a sandbox Confluence (a fresh site on `ConfluenceHarness.clock` unless
    `state` is given; its time zone is not UTC)."""
    clock = SiteClock()
    confluence = ConfluenceState(clock=clock) if state is None else state
    with BackgroundServer(create_confluence_app(confluence)) as server:
        async with harness(database_url, None, env=confluence_env(server.url), **settings) as h:
            yield ConfluenceHarness(h, confluence, server.url, clock)
