"""Box's OAuth 2.0 dialect for the sandbox's authorization server.

`POST https://api.box.com/oauth2/token` takes a form body (`grant_type=refresh_token`,
`refresh_token`, `client_id`, `client_secret`) and answers `{access_token, expires_in,
restricted_to, refresh_token, token_type: "bearer"}` with no `scope` (the AccessToken resource
of Box's OpenAPI spec). Access tokens live 60 minutes. Refresh tokens are **single use**: "Every
time an application uses the Refresh Token to get a new Access Token the Refresh Token is
invalidated and a new Refresh Token is returned" (guides/authentication/tokens/refresh), so
every refresh rotates and the old token fails at once with 400 `invalid_grant` "Invalid refresh
token" (the common-errors guide). Errors are `{error, error_description}`, all 400.
"""

from __future__ import annotations

from syncline.sandbox.kit.oauth import Dialect, OAuthFailure
from syncline.types import JSONObject

__all__ = ["BOX"]

_ERRORS: dict[OAuthFailure, tuple[str, str]] = {
    "unknown_client": ("invalid_client", "The client credentials are invalid"),
    "bad_secret": ("invalid_client", "The client credentials are invalid"),
    "bad_grant_type": ("invalid_request", "Invalid grant_type parameter or parameter missing"),
    "bad_refresh_token": ("invalid_grant", "Invalid refresh token"),
    "bad_code": ("invalid_grant", "Auth code doesn't exist or is invalid for the client"),
    "redirect_mismatch": ("invalid_grant", "The redirect URI is missing or do not match"),
    "bad_verifier": ("invalid_grant", "Invalid code verifier"),
    "bad_scope": ("invalid_scope", "The requested scope is not valid: {}"),
}


def _error(failure: OAuthFailure, detail: str) -> tuple[int, JSONObject]:
    code, description = _ERRORS[failure]
    return 400, {"error": code, "error_description": description.format(detail)}


BOX = Dialect(
    access_prefix="sbxA",
    refresh_prefix="sbxR",
    code_prefix="sbxC",
    error=_error,
    rotate_refresh_tokens=True,
    refresh_token_always=True,
    more_fields=lambda _ttl: {"restricted_to": []},
    token_type="bearer",  # noqa: S106 - a token type, not a secret
    echo_scope=False,
)
