"""Syncs: enabling, claiming due runs under a lease, run state and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.events import SyncEvent, WebhookEvent
from syncline.domain.fairness import NO_CAPS, RunCaps, allocate
from syncline.domain.notifications import LogEntry, Notice
from syncline.domain.syncs import Sync, SyncStatus, SyncType
from syncline.errors import LeaseLost
from syncline.store.database import Database, atomic
from syncline.store.eventlog import add_log
from syncline.store.outbox import add_outbox
from syncline.store.permissions import forget_sync
from syncline.store.releases import Release, ReleaseQueue
from syncline.store.shapes import STOPPED, NewSync, RunWrite, columns, dumps, sync_from_row
from syncline.store.tables import record_blocks, records, run_requests, sync_events, syncs


async def error_sync(
    conn: AsyncConnection,
    sync: Sync,
    reason: str,
    now: datetime,
    *,
    trace_id: str,
    sync_type: SyncType = SyncType.INCREMENTAL,
) -> None:
    """Turn a sync ERRORED with its reason, a `sync_errored` webhook and a log entry, in the
    caller's transaction."""
    await conn.execute(
        update(syncs)
        .where(syncs.c.id == sync.id)
        .values(
            status=SyncStatus.ERRORED.value,
            reason=reason,
            next_run_at=None,
            rate_limit_backoff_ms=None,
            updated_at=now,
        )
    )
    notice = Notice(WebhookEvent.SYNC_ERRORED, error={"message": reason})
    await add_outbox(conn, sync, [notice], now)
    entry = LogEntry(
        SyncEvent.SYNC_RUN_ERROR, sync_type, SyncStatus.ERRORED, error={"message": reason}
    )
    await add_log(conn, sync, trace_id, [entry], now)


