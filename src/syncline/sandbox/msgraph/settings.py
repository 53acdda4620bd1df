"""The settings that point Syncline's SharePoint and OneDrive connectors at a sandbox Graph."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

__all__ = ["graph_env"]


def graph_env(url: str) -> dict[str, str]:
    """`SYNCLINE_SHAREPOINT_*` and `SYNCLINE_ONEDRIVE_*` for a sandbox Graph served at `url`."""
    env: dict[str, str] = {}
    for integration in ("SHAREPOINT", "ONEDRIVE"):
        env |= {
            f"SYNCLINE_{integration}_API_URL": url,
            f"SYNCLINE_{integration}_TOKEN_URL": f"{url}/common/oauth2/v2.0/token",
            f"SYNCLINE_{integration}_AUTH_URL": f"{url}/common/oauth2/v2.0/authorize",
            f"SYNCLINE_{integration}_CLIENT_ID": SANDBOX_CLIENT_ID,
            f"SYNCLINE_{integration}_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        }
    return env
