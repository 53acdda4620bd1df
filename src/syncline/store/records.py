"""Records: pages committed with their checkpoint, the change-ordered feed, sweeps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.events import WebhookEvent
from syncline.domain.ids import record_id
from syncline.domain.notifications import Notice, iso, record_notice
from syncline.domain.records import RecordCounts, Upsert
from syncline.errors import LeaseLost
from syncline.store.database import Database, atomic
from syncline.store.outbox import add_outbox
from syncline.store.permissions import Key, drop_access, write_access
from syncline.store.prepared import PreparedItem, PreparedPage, prepare
from syncline.store.shapes import LiveRecord, Progress, RecordPage, RunWrite, columns, dumps
from syncline.store.tables import records, syncs

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _WriteTime:
    """When a page is written: `changed_at_ms` and the records' `syncedAt`, the same instant."""

    ms: int
    iso: str

    @classmethod
    def of(cls, now: datetime) -> _WriteTime:
        ms = int(now.timestamp() * 1000)
        return cls(ms, iso(_EPOCH + timedelta(milliseconds=ms)))


def _tombstone(rid: str, external_id: str, at: _WriteTime) -> str:
    return dumps({"id": rid, "externalId": external_id, "deleted": True, "syncedAt": at.iso})


def _record_json(rid: str, fields: str, at: _WriteTime) -> str:
    """The stored record: `id` first, the connector's fields in its order, then `syncedAt`."""
    synced = '"syncedAt":"' + at.iso + '"}'
    if not fields:
        return '{"id":"' + rid + '",' + synced
    return '{"id":"' + rid + '",' + fields + "," + synced


