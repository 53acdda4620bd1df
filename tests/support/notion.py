"""A whole Syncline beside a sandbox Notion: the harness, the Notion server, and a user's
connected Notion integration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from syncline.sandbox import BackgroundServer
from syncline.sandbox.notion import NotionState, create_notion_app, notion_env
from syncline.sandbox.notion.content import heading, paragraph
from syncline.types import JSONObject
from tests.support.harness import Harness, harness

UNPACED = {"SYNCLINE_NOTION_REQUESTS_PER_SECOND": "10000", "SYNCLINE_NOTION_REQUEST_BURST": "1000"}
"""Most tests need not wait for Notion's 3 requests a second: the pacing tests keep it."""


def blocks_of(content: bytes) -> list[JSONObject]:
    """Text as Notion blocks: a `# ` line a heading, any other line a paragraph."""
    lines = content.decode().splitlines()
    return [
        heading(1, line[2:]) if line.startswith("# ") else paragraph(line)
        for line in lines
        if line.strip()
    ]


@dataclass
class NotionHarness:
    h: Harness
    notion: NotionState
    url: str

    async def connect(self, user: str = "user-1", bot: str | None = None) -> str:
        access, refresh = self.notion.issue_tokens(bot)
        answer = await self.h.api.post(
            "/api/credentials",
            headers=self.h.auth(user),
            json={"integration": "notion", "accessToken": access, "refreshToken": refresh},
        )
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["id"])

    async def enable(self, configuration: dict[str, Any], **body: Any) -> dict[str, Any]:
        answer = await self.h.api.post(
            "/api/syncs",
            headers=self.h.auth(),
            json={
                "integration": "notion",
                "pipeline": "files",
                "configuration": configuration,
                **body,
            },
        )
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())

    def replace_content(self, page: str, content: list[JSONObject]) -> None:
        """The page's blocks (not its sub-pages) replaced, as a user rewriting it would."""
        state = self.notion
        with state.lock:
            holder = state.pages[page]
            for child in state.live_children(holder):
                if child in state.blocks:
                    state.delete_block(child)
            state.append_blocks(page, content)


@asynccontextmanager
async def notion_harness(
    database_url: str,
    *,
    paced: bool = False,
    notion: NotionState | None = None,
    wrap: Callable[[ASGIApp, NotionState], ASGIApp] | None = None,
    **settings: Any,
) -> AsyncIterator[NotionHarness]:
    """Syncline beside a sandbox Notion (`notion`, by default a new one: its integration
    `notion.bot`, no pages yet), its app wrapped by `wrap` if given; unless `paced`, Syncline
    does not hold back to Notion's request rate."""
    notion = NotionState() if notion is None else notion
    app = create_notion_app(notion)
    with BackgroundServer(app if wrap is None else wrap(app, notion)) as server:
        env = {**notion_env(server.url), **({} if paced else UNPACED)}
        async with harness(database_url, None, env=env, **settings) as h:
            yield NotionHarness(h, notion, server.url)
