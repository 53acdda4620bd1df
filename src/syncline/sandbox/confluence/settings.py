"""The settings that point a Confluence connector at a sandbox Confluence (tests, benchmarks,
demo).

The sandbox serves three Atlassian hosts on one origin; each real URL maps to a path:

    https://api.atlassian.com/ex/confluence/{cloudId}/wiki/...
        -> {url}/ex/confluence/{cloudId}/wiki/...
    https://api.atlassian.com/oauth/token/accessible-resources
        -> {url}/oauth/token/accessible-resources
    https://auth.atlassian.com/oauth/token -> {url}/oauth/token
    https://auth.atlassian.com/authorize   -> {url}/authorize

The API origin stands for `https://api.atlassian.com` (design/API.md section 8: the documented
paths `/ex/confluence/{cloudId}/wiki/...` are appended to it); the cloud id comes from the
credential's `providerData.cloudId`, else the first entry of accessible-resources.
"""

from __future__ import annotations

from syncline.sandbox.confluence.state import AUTHORIZE_PATH, RESOURCES_PATH, TOKEN_PATH
from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["confluence_env"]


def confluence_env(url: str) -> dict[str, str]:
    """`SYNCLINE_CONFLUENCE_*` for a sandbox Confluence served at `url`: the API origin,
    Atlassian's token and authorize endpoints, accessible-resources, and the sandbox's OAuth
    client (the one `ConfluenceState.grants` knows)."""
    return {
        "SYNCLINE_CONFLUENCE_API_URL": url,
        "SYNCLINE_CONFLUENCE_TOKEN_URL": f"{url}{TOKEN_PATH}",
        "SYNCLINE_CONFLUENCE_AUTH_URL": f"{url}{AUTHORIZE_PATH}",
        "SYNCLINE_CONFLUENCE_RESOURCES_URL": f"{url}{RESOURCES_PATH}",
        "SYNCLINE_CONFLUENCE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_CONFLUENCE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