# Both statements take the same tuple: the columns, then the key (sync_id, record_id).
_INSERT_RECORDS = (
    "INSERT INTO records (seq, external_id, hash, deleted, is_folder, generation, changed_at_ms,"
    " data, access_hash, sync_id, record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RECORD_KEY = ("sync_id", "record_id")
_RECORD_COLUMNS = (
    "seq", "external_id", "hash", "deleted", "is_folder", "generation", "changed_at_ms", "data",
    "access_hash", "sync_id", "record_id",
)  # fmt: skip
_UPDATE_RECORDS = (
    "UPDATE records SET seq = ?, external_id = ?, hash = ?, deleted = ?, is_folder = ?,"
    " generation = ?, changed_at_ms = ?, data = ?, access_hash = ?"
    " WHERE sync_id = ? AND record_id = ?"
)
# A sharing change alone: new tuples and digest, but the record and its place in the feed stay.
_SET_ACCESS = (
    "UPDATE records SET access_hash = ?, generation = ? WHERE sync_id = ? AND record_id = ?"
)


SEQ_BLOCK = 4096
"""Sequence numbers per `record_blocks` row."""

_FEED_PAGE = (
    "SELECT seq, changed_at_ms, data FROM records WHERE sync_id = ? AND seq > ?"
    " ORDER BY seq LIMIT ?"
)
_COUNT_AFTER = (
    "SELECT (SELECT count(*) FROM records WHERE sync_id = ? AND seq > ? AND seq < ?)"
    " + (SELECT coalesce(sum(live), 0) FROM record_blocks WHERE sync_id = ? AND block > ?)"
)
_ADD_TO_BLOCK = (
    "INSERT INTO record_blocks (sync_id, block, live) VALUES (?, ?, ?)"
    " ON CONFLICT (sync_id, block) DO UPDATE SET live = record_blocks.live + excluded.live"
)
_SET_BLOCK = (
    "INSERT INTO record_blocks (sync_id, block, live) VALUES (?, ?, ?)"
    " ON CONFLICT (sync_id, block) DO UPDATE SET live = excluded.live"
)


def _block_spans(first: int, last: int) -> dict[int, int]:
    """How many of the sequence numbers first..last fall in each block."""
    spans: dict[int, int] = {}
    for block in range(first // SEQ_BLOCK, last // SEQ_BLOCK + 1):
        lo = max(first, block * SEQ_BLOCK)
        hi = min(last, (block + 1) * SEQ_BLOCK - 1)
        spans[block] = hi - lo + 1
    return spans


def _record_row(
    sync_id: str, item: PreparedItem, seq: int, generation: int, at: _WriteTime
) -> tuple[object, ...]:
    """A live record as the tuple `_INSERT_RECORDS` and `_UPDATE_RECORDS` take."""
    rid = item.record_id
    data = _record_json(rid, item.fields, at)
    return (
        seq,
        item.external_id,
        item.hash,
        False,
        item.is_folder,
        generation,
        at.ms,
        data,
        item.access_hash,
        sync_id,
        rid,
    )


def _tombstone_row(
    sync_id: str, rid: str, external_id: str, seq: int, generation: int, at: _WriteTime
) -> tuple[object, ...]:
    data = _tombstone(rid, external_id, at)
    return (seq, external_id, "", True, False, generation, at.ms, data, None, sync_id, rid)


class RecordStore:
    """Records and their change-ordered feed."""

    db: Database

    @atomic
    async def commit_page(
        self,
        run: RunWrite,
        now: datetime,
        *,
        upserts: Sequence[Upsert] | PreparedPage,
        deletions: Iterable[str] = (),
        progress: Progress,
    ) -> RecordCounts:
        """Apply one upstream page in one transaction: records, their webhooks, the run's progress.

        `upserts` may come already prepared (`store.prepared`, built off the event loop).
        Unchanged records cost no write beyond the generation stamp of a full listing. `progress`
        holds the sync columns that move with the page (checkpoint or cursor); the write is
        refused with `LeaseLost` if another worker took the sync over.
        """
        sync_id = run.sync.id
        page = upserts if isinstance(upserts, PreparedPage) else prepare(sync_id, upserts)
        latest = {item.external_id: item for item in page.items}
        gone = {ext: record_id(sync_id, ext) for ext in deletions if ext not in latest}
        at = _WriteTime.of(now)

        if run.initial and not gone:
            return await self._insert_page(run, now, page, progress)
        async with self.db.write() as conn:
            seq, total, active = await self._claim_page(conn, run, now)
            first_seq = seq + 1
            existing: dict[str, tuple[str, bool, int, int, str | None]] = {}
            wanted = [item.record_id for item in page.items] + list(gone.values())
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                rows = await conn.execute(
                    select(
                        records.c.record_id,
                        records.c.hash,
                        records.c.deleted,
                        records.c.generation,
                        records.c.seq,
                        records.c.access_hash,
                    ).where(
                        records.c.sync_id == sync_id, self.db.one_of(records.c.record_id, chunk)
                    )
                )
                existing.update({r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows})
            moved: list[int] = []

            inserts: list[tuple[object, ...]] = []
            changes: list[tuple[object, ...]] = []
            stamps: list[str] = []
            access_only: list[tuple[object, ...]] = []
            retuple: list[tuple[str, Sequence[tuple[Key, int, Key]]]] = []
            dropped: list[str] = []
            notices: list[Notice] = []
            created = updated = deleted = 0
            for item in page.items:
                rid = item.record_id
                access = item.access_hash
                known = existing.get(rid)
                if access is not None and (known is None or known[1] or known[4] != access):
                    retuple.append((rid, item.tuples))
                if known is not None and known[0] == item.hash and not known[1]:
                    if access is not None and known[4] != access:
                        access_only.append((access, run.generation, sync_id, rid))
                    elif known[2] != run.generation:
                        stamps.append(rid)
                    continue
                seq += 1
                row = _record_row(sync_id, item, seq, run.generation, at)
                if known is None:
                    inserts.append(row)
                    total += 1
                    active += 1
                else:
                    changes.append(row)
                    moved.append(known[3])
                    if known[1]:
                        active += 1  # a tombstone came back
                if known is None or known[1]:
                    created += 1
                    event = WebhookEvent.RECORD_CREATED
                else:
                    updated += 1
                    event = WebhookEvent.RECORD_UPDATED
                if not run.initial:
                    notices.append(record_notice(event, rid, run.sync.pipeline))
            for ext, rid in gone.items():
                known = existing.get(rid)
                if known is None or known[1]:
                    continue
                seq += 1
                active -= 1
                deleted += 1
                dropped.append(rid)
                moved.append(known[3])
                changes.append(_tombstone_row(sync_id, rid, ext, seq, run.generation, at))
                notices.append(record_notice(WebhookEvent.RECORD_DELETED, rid, run.sync.pipeline))

            # Plain driver executemany: this is the hot path of every sync.
            if inserts:
                await conn.exec_driver_sql(self.db.native(_INSERT_RECORDS), inserts)
            if changes:
                await conn.exec_driver_sql(self.db.native(_UPDATE_RECORDS), changes)
            for start in range(0, len(stamps), 900):
                await conn.execute(
                    update(records)
                    .where(
                        records.c.sync_id == sync_id,
                        self.db.one_of(records.c.record_id, stamps[start : start + 900]),
                    )
                    .values(generation=run.generation)
                )
            if access_only:
                await conn.exec_driver_sql(self.db.native(_SET_ACCESS), access_only)
            await write_access(conn, self.db, sync_id, retuple, replace=True)
            await drop_access(conn, self.db, sync_id, dropped)
            await self._count_blocks(conn, sync_id, moved, first_seq, seq)
            await self._advance(conn, sync_id, seq, total, active, progress)
            await add_outbox(conn, run.sync, notices, now)
        return RecordCounts(created, updated, deleted, processed=len(page.items) + len(gone))

    async def _add_to_blocks(
        self, conn: AsyncConnection, sync_id: str, deltas: dict[int, int]
    ) -> None:
        if deltas:
            await conn.exec_driver_sql(
                self.db.native(_ADD_TO_BLOCK), [(sync_id, b, d) for b, d in deltas.items()]
            )

    async def _count_blocks(
        self, conn: AsyncConnection, sync_id: str, moved: list[int], first: int, last: int
    ) -> None:
        """Keep `record_blocks` exact: live records per block of sequence numbers.

        Records that moved leave their old block (a known -1 each); the blocks that received the
        page's new sequence numbers `first..last` are recounted, which also covers duplicates an
        insert skipped. The records feed then counts what remains after a cursor by reading one
        partial block and summing the rest, whatever the feed's length.
        """
        if last < first and not moved:
            return
        recounted = (
            set(range(first // SEQ_BLOCK, last // SEQ_BLOCK + 1)) if last >= first else set()
        )
        deltas: dict[int, int] = {}
        for old in moved:
            block = old // SEQ_BLOCK
            if block not in recounted:
                deltas[block] = deltas.get(block, 0) - 1
        await self._add_to_blocks(conn, sync_id, deltas)
        if recounted:
            lo, hi = min(recounted) * SEQ_BLOCK, (max(recounted) + 1) * SEQ_BLOCK
            counts = await conn.execute(
                select((records.c.seq // SEQ_BLOCK).label("block"), func.count())
                .where(records.c.sync_id == sync_id, records.c.seq >= lo, records.c.seq < hi)
                .group_by("block")
            )
            found = {int(block): int(n) for block, n in counts}
            await conn.exec_driver_sql(
                self.db.native(_SET_BLOCK), [(sync_id, b, found.get(b, 0)) for b in recounted]
            )

    async def _insert_page(
        self, run: RunWrite, now: datetime, page: PreparedPage, progress: Progress
    ) -> RecordCounts:
        """The initial listing's fast path: insert the page, skipping records already held.

        An initial listing only meets records it wrote itself (a resumed or restarted listing
        can list a file twice), so there is nothing to compare: the row count says how many were
        new. A file changed between two such listings is caught by the change feed, whose token
        was taken before the listing began.
        """
        sync_id = run.sync.id
        at = _WriteTime.of(now)
        async with self.db.write() as conn:
            seq, total, active = await self._claim_page(conn, run, now)
            first = seq + 1
            rows = [
                _record_row(sync_id, item, n, run.generation, at)
                for n, item in enumerate(page.items, start=first)
            ]
            seq += len(rows)
            added = 0
            if rows:
                added = await self.db.bulk_insert(
                    conn, "records", _RECORD_COLUMNS, rows, skip_conflicts_on=_RECORD_KEY
                )
                if added == len(rows):  # every new sequence number is live: count by arithmetic
                    await self._add_to_blocks(conn, sync_id, _block_spans(first, seq))
                else:
                    await self._count_blocks(conn, sync_id, [], first, seq)
                await write_access(
                    conn,
                    self.db,
                    sync_id,
                    [(i.record_id, i.tuples) for i in page.items if i.access_hash is not None],
                    replace=False,
                )
            await self._advance(conn, sync_id, seq, total + added, active + added, progress)
        return RecordCounts(created=added, processed=len(page.items))

    async def _claim_page(
        self, conn: AsyncConnection, run: RunWrite, now: datetime
    ) -> tuple[int, int, int]:
        """Check and extend the lease; (last seq, total, active) of the sync."""
        claimed = await conn.execute(
            update(syncs)
            .where(syncs.c.id == run.sync.id, syncs.c.lease_owner == run.owner)
            .values(lease_expires_at=now + run.lease_for)
            .returning(syncs.c.last_seq, syncs.c.total_records, syncs.c.active_records)
        )
        head = claimed.first()
        if head is None:
            raise LeaseLost(f"sync {run.sync.id} is no longer leased by {run.owner}")
        return int(head[0]), int(head[1]), int(head[2])

    async def _advance(
        self,
        conn: AsyncConnection,
        sync_id: str,
        seq: int,
        total: int,
        active: int,
        progress: Progress,
    ) -> None:
        """Store the sync's new counters and where its run stands, with the page."""
        await conn.execute(
            update(syncs)
            .where(syncs.c.id == sync_id)
            .values(
                last_seq=seq,
                total_records=total,
                active_records=active,
                cursor=progress.cursor,
                **columns(
                    {"checkpoint": progress.checkpoint, "checkpoint_type": progress.checkpoint_type}
                ),
            )
        )

    async def refresh_statistics(self) -> None:
        """Let the planners see what a large run wrote (see `Database.analyze`)."""
        await self.db.analyze("records", "permission_tuples")

    async def active_folders(self, sync_id: str, external_ids: Iterable[str]) -> set[str]:
        """Which of these upstream ids are folders this sync holds (for folder-scoped syncs)."""
        by_record = {record_id(sync_id, ext): ext for ext in external_ids}
        if not by_record:
            return set()
        query = select(records.c.record_id).where(
            records.c.sync_id == sync_id,
            self.db.one_of(records.c.record_id, list(by_record)),
            records.c.is_folder.is_(True),
            records.c.deleted.is_(False),
        )
        async with self.db.read() as conn:
            return {by_record[r[0]] for r in await conn.execute(query)}

    async def active_items(self, sync_id: str, external_ids: Iterable[str]) -> set[str]:
        """Which of these upstream ids this sync holds as live records (folders or not)."""
        by_record = {record_id(sync_id, ext): ext for ext in external_ids}
        if not by_record:
            return set()
        query = select(records.c.record_id).where(
            records.c.sync_id == sync_id,
            self.db.one_of(records.c.record_id, list(by_record)),
            records.c.deleted.is_(False),
        )
        async with self.db.read() as conn:
            return {by_record[r[0]] for r in await conn.execute(query)}

    async def count_unseen(self, sync_id: str, generation: int) -> int:
        """Active records a full listing of `generation` did not see."""
        query = select(func.count()).where(
            records.c.sync_id == sync_id,
            records.c.deleted.is_(False),
            records.c.generation != generation,
        )
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    @atomic
    async def sweep_unseen(self, run: RunWrite, now: datetime, *, batch: int = 1000) -> int:
        """Tombstone, batch by batch, the active records the finished full listing did not see."""
        sync_id = run.sync.id
        swept = 0
        at = _WriteTime.of(now)
        while True:
            async with self.db.write() as conn:
                seq, _total, active = await self._claim_page(conn, run, now)
                rows = (
                    await conn.execute(
                        select(records.c.record_id, records.c.external_id, records.c.seq)
                        .where(
                            records.c.sync_id == sync_id,
                            records.c.deleted.is_(False),
                            records.c.generation != run.generation,
                        )
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    return swept
                changes = []
                notices = []
                first_seq = seq + 1
                for rid, ext, _old in rows:
                    seq += 1
                    changes.append(_tombstone_row(sync_id, rid, ext, seq, run.generation, at))
                    notices.append(
                        record_notice(WebhookEvent.RECORD_DELETED, rid, run.sync.pipeline)
                    )
                await conn.exec_driver_sql(self.db.native(_UPDATE_RECORDS), changes)
                await drop_access(conn, self.db, sync_id, [r[0] for r in rows])
                await self._count_blocks(conn, sync_id, [r[2] for r in rows], first_seq, seq)
                await conn.execute(
                    update(syncs)
                    .where(syncs.c.id == sync_id)
                    .values(last_seq=seq, active_records=active - len(rows))
                )
                await add_outbox(conn, run.sync, notices, now)
                swept += len(rows)

    async def records_page(self, sync_id: str, after_seq: int, limit: int) -> RecordPage:
        """Up to `limit` records changed after `after_seq`, in change order, and how many follow.

        Keyset pagination on (sync_id, seq): the cost does not depend on the cursor's depth.
        """
        async with self.db.read() as conn:
            found = await conn.exec_driver_sql(
                self.db.native(_FEED_PAGE), (sync_id, after_seq, limit)
            )
            rows: Sequence[Any] = found.all()  # Any: (seq, changed_at_ms, data) driver rows
            if not rows:
                return RecordPage([], None, None, 0)
            last = int(rows[-1][0])
            remaining = await self._count_after(conn, sync_id, last)
        return RecordPage([r[2] for r in rows], last, max(r[1] for r in rows), remaining)

    async def count_after(self, sync_id: str, after_seq: int) -> int:
        """How many records the feed holds after `after_seq`."""
        async with self.db.read() as conn:
            return await self._count_after(conn, sync_id, after_seq)

    async def _count_after(self, conn: AsyncConnection, sync_id: str, after_seq: int) -> int:
        # One partial block counted row by row, the blocks after it summed (see _count_blocks).
        block = after_seq // SEQ_BLOCK
        args = (sync_id, after_seq, (block + 1) * SEQ_BLOCK, sync_id, block)
        found = await conn.exec_driver_sql(self.db.native(_COUNT_AFTER), args)
        return int(found.scalar_one())

    async def get_record(self, sync_id: str, rid: str) -> LiveRecord | None:
        """A record that is not deleted; None if absent or deleted."""
        query = select(records.c.data, records.c.external_id, records.c.is_folder).where(
            records.c.sync_id == sync_id,
            records.c.record_id == rid,
            records.c.deleted.is_(False),
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else LiveRecord(row[0], row[1], bool(row[2]))
