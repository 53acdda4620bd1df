"""Notion's OAuth dialect for the sandbox's authorization server.

`POST https://api.notion.com/v1/oauth/token` authenticates the client with HTTP Basic
(`client_id:client_secret`; reference/create-a-token: "Basic authentication header of the form
Basic <encoded-value>") and takes a JSON body: `{"grant_type": "authorization_code", "code",
"redirect_uri"}` or `{"grant_type": "refresh_token", "refresh_token"}` (the SDK's
`OauthTokenParameters`). It answers `{access_token, token_type: "bearer", refresh_token: string
| null, bot_id, workspace_icon, workspace_name, workspace_id, owner, duplicated_template_id,
request_id}` and no `expires_in` (the SDK's `OauthTokenResponse`). A refresh "generates a new
access token and new refresh token" (reference/refresh-a-token).

GUESSES, marked so: that the refresh token used dies at once (the docs say a new one is
issued, not whether the old one survives); the error codes and messages of a bad client
(401 `unauthorized`) and of a bad code or refresh token (400 `invalid_grant`, which the
status-codes page lists with "Invalid code: this code has been revoked."), all in Notion's
usual error body.
"""

from __future__ import annotations

from syncline.sandbox.kit.oauth import Dialect, OAuthFailure
from syncline.sandbox.notion.errors import invalid_grant, notion_error, shown, validation
from syncline.types import JSONObject

__all__ = ["NOTION"]


def _error(failure: OAuthFailure, detail: str) -> tuple[int, JSONObject]:
    if failure in ("unknown_client", "bad_secret"):
        error = notion_error(401, "unauthorized", "Invalid client credentials.")  # GUESS
    elif failure == "bad_grant_type":
        error = validation(
            'body failed validation: body.grant_type should be `"authorization_code"` or '
            f'`"refresh_token"`, instead was {shown(detail)}.'
        )
    elif failure == "bad_code":
        error = invalid_grant("Invalid code: this code has been revoked.")
    elif failure == "redirect_mismatch":
        error = invalid_grant("Invalid redirect_uri: it does not match the authorization.")  # GUESS
    elif failure == "bad_verifier":
        error = invalid_grant("Invalid code_verifier.")  # GUESS (Notion documents no PKCE)
    elif failure == "bad_refresh_token":
        error = invalid_grant("Invalid refresh token.")  # GUESS
    else:
        error = validation(f"Invalid scope: {detail}")
    return error.status, error.body


NOTION = Dialect(
    access_prefix="ntn_",
    refresh_prefix="nrt_",
    code_prefix="sbxNotionC",
    error=_error,
    rotate_refresh_tokens=True,  # GUESS: the old refresh token dies once used
    refresh_token_always=True,
    token_type="bearer",  # noqa: S106 - a token type, not a secret
    echo_scope=False,
)
