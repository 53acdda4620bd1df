"""A listing's CPU-bound work off the event loop: pages parsed and prepared in worker processes.

Decoding an upstream page, normalizing its items, hashing them and building their rows and
permission tuples is most of what a first sync costs, and none of it needs the network or the
database. Connectors hand such pages over as `Unparsed` bytes; `PageWorkers` runs their parser
and `store.prepared.prepare` in a pool of processes (the event loop keeps fetching and
committing meanwhile), and the engine still commits the pages in their order, each with its
checkpoint. With no processes (`SYNCLINE_PARSE_PROCESSES=0`) the same work runs inline.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from syncline.domain.records import ListPage, Unparsed
from syncline.store.prepared import PreparedPage, prepare

log = structlog.get_logger("syncline.engine")

__all__ = ["PageWorkers", "default_processes"]


_MAX_BREAKS = 3


def default_processes() -> int:
    """One worker per core beyond the one the event loop runs on (at most 8)."""
    return max(0, min((os.cpu_count() or 1) - 1, 8))


def _prepare_unparsed(sync_id: str, unparsed: Unparsed) -> PreparedPage:
    """The page's items, parsed and prepared (in a worker, or inline)."""
    return prepare(sync_id, unparsed.parse(unparsed.body))


def _exit_with(parent: int) -> None:
    """In a worker: end when the process that spawned it has gone (killed, crashed), rather
    than linger as an orphan; a clean shutdown stops the workers itself."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ready() -> bool:
    """In a worker: nothing; submitted once at start so the processes spawn (and import the
    store) before the first page needs them."""
    return True


class PageWorkers:
    """The process pool that parses and prepares listing pages (or none: inline)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._breaks = 0
        """Pools broken in a row; after `_MAX_BREAKS` pages are prepared inline for good."""

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Spawned, not forked: the parent runs threads (SQLite's, the checkpointer's), and a
            # fork would copy their locks in whatever state they were.
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self) -> None:
        """Spawn the processes now rather than on the first page (which would wait for them)."""
        if self.processes:
            for _ in range(self.processes):
                self._executor().submit(_ready)

    async def prepare(self, sync_id: str, page: ListPage) -> PreparedPage:
        """The page's items (its `items`, then its `unparsed` ones), prepared for the store."""
        prepared = prepare(sync_id, page.items)
        if page.unparsed is None:
            return prepared
        parsed = await self._prepare_unparsed(sync_id, page.unparsed)
        if not prepared.items:
            return parsed
        return prepare_merged(prepared, parsed)

    async def _prepare_unparsed(self, sync_id: str, unparsed: Unparsed) -> PreparedPage:
        if not self.processes:
            return _prepare_unparsed(sync_id, unparsed)
        loop = asyncio.get_running_loop()
        try:
            page = await loop.run_in_executor(
                self._executor(), _prepare_unparsed, sync_id, unparsed
            )
            self._breaks = 0
            return page
        except BrokenProcessPool:
            # A worker died (killed, out of memory): nothing was written for this page, so do
            # it here, and start a fresh pool for the next one, unless they keep dying.
            self._discard()
            self._breaks += 1
            if self._breaks >= _MAX_BREAKS:
                log.error("page_workers.disabled", breaks=self._breaks)
                self.processes = 0
            else:
                log.warning("page_workers.broken", breaks=self._breaks)
            return _prepare_unparsed(sync_id, unparsed)

    def _discard(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def pids(self) -> list[int]:
        """The worker processes running now (for operators' and benchmarks' accounting)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}  # the executor's own record
        return [int(pid) for pid in processes]

    def close(self) -> None:
        """Stop the processes and wait for them (pages in flight are abandoned: their runs
        resume from their checkpoints)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def pipeline(
        self, sync_id: str, pages: AsyncIterator[ListPage]
    ) -> AsyncGenerator[tuple[ListPage, Awaitable[PreparedPage]], None]:
        """Each page with its preparation, which starts as soon as the page is read: behind a
        read-ahead, the workers prepare the next pages while the event loop commits this one."""
        started: list[asyncio.Task[PreparedPage]] = []
        try:
            async for page in pages:
                task = asyncio.create_task(self.prepare(sync_id, page))
                started.append(task)
                yield page, task
                started = [t for t in started if not t.done()]
        except BaseException:
            # Closed early (the run failed or stopped): what is still being prepared is moot.
            # At the end of the listing, the pages handed out are still to be committed.
            for task in started:
                task.cancel()
            raise


def prepare_merged(first: PreparedPage, then: PreparedPage) -> PreparedPage:
    """Two prepared parts of one page as one (an item in both keeps its later version)."""
    items = {item.external_id: item for item in (*first.items, *then.items)}
    return PreparedPage(
        list(items.values()), first.containers | then.containers, first.groups | then.groups
    )
