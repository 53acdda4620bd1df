"""Pacing requests to a provider's documented rate, before it has to refuse them.

A provider that documents a request rate per credential (Notion: "an average of three requests
per second" per connection, "some bursts beyond the average rate are allowed") declares it as
`ConnectorSpec.pace`; the credential service then sends every request of one credential in this
process through one `TokenBucket`, so concurrent syncs of one account share its budget. A 429 is
still translated and waited out by the engine: pacing only makes it rare.

The bucket reserves a place at once and then waits for it, so waiters leave in the order they
came, with no lock (the event loop runs one coroutine at a time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

__all__ = ["Pace", "PacedAuth", "Pacers", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class Pace:
    """`rate` requests a second on average, `burst` of them at once after a quiet spell."""

    rate: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"a pace needs a positive rate, not {self.rate!r}")
        if not self.burst >= 1:
            raise ValueError(f"a pace needs a burst of at least 1, not {self.burst!r}")


class TokenBucket:
    """`pace.burst` tokens, refilled at `pace.rate` a second; each request takes one.

    `clock` is monotonic seconds and `sleep` waits: tests pass a fake pair.
    """

    def __init__(
        self,
        pace: Pace,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.pace = pace
        self._clock = clock
        self._sleep = sleep
        self._tokens = pace.burst
        self._at = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.pace.burst, self._tokens + (now - self._at) * self.pace.rate)
        self._at = now
        return self._tokens

    def reserve(self) -> float:
        """Take a token, on credit if none is left: the seconds to wait before using it."""
        self._tokens = self._refill() - 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.pace.rate

    async def acquire(self) -> None:
        """Wait until one more request fits the pace."""
        wait = self.reserve()
        if wait <= 0:
            return
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            self._tokens += 1.0  # the request will not be sent: give its place back
            raise

    def idle(self) -> bool:
        """Full again: forgetting this bucket loses nothing."""
        return self._refill() >= self.pace.burst


class Pacers:
    """The buckets of one process, by key (an integration and a credential id)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        keep: int = 10_000,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._keep = keep
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str, pace: Pace) -> TokenBucket:
        """The bucket every request under `key` shares (a new one if `pace` changed)."""
        found = self._buckets.get(key)
        if found is not None and found.pace == pace:
            return found
        if len(self._buckets) >= self._keep:
            # Full buckets hold no debt: dropping them changes no one's pace.
            self._buckets = {k: b for k, b in self._buckets.items() if not b.idle()}
        made = TokenBucket(pace, clock=self._clock, sleep=self._sleep)
        self._buckets[key] = made
        return made

    def __len__(self) -> int:
        return len(self._buckets)


class PacedAuth(httpx.Auth):
    """Another `httpx.Auth` (the credential's bearer token) whose every request, a retry after
    a refresh included, first waits for a place in `bucket`."""

    def __init__(self, inner: httpx.Auth, bucket: TokenBucket) -> None:
        self._inner = inner
        self._bucket = bucket
        self.requires_request_body = inner.requires_request_body
        self.requires_response_body = inner.requires_response_body

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("PacedAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self._inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
        except StopAsyncIteration:
            return
        while True:
            await self._bucket.acquire()
            response = yield outgoing
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return
