"""The dispatcher's loop outlives database failures in the middle of a batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from syncline.crypto import SecretBox, generate_key
from syncline.domain.notifications import OutboxItem
from syncline.errors import StoreError
from syncline.store.store import Delivery, Store
from syncline.webhooks.destinations import DestinationPolicy
from syncline.webhooks.dispatcher import Dispatcher


class _FlakyStore:
    """Hands out one event, then fails to mark it delivered (the database just went away)."""

    def __init__(self, box: SecretBox) -> None:
        self.box = box
        self.claims = 0

    async def claim_deliveries(self, *_: Any, **__: Any) -> list[Any]:
        self.claims += 1
        if self.claims > 1:
            return []
        item = OutboxItem(
            id=1,
            event_id="evt-1",
            project_id="p",
            sync_id="s",
            event="record_created",
            payload="{}",
            attempts=0,
            created_at=datetime.now(UTC),
        )
        return [Delivery(item, "http://hooks.test/in", self.box.encrypt("whsec_" + "A" * 32))]

    async def claim_parked(self, *_: Any, **__: Any) -> list[Any]:
        return []

    async def delivered(self, ids: list[int], _now: datetime) -> None:
        if ids:
            raise StoreError("database error: the connection was closed")


async def test_a_store_error_mid_batch_does_not_stop_the_dispatcher():
    """A StoreError while recording a delivery ends that tick, not the loop: the dispatcher
    goes on claiming (a worker that lost it would never deliver again until restarted)."""
    box = SecretBox(generate_key())
    store = _FlakyStore(box)
    transport = httpx.MockTransport(lambda _: httpx.Response(204))
    async with httpx.AsyncClient(transport=transport) as http:
        dispatcher = Dispatcher(
            cast(Store, store),
            http,
            box,
            lambda: datetime.now(UTC),
            destinations=DestinationPolicy(allow_private=True),
            poll_interval=0.01,
        )
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop))
        while store.claims < 3 and not loop.done():
            await asyncio.sleep(0.01)
        stop.set()
        await loop

    assert store.claims >= 3
