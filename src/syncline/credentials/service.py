"""Credentials: import and revoke, and hand out fresh access tokens to connectors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
import structlog

from syncline.connectors.base import ConnectorContext, ConnectorSpec, Identity
from syncline.connectors.http import OAuthBearer, TokenSource
from syncline.connectors.instances import check_provider_data, instance_origin
from syncline.connectors.pacing import Pace, PacedAuth, Pacers
from syncline.connectors.registry import Registry
from syncline.credentials.oauth import OAuthApp, refresh_tokens
from syncline.crypto import SecretBox
from syncline.domain.credentials import Credential, CredentialStatus, TokenSet
from syncline.errors import (
    CredentialInvalid,
    CredentialRevoked,
    NotFound,
    UpstreamAuthError,
    UpstreamError,
    UpstreamPermissionDenied,
)
from syncline.store.store import NewCredential, Store

log = structlog.get_logger("syncline.credentials")

REFRESH_MARGIN = timedelta(seconds=60)
"""Refresh this long before the access token expires, so no request races the expiry."""

REFRESH_CLAIM = timedelta(seconds=30)

TOKEN_CACHE = timedelta(seconds=30)
"""How long a decrypted access token is reused without reading the database again."""

_PROVIDER_DATA_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class Imported:
    """A credential as imported, and what the provider check could not confirm."""

    credential: Credential
    warnings: list[str]


class CredentialService:
    def __init__(
        self,
        store: Store,
        box: SecretBox,
        http: httpx.AsyncClient,
        apps: Mapping[str, OAuthApp],
        clock: Callable[[], datetime],
        *,
        registry: Registry | None = None,
        api_urls: Mapping[str, str] | None = None,
        extra_urls: Mapping[str, Mapping[str, str]] | None = None,
        allow_private_upstreams: bool = False,
        paces: Mapping[str, Pace] | None = None,
        pacers: Pacers | None = None,
    ) -> None:
        self._store = store
        self._box = box
        self._http = http
        self._apps = apps
        self._clock = clock
        self._registry = registry
        self._api_urls = api_urls or {}
        self._extra_urls = extra_urls or {}
        self._allow_private_upstreams = allow_private_upstreams
        self._paces = dict(paces or {})
        """Request rates by integration (`ConnectorSpec.pace`, as configured)."""
        self._pacers = pacers or Pacers()
        """One bucket per credential of a paced integration, shared by every sync of it."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._cache: dict[str, tuple[str, datetime]] = {}
        self._provider_data: dict[str, dict[str, str]] = {}
        """Decrypted `providerData` by credential: written once with the credential, never
        changed, so kept (a run reads it on every build of its connector)."""

    async def import_tokens(
        self,
        project_id: str,
        user_id: str,
        integration: str,
        given: TokenSet,
        *,
        scopes: list[str],
        account_email: str | None,
        provider_data: Mapping[str, object] | None = None,
    ) -> Imported:
        """Check the tokens with the provider's identity endpoint (refreshing first when they
        have expired), then store them, as refreshed, with the account's email when none was
        given.

        Raises:
            CredentialInvalid: the provider refused the tokens; the message says why.
            InvalidInput: `provider_data` is malformed, or names an instance Syncline may not
                call (`INSTANCE_URL_REFUSED`).
        """
        spec = None if self._registry is None else self._registry.get(integration)
        data = (
            check_provider_data(
                spec, provider_data or {}, allow_private=self._allow_private_upstreams
            )
            if spec is not None
            else {}
        )
        tokens = _ImportedTokens(
            given, self._http, self._apps.get(integration), self._clock, tuple(scopes)
        )
        warnings: list[str] = []
        try:
            identity = await self._identify(integration, tokens, data)
        except (UpstreamAuthError, UpstreamPermissionDenied) as exc:
            keys = spec is not None and spec.auth == "keys"
            raise CredentialInvalid(
                f"The {integration} account refused these {'keys' if keys else 'tokens'}: {exc}",
                field="providerData" if keys else "accessToken",
            ) from exc
        except UpstreamError as exc:
            # The provider is down or slow: keep the tokens, the first sync will tell.
            warnings.append(f"The tokens could not be checked with {integration}: {exc}")
            identity = None
        if identity is not None and account_email is None:
            account_email = identity.email
        final = tokens.current
        credential = await self.add(
            project_id,
            user_id,
            integration,
            access_token=final.access_token,
            refresh_token=final.refresh_token,
            expires_at=final.expires_at,
            scopes=scopes,
            account_email=account_email,
            provider_data=data,
        )
        return Imported(credential, warnings)

    async def _identify(
        self, integration: str, tokens: TokenSource, data: Mapping[str, str]
    ) -> Identity | None:
        spec = None if self._registry is None else self._registry.get(integration)
        if spec is None or spec.identify is None:
            return None
        return await spec.identify(self.context(spec, OAuthBearer(tokens), data))

    def context(
        self,
        spec: ConnectorSpec,
        auth: httpx.Auth,
        data: Mapping[str, str],
        *,
        credential_id: str | None = None,
    ) -> ConnectorContext:
        """What a connector of `spec` may touch for a credential with `data`: its own instance
        when it has one, else the integration's configured origin. Requests of a stored
        credential (`credential_id`) of a paced integration keep to its pace."""
        pace = self._paces.get(spec.integration, spec.pace)
        if pace is not None and credential_id is not None:
            auth = PacedAuth(auth, self._pacers.bucket(f"{spec.integration}:{credential_id}", pace))
        api_url = instance_origin(spec, data) or self._api_urls.get(
            spec.integration, spec.default_api_url
        )
        urls = self._extra_urls.get(spec.integration, spec.extra_urls)
        return ConnectorContext(
            http=self._http, auth=auth, api_url=api_url, provider_data=data, urls=urls
        )

    async def provider_data(self, cid: str) -> dict[str, str]:
        """The credential's `providerData`, decrypted (empty when it has none)."""
        known = self._provider_data.get(cid)
        if known is not None:
            return known
        stored = await self._store.tokens(cid)
        if stored is None:
            return {}
        data: dict[str, str] = {}
        if stored.provider_data_enc is not None:
            loaded = orjson.loads(self._box.decrypt(stored.provider_data_enc))
            data = {str(k): str(v) for k, v in loaded.items()}
        if len(self._provider_data) >= _PROVIDER_DATA_KEPT:
            self._provider_data.clear()
        self._provider_data[cid] = data
        return data

    async def add(
        self,
        project_id: str,
        user_id: str,
        integration: str,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        scopes: list[str],
        account_email: str | None,
        provider_data: Mapping[str, str] | None = None,
    ) -> Credential:
        new = NewCredential(
            project_id=project_id,
            user_id=user_id,
            integration=integration,
            access_token_enc=self._box.encrypt(access_token),
            refresh_token_enc=None if refresh_token is None else self._box.encrypt(refresh_token),
            expires_at=expires_at,
            scopes=scopes,
            account_email=account_email,
            provider_data_enc=(
                self._box.encrypt(orjson.dumps(dict(provider_data)).decode())
                if provider_data
                else None
            ),
        )
        return await self._store.add_credential(new, self._clock())

    async def delete(self, project_id: str, user_id: str, cid: str) -> None:
        """Delete the credential; syncs that used it turn ERRORED with a reason."""
        if await self._store.get_credential(project_id, user_id, cid) is None:
            raise NotFound(f"Credential {cid} not found.", code="CREDENTIAL_NOT_FOUND")
        reason = f"Credential ID {cid} is no longer valid or has been deleted."
        self._cache.pop(cid, None)
        self._provider_data.pop(cid, None)
        await self._store.invalidate_credential(cid, reason, self._clock(), delete_row=True)

    async def revoke(self, cid: str, reason: str) -> None:
        """Mark a credential dead (the provider refused it) and error its syncs."""
        self._cache.pop(cid, None)
        await self._store.invalidate_credential(cid, reason, self._clock(), delete_row=False)

    def tokens_for(self, cid: str) -> CredentialTokens:
        return CredentialTokens(self, cid)

    # -- used by CredentialTokens -------------------------------------------------------------

    async def _current(self, cid: str) -> tuple[str, datetime | None, bool]:
        stored = await self._store.tokens(cid)
        if stored is None or stored.status is not CredentialStatus.ACTIVE:
            raise CredentialRevoked(f"Credential ID {cid} is no longer valid or has been deleted.")
        return (
            self._box.decrypt(stored.access_token_enc),
            stored.expires_at,
            stored.refresh_token_enc is not None,
        )

    async def access_token(self, cid: str) -> str:
        cached = self._cache.get(cid)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        token, expires_at, refreshable = await self._current(cid)
        if refreshable and expires_at is not None and expires_at - REFRESH_MARGIN <= now:
            return await self.refreshed_token(cid, token)
        self._remember(cid, token, expires_at)
        return token

    def _remember(self, cid: str, token: str, expires_at: datetime | None) -> None:
        # Reused for a short while only: a revocation or another worker's refresh shows soon.
        until = self._clock() + TOKEN_CACHE
        if expires_at is not None:
            until = min(until, expires_at - REFRESH_MARGIN)
        self._cache[cid] = (token, until)

    async def refreshed_token(self, cid: str, rejected: str) -> str:
        """A token other than `rejected`, refreshing at most once across tasks and processes."""
        self._cache.pop(cid, None)
        lock = self._locks.setdefault(cid, asyncio.Lock())
        async with lock:
            deadline = self._clock() + REFRESH_CLAIM * 2
            while True:
                token, expires_at, refreshable = await self._current(cid)
                fresh = expires_at is None or expires_at - REFRESH_MARGIN > self._clock()
                if token != rejected and fresh:
                    return token  # someone else refreshed while we waited
                if not refreshable:
                    raise CredentialRevoked(
                        "The access token was rejected and the credential has no refresh token."
                        " The user must reconnect the account."
                    )
                now = self._clock()
                if await self._store.claim_refresh(cid, now, now + REFRESH_CLAIM):
                    return await self._refresh(cid)
                if self._clock() > deadline:
                    raise CredentialRevoked(f"Credential {cid} refresh is stuck in another worker.")
                await asyncio.sleep(0.2)  # another process is refreshing: wait for its result

    async def _refresh(self, cid: str) -> str:
        stored = await self._store.tokens(cid)
        assert stored is not None
        assert stored.refresh_token_enc is not None
        app = self._apps.get(stored.integration)
        if app is None:
            await self._store.release_refresh(cid)
            raise CredentialRevoked(f"No OAuth client is configured for {stored.integration}.")
        try:
            tokens = await refresh_tokens(
                self._http,
                app,
                self._box.decrypt(stored.refresh_token_enc),
                self._clock(),
                stored.scopes,
            )
        except BaseException:
            await asyncio.shield(self._store.release_refresh(cid))
            raise
        # The rotated refresh token is stored in the same write that drops the old one.
        await self._store.save_tokens(
            cid,
            access_token_enc=self._box.encrypt(tokens.access_token),
            refresh_token_enc=(
                None if tokens.refresh_token is None else self._box.encrypt(tokens.refresh_token)
            ),
            expires_at=tokens.expires_at,
            now=self._clock(),
        )
        log.info(
            "credential.refreshed", credential_id=cid, rotated=tokens.refresh_token is not None
        )
        return tokens.access_token


