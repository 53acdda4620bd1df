"""The webhook outbox: events written with the changes that cause them, and their delivery."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.events import SyncEvent
from syncline.domain.notifications import LogEntry, Notice, OutboxItem, webhook_body
from syncline.domain.syncs import Sync, SyncType
from syncline.store.database import Database, atomic
from syncline.store.eventlog import add_log
from syncline.store.shapes import Delivery, dumps, sync_from_row
from syncline.store.tables import outbox, projects, syncs

_INSERT_OUTBOX = (
    "INSERT INTO outbox (event_id, project_id, sync_id, event, payload, status, attempts,"
    " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
)


async def add_outbox(
    conn: AsyncConnection, sync: Sync, notices: Sequence[Notice], now: datetime
) -> None:
    """Write webhook events in the caller's transaction, with the change that causes them."""
    if not notices:
        return
    # Plain driver executemany: a 1% incremental writes a thousand of these in its one page.
    bind = outbox.c.created_at.type.bind_processor(conn.dialect)
    at = bind(now) if bind is not None else now
    rows = [
        (
            n.event_id,
            sync.project_id,
            sync.id,
            n.event.value,
            dumps(webhook_body(n, sync, now)),
            at,  # next_attempt_at: due at once
            at,  # created_at
        )
        for n in notices
    ]
    sql = _INSERT_OUTBOX if conn.dialect.name == "sqlite" else _INSERT_OUTBOX.replace("?", "%s")
    await conn.exec_driver_sql(sql, rows)


