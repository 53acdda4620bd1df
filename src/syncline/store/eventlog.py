"""The event log: what every run did, written with the run's own writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.notifications import LogEntry
from syncline.domain.syncs import Sync
from syncline.store.database import Database
from syncline.store.shapes import dumps, loads
from syncline.store.tables import sync_events


async def add_log(
    conn: AsyncConnection,
    sync: Sync,
    trace_id: str,
    entries: Sequence[LogEntry],
    now: datetime,
) -> None:
    """Write event-log entries of a run in the caller's transaction."""
    if not entries:
        return
    rows = [
        {
            "sync_id": sync.id,
            "project_id": sync.project_id,
            "user_id": sync.user_id,
            "trace_id": trace_id,
            "integration": sync.integration,
            "pipeline": sync.pipeline,
            "sync_event": e.sync_event.value,
            "sync_type": e.sync_type.value,
            "sync_status": e.sync_status.value,
            "summary": None if e.summary is None else dumps(e.summary),
            "error": None if e.error is None else dumps(e.error),
            "created_at": now,
        }
        for e in entries
    ]
    await conn.execute(insert(sync_events), rows)


class EventLog:
    """Each sync's event log, newest first."""

    db: Database

    async def list_events(
        self, sync_id: str, before_id: int | None, limit: int
    ) -> list[dict[str, object]]:
        """The sync's event log, newest first, `limit` entries older than `before_id`."""
        query = select(sync_events).where(sync_events.c.sync_id == sync_id)
        if before_id is not None:
            query = query.where(sync_events.c.id < before_id)
        query = query.order_by(sync_events.c.id.desc()).limit(limit)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            {
                **dict(r._mapping),
                "summary": loads(r._mapping["summary"]),
                "error": loads(r._mapping["error"]),
            }
            for r in rows
        ]
