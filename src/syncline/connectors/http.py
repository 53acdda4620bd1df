"""Shared HTTP mechanics for connectors: OAuth bearer auth, transport errors, Retry-After."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx

from syncline.errors import UpstreamUnavailable


class TokenSource(Protocol):
    """Hands out a credential's access token, refreshing it when needed (single-flight)."""

    async def access_token(self) -> str: ...

    async def refreshed_token(self, rejected: str) -> str:
        """A token newer than `rejected`: refresh unless another caller already did; `rejected`
        itself when there is nothing newer to try."""
        ...


class OAuthBearer(httpx.Auth):
    """Sends the access token; on a 401 refreshes once and retries the request once."""

    def __init__(self, tokens: TokenSource, *, user_agent: str | None = None) -> None:
        self._tokens = tokens
        self._user_agent = user_agent

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuthBearer works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        if self._user_agent:
            request.headers["User-Agent"] = self._user_agent
        response = yield request
        if response.status_code == 401:
            await response.aread()
            fresh = await self._tokens.refreshed_token(token)
            if fresh == token:
                return  # nothing newer to try: the 401 stands, with the provider's reason
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - (now or datetime.now(UTC)))


@asynccontextmanager
async def map_transport_errors() -> AsyncIterator[None]:
    """Turn httpx's transport failures (timeouts, refused or dropped connections) into ours."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamUnavailable(f"upstream timed out: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"upstream connection failed: {exc!r}") from exc
