"""The HTTP client every connector shares: httpx over several small connection pools.

httpcore's pool walks all its connections twice per request (when a request arrives and when
it leaves), asking each whether it has expired and counting the idle ones inside that walk, so
a request's cost grows with the pool. With a worker's 32 runs talking to one provider the walk
cost more than the request itself. `ShardedTransport` spreads requests round-robin over eight
pools, each with an eighth of the limits: each walk covers a few connections. On this machine
that cut the event loop's CPU per request about 3.8 times at 32 concurrent requests
(`bench.http_client`).
"""

from __future__ import annotations

import itertools

import httpx

__all__ = ["SHARDS", "ShardedTransport", "shared_client"]

SHARDS = 8
"""Pools per client: a worker's 32 concurrent runs meet about four connections per walk."""


class ShardedTransport(httpx.AsyncBaseTransport):
    """Requests spread round-robin over `shards` httpx transports, each with its share of the
    limits (rounded up)."""

    def __init__(self, limits: httpx.Limits, shards: int = SHARDS) -> None:
        def share(value: int | None) -> int | None:
            return None if value is None else max(1, -(-value // shards))

        part = httpx.Limits(
            max_connections=share(limits.max_connections),
            max_keepalive_connections=share(limits.max_keepalive_connections),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._shards = [httpx.AsyncHTTPTransport(limits=part) for _ in range(shards)]
        self._next = itertools.cycle(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def shared_client(
    *,
    timeout: httpx.Timeout,
    limits: httpx.Limits,
    follow_redirects: bool = True,
    shards: int = SHARDS,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` on `ShardedTransport`."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=follow_redirects,
        transport=ShardedTransport(limits, shards),
    )
