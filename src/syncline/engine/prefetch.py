"""Read an async iterator ahead, so the next upstream page is fetched while this one is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _End:
    pass


class _Item(Generic[T]):
    def __init__(self, value: T) -> None:
        self.value = value


async def prefetch(source: AsyncIterator[T], depth: int = 1) -> AsyncGenerator[T, None]:
    """Yield what `source` yields, keeping up to `depth` items read ahead.

    `source` is still read one item at a time (never two upstream requests at once); its
    exceptions surface here unchanged, at the point they would have without read-ahead.
    """
    queue: asyncio.Queue[_Item[T] | _Failed | _End] = asyncio.Queue(maxsize=depth)

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(_Item(item))
        except Exception as exc:  # noqa: BLE001 - handed over to the consumer unchanged
            await queue.put(_Failed(exc))
            return
        await queue.put(_End())

    task = asyncio.create_task(pump())
    try:
        while True:
            got = await queue.get()
            if isinstance(got, _End):
                return
            if isinstance(got, _Failed):
                raise got.exc
            yield got.value
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()
