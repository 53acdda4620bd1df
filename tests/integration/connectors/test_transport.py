"""The shared HTTP client's transport (`syncline.connectors.transport`) against a real server
on 127.0.0.1: requests spread over its pools, each pool keeps its connections alive, the limits
are shared out, and closing the client closes every pool."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from syncline.connectors.transport import ShardedTransport, shared_client
from syncline.sandbox import BackgroundServer


def _app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        await asyncio.sleep(0.01)  # long enough for concurrent requests to overlap
        return JSONResponse({"path": request.url.path, "peer": request.client.port})  # type: ignore[union-attr]

    return Starlette(routes=[Route("/{path:path}", echo)])


async def test_requests_spread_over_every_pool_and_reuse_their_connections():
    """Forty concurrent requests all succeed through four pools; each pool opened connections,
    and a second wave reuses them (no new client ports), as one kept-alive pool would."""
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=40)
    with BackgroundServer(_app()) as server:
        transport = ShardedTransport(limits, shards=4)
        async with httpx.AsyncClient(transport=transport) as client:

            async def wave() -> set[int]:
                answers = await asyncio.gather(
                    *(client.get(f"{server.url}/x/{i}") for i in range(40))
                )
                assert all(200 == a.status_code for a in answers)
                assert [f"/x/{i}" for i in range(40)] == [a.json()["path"] for a in answers]
                return {a.json()["peer"] for a in answers}

            first = await wave()
            second = await wave()
            pools = [shard._pool.connections for shard in transport._shards]
    assert all(pool for pool in pools)
    assert second <= first
    assert 40 >= len(first) >= 4


def test_limits_are_shared_out_rounded_up():
    """Each of the pools gets its share of the connection and keep-alive limits, at least one."""
    transport = ShardedTransport(httpx.Limits(max_connections=10, max_keepalive_connections=3), 4)
    pools = [shard._pool for shard in transport._shards]
    assert [3, 3, 3, 3] == [p._max_connections for p in pools]
    assert [1, 1, 1, 1] == [p._max_keepalive_connections for p in pools]


async def test_closing_the_client_closes_every_pool():
    """After `aclose`, no pool holds a connection."""
    with BackgroundServer(_app()) as server:
        client = shared_client(timeout=httpx.Timeout(5.0), limits=httpx.Limits(), shards=3)
        await asyncio.gather(*(client.get(f"{server.url}/y") for _ in range(9)))
        transport = client._transport
        assert isinstance(transport, ShardedTransport)
        await client.aclose()
    assert all(not shard._pool.connections for shard in transport._shards)