class OutboxStore:
    """The webhook outbox: claims, leases, holds, parking and outcomes of deliveries."""

    db: Database

    async def waiting_events(self) -> dict[str, dict[str, int]]:
        """Undelivered events by project and status (`pending`, `held`, `parked`)."""
        query = (
            select(outbox.c.project_id, outbox.c.status, func.count())
            .where(outbox.c.status.in_(["pending", "held", "parked"]))
            .group_by(outbox.c.project_id, outbox.c.status)
        )
        found: dict[str, dict[str, int]] = {}
        async with self.db.read() as conn:
            for project_id, status, count in await conn.execute(query):
                found.setdefault(project_id, {})[status] = int(count)
        return found

    @atomic
    async def claim_deliveries(
        self, now: datetime, limit: int, lease_for: timedelta, *, per_sync: int = 1
    ) -> list[Delivery]:
        """Lease due events, with their project's endpoint: for up to `limit` syncs whose oldest
        pending event is due, that event and up to `per_sync - 1` events after it, in order.

        Only the head of a sync's queue can start a batch, so one sync's events go out in order.
        """
        heads = (
            select(func.min(outbox.c.id))
            .where(outbox.c.status == "pending")
            .group_by(outbox.c.sync_id)
            .scalar_subquery()
        )
        free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        due = (
            select(outbox.c.sync_id)
            .where(outbox.c.id.in_(heads), outbox.c.next_attempt_at <= now, free)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        due = self.db.skip_locked(due)
        async with self.db.write() as conn:
            syncs_due = [r[0] for r in await conn.execute(due)]
            if not syncs_due:
                return []
            rank = func.row_number().over(partition_by=outbox.c.sync_id, order_by=outbox.c.id)
            queued = (
                select(outbox.c.id, rank.label("rank"))
                .where(outbox.c.status == "pending", outbox.c.sync_id.in_(syncs_due), free)
                .subquery()
            )
            batch = select(queued.c.id).where(queued.c.rank <= per_sync)
            return await self._lease_deliveries(conn, batch, now + lease_for)

    @atomic
    async def claim_parked(self, now: datetime, limit: int, lease_for: timedelta) -> list[Delivery]:
        """Lease up to `limit` parked events that are due; each is retried on its own."""
        free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        due = self.db.skip_locked(
            select(outbox.c.id)
            .where(outbox.c.status == "parked", outbox.c.next_attempt_at <= now, free)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        )
        async with self.db.write() as conn:
            ids = [r[0] for r in await conn.execute(due)]
            if not ids:
                return []
            return await self._lease_deliveries(conn, ids, now + lease_for)

    async def _lease_deliveries(
        self, conn: AsyncConnection, ids: Any, until: datetime
    ) -> list[Delivery]:
        """Lease the events `ids` (a list or a subquery) and read them with their endpoints."""
        rows = (
            await conn.execute(
                select(outbox, projects.c.webhook_url, projects.c.webhook_secret_enc)
                .join(projects, projects.c.id == outbox.c.project_id, isouter=True)
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.id)
            )
        ).all()
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([r._mapping["id"] for r in rows]))
            .values(lease_until=until)
        )
        return [
            Delivery(
                OutboxItem(
                    id=m["id"],
                    event_id=m["event_id"],
                    project_id=m["project_id"],
                    sync_id=m["sync_id"],
                    event=m["event"],
                    payload=m["payload"],
                    attempts=m["attempts"],
                    created_at=m["created_at"],
                    status=m["status"],
                    first_failed_at=m["first_failed_at"],
                ),
                m["webhook_url"],
                m["webhook_secret_enc"],
            )
            for m in (r._mapping for r in rows)
        ]

    @atomic
    async def hold_deliveries(self, items: Sequence[OutboxItem], now: datetime) -> None:
        """Keep events whose project has no webhook URL until one is set (`set_webhook`), and
        say so once per sync in its event log."""
        if not items:
            return
        by_sync: dict[str, list[OutboxItem]] = {}
        for item in items:
            by_sync.setdefault(item.sync_id, []).append(item)
        async with self.db.write() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([i.id for i in items]))
                .values(status="held", lease_until=None)
            )
            for sync_id, held in by_sync.items():
                row = (await conn.execute(select(syncs).where(syncs.c.id == sync_id))).first()
                if row is None:
                    continue
                sync = sync_from_row(row)
                entry = LogEntry(
                    SyncEvent.WEBHOOK_DELIVERY_HELD,
                    SyncType.INCREMENTAL,
                    sync.status,
                    error={
                        "message": (
                            f"Project {sync.project_id} has no webhook URL: {len(held)} "
                            f"event{'s are' if len(held) != 1 else ' is'} kept and will be "
                            "delivered once one is set (syncline projects set-webhook)."
                        ),
                        "eventIds": [i.event_id for i in held],
                    },
                )
                await add_log(conn, sync, str(uuid.uuid4()), [entry], now)

    @atomic
    async def delivered(self, ids: list[int], now: datetime) -> None:
        """Mark events delivered (one write for a batch)."""
        if not ids:
            return
        async with self.db.write() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    status="delivered",
                    delivered_at=now,
                    attempts=outbox.c.attempts + 1,
                    lease_until=None,
                    last_error=None,
                )
            )

    @atomic
    async def extend_deliveries(self, ids: list[int], until: datetime) -> None:
        """Keep claimed events out of other workers' reach until `until`."""
        async with self.db.write() as conn:
            await conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(lease_until=until))

    @atomic
    async def release_deliveries(self, ids: list[int]) -> None:
        """Give back leased events that were not attempted (they wait behind a failed one)."""
        if not ids:
            return
        async with self.db.write() as conn:
            await conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(lease_until=None))

    @atomic
    async def finish_delivery(
        self,
        item: OutboxItem,
        now: datetime,
        *,
        status: str,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
        log: tuple[Sync, Sequence[LogEntry]] | None = None,
    ) -> None:
        """Record a failed attempt: retry at `next_attempt_at` (`pending` or `parked`), or
        `failed` for good."""
        values: dict[str, object] = {
            "status": status,
            "attempts": item.attempts + 1,
            "lease_until": None,
            "last_error": error,
            "first_failed_at": item.first_failed_at or now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        async with self.db.write() as conn:
            await conn.execute(update(outbox).where(outbox.c.id == item.id).values(**values))
            if log is not None:
                await add_log(conn, log[0], str(uuid.uuid4()), log[1], now)

    async def outbox_counts(self) -> dict[str, int]:
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        async with self.db.read() as conn:
            return {r[0]: int(r[1]) for r in await conn.execute(query)}
