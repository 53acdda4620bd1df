"""A faithful fake of Confluence Cloud's REST API (v2 spaces, pages, the page tree and space
permissions; v1 CQL search, content restrictions, groups and users) behind Atlassian's 3LO
gateway, and of Atlassian's OAuth 2.0 (3LO) authorization server with rotating refresh tokens:
for tests, benchmarks and the demo. Written from Atlassian's documentation and OpenAPI specs;
what the real API refuses, it refuses with the real body.

state = ConfluenceState()
samples = populate(state)
access, refresh = state.issue_tokens("alice@example.com")
with BackgroundServer(create_confluence_app(state)) as server:
    httpx.get(
        f"{server.url}/ex/confluence/{state.cloud_id}/wiki/api/v2/pages",
        headers={"Authorization": f"Bearer {access}"},
    )
"""

from syncline.sandbox.confluence.app import create_confluence_app
from syncline.sandbox.confluence.auth import AtlassianGrants
from syncline.sandbox.confluence.control import ConfluenceControl
from syncline.sandbox.confluence.samples import Generated, SiteSamples, generate, populate
from syncline.sandbox.confluence.settings import confluence_env
from syncline.sandbox.confluence.state import (
    CONFLUENCE_FAULTS,
    CONFLUENCE_PATHS,
    DEFAULT_SCOPES,
    ConfluenceState,
)

__all__ = [
    "CONFLUENCE_FAULTS",
    "CONFLUENCE_PATHS",
    "DEFAULT_SCOPES",
    "AtlassianGrants",
    "ConfluenceControl",
    "ConfluenceState",
    "Generated",
    "SiteSamples",
    "confluence_env",
    "create_confluence_app",
    "generate",
    "populate",
]
