"""Retry delays grow, are capped, and stay inside their jitter band."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from syncline.domain.retry import SYNC_RETRY, WEBHOOK_RETRY, RetryPolicy

policy = RetryPolicy(base=timedelta(seconds=2), factor=2.0, cap=timedelta(seconds=60))


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0, max_value=0.999))
def test_delay_is_non_decreasing_and_capped(attempt, jitter):
    """For a fixed jitter draw, the delay never shrinks with attempts and never passes the cap."""
    now = policy.delay(attempt, jitter=jitter)
    later = policy.delay(attempt + 1, jitter=jitter)

    assert now <= later <= timedelta(seconds=60)


def test_jitter_band():
    """A delay lies between half and all of the nominal exponential wait."""
    assert timedelta(seconds=4) == policy.delay(2, jitter=0.0) * 2
    assert timedelta(seconds=4) == policy.delay(2, jitter=1.0)


def test_first_webhook_retry_within_ten_seconds():
    """The contract's first webhook retry happens within 10 s."""
    assert WEBHOOK_RETRY.delay(1, jitter=0.999) <= timedelta(seconds=10)


def test_webhook_retries_wait_at_most_an_hour():
    """However long an endpoint is down, the next attempt is at most an hour away."""
    longest = max(WEBHOOK_RETRY.delay(n, jitter=0.999) for n in range(1, 200))

    assert longest <= timedelta(hours=1)


def test_sync_retry_starts_small():
    """A failed sync run is retried within seconds at first."""
    assert SYNC_RETRY.delay(1, jitter=0.999) <= timedelta(seconds=5)
