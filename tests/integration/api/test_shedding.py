"""Load shedding: past SYNCLINE_MAX_INFLIGHT_REQUESTS the API answers 429 with Retry-After at
once, probes keep answering, and an overloaded database answers 503 with Retry-After, never 500.

Requests are held in flight deterministically by a request body that the client sends only when
the test opens a gate: the app has accepted the request and waits for its body, as it would for a
slow client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from syncline.api.shedding import LoadShedding
from syncline.errors import StoreError
from syncline.store.database import translate_errors
from tests.support.harness import Harness, harness

LIMIT = 4
ENABLE = b'{"integration": "googledrive", "pipeline": "files"}'


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path, max_inflight_requests=LIMIT) as running:
        await running.connect()
        await running.enable()
        yield running


def _gated(gate: asyncio.Event) -> AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        await gate.wait()
        yield ENABLE

    return body()


def _enable(h: Harness, gate: asyncio.Event) -> asyncio.Task[httpx.Response]:
    """POST /api/syncs (idempotent: 200) whose body arrives only when `gate` opens."""
    headers = {**h.auth(), "Content-Type": "application/json"}
    return asyncio.create_task(
        h.api.post("/api/syncs", headers=headers, content=_gated(gate)), name="enable"
    )


async def _first_done(
    tasks: Iterable[asyncio.Task[httpx.Response]], count: int
) -> list[httpx.Response]:
    """The first `count` responses to arrive (the rest are still in flight)."""
    done: list[httpx.Response] = []
    for finished in asyncio.as_completed(list(tasks), timeout=60):
        done.append(await finished)
        if len(done) == count:
            return done
    raise AssertionError("fewer responses than expected")


def _is_error_body(body: object) -> bool:
    """The app's error shape: `message` and `code` strings, `field` optionally."""
    return (
        isinstance(body, dict)
        and {"message", "code"} <= set(body) <= {"message", "code", "field"}
        and all(isinstance(body[k], str) for k in ("message", "code"))
    )


def _is_shed(response: httpx.Response) -> bool:
    return (
        _is_error_body(response.json())
        and 429 == response.status_code
        and "TOO_MANY_REQUESTS" == response.json()["code"]
        and int(response.headers["Retry-After"]) >= 1
    )


async def test_requests_past_the_limit_are_shed_with_retry_after(h):
    """With LIMIT requests in flight, k more are answered 429 with Retry-After and a valid
    error body at once; the LIMIT held ones then complete with 200, and none is a 500."""
    extra = 3
    gate = asyncio.Event()
    tasks = [_enable(h, gate) for _ in range(LIMIT + extra)]

    shed = await _first_done(tasks, extra)
    gate.set()
    served = [r for r in await asyncio.gather(*tasks) if r not in shed]

    assert [True] * extra == [_is_shed(r) for r in shed]
    assert [200] * LIMIT == [r.status_code for r in served]


async def test_probes_answer_while_the_limit_is_reached(h):
    """/healthz and /readyz answer 200 while every slot is taken; an API call is shed."""
    gate = asyncio.Event()
    held = [_enable(h, gate) for _ in range(LIMIT)]
    while _inflight(h) < LIMIT:
        await asyncio.sleep(0.01)

    health = await h.api.get("/healthz")
    ready = await h.api.get("/readyz")
    refused = await h.api.get("/api/syncs", headers=h.auth())
    gate.set()
    statuses = [r.status_code for r in await asyncio.gather(*held)]

    assert (200, 200) == (health.status_code, ready.status_code)
    assert _is_shed(refused)
    assert [200] * LIMIT == statuses


async def test_slots_come_back_after_errors_and_disconnects(h):
    """Requests that fail (401, 404) or whose client goes away mid-request give their slot back:
    afterwards LIMIT requests at once are all served."""
    for _ in range(LIMIT * 3):
        assert 401 == (await h.api.get("/api/syncs")).status_code
        assert 404 == (await h.api.get("/api/syncs/nope", headers=h.auth())).status_code
    never = asyncio.Event()
    abandoned = [_enable(h, never) for _ in range(LIMIT)]
    while _inflight(h) < LIMIT:
        await asyncio.sleep(0.01)
    for task in abandoned:
        task.cancel()
    await asyncio.gather(*abandoned, return_exceptions=True)

    opened = asyncio.Event()
    opened.set()
    statuses = [
        r.status_code for r in await asyncio.gather(*[_enable(h, opened) for _ in range(LIMIT)])
    ]

    assert 0 == _inflight(h)
    assert [200] * LIMIT == statuses


async def test_a_streamed_response_holds_its_slot_until_its_body_is_done():
    """A streaming response counts as in flight until its last chunk is sent, so a second
    request meanwhile is shed; once the stream ends the next request is served."""
    release = asyncio.Event()

    async def stream(_request: Request) -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            yield b'{"n": 1}\n'
            await release.wait()
            yield b'{"n": 2}\n'

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    app = LoadShedding(Starlette(routes=[Route("/stream", stream)]), limit=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        first = asyncio.create_task(client.get("/stream"))
        while app.inflight < 1:
            await asyncio.sleep(0.01)
        during = await client.get("/stream")
        release.set()
        streamed = await first
        after = await client.get("/stream")

    assert _is_shed(during)
    assert (200, b'{"n": 1}\n{"n": 2}\n') == (streamed.status_code, streamed.content)
    assert 200 == after.status_code


async def test_an_exhausted_pool_becomes_a_store_error(tmp_path):
    """Waiting in vain for a pooled connection (SQLAlchemy's pool TimeoutError) becomes a
    retryable StoreError that names no pool internals."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}",
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )

    async def second_connection() -> None:
        with translate_errors():
            async with engine.connect() as second:
                await second.execute(text("SELECT 1"))

    try:
        async with engine.connect():
            with pytest.raises(StoreError) as raised:
                await second_connection()
    finally:
        await engine.dispose()

    assert raised.value.retryable
    assert "QueuePool" not in str(raised.value)


async def test_a_failing_database_answers_503_with_retry_after(h):
    """A query the database cannot answer is a 503 STORE_ERROR with Retry-After, not a 500."""
    sync = (await h.api.get("/api/syncs", headers=h.auth())).json()["data"][0]
    async with h.runtime.db.write() as conn:
        await conn.execute(text("ALTER TABLE records RENAME TO records_gone"))

    response = await h.api.get(f"/api/syncs/{sync['id']}/records", headers=h.auth())

    assert _is_error_body(response.json())
    assert 503 == response.status_code
    assert "STORE_ERROR" == response.json()["code"]
    assert 1 <= int(response.headers["Retry-After"])


def _inflight(h: Harness) -> int:
    """The shedding middleware's count of requests in flight in the harness's app."""
    layer = h.runtime.app.middleware_stack
    while layer is not None and not isinstance(layer, LoadShedding):
        layer = getattr(layer, "app", None)
    return 0 if layer is None else layer.inflight
