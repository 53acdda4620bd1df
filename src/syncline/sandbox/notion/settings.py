"""The settings that point a Notion connector at a sandbox Notion (tests, benchmarks, demo)."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["notion_env"]


def notion_env(url: str) -> dict[str, str]:
    """`SYNCLINE_NOTION_*` for a sandbox Notion served at `url`: the API origin (Notion's is
    `https://api.notion.com`, the API under `{API_URL}/v1/...`), and Notion's token and
    authorize endpoints (`https://api.notion.com/v1/oauth/token`,
    `https://api.notion.com/v1/oauth/authorize`), all on the sandbox's one origin, with the
    sandbox's OAuth client (the one `NotionState.grants` accepts)."""
    return {
        "SYNCLINE_NOTION_API_URL": url,
        "SYNCLINE_NOTION_TOKEN_URL": f"{url}/v1/oauth/token",
        "SYNCLINE_NOTION_AUTH_URL": f"{url}/v1/oauth/authorize",
        "SYNCLINE_NOTION_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_NOTION_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
