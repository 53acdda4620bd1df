"""A faithful fake of the Notion API (`Notion-Version` `2022-06-28` and `2025-09-03`): search,
pages, blocks and their children, databases and data sources with their queries, users, what
is shared with each integration, Notion's error bodies and rate limit, and its OAuth token and
authorize endpoints: for tests, benchmarks and the demo.

state = NotionState()
page = state.add_page("Q3 plan", content=[paragraph("Ship it")])
state.share(page)
access, refresh = state.issue_tokens()
with BackgroundServer(create_notion_app(state)) as server:
    httpx.post(
        f"{server.url}/v1/search",
        headers={"Authorization": f"Bearer {access}", "Notion-Version": "2025-09-03"},
        json={"sort": {"timestamp": "last_edited_time", "direction": "descending"}},
    )
"""

from syncline.sandbox.notion.app import create_notion_app
from syncline.sandbox.notion.control import NotionControl
from syncline.sandbox.notion.ratelimit import RateLimit
from syncline.sandbox.notion.settings import notion_env
from syncline.sandbox.notion.state import (
    NOTION_FAULTS,
    NOTION_PATHS,
    NOTION_VERSIONS,
    NotionState,
)

__all__ = [
    "NOTION_FAULTS",
    "NOTION_PATHS",
    "NOTION_VERSIONS",
    "NotionControl",
    "NotionState",
    "RateLimit",
    "create_notion_app",
    "notion_env",
]
