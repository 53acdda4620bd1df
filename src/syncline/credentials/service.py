"""Credentials: import and revoke, and hand out fresh access tokens to connectors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import httpx
import structlog

from syncline.credentials.oauth import OAuthApp, refresh_tokens
from syncline.crypto import SecretBox
from syncline.domain.credentials import Credential, CredentialStatus
from syncline.errors import CredentialRevoked, NotFound
from syncline.store.store import NewCredential, Store

log = structlog.get_logger("syncline.credentials")

REFRESH_MARGIN = timedelta(seconds=60)
"""Refresh this long before the access token expires, so no request races the expiry."""

REFRESH_CLAIM = timedelta(seconds=30)

TOKEN_CACHE = timedelta(seconds=30)
"""How long a decrypted access token is reused without reading the database again."""


class CredentialService:
    def __init__(
        self,
        store: Store,
        box: SecretBox,
        http: httpx.AsyncClient,
        apps: Mapping[str, OAuthApp],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._box = box
        self._http = http
        self._apps = apps
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._cache: dict[str, tuple[str, datetime]] = {}

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
        )
        return await self._store.add_credential(new, self._clock())

    async def delete(self, project_id: str, user_id: str, cid: str) -> None:
        """Delete the credential; syncs that used it turn ERRORED with a reason."""
        if await self._store.get_credential(project_id, user_id, cid) is None:
            raise NotFound(f"Credential {cid} not found.", code="CREDENTIAL_NOT_FOUND")
        reason = f"Credential ID {cid} is no longer valid or has been deleted."
        self._cache.pop(cid, None)
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
                self._http, app, self._box.decrypt(stored.refresh_token_enc), self._clock()
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


class CredentialTokens:
    """The `TokenSource` of one credential, for `OAuthBearer`."""

    def __init__(self, service: CredentialService, cid: str) -> None:
        self._service = service
        self._cid = cid

    async def access_token(self) -> str:
        return await self._service.access_token(self._cid)

    async def refreshed_token(self, rejected: str) -> str:
        return await self._service.refreshed_token(self._cid, rejected)
