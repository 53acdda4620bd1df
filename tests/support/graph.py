"""A whole Syncline beside a sandbox Microsoft Graph: the harness, plus the Graph server, and a
user's connected SharePoint or OneDrive account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from syncline.sandbox import BackgroundServer
from syncline.sandbox.msgraph import GraphState, create_graph_app, graph_env
from tests.support.harness import Harness, harness

ALICE = "alice@contoso.com"
SCOPES = ("offline_access", "User.Read", "Files.Read.All", "Sites.Read.All", "GroupMember.Read.All")


@dataclass
class GraphHarness:
    h: Harness
    graph: GraphState
    url: str

    async def connect(
        self,
        integration: str,
        user: str = "user-1",
        mail: str = ALICE,
        scopes: tuple[str, ...] = SCOPES,
    ) -> str:
        access, refresh = self.graph.issue_tokens(mail, scopes)
        answer = await self.h.api.post(
            "/api/credentials",
            headers=self.h.auth(user),
            json={"integration": integration, "accessToken": access, "refreshToken": refresh},
        )
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def enable(
        self, integration: str, configuration: dict[str, Any], **body: Any
    ) -> dict[str, Any]:
        answer = await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": integration,
                "pipeline": "files",
                "configuration": configuration,
                **body,
            },
        )
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())


@asynccontextmanager
async def graph_harness(
    database_url: str,
    tmp_path: object = None,
    *,
    wrap: Callable[[ASGIApp, GraphState], ASGIApp] | None = None,
    **settings: Any,
) -> AsyncIterator[GraphHarness]:
    """Syncline beside a sandbox Graph; `wrap` may put a test's own ASGI layer in front."""
    graph = GraphState()
    app = create_graph_app(graph)
    with BackgroundServer(wrap(app, graph) if wrap else app) as server:
        async with harness(database_url, None, env=graph_env(server.url), **settings) as h:
            yield GraphHarness(h, graph, server.url)
