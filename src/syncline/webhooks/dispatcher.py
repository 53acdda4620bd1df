"""Delivers the outbox: signed POSTs, in order per sync, retried with backoff for days."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import structlog

from syncline.crypto import SecretBox
from syncline.domain.events import SyncEvent
from syncline.domain.notifications import LogEntry, OutboxItem
from syncline.domain.retry import WEBHOOK_RETRY, RetryPolicy
from syncline.domain.syncs import SyncStatus, SyncType
from syncline.errors import ConfigError, StoreError
from syncline.store.store import Store
from syncline.webhooks.destinations import DestinationPolicy, DestinationRefused
from syncline.webhooks.signing import headers as signed_headers

log = structlog.get_logger("syncline.webhooks")

DELIVERY_TIMEOUT = 15.0
"""A delivery counts only if the endpoint answers 2xx within this many seconds."""

BATCH = 20
"""Events of one sync claimed together and delivered one after another."""

LEASE = timedelta(seconds=DELIVERY_TIMEOUT * 2)
"""How long claimed events stay out of other workers' reach; extended while a batch is slow, so
a worker that dies holds its events for no longer than this."""


class Dispatcher:
    """Delivers due outbox events.

    Args:
        destinations: which endpoints may be reached; checked again before every POST, since
            DNS can change after a URL was set. The default refuses every private address.
    """

    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        box: SecretBox,
        clock: Callable[[], datetime],
        *,
        destinations: DestinationPolicy | None = None,
        policy: RetryPolicy = WEBHOOK_RETRY,
        give_up_after: timedelta = timedelta(days=3),
        concurrency: int = 16,
        poll_interval: float = 0.5,
    ) -> None:
        self._store = store
        self._http = http
        self._box = box
        self._clock = clock
        self._destinations = DestinationPolicy() if destinations is None else destinations
        self._policy = policy
        self._give_up_after = give_up_after
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._stopping = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish the attempts in flight and give back the
        rest of each claimed batch."""
        self._stopping = stop
        while not stop.is_set():
            try:
                delivered = await self.tick()
            except StoreError as exc:
                # The database failed mid-batch (a restart, a failover): keep the loop alive.
                # Events not yet marked delivered stay leased until their lease lapses, then go
                # out again; receivers dedupe by id.
                log.warning("webhook.store_unavailable", error=str(exc))
                delivered = 0
            if delivered:
                continue  # more may be waiting behind the heads just delivered
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_interval)

    async def tick(self) -> int:
        """Attempt due events: each sync's batch in order, syncs side by side; returns how many
        events were attempted."""
        try:
            batch = await self._store.claim_deliveries(
                self._clock(),
                self._concurrency,
                LEASE,
                per_sync=BATCH,
            )
        except StoreError as exc:
            log.warning("webhook.claim_failed", error=str(exc))
            return 0
        queues: dict[str, list[tuple[OutboxItem, str | None, str | None]]] = {}
        for entry in batch:
            queues.setdefault(entry[0].sync_id, []).append(entry)
        attempted = await asyncio.gather(*(self._deliver_in_order(q) for q in queues.values()))
        return sum(attempted)

    async def _deliver_in_order(
        self, queue: list[tuple[OutboxItem, str | None, str | None]]
    ) -> int:
        """Deliver one sync's events one after another; stop at the first failure."""
        delivered: list[int] = []
        attempted = 0
        leased_until = self._clock() + LEASE
        try:
            for position, (item, url, secret_enc) in enumerate(queue):
                rest = [i.id for i, _, _ in queue[position:]]
                if self._stopping.is_set():
                    await self._store.release_deliveries(rest)
                    break
                if leased_until - self._clock() < timedelta(seconds=DELIVERY_TIMEOUT + 1):
                    leased_until = self._clock() + LEASE
                    await self._store.extend_deliveries(rest, leased_until)
                attempted += 1
                if not url or not secret_enc:
                    await self._store.finish_delivery(
                        item, self._clock(), status="skipped", error="no webhook URL"
                    )
                    continue
                error = await self._attempt(item, url, secret_enc)
                if error is None:
                    delivered.append(item.id)
                    continue
                await self._store.delivered(delivered, self._clock())
                delivered = []
                await self._failed(item, error)
                await self._store.release_deliveries([i.id for i, _, _ in queue[position + 1 :]])
                break
        finally:
            await self._store.delivered(delivered, self._clock())
        return attempted

    async def _attempt(
        self, item: OutboxItem, url: str | None, secret_enc: str | None
    ) -> str | None:
        """One signed POST; None when it counted as delivered, else why not."""
        now = self._clock()
        if not url or not secret_enc:
            await self._store.finish_delivery(item, now, status="skipped", error="no webhook URL")
            return None
        body = item.payload.encode()
        try:
            secret = self._box.decrypt(secret_enc)
            headers = signed_headers(secret, item.event_id, int(now.timestamp()), body)
        except ConfigError as exc:
            return f"cannot sign: {exc}"
        headers["content-type"] = "application/json"
        try:
            target = await self._destinations.target(url)
        except DestinationRefused as exc:
            return f"destination refused: {exc}"  # nothing was sent; retried like any failure
        try:
            # No redirects: a 3xx is a failed delivery, and a Location must not lead past the
            # destination check to an address it would refuse.
            response = await self._http.post(
                target.url,
                content=body,
                headers={**headers, **target.headers},
                timeout=DELIVERY_TIMEOUT,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    async def _failed(self, item: OutboxItem, error: str) -> None:
        now = self._clock()
        sync = await self._store.get_sync(item.sync_id)
        give_up = now - item.created_at >= self._give_up_after
        entry = LogEntry(
            SyncEvent.WEBHOOK_DELIVERY_FAILED,
            SyncType.INCREMENTAL,
            sync.status if sync else SyncStatus.IDLE,
            error={
                "message": error,
                "eventId": item.event_id,
                "event": item.event,
                "attempt": item.attempts + 1,
                "final": give_up,
            },
        )
        log.info("webhook.delivery_failed", event_id=item.event_id, error=error, final=give_up)
        await self._store.finish_delivery(
            item,
            now,
            status="failed" if give_up else "pending",
            next_attempt_at=None if give_up else now + self._policy.delay(item.attempts + 1),
            error=error,
            log=(sync, entry) if sync else None,
        )
