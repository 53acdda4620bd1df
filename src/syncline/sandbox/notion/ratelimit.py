"""Notion's request-rate limit, per integration: "an average of three requests per second. Some
bursts beyond the average rate are allowed" (developers.notion.com/reference/request-limits);
a request beyond it is answered 429 `rate_limited` with `Retry-After` "set as an integer number
of seconds (in decimal)".

Modelled as a token bucket per bot: `burst` requests may go at once, then `rate` per second.
GUESS: the real burst allowance is not published; the newest version of the page describes a
per-connection budget per 60-second window instead, so `RateLimit.per_window` builds that shape
(the whole budget at once, refilled over the window).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimit", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`rate` requests per second on average, `burst` at once."""

    rate: float = 3.0
    burst: float = 3.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")

    @classmethod
    def per_window(cls, requests: int, window: float = 60.0) -> RateLimit:
        """A budget of `requests` per `window` seconds, spendable in one burst."""
        return cls(rate=requests / window, burst=float(requests))


class RateLimiter:
    """Buckets by caller; `clock` is monotonic seconds (tests may pass their own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limit: RateLimit | None = None
        self.refused: Counter[str] = Counter()
        """429s answered so far, by caller."""
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, at)
        self._lock = threading.Lock()

    def configure(self, limit: RateLimit | None) -> None:
        """Enforce `limit` from now on (None: no limit); every bucket starts full."""
        with self._lock:
            self.limit = limit
            self._buckets.clear()

    def take(self, caller: str) -> int | None:
        """Spend one request of `caller`'s budget: None when allowed, else the whole seconds
        to wait (at least 1) for the `Retry-After` header."""
        with self._lock:
            limit = self.limit
            if limit is None:
                return None
            now = self.clock()
            tokens, at = self._buckets.get(caller, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - at) * limit.rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return None
            self._buckets[caller] = (tokens, now)
            self.refused[caller] += 1
            return max(1, math.ceil((1.0 - tokens) / limit.rate))
