"""Google's OAuth 2.0 dialect for the sandbox's authorization server, and the scopes Google's
APIs check."""

from __future__ import annotations

from syncline.sandbox.kit.oauth import Dialect, OAuthFailure
from syncline.types import JSONObject

__all__ = ["DIRECTORY_SCOPES", "DRIVE_SCOPE", "DRIVE_SCOPES", "GOOGLE", "REPORTS_SCOPE"]

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
DRIVE_SCOPES = frozenset(
    f"https://www.googleapis.com/auth/{name}"
    for name in (
        "drive",
        "drive.readonly",
        "drive.file",
        "drive.metadata",
        "drive.metadata.readonly",
        "drive.appdata",
        "drive.apps.readonly",
        "drive.photos.readonly",
    )
)
"""Any of these lets a token call Drive v3 (`about.get` accepts each); without one Drive answers
403 `insufficientPermissions`."""

DIRECTORY_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/admin.directory.group.readonly",
        "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
        "https://www.googleapis.com/auth/admin.directory.group",
        "https://www.googleapis.com/auth/admin.directory.group.member",
    }
)
"""Any of these lets a token read group members through the Admin SDK Directory API."""

REPORTS_SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
"""Lets a token read the Admin Reports API's activities (group membership changes among them)."""


_ERRORS: dict[OAuthFailure, tuple[int, str, str]] = {
    "unknown_client": (401, "invalid_client", "The OAuth client was not found."),
    "bad_secret": (401, "invalid_client", "Unauthorized"),
    "bad_grant_type": (400, "unsupported_grant_type", "Invalid grant_type: {}"),
    "bad_refresh_token": (400, "invalid_grant", "Token has been expired or revoked."),
    "bad_code": (400, "invalid_grant", "Malformed auth code."),
    "redirect_mismatch": (400, "redirect_uri_mismatch", "Bad Request"),
    "bad_verifier": (400, "invalid_grant", "Invalid code verifier."),
    "bad_scope": (400, "invalid_scope", "Some requested scopes were invalid: {}"),
}


def _error(failure: OAuthFailure, detail: str) -> tuple[int, JSONObject]:
    status, code, description = _ERRORS[failure]
    return status, {"error": code, "error_description": description.format(detail)}


GOOGLE = Dialect(
    access_prefix="ya29.sandbox-",
    refresh_prefix="1//sandbox-",
    code_prefix="4/sandbox-",
    error=_error,
)
"""Google's token endpoint: refresh tokens last (unless a test turns rotation on), and a
refresh answers without one."""
