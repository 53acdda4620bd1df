"""Read-ahead keeps order, surfaces errors unchanged, and never reads two items at once."""

import asyncio
import contextlib

import pytest

from syncline.engine.prefetch import prefetch


async def _numbers(n, *, fail_at=None, log=None):
    for i in range(n):
        if log is not None:
            log.append(("start", i))
        await asyncio.sleep(0)
        if i == fail_at:
            raise ValueError(f"boom at {i}")
        if log is not None:
            log.append(("end", i))
        yield i


async def test_order_is_kept():
    """Every item arrives once, in order."""
    assert list(range(50)) == [i async for i in prefetch(_numbers(50), depth=3)]


async def test_error_surfaces_after_the_items_before_it():
    """An error of the source is raised unchanged, after the items that preceded it."""
    seen: list[int] = []

    async def consume():
        async for i in prefetch(_numbers(10, fail_at=3)):
            seen.append(i)

    with pytest.raises(ValueError, match="boom at 3"):
        await consume()

    assert [0, 1, 2] == seen


async def test_source_is_read_one_item_at_a_time():
    """The source never has two reads in flight: each start is followed by its end."""
    log: list[tuple[str, int]] = []
    async for _ in prefetch(_numbers(10, log=log), depth=4):
        await asyncio.sleep(0)

    assert [("start", i // 2) if i % 2 == 0 else ("end", i // 2) for i in range(20)] == log


async def test_stopping_early_closes_the_source():
    """Leaving the loop early stops reading ahead and closes the source."""
    closed: list[bool] = []

    async def source():
        try:
            for i in range(100):
                yield i
        finally:
            closed.append(True)

    async with contextlib.aclosing(prefetch(source(), depth=2)) as pages:
        async for i in pages:
            if i == 1:
                break

    assert [True] == closed