class _ImportedTokens:
    """The `TokenSource` of tokens not stored yet: refreshed in memory, at most once."""

    def __init__(
        self,
        tokens: TokenSet,
        http: httpx.AsyncClient,
        app: OAuthApp | None,
        clock: Callable[[], datetime],
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.current = tokens
        self._http = http
        self._app = app
        self._clock = clock
        self._scopes = scopes
        self._refreshed = False

    async def access_token(self) -> str:
        expires_at = self.current.expires_at
        if expires_at is not None and expires_at - REFRESH_MARGIN <= self._clock():
            return await self.refreshed_token(self.current.access_token)
        return self.current.access_token

    async def refreshed_token(self, rejected: str) -> str:
        refresh = self.current.refresh_token
        if self._refreshed or refresh is None or self._app is None:
            return self.current.access_token  # nothing newer: the provider's 401 stands
        self._refreshed = True
        fresh = await refresh_tokens(self._http, self._app, refresh, self._clock(), self._scopes)
        # A provider that does not rotate refresh tokens sends none back: keep the one given.
        self.current = TokenSet(
            fresh.access_token, fresh.refresh_token or refresh, fresh.expires_at
        )
        return fresh.access_token


class CredentialTokens:
    """The `TokenSource` of one credential, for `OAuthBearer`."""

    def __init__(self, service: CredentialService, cid: str) -> None:
        self._service = service
        self._cid = cid

    async def access_token(self) -> str:
        return await self._service.access_token(self._cid)

    async def refreshed_token(self, rejected: str) -> str:
        return await self._service.refreshed_token(self._cid, rejected)