class SyncStore:
    """Syncs, their schedule, claims, leases and run state."""

    db: Database
    releases: ReleaseQueue

    @atomic
    async def create_sync(self, new: NewSync, now: datetime) -> tuple[Sync, bool]:
        """Insert the sync unless it exists; returns it and whether it was created."""
        stmt = self.db.upsert(syncs).values(
            id=new.id,
            project_id=new.project_id,
            user_id=new.user_id,
            integration=new.integration,
            pipeline=new.pipeline,
            configuration_name=new.configuration_name,
            configuration=dumps(new.configuration),
            credential_id=new.credential_id,
            frequency=new.frequency,
            status=SyncStatus.INITIALIZING.value,
            generation=1,
            next_run_at=now,
            failures=0,
            total_records=0,
            active_records=0,
            last_seq=0,
            created_at=now,
            updated_at=now,
        )
        async with self.db.write() as conn:
            inserted = await conn.execute(stmt.on_conflict_do_nothing().returning(syncs.c.id))
            created = inserted.first() is not None
            row = (await conn.execute(select(syncs).where(syncs.c.id == new.id))).one()
        return sync_from_row(row), created

    async def get_sync(
        self, sync_id: str, project_id: str | None = None, user_id: str | None = None
    ) -> Sync | None:
        """The sync, or None if it does not exist or belongs to another project or user."""
        query = select(syncs).where(syncs.c.id == sync_id)
        if project_id is not None:
            query = query.where(syncs.c.project_id == project_id)
        if user_id is not None:
            query = query.where(syncs.c.user_id == user_id)
        async with self.db.read(snapshot=False) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else sync_from_row(row)

    async def list_syncs(
        self, project_id: str, user_id: str, credential_id: str | None = None
    ) -> list[Sync]:
        query = select(syncs).where(syncs.c.project_id == project_id, syncs.c.user_id == user_id)
        if credential_id is not None:
            query = query.where(syncs.c.credential_id == credential_id)
        async with self.db.read() as conn:
            rows = await conn.execute(query.order_by(syncs.c.created_at, syncs.c.id))
            return [sync_from_row(r) for r in rows]

    @atomic
    async def update_sync(self, sync_id: str, now: datetime, **values: object) -> None:
        """Change columns of a sync from the API (status, frequency, credential, run requests)."""
        async with self.db.write() as conn:
            await conn.execute(
                update(syncs).where(syncs.c.id == sync_id).values(updated_at=now, **columns(values))
            )

    @atomic
    async def delete_sync(self, sync_id: str) -> None:
        """Delete the sync with its records, checkpoint and event log."""
        async with self.db.write() as conn:
            await conn.execute(delete(records).where(records.c.sync_id == sync_id))
            await conn.execute(delete(record_blocks).where(record_blocks.c.sync_id == sync_id))
            await conn.execute(delete(sync_events).where(sync_events.c.sync_id == sync_id))
            await forget_sync(conn, sync_id)
            await conn.execute(delete(run_requests).where(run_requests.c.sync_id == sync_id))
            await conn.execute(delete(syncs).where(syncs.c.id == sync_id))

    @atomic
    async def claim_due(
        self,
        owner: str,
        now: datetime,
        limit: int,
        lease_for: timedelta,
        caps: RunCaps = NO_CAPS,
    ) -> list[Sync]:
        """Lease up to `limit` syncs whose next run is due and that no live worker holds, shared
        fairly among projects within the cluster-wide `caps`."""
        due = (
            syncs.c.next_run_at <= now,
            syncs.c.status.not_in([SyncStatus.DISABLED.value, SyncStatus.ERRORED.value]),
            or_(syncs.c.lease_expires_at.is_(None), syncs.c.lease_expires_at < now),
        )
        waiting = (
            select(syncs.c.project_id, func.count())
            .where(*due)
            .group_by(syncs.c.project_id)
            .order_by(func.min(syncs.c.next_run_at))
        )
        live = (
            select(syncs.c.project_id, func.count())
            .where(syncs.c.lease_owner.is_not(None), syncs.c.lease_expires_at >= now)
            .group_by(syncs.c.project_id)
        )
        async with self.db.write() as conn:
            # Caps count runs on every worker: claims take turns so two cannot both see room.
            await self.db.serialize(conn, "syncline.claim_due")
            # Syncs asked for run now. One a run holds is left alone (its row is locked while it
            # writes a page): its request waits here for the claim after the run.
            await conn.execute(
                update(syncs)
                .where(
                    syncs.c.id.in_(select(run_requests.c.sync_id)),
                    syncs.c.next_run_at > now,
                    *due[1:],
                )
                .values(next_run_at=now)
            )
            by_project = {r[0]: r[1] for r in await conn.execute(waiting)}
            if not by_project:
                return []
            running = {r[0]: r[1] for r in await conn.execute(live)}
            ids: list[str] = []
            for project, count in allocate(limit, by_project, running, caps).items():
                pick = self.db.skip_locked(
                    select(syncs.c.id)
                    .where(syncs.c.project_id == project, *due)
                    .order_by(syncs.c.next_run_at)
                    .limit(count)
                )
                ids += [r[0] for r in await conn.execute(pick)]
            if not ids:
                return []
            await conn.execute(
                update(syncs)
                .where(syncs.c.id.in_(ids))
                .values(lease_owner=owner, lease_expires_at=now + lease_for)
            )
            await self._take_requests(conn, ids)
            rows = await conn.execute(select(syncs).where(syncs.c.id.in_(ids)))
            return [sync_from_row(r) for r in rows]

    async def _take_requests(self, conn: AsyncConnection, ids: list[str]) -> None:
        """Fold the run requests of claimed syncs into their `requested_run` (a full request,
        stored or new, wins) and drop them. Before the initial sync there is nothing to ask
        for: that first run lists everything anyway."""
        requested = (
            select(run_requests.c.kind)
            .where(run_requests.c.sync_id == syncs.c.id)
            .scalar_subquery()
        )
        full = SyncType.FULL.value
        await conn.execute(
            update(syncs)
            .where(
                syncs.c.id.in_(ids),
                syncs.c.id.in_(select(run_requests.c.sync_id)),
                syncs.c.initial_completed_at.is_not(None),
            )
            .values(
                requested_run=case(
                    (or_(syncs.c.requested_run == full, requested == full), full),
                    else_=SyncType.INCREMENTAL.value,
                )
            )
        )
        await conn.execute(delete(run_requests).where(run_requests.c.sync_id.in_(ids)))

    @atomic
    async def request_run(self, sync_id: str, kind: SyncType, now: datetime) -> None:
        """Ask for a run of `kind` now, without touching the sync's row (a run may hold it);
        a full request is never turned into an incremental one by a later request."""
        stmt = self.db.upsert(run_requests).values(
            sync_id=sync_id, kind=kind.value, requested_at=now
        )
        merged = case(
            (run_requests.c.kind == SyncType.FULL.value, SyncType.FULL.value),
            else_=stmt.excluded.kind,
        )
        async with self.db.write() as conn:
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["sync_id"], set_={"kind": merged})
            )

    @atomic
    async def release_all_leases(self) -> int:
        """Free every sync lease (embedded mode at start: no other process can hold one)."""
        stmt = (
            update(syncs)
            .where(syncs.c.lease_owner.is_not(None))
            .values(lease_owner=None, lease_expires_at=None)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount

    @atomic
    async def heartbeat(self, sync_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease; False if this owner lost it."""
        stmt = (
            update(syncs)
            .where(syncs.c.id == sync_id, syncs.c.lease_owner == owner)
            .values(lease_expires_at=until)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    @atomic
    async def update_run(
        self,
        run: RunWrite,
        now: datetime,
        *,
        values: dict[str, object],
        notices: Sequence[Notice] = (),
        entries: Sequence[LogEntry] = (),
        release: bool = False,
    ) -> None:
        """Change the run state, with its webhooks and log lines, if the lease is still ours."""
        changes: dict[str, object] = dict(columns(values), updated_at=now)
        if release and not notices and not entries:
            # The end of a quiet run (most runs): written together with others ending now.
            if not await self.releases.release(Release(run.sync.id, run.owner, changes)):
                raise LeaseLost(f"sync {run.sync.id} is no longer leased by {run.owner}")
            return
        if "status" in changes:
            # A run never overrides a pause or an error set meanwhile (by the API, or a revocation).
            changes["status"] = case(
                (syncs.c.status.in_(STOPPED), syncs.c.status), else_=changes["status"]
            )
        if release:
            changes.update(lease_owner=None, lease_expires_at=None)
        else:
            changes["lease_expires_at"] = now + run.lease_for
        async with self.db.write() as conn:
            result = await conn.execute(
                update(syncs)
                .where(syncs.c.id == run.sync.id, syncs.c.lease_owner == run.owner)
                .values(**changes)
            )
            if result.rowcount != 1:
                raise LeaseLost(f"sync {run.sync.id} is no longer leased by {run.owner}")
            await add_outbox(conn, run.sync, notices, now)
            await add_log(conn, run.sync, run.trace_id, entries, now)

    @atomic
    async def error_run(
        self, run: RunWrite, reason: str, sync_type: SyncType, now: datetime
    ) -> None:
        """End a run in ERRORED, with the `sync_errored` webhook and an error log line."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(syncs)
                .where(syncs.c.id == run.sync.id, syncs.c.lease_owner == run.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )
            if result.rowcount != 1:
                raise LeaseLost(f"sync {run.sync.id} is no longer leased by {run.owner}")
            await error_sync(
                conn, run.sync, reason, now, trace_id=run.trace_id, sync_type=sync_type
            )
