"""The OAuth 2 token endpoint: the refresh-token grant and the authorization-code exchange,
with the provider's failures translated once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, quote_plus

import httpx

from syncline.connectors.http import map_transport_errors
from syncline.domain.credentials import TokenSet
from syncline.errors import CredentialRevoked, UpstreamResponseError, UpstreamUnavailable


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """An integration's OAuth client: where users consent and tokens are got, and as whom."""

    token_url: str
    client_id: str | None
    client_secret: str | None
    auth_url: str | None = None
    scope_on_refresh: tuple[str, ...] | None = None
    """See `OAuthFlow.scope_on_refresh`."""
    client_auth: Literal["body", "basic"] = "body"
    """See `OAuthFlow.client_auth`."""
    body_format: Literal["form", "json"] = "form"
    """See `OAuthFlow.body_format`."""

    def __repr__(self) -> str:
        return f"OAuthApp(token_url={self.token_url!r}, client_id={self.client_id!r})"


@dataclass(frozen=True, slots=True)
class Granted:
    """What a token endpoint answered: the tokens, and the whole body for what providers add
    (an instance URL, a cloud id)."""

    tokens: TokenSet
    body: dict[str, Any]  # Any: the provider's JSON


async def refresh_tokens(
    http: httpx.AsyncClient,
    app: OAuthApp,
    refresh_token: str,
    now: datetime,
    scopes: Sequence[str] = (),
) -> TokenSet:
    """Trade a refresh token for new tokens; the provider may rotate the refresh token. The
    credential's granted `scopes` are named where the provider wants them."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if app.scope_on_refresh is not None and scopes:
        form["scope"] = " ".join(dict.fromkeys((*scopes, *app.scope_on_refresh)))
    granted = await _token_request(http, app, form, now, secret=refresh_token)
    return granted.tokens


async def exchange_code(
    http: httpx.AsyncClient,
    app: OAuthApp,
    code: str,
    *,
    redirect_uri: str,
    verifier: str | None,
    now: datetime,
) -> Granted:
    """Trade an authorization code (and its PKCE verifier) for tokens.

    Raises:
        CredentialRevoked: the provider refused the code (used, expired, or not its own).
    """
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await _token_request(http, app, form, now, secret=code)


async def _token_request(
    http: httpx.AsyncClient, app: OAuthApp, form: dict[str, str], now: datetime, *, secret: str
) -> Granted:
    client: httpx.BasicAuth | None = None
    if app.client_auth == "basic" and app.client_id is not None:
        client = httpx.BasicAuth(app.client_id, app.client_secret or "")
    else:
        if app.client_id is not None:
            form["client_id"] = app.client_id
        if app.client_secret is not None:
            form["client_secret"] = app.client_secret
    as_json = app.body_format == "json"
    async with map_transport_errors():
        response = await http.post(
            app.token_url,
            data=None if as_json else form,
            json=form if as_json else None,
            headers={"Accept": "application/json"},
            timeout=30.0,
            auth=client if client is not None else httpx.USE_CLIENT_DEFAULT,
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
    if not error and response.status_code >= 400:
        # Notion answers in its API's own envelope: `{"object": "error", "code", "message"}`.
        error = body.get("code")
    if response.status_code >= 400 or error:
        if error in ("invalid_grant", "unauthorized_client", "invalid_client"):
            detail = _scrubbed(
                body.get("error_description") or body.get("message") or error, secret, app
            )
            raise CredentialRevoked(
                f"Credentials are no longer valid ({detail}). The user must reconnect the account.",
                status_code=response.status_code,
            )
        raise UpstreamResponseError(
            f"token endpoint answered {response.status_code}: "
            f"{_scrubbed(error or 'no error code', secret, app)}",
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
    tokens = TokenSet(
        access_token=access,
        refresh_token=rotated if isinstance(rotated, str) and rotated else None,
        expires_at=expires_at,
    )
    return Granted(tokens, body)


_REDACTED = "[redacted]"
_MAX_DETAIL = 300


def _scrubbed(text: object, secret: str, app: OAuthApp) -> str:
    """The provider's words without the secrets we sent it, raw or URL-encoded.

    The message becomes a sync's reason, its event log and its `sync_errored` webhook, and is
    logged; some providers repeat the request's refresh token or client secret in their error.
    """
    text = str(text)
    for value in (secret, app.client_secret):
        if not value:
            continue
        for form in {value, quote(value, safe=""), quote(value), quote_plus(value)}:
            text = text.replace(form, _REDACTED)
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + "..."
    return text
