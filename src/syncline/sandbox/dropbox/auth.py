"""Dropbox's OAuth 2.0 dialect for the sandbox's authorization server.

`POST https://api.dropboxapi.com/oauth2/token` takes a form body (`grant_type=refresh_token`,
`refresh_token`, `client_id`, and `client_secret` unless the app uses PKCE; HTTP Basic client
credentials also work) and answers `{access_token, token_type: "bearer", expires_in}`.
Access tokens are short-lived: `expires_in` is 14400 (four hours; dropbox.tech "Using OAuth 2.0
with offline access"). Refresh tokens do **not** rotate: a refresh returns no new refresh
token, and the same one keeps working until the user unlinks the app (the Python SDK reads only
`access_token` and `expires_in` from a refresh). The code exchange also returns the
`refresh_token` and `scope`. Failures are 400 `{error, error_description}`, `invalid_grant`
for a bad or revoked refresh token.
"""

from __future__ import annotations

from syncline.sandbox.kit.oauth import Dialect, OAuthFailure
from syncline.types import JSONObject

__all__ = ["ACCESS_PREFIX", "DROPBOX", "TOKEN_TTL"]

ACCESS_PREFIX = "sl.u."
"""Dropbox's short-lived user access tokens start like this."""
TOKEN_TTL = 14401.0
"""The kit reports one second less than a token's life, so this answers `expires_in: 14400`."""

_ERRORS: dict[OAuthFailure, tuple[str, str]] = {
    "unknown_client": ("invalid_client", "Invalid client_id or client_secret"),
    "bad_secret": ("invalid_client", "Invalid client_id or client_secret"),
    "bad_grant_type": ("unsupported_grant_type", "grant_type is not supported: {}"),
    "bad_refresh_token": ("invalid_grant", "refresh token is invalid or revoked"),
    "bad_code": ("invalid_grant", "code doesn't exist or has expired"),
    "redirect_mismatch": ("invalid_grant", "redirect_uri mismatch"),
    "bad_verifier": ("invalid_grant", "invalid code verifier"),
    "bad_scope": ("invalid_scope", "The following scopes were not granted: {}"),
}


def _error(failure: OAuthFailure, detail: str) -> tuple[int, JSONObject]:
    code, description = _ERRORS[failure]
    return 400, {"error": code, "error_description": description.format(detail)}


DROPBOX = Dialect(
    access_prefix=ACCESS_PREFIX,
    refresh_prefix="sbxDR",
    code_prefix="sbxDC",
    error=_error,
    rotate_refresh_tokens=False,
    refresh_token_always=False,
    token_type="bearer",  # noqa: S106 - a token type, not a secret
    echo_scope=False,
)
