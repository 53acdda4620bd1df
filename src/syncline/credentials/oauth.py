"""The OAuth 2 refresh-token grant, with the provider's failures translated once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, quote_plus

import httpx

from syncline.connectors.http import map_transport_errors
from syncline.domain.credentials import TokenSet
from syncline.errors import CredentialRevoked, UpstreamResponseError, UpstreamUnavailable


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """An integration's OAuth client: where to refresh, and as whom."""

    token_url: str
    client_id: str | None
    client_secret: str | None

    def __repr__(self) -> str:
        return f"OAuthApp(token_url={self.token_url!r}, client_id={self.client_id!r})"


async def refresh_tokens(
    http: httpx.AsyncClient, app: OAuthApp, refresh_token: str, now: datetime
) -> TokenSet:
    """Trade a refresh token for new tokens; the provider may rotate the refresh token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if app.client_id is not None:
        form["client_id"] = app.client_id
    if app.client_secret is not None:
        form["client_secret"] = app.client_secret
    async with map_transport_errors():
        response = await http.post(
            app.token_url, data=form, headers={"Accept": "application/json"}, timeout=30.0
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise UpstreamUnavailable(
            f"token endpoint answered {response.status_code}", status_code=response.status_code
        )
    error = body.get("error")
    if response.status_code >= 400 or error:
        if error in ("invalid_grant", "unauthorized_client", "invalid_client"):
            detail = _scrubbed(body.get("error_description") or error, refresh_token, app)
            raise CredentialRevoked(
                f"Credentials are no longer valid ({detail}). The user must reconnect the account.",
                status_code=response.status_code,
            )
        raise UpstreamResponseError(
            f"token endpoint answered {response.status_code}: "
            f"{_scrubbed(error or 'no error code', refresh_token, app)}",
            status_code=response.status_code,
        )
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise UpstreamResponseError("token endpoint answered without an access_token")
    expires_in = body.get("expires_in")
    expires_at = (
        now + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float | str) and str(expires_in).replace(".", "").isdigit()
        else None
    )
    rotated = body.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=rotated if isinstance(rotated, str) and rotated else None,
        expires_at=expires_at,
    )


_REDACTED = "[redacted]"
_MAX_DETAIL = 300


def _scrubbed(text: object, refresh_token: str, app: OAuthApp) -> str:
    """The provider's words without the secrets we sent it, raw or URL-encoded.

    The message becomes a sync's reason, its event log and its `sync_errored` webhook, and is
    logged; some providers repeat the request's refresh token or client secret in their error.
    """
    text = str(text)
    for secret in (refresh_token, app.client_secret):
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}:
            text = text.replace(form, _REDACTED)
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + "..."
    return text
