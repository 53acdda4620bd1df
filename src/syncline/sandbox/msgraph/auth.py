"""The Microsoft identity platform's v2.0 dialect for the sandbox's authorization server, and
the scopes Graph checks.

Refresh tokens rotate: every refresh returns a new one, and (unlike Google) the old one stops
working at once here, the strictest form Microsoft allows, so a client that does not keep the
new token, or refreshes twice at once, fails in tests rather than in production. Errors are
Microsoft's: `error`, `error_description` starting with an `AADSTS` code, `error_codes`,
`timestamp`, `trace_id`, `correlation_id`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from syncline.sandbox.kit.oauth import Dialect, OAuthFailure
from syncline.types import JSONObject

__all__ = ["FILE_SCOPES", "GROUP_SCOPES", "MICROSOFT"]

FILE_SCOPES = frozenset(
    {"Files.Read", "Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All",
     "Sites.Read.All", "Sites.ReadWrite.All"}
)  # fmt: skip
"""Any of these lets a token read driveItems."""
GROUP_SCOPES = frozenset({"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"})
"""Any of these lets a token list an Entra group's members."""

_ERRORS: dict[OAuthFailure, tuple[int, str, int, str]] = {
    "unknown_client": (
        400, "unauthorized_client", 700016, "Application with identifier '{}' was not found."
    ),
    "bad_secret": (401, "invalid_client", 7000215, "Invalid client secret provided."),
    "bad_grant_type": (
        400, "unsupported_grant_type", 70003, "The grant type '{}' is not supported."
    ),
    "bad_refresh_token": (
        400, "invalid_grant", 70008,
        "The provided authorization code or refresh token has expired due to inactivity or "
        "has been revoked.",
    ),
    "bad_code": (
        400, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid."
    ),
    "redirect_mismatch": (
        400, "invalid_grant", 50148, "The redirect URI does not match the one of the code."
    ),
    "bad_verifier": (400, "invalid_grant", 501481, "The Code_Verifier does not match."),
    "bad_scope": (
        400, "invalid_grant", 65001,
        "The user or administrator has not consented to use the application: {}.",
    ),
}  # fmt: skip


def _error(failure: OAuthFailure, detail: str) -> tuple[int, JSONObject]:
    status, error, code, description = _ERRORS[failure]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return status, {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description.format(detail)} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {now}"
        ),
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
    }


MICROSOFT = Dialect(
    access_prefix="eyJ0eXAiOiJKV1QiLCJub25jZSI6.sandbox.",
    refresh_prefix="0.AAAA-sandbox-",
    code_prefix="0.sandbox-code-",
    error=_error,
    rotate_refresh_tokens=True,
    refresh_token_always=True,
    more_fields=lambda ttl: {"ext_expires_in": ttl},
    hidden_scopes=frozenset({"offline_access"}),
)
