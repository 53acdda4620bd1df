"""The settings that point a Dropbox connector at a sandbox Dropbox (tests, benchmarks, demo)."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["dropbox_env"]


def dropbox_env(url: str) -> dict[str, str]:
    """`SYNCLINE_DROPBOX_*` for a sandbox Dropbox served at `url`: the RPC host (Dropbox's is
    `https://api.dropboxapi.com`, routes under `{API_URL}/2/`), the content host
    (`https://content.dropboxapi.com`, here under `/_dropbox-content`), and the token and
    authorize endpoints (`https://api.dropboxapi.com/oauth2/token`,
    `https://www.dropbox.com/oauth2/authorize`), all on the sandbox's one origin."""
    return {
        "SYNCLINE_DROPBOX_API_URL": url,
        "SYNCLINE_DROPBOX_CONTENT_URL": f"{url}/_dropbox-content",
        "SYNCLINE_DROPBOX_TOKEN_URL": f"{url}/dropbox/oauth2/token",
        "SYNCLINE_DROPBOX_AUTH_URL": f"{url}/dropbox/oauth2/authorize",
        "SYNCLINE_DROPBOX_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_DROPBOX_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
