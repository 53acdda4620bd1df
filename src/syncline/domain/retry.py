"""Retry policies as data, and the delays they give."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped: attempt 1 waits about `base`."""

    base: timedelta
    factor: float
    cap: timedelta

    def delay(self, attempt: int, *, jitter: float | None = None) -> timedelta:
        """The wait before retry number `attempt` (1-based); `jitter` in [0, 1) fixes the draw."""
        attempt = max(1, attempt)
        ceiling = min(
            self.cap.total_seconds(), self.base.total_seconds() * self.factor ** (attempt - 1)
        )
        draw = random.random() if jitter is None else jitter  # noqa: S311 - jitter, not secrecy
        # Half fixed, half random: never sooner than half the nominal wait, never later than it.
        return timedelta(seconds=ceiling * (0.5 + 0.5 * draw))


INLINE_RETRY = RetryPolicy(base=timedelta(seconds=1), factor=2.0, cap=timedelta(seconds=8))
"""Between attempts inside one run, before the run gives up and reschedules."""

SYNC_RETRY = RetryPolicy(base=timedelta(seconds=5), factor=2.0, cap=timedelta(minutes=30))
"""Between failed sync runs (transient upstream errors)."""

WEBHOOK_RETRY = RetryPolicy(base=timedelta(seconds=8), factor=2.0, cap=timedelta(hours=1))
"""Between webhook delivery attempts: first retry within 10 s, then up to hourly."""
