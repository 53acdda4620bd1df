"""The settings that point Syncline at a sandbox Google Drive (tests, benchmarks, demo)."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET


def googledrive_env(url: str) -> dict[str, str]:
    """`SYNCLINE_GOOGLEDRIVE_*` for a sandbox Drive served at `url` with the default client."""
    return {
        "SYNCLINE_GOOGLEDRIVE_API_URL": url,
        "SYNCLINE_GOOGLEDRIVE_TOKEN_URL": f"{url}/token",
        "SYNCLINE_GOOGLEDRIVE_AUTH_URL": f"{url}/authorize",
        "SYNCLINE_GOOGLEDRIVE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SYNCLINE_GOOGLEDRIVE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
