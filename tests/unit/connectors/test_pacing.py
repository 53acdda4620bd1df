"""Pacing requests to a provider's rate (`connectors.pacing`), on a fake clock: a burst goes at
once, then requests are spaced at the rate, waiters keep their order, one credential's
requests share one bucket, and the auth wrapper paces every request it sends."""

from __future__ import annotations

import asyncio
from collections.abc import Generator

import httpx
import pytest

from syncline.connectors.notion import spec as notion
from syncline.connectors.pacing import Pace, PacedAuth, Pacers, TokenBucket
from syncline.connectors.registry import Registry
from syncline.errors import ConfigError
from syncline.wiring import paces


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _bucket(time: FakeTime, rate: float = 3.0, burst: float = 2.0) -> TokenBucket:
    return TokenBucket(Pace(rate, burst), clock=time.clock, sleep=time.sleep)


async def test_a_burst_goes_at_once_then_requests_are_spaced_at_the_rate():
    """With burst 2 at 3 a second, two requests go at once and each later one waits a third
    of a second."""
    time = FakeTime()
    bucket = _bucket(time)
    sent = []
    for _ in range(5):
        await bucket.acquire()
        sent.append(round(time.now - 1000.0, 6))

    assert [0.0, 0.0, 0.333333, 0.666667, 1.0] == sent


async def test_over_any_long_stretch_the_average_is_the_rate():
    """300 requests take (300 - burst) / rate seconds: 3 a second on average."""
    time = FakeTime()
    bucket = _bucket(time)
    for _ in range(300):
        await bucket.acquire()

    assert pytest.approx((300 - 2) / 3.0) == time.now - 1000.0


async def test_a_quiet_spell_refills_the_burst_and_no_more():
    """After a long pause the burst is available again, but never more than the burst."""
    time = FakeTime()
    bucket = _bucket(time)
    for _ in range(4):
        await bucket.acquire()
    time.now += 3600.0
    waits = [bucket.reserve() for _ in range(3)]

    assert [0.0, 0.0] == waits[:2]
    assert pytest.approx(1 / 3.0) == waits[2]
    assert not bucket.idle()


async def test_concurrent_waiters_leave_in_arrival_order():
    """Waiters reserve their place on arrival, so they go in the order they came."""
    time = FakeTime()
    bucket = _bucket(time, burst=1.0)
    order: list[int] = []

    async def one(n: int) -> None:
        await bucket.acquire()
        order.append(n)

    await asyncio.gather(*(one(n) for n in range(5)))

    assert [0, 1, 2, 3, 4] == order


async def test_a_cancelled_waiter_gives_its_place_back():
    """A request cancelled while waiting does not cost the next one its place."""
    time = FakeTime()

    async def cancelled(_: float) -> None:
        raise asyncio.CancelledError

    bucket = TokenBucket(Pace(3.0, 1.0), clock=time.clock, sleep=cancelled)
    await bucket.acquire()
    with pytest.raises(asyncio.CancelledError):
        await bucket.acquire()

    assert pytest.approx(1 / 3.0) == bucket.reserve()


def test_one_key_shares_one_bucket_and_idle_buckets_are_dropped_when_full():
    """Every caller of one key gets the same bucket (a changed pace, a new one); past `keep`
    keys, buckets that are full again are forgotten, busy ones kept."""
    time = FakeTime()
    pacers = Pacers(clock=time.clock, sleep=time.sleep, keep=2)
    pace = Pace(3.0, 2.0)
    first = pacers.bucket("notion:c1", pace)
    busy = pacers.bucket("notion:c2", pace)
    busy.reserve()
    busy.reserve()
    busy.reserve()  # in debt

    assert first is pacers.bucket("notion:c1", pace)
    assert first is not pacers.bucket("notion:c1", Pace(1.0))
    pacers.bucket("notion:c3", pace)
    assert busy is pacers.bucket("notion:c2", pace)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (3.0, 0.5)])
def test_a_pace_needs_a_positive_rate_and_a_burst_of_one(rate, burst):
    """A rate of zero or less, or a burst below one request, is refused."""
    with pytest.raises(ValueError, match="pace needs"):
        Pace(rate, burst)


class _Retrying(httpx.Auth):
    """Sends each request twice (as a bearer token refreshed after a 401 would)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield request
        yield request


async def test_the_auth_wrapper_paces_every_request_it_sends_retries_included():
    """Each request the inner auth sends, its retry too, waits for a place in the bucket."""
    time = FakeTime()
    bucket = _bucket(time, burst=1.0)
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(round(time.now - 1000.0, 6))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        auth = PacedAuth(_Retrying(), bucket)
        await http.get("https://api.example.com/a", auth=auth)
        await http.get("https://api.example.com/b", auth=auth)

    assert [0.0, 0.333333, 0.666667, 1.0] == calls


def test_the_operator_sets_an_integrations_pace_or_gets_the_providers():
    """`SYNCLINE_<X>_REQUESTS_PER_SECOND` and `_REQUEST_BURST` override the spec's pace;
    without them it is the spec's (Notion: 3 a second); a value that is no pace is refused,
    naming the variables."""
    registry = Registry([notion])
    env = {"SYNCLINE_NOTION_REQUESTS_PER_SECOND": "1.5", "SYNCLINE_NOTION_REQUEST_BURST": "4"}

    assert {"notion": Pace(1.5, 4.0)} == paces(registry, env)
    assert {"notion": Pace(3.0, 2.0)} == paces(registry, {})
    with pytest.raises(ConfigError, match="SYNCLINE_NOTION_REQUESTS_PER_SECOND"):
        paces(registry, {"SYNCLINE_NOTION_REQUESTS_PER_SECOND": "fast"})
