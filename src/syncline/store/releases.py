"""Quiet run endings, written together: group commit for the one write most runs make.

Most runs are an idle sync's routine check. Each ends by one UPDATE that gives its lease back
with the next due time, and nothing else: no webhook, no log line. On SQLite every write holds
the one write lock across several round trips to the driver's thread, each of them behind
whatever the event loop is busy with, so one transaction per run capped a process at about
ninety runs a second. Here the endings that arrive while one batch is being written go
together into the next: one transaction, one lease check and one `executemany`, whatever their
number. Each caller still learns whether its own lease was still held.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, literal, or_, select, update

from syncline.store.database import Database
from syncline.store.shapes import STOPPED
from syncline.store.tables import syncs


@dataclass(frozen=True, slots=True)
class Release:
    """Give the lease of `sync_id` back, if `owner` still holds it, setting `changes` (column
    values; a `status` never overrides a pause or an error set meanwhile)."""

    sync_id: str
    owner: str
    changes: dict[str, object]


class ReleaseQueue:
    """Writes queued releases in batches, one batch at a time."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[Release, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def release(self, item: Release) -> bool:
        """Write `item` with whatever else is queued; True when the lease was still ours."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # Shielded: a caller cancelled meanwhile must not undo the others' write.
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                held = await self._write([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to each caller, who judges it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for item, done in batch:
                if not done.done():
                    done.set_result(item.sync_id in held)

    async def _write(self, batch: list[Release]) -> set[str]:
        db = self._db
        async with db.write() as conn:
            query = select(syncs.c.id, syncs.c.lease_owner).where(
                db.one_of(syncs.c.id, [item.sync_id for item in batch])
            )
            if db.is_postgres:
                query = query.with_for_update()  # no heartbeat or claim slips in between
            owners = {row[0]: row[1] for row in await conn.execute(query)}
            mine = [item for item in batch if owners.get(item.sync_id) == item.owner]
            # One executemany per shape of change (every idle check has the same one).
            shapes: dict[tuple[str, ...], list[Release]] = {}
            for item in mine:
                shapes.setdefault(tuple(sorted(item.changes)), []).append(item)
            for keys, items in shapes.items():
                await conn.execute(_statement(keys), [_parameters(item) for item in items])
            return {item.sync_id for item in mine}


def _statement(keys: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {}
    for key in keys:
        bound = bindparam(f"v_{key}", type_=syncs.c[key].type)
        values[key] = case((_stopped(), syncs.c.status), else_=bound) if key == "status" else bound
    return (
        update(syncs)
        .where(syncs.c.id == bindparam("v_sync_id"))
        .values(lease_owner=None, lease_expires_at=None, **values)
    )


def _stopped() -> Any:
    # `IN (...)` written out: an expanding parameter cannot go in an executemany.
    return or_(*(syncs.c.status == literal(value) for value in STOPPED))


def _parameters(item: Release) -> dict[str, object]:
    return {"v_sync_id": item.sync_id, **{f"v_{k}": v for k, v in item.changes.items()}}
