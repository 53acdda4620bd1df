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
from syncline.domain.notifications import LogEntry, OutboxItem, iso
from syncline.domain.retry import WEBHOOK_RETRY, RetryPolicy
from syncline.domain.syncs import SyncStatus, SyncType
from syncline.errors import ConfigError, StoreError
from syncline.store.store import Delivery, Store
from syncline.types import JSONObject
from syncline.webhooks.destinations import DestinationPolicy, DestinationRefused
from syncline.webhooks.signing import headers as signed_headers

log = structlog.get_logger("syncline.webhooks")

DELIVERY_TIMEOUT = 15.0
"""A delivery counts only if the endpoint answers 2xx within this many seconds."""

BATCH = 20
"""Events of one sync claimed together and delivered one after another."""

PROBES = 3
"""Events tried behind a head that has blocked for `block_after`, to tell an endpoint that is down
(they fail too: nothing is parked) from one event the endpoint keeps refusing (one is accepted:
the head is parked)."""

LEASE = timedelta(seconds=DELIVERY_TIMEOUT * 2)
"""How long claimed events stay out of other workers' reach; extended while a batch is slow, so
a worker that dies holds its events for no longer than this."""


class Dispatcher:
    """Delivers due outbox events.

    Args:
        destinations: which endpoints may be reached; checked again before every POST, since
            DNS can change after a URL was set. The default refuses every private address.
        block_after: how long one event may keep failing before it is parked: it goes on
            being retried on its schedule, on its own, and the events behind it flow.
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
        block_after: timedelta = timedelta(hours=1),
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
        self._block_after = block_after
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._stopping = asyncio.Event()

    @property
    def destinations(self) -> DestinationPolicy:
        return self._destinations

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
        """Attempt due events: each sync's batch in order, syncs side by side, and parked events
        each on its own; returns how many events were attempted or held."""
        now = self._clock()
        try:
            batch = await self._store.claim_deliveries(
                now, self._concurrency, LEASE, per_sync=BATCH
            )
            parked = await self._store.claim_parked(now, self._concurrency, LEASE)
        except StoreError as exc:
            log.warning("webhook.claim_failed", error=str(exc))
            return 0
        queues: dict[str, list[Delivery]] = {}
        for entry in batch:
            queues.setdefault(entry.item.sync_id, []).append(entry)
        runs = [*queues.values(), *([entry] for entry in parked)]
        attempted = await asyncio.gather(*(self._deliver_in_order(q) for q in runs))
        return sum(attempted)

    async def _deliver_in_order(self, queue: list[Delivery]) -> int:
        """Deliver events of one sync one after another; stop at the first failure.

        Once the head of the queue has failed for `block_after`, a failure no longer stops the
        batch at once: the events behind it are tried (up to `PROBES`). If one is accepted, the
        endpoint works and what failed before it is parked, so the rest flow; if none is, the
        endpoint is down, nothing is parked and the order holds.
        """
        if not queue[0].url or not queue[0].secret_enc:
            # One project, so no URL for any of them: keep them until the project has one.
            await self._store.hold_deliveries([d.item for d in queue], self._clock())
            return len(queue)
        delivered: list[int] = []
        failed: list[tuple[OutboxItem, str]] = []
        attempted = 0
        leased_until = self._clock() + LEASE
        try:
            for position, entry in enumerate(queue):
                rest = [d.item.id for d in queue[position:]]
                if self._stopping.is_set():
                    await self._store.release_deliveries(rest)
                    break
                if leased_until - self._clock() < timedelta(seconds=DELIVERY_TIMEOUT + 1):
                    leased_until = self._clock() + LEASE
                    await self._store.extend_deliveries(rest, leased_until)
                attempted += 1
                error = await self._attempt(entry)
                if error is None:
                    if failed:  # the endpoint accepts events: the ones before were the trouble
                        await self._record_failures(failed, park=True)
                        failed = []
                    delivered.append(entry.item.id)
                    continue
                await self._store.delivered(delivered, self._clock())
                delivered = []
                failed.append((entry.item, error))
                probing = len(failed) > 1 or self._overdue(entry.item)
                if probing and len(failed) <= PROBES and entry.item.status != "parked":
                    continue
                await self._record_failures(failed, park=False)
                failed = []
                await self._store.release_deliveries([d.item.id for d in queue[position + 1 :]])
                break
            await self._record_failures(failed, park=False)  # probed to the end: none accepted
        finally:
            await self._store.delivered(delivered, self._clock())
        return attempted

    def _overdue(self, item: OutboxItem) -> bool:
        """Whether this event has failed for `block_after` (it failed again just now)."""
        first_failed = item.first_failed_at or self._clock()
        return self._clock() - first_failed >= self._block_after

    async def _record_failures(self, failed: list[tuple[OutboxItem, str]], *, park: bool) -> None:
        for item, error in failed:
            await self._failed(item, error, park=park or item.status == "parked")

    async def _attempt(self, entry: Delivery) -> str | None:
        """One signed POST; None when it counted as delivered, else why not."""
        item = entry.item
        assert entry.url is not None
        assert entry.secret_enc is not None
        now = self._clock()
        body = item.payload.encode()
        try:
            secret = self._box.decrypt(entry.secret_enc)
            headers = signed_headers(secret, item.event_id, int(now.timestamp()), body)
        except ConfigError as exc:
            return f"cannot sign: {exc}"
        headers["content-type"] = "application/json"
        try:
            target = await self._destinations.target(entry.url)
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

    async def _failed(self, item: OutboxItem, error: str, *, park: bool) -> None:
        """Schedule the next attempt of a failed event: in its sync's order, or parked (retried
        on its own schedule, no longer holding back the events behind it), or never again
        after `give_up_after`."""
        now = self._clock()
        first_failed = item.first_failed_at or now
        give_up = now - item.created_at >= self._give_up_after
        parked = park and not give_up
        retry_at = now + self._policy.delay(item.attempts + 1)
        judged_at = first_failed + self._block_after
        if not give_up and not parked and judged_at > now:
            # Back by the time it has blocked for `block_after`, to be judged then.
            retry_at = min(retry_at, judged_at)
        sync = await self._store.get_sync(item.sync_id)
        status = sync.status if sync else SyncStatus.IDLE
        details: JSONObject = {
            "eventId": item.event_id,
            "event": item.event,
            "attempt": item.attempts + 1,
        }
        entries = [
            LogEntry(
                SyncEvent.WEBHOOK_DELIVERY_FAILED,
                SyncType.INCREMENTAL,
                status,
                error={"message": error, **details, "final": give_up, "parked": parked},
            )
        ]
        if parked and item.status != "parked":
            entries.append(
                LogEntry(
                    SyncEvent.WEBHOOK_DELIVERY_PARKED,
                    SyncType.INCREMENTAL,
                    status,
                    error={
                        "message": (
                            f"The {item.event} event {item.event_id} has failed since "
                            f"{iso(first_failed)} while the endpoint accepts other events; it "
                            "is parked so the events behind it are delivered, and is still "
                            "retried on its schedule."
                        ),
                        **details,
                    },
                )
            )
        log.info(
            "webhook.delivery_failed",
            event_id=item.event_id,
            error=error,
            final=give_up,
            parked=parked,
        )
        await self._store.finish_delivery(
            item,
            now,
            status="failed" if give_up else "parked" if parked else "pending",
            next_attempt_at=None if give_up else retry_at,
            error=error,
            log=(sync, entries) if sync else None,
        )
