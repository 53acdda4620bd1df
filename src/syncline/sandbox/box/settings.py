"""The settings that point a Box connector at a sandbox Box (tests, benchmarks, demo)."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["box_env"]


def box_env(url: str) -> dict[str, str]:
    """`SYNCLINE_BOX_*` for a sandbox Box served at `url`: the API origin (Box's is
    `https://api.box.com`, the API under `{API_URL}/2.0`), and Box's token and authorize
    endpoints (`https://api.box.com/oauth2/token`, `https://account.box.com/api/oauth2/authorize`),
    all on the sandbox's one origin."""
    return {
        "SYNCLINE_BOX_API_URL": url,
        "SYNCLINE_BOX_TOKEN_URL": f"{url}/oauth2/token",
        "SYNCLINE_BOX_AUTH_URL": f"{url}/api/oauth2/authorize",
        "SYNCLINE_BOX_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_BOX_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
