"""The scheduler loop: claim due syncs, run them concurrently, never two runs of one sync."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from syncline.domain.fairness import NO_CAPS, RunCaps
from syncline.engine.runner import SyncRunner
from syncline.errors import StoreError
from syncline.store.store import Store

log = structlog.get_logger("syncline.scheduler")


class Scheduler:
    def __init__(
        self,
        store: Store,
        runner: SyncRunner,
        *,
        owner: str,
        concurrency: int,
        clock: Callable[[], datetime],
        poll_interval: float = 1.0,
        caps: RunCaps = NO_CAPS,
        grace: float = 30.0,
    ) -> None:
        self._store = store
        self._runner = runner
        self.owner = owner
        self._concurrency = concurrency
        self._clock = clock
        self._poll_interval = poll_interval
        self._caps = caps
        self._grace = grace
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due work now (after a trigger or an enable) instead of at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run due syncs until `stop` is set; then let each run finish the page in
        hand and give its sync back, cutting short whatever is still going after the grace."""
        try:
            while not stop.is_set():
                # Clear before claiming: a run that ends during the claim wakes the next look.
                self._wake.clear()
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait(stop), timeout=self._poll_interval)
        finally:
            await self._drain()

    async def _drain(self) -> None:
        self._runner.draining.set()
        running = list(self._running)
        if not running:
            return
        log.info("scheduler.draining", runs=len(running), grace_seconds=self._grace)
        _, late = await asyncio.wait(running, timeout=self._grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def tick(self) -> int:
        """Start what is due, up to the free slots; returns how many runs started."""
        free = self._concurrency - len(self._running)
        if free <= 0:
            return 0
        try:
            claimed = await self._store.claim_due(
                self.owner, self._clock(), free, self._runner.settings.lease_for, self._caps
            )
        except StoreError as exc:
            log.warning("scheduler.claim_failed", error=str(exc))
            return 0
        for sync in claimed:
            task = asyncio.create_task(self._runner.run(sync, self.owner))
            self._running.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduler.run_crashed", exc_info=task.exception())
        self._wake.set()  # a slot is free

    async def idle(self) -> None:
        """Wait until no run is in progress (for tests and orderly shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
