"""The lease watchdog stops a run before its lease can lapse, however the heartbeats fail."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from syncline.engine.runner import EngineSettings, SyncRunner
from syncline.errors import StoreError
from syncline.store.store import RunWrite, Store

LEASE = 2.0


class _Store:
    """The first heartbeat fails at once (the database restarts), the next ones hang."""

    def __init__(self) -> None:
        self.calls = 0

    async def heartbeat(self, *_: Any) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise StoreError("database error: connection refused")
        await asyncio.sleep(3600)
        return True


async def test_an_unconfirmed_lease_stops_the_run_before_it_lapses():
    """A failed heartbeat followed by one that never answers: the run is cancelled before the
    lease (set when the run began) runs out, so no other worker's run can overlap it."""
    runner = SyncRunner(
        cast(Store, _Store()),
        cast(Any, None),
        cast(Any, None),
        lambda: datetime.now(UTC),
        EngineSettings(lease_for=timedelta(seconds=LEASE)),
    )
    run = cast(RunWrite, SimpleNamespace(sync=SimpleNamespace(id="s"), owner="w"))
    work = asyncio.create_task(asyncio.sleep(3600))
    leased_at = time.monotonic()

    await runner._heartbeat(run, work)
    stopped_after = time.monotonic() - leased_at

    assert work.cancelling() or work.cancelled()
    assert stopped_after < LEASE
