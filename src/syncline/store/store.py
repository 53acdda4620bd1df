"""The store: every read and write Syncline makes, as use-case verbs over SQLAlchemy Core."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from syncline.domain.credentials import Credential, CredentialStatus
from syncline.domain.events import SyncEvent, WebhookEvent
from syncline.domain.fairness import NO_CAPS, RunCaps, allocate
from syncline.domain.ids import record_id
from syncline.domain.notifications import (
    LogEntry,
    Notice,
    OutboxItem,
    iso,
    record_notice,
    webhook_body,
)
from syncline.domain.projects import Project
from syncline.domain.records import RecordCounts, Upsert, record_hash
from syncline.domain.syncs import Sync, SyncStatus, SyncType
from syncline.errors import LeaseLost
from syncline.store.database import Database, atomic
from syncline.store.permissions import (
    PermissionStore,
    access_digest,
    drop_access,
    forget_sync,
    write_access,
)
from syncline.store.tables import (
    credentials,
    outbox,
    projects,
    record_blocks,
    records,
    run_requests,
    sync_events,
    syncs,
)
from syncline.types import Checkpoint, JSONObject

__all__ = [
    "Delivery",
    "LiveRecord",
    "NewCredential",
    "NewSync",
    "Progress",
    "RecordPage",
    "RunWrite",
    "Store",
    "StoredTokens",
]


_STOPPED = (SyncStatus.DISABLED.value, SyncStatus.ERRORED.value)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _loads(text: str | None) -> Any:  # Any: JSON of any shape, checked by the caller
    return None if text is None else orjson.loads(text)


@dataclass(frozen=True, slots=True)
class NewSync:
    id: str
    project_id: str
    user_id: str
    integration: str
    pipeline: str
    configuration_name: str
    configuration: JSONObject
    credential_id: str
    frequency: str | None


@dataclass(frozen=True, slots=True)
class NewCredential:
    project_id: str
    user_id: str
    integration: str
    access_token_enc: str
    refresh_token_enc: str | None
    expires_at: datetime | None
    scopes: list[str]
    account_email: str | None
    provider_data_enc: str | None = None


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """A credential's tokens as stored (encrypted), with what decides whether to refresh."""

    credential_id: str
    integration: str
    status: CredentialStatus
    access_token_enc: str
    refresh_token_enc: str | None
    expires_at: datetime | None
    refresh_lock_until: datetime | None
    provider_data_enc: str | None = None


@dataclass(frozen=True, slots=True)
class RunWrite:
    """Who writes for a run: every write checks that `owner` still holds the sync's lease."""

    sync: Sync
    owner: str
    trace_id: str
    lease_for: timedelta
    initial: bool
    """An initial listing: it sends no record events, and a page adds records only (see
    `commit_page`)."""
    generation: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stands after a page: stored with the page, so a crash resumes right there."""

    cursor: str | None
    checkpoint: Checkpoint | None
    checkpoint_type: SyncType | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed event and its project's endpoint (None when the project has none)."""

    item: OutboxItem
    url: str | None
    secret_enc: str | None


@dataclass(frozen=True, slots=True)
class LiveRecord:
    data: str
    """The record's JSON text."""
    external_id: str
    is_folder: bool


@dataclass(frozen=True, slots=True)
class RecordPage:
    rows: list[str]
    """Each record's JSON text, ready to be spliced into a response."""
    last_seq: int | None
    last_changed_ms: int | None
    remaining: int
    """How many records follow this page in the feed."""


def _sync_from_row(row: Row[Any]) -> Sync:
    m = row._mapping
    return Sync(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        integration=m["integration"],
        pipeline=m["pipeline"],
        configuration_name=m["configuration_name"],
        configuration=_loads(m["configuration"]),
        credential_id=m["credential_id"],
        frequency=m["frequency"],
        status=SyncStatus(m["status"]),
        reason=m["reason"],
        cursor=m["cursor"],
        checkpoint=_loads(m["checkpoint"]),
        checkpoint_type=SyncType(m["checkpoint_type"]) if m["checkpoint_type"] else None,
        generation=m["generation"],
        initial_completed_at=m["initial_completed_at"],
        last_synced_at=m["last_synced_at"],
        last_full_synced_at=m["last_full_synced_at"],
        next_run_at=m["next_run_at"],
        next_full_at=m["next_full_at"],
        requested_run=SyncType(m["requested_run"]) if m["requested_run"] else None,
        rate_limit_backoff_ms=m["rate_limit_backoff_ms"],
        failures=m["failures"],
        total_records=m["total_records"],
        active_records=m["active_records"],
        last_seq=m["last_seq"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _project_from_row(row: Row[Any]) -> Project:
    m = row._mapping
    return Project(
        id=m["id"],
        name=m["name"],
        public_key_pem=m["public_key_pem"],
        webhook_url=m["webhook_url"],
        webhook_secret_enc=m["webhook_secret_enc"],
        created_at=m["created_at"],
    )


def _credential_from_row(row: Row[Any]) -> Credential:
    m = row._mapping
    return Credential(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        integration=m["integration"],
        status=CredentialStatus(m["status"]),
        account_email=m["account_email"],
        scopes=_loads(m["scopes"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


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
    return _dumps({"id": rid, "externalId": external_id, "deleted": True, "syncedAt": at.iso})


def _record_json(rid: str, data: JSONObject, at: _WriteTime) -> str:
    """The stored record: `id` first, the connector's fields in its order, then `syncedAt`."""
    synced = '"syncedAt":"' + at.iso + '"}'
    if not data:
        return '{"id":"' + rid + '",' + synced
    return '{"id":"' + rid + '",' + _dumps(data)[1:-1] + "," + synced


# Both statements take the same tuple: the columns, then the key (sync_id, record_id).
_INSERT_RECORDS = (
    "INSERT INTO records (seq, external_id, hash, deleted, is_folder, generation, changed_at_ms,"
    " data, access_hash, sync_id, record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NEW_RECORDS = _INSERT_RECORDS + " ON CONFLICT (sync_id, record_id) DO NOTHING"
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
    sync_id: str,
    rid: str,
    item: Upsert,
    digest: str,
    access: str | None,
    seq: int,
    generation: int,
    at: _WriteTime,
) -> tuple[object, ...]:
    """A live record as the tuple `_INSERT_RECORDS` and `_UPDATE_RECORDS` take."""
    data = _record_json(rid, item.data, at)
    return (
        seq,
        item.external_id,
        digest,
        False,
        item.is_folder,
        generation,
        at.ms,
        data,
        access,
        sync_id,
        rid,
    )


def _tombstone_row(
    sync_id: str, rid: str, external_id: str, seq: int, generation: int, at: _WriteTime
) -> tuple[object, ...]:
    data = _tombstone(rid, external_id, at)
    return (seq, external_id, "", True, False, generation, at.ms, data, None, sync_id, rid)


class Store:
    """All persistence, over one `Database` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.permissions = PermissionStore(db)

    # ----------------------------------------------------------------------------- projects

    @atomic
    async def create_project(self, project: Project, now: datetime) -> bool:
        """Insert the project; False (and nothing changed) if one with its id exists."""
        stmt = self.db.upsert(projects).values(
            id=project.id,
            name=project.name,
            public_key_pem=project.public_key_pem,
            webhook_url=project.webhook_url,
            webhook_secret_enc=project.webhook_secret_enc,
            created_at=project.created_at,
            updated_at=now,
        )
        async with self.db.write() as conn:
            inserted = await conn.execute(stmt.on_conflict_do_nothing().returning(projects.c.id))
            return inserted.first() is not None

    @atomic
    async def set_webhook(
        self, project_id: str, url: str | None, secret_enc: str | None, now: datetime
    ) -> int:
        """Set (or, with None, remove) the project's webhook endpoint.

        Events held for want of a URL are due again once one is set, oldest first; returns how
        many were released.
        """
        async with self.db.write() as conn:
            await conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(webhook_url=url, webhook_secret_enc=secret_enc, updated_at=now)
            )
            if url is None:
                return 0
            released = await conn.execute(
                update(outbox)
                .where(outbox.c.project_id == project_id, outbox.c.status == "held")
                .values(status="pending", next_attempt_at=now, lease_until=None)
            )
            return released.rowcount

    async def get_project(self, project_id: str) -> Project | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(projects).where(projects.c.id == project_id))).first()
        return None if row is None else _project_from_row(row)

    async def list_projects(self) -> list[Project]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(projects).order_by(projects.c.created_at))
            return [_project_from_row(r) for r in rows]

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

    # -------------------------------------------------------------------------- credentials

    @atomic
    async def add_credential(self, new: NewCredential, now: datetime) -> Credential:
        cid = str(uuid.uuid4())
        async with self.db.write() as conn:
            await conn.execute(
                insert(credentials).values(
                    id=cid,
                    project_id=new.project_id,
                    user_id=new.user_id,
                    integration=new.integration,
                    status=CredentialStatus.ACTIVE.value,
                    access_token_enc=new.access_token_enc,
                    refresh_token_enc=new.refresh_token_enc,
                    expires_at=new.expires_at,
                    scopes=_dumps(new.scopes),
                    account_email=new.account_email,
                    provider_data_enc=new.provider_data_enc,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Credential(
            id=cid,
            project_id=new.project_id,
            user_id=new.user_id,
            integration=new.integration,
            status=CredentialStatus.ACTIVE,
            account_email=new.account_email,
            scopes=new.scopes,
            created_at=now,
            updated_at=now,
        )

    async def list_credentials(self, project_id: str, user_id: str) -> list[Credential]:
        query = (
            select(credentials)
            .where(credentials.c.project_id == project_id, credentials.c.user_id == user_id)
            .order_by(credentials.c.created_at, credentials.c.id)
        )
        async with self.db.read() as conn:
            return [_credential_from_row(r) for r in await conn.execute(query)]

    async def get_credential(self, project_id: str, user_id: str, cid: str) -> Credential | None:
        query = select(credentials).where(
            credentials.c.id == cid,
            credentials.c.project_id == project_id,
            credentials.c.user_id == user_id,
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _credential_from_row(row)

    async def default_credential(
        self, project_id: str, user_id: str, integration: str
    ) -> Credential | None:
        """The oldest active credential of this user for this integration."""
        query = (
            select(credentials)
            .where(
                credentials.c.project_id == project_id,
                credentials.c.user_id == user_id,
                credentials.c.integration == integration,
                credentials.c.status == CredentialStatus.ACTIVE.value,
            )
            .order_by(credentials.c.created_at, credentials.c.id)
            .limit(1)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _credential_from_row(row)

    async def tokens(self, cid: str) -> StoredTokens | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(credentials).where(credentials.c.id == cid))).first()
        if row is None:
            return None
        m = row._mapping
        return StoredTokens(
            credential_id=cid,
            integration=m["integration"],
            status=CredentialStatus(m["status"]),
            access_token_enc=m["access_token_enc"],
            refresh_token_enc=m["refresh_token_enc"],
            expires_at=m["expires_at"],
            refresh_lock_until=m["refresh_lock_until"],
            provider_data_enc=m["provider_data_enc"],
        )

    @atomic
    async def claim_refresh(self, cid: str, now: datetime, until: datetime) -> bool:
        """Take the right to refresh this credential's token; False if another process has it."""
        stmt = (
            update(credentials)
            .where(
                credentials.c.id == cid,
                or_(
                    credentials.c.refresh_lock_until.is_(None),
                    credentials.c.refresh_lock_until < now,
                ),
            )
            .values(refresh_lock_until=until)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    @atomic
    async def save_tokens(
        self,
        cid: str,
        *,
        access_token_enc: str,
        refresh_token_enc: str | None,
        expires_at: datetime | None,
        now: datetime,
    ) -> None:
        """Store refreshed tokens, release the refresh claim; a None refresh token keeps the old."""
        values: dict[str, object] = {
            "access_token_enc": access_token_enc,
            "expires_at": expires_at,
            "refresh_lock_until": None,
            "updated_at": now,
        }
        if refresh_token_enc is not None:
            values["refresh_token_enc"] = refresh_token_enc
        async with self.db.write() as conn:
            await conn.execute(update(credentials).where(credentials.c.id == cid).values(**values))

    @atomic
    async def release_refresh(self, cid: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(credentials).where(credentials.c.id == cid).values(refresh_lock_until=None)
            )

    @atomic
    async def invalidate_credential(
        self, cid: str, reason: str, now: datetime, *, delete_row: bool
    ) -> list[Sync]:
        """Revoke (or delete) a credential and turn every sync using it ERRORED, with webhooks."""
        async with self.db.write() as conn:
            if delete_row:
                await conn.execute(delete(credentials).where(credentials.c.id == cid))
            else:
                await conn.execute(
                    update(credentials)
                    .where(credentials.c.id == cid)
                    .values(status=CredentialStatus.REVOKED.value, updated_at=now)
                )
            query = select(syncs).where(
                syncs.c.credential_id == cid, syncs.c.status != SyncStatus.DISABLED.value
            )
            affected = [_sync_from_row(r) for r in await conn.execute(query)]
            for sync in affected:
                await self._error_sync(conn, sync, reason, now, trace_id=str(uuid.uuid4()))
        return affected

    async def _error_sync(
        self,
        conn: AsyncConnection,
        sync: Sync,
        reason: str,
        now: datetime,
        *,
        trace_id: str,
        sync_type: SyncType = SyncType.INCREMENTAL,
    ) -> None:
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
        await self._add_outbox(conn, sync, [notice], now)
        entry = LogEntry(
            SyncEvent.SYNC_RUN_ERROR, sync_type, SyncStatus.ERRORED, error={"message": reason}
        )
        await self._add_log(conn, sync, trace_id, [entry], now)

    # -------------------------------------------------------------------------------- syncs

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
            configuration=_dumps(new.configuration),
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
        return _sync_from_row(row), created

    async def get_sync(
        self, sync_id: str, project_id: str | None = None, user_id: str | None = None
    ) -> Sync | None:
        """The sync, or None if it does not exist or belongs to another project or user."""
        query = select(syncs).where(syncs.c.id == sync_id)
        if project_id is not None:
            query = query.where(syncs.c.project_id == project_id)
        if user_id is not None:
            query = query.where(syncs.c.user_id == user_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _sync_from_row(row)

    async def list_syncs(
        self, project_id: str, user_id: str, credential_id: str | None = None
    ) -> list[Sync]:
        query = select(syncs).where(syncs.c.project_id == project_id, syncs.c.user_id == user_id)
        if credential_id is not None:
            query = query.where(syncs.c.credential_id == credential_id)
        async with self.db.read() as conn:
            rows = await conn.execute(query.order_by(syncs.c.created_at, syncs.c.id))
            return [_sync_from_row(r) for r in rows]

    @atomic
    async def update_sync(self, sync_id: str, now: datetime, **values: object) -> None:
        """Change columns of a sync from the API (status, frequency, credential, run requests)."""
        async with self.db.write() as conn:
            await conn.execute(
                update(syncs)
                .where(syncs.c.id == sync_id)
                .values(updated_at=now, **_columns(values))
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
            return [_sync_from_row(r) for r in rows]

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
        changes: dict[str, object] = dict(_columns(values), updated_at=now)
        if "status" in changes:
            # A run never overrides a pause or an error set meanwhile (by the API, or a revocation).
            changes["status"] = case(
                (syncs.c.status.in_(_STOPPED), syncs.c.status), else_=changes["status"]
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
            await self._add_outbox(conn, run.sync, notices, now)
            await self._add_log(conn, run.sync, run.trace_id, entries, now)

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
            await self._error_sync(
                conn, run.sync, reason, now, trace_id=run.trace_id, sync_type=sync_type
            )

    # ------------------------------------------------------------------------------ records

    @atomic
    async def commit_page(
        self,
        run: RunWrite,
        now: datetime,
        *,
        upserts: Sequence[Upsert],
        deletions: Iterable[str] = (),
        progress: Progress,
    ) -> RecordCounts:
        """Apply one upstream page in one transaction: records, their webhooks, the run's progress.

        Unchanged records cost no write beyond the generation stamp of a full listing. `progress`
        holds the sync columns that move with the page (checkpoint or cursor); the write is
        refused with `LeaseLost` if another worker took the sync over.
        """
        sync_id = run.sync.id
        latest: dict[str, Upsert] = {}
        for item in upserts:
            latest[item.external_id] = item  # an upstream page may repeat an item: last wins
        gone = {ext for ext in deletions if ext not in latest}
        ids = {ext: record_id(sync_id, ext) for ext in (*latest, *gone)}
        at = _WriteTime.of(now)

        if run.initial and not gone:
            return await self._insert_page(run, now, list(latest.values()), progress)
        async with self.db.write() as conn:
            seq, total, active = await self._claim_page(conn, run, now)
            first_seq = seq + 1
            existing: dict[str, tuple[str, bool, int, int, str | None]] = {}
            wanted = list(ids.values())
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
            retuple: list[tuple[str, Upsert]] = []
            dropped: list[str] = []
            notices: list[Notice] = []
            created = updated = deleted = 0
            for ext, item in latest.items():
                rid = ids[ext]
                digest = record_hash(item.data)
                access = access_digest(item)
                known = existing.get(rid)
                if access is not None and (known is None or known[1] or known[4] != access):
                    retuple.append((rid, item))
                if known is not None and known[0] == digest and not known[1]:
                    if access is not None and known[4] != access:
                        access_only.append((access, run.generation, sync_id, rid))
                    elif known[2] != run.generation:
                        stamps.append(rid)
                    continue
                seq += 1
                row = _record_row(sync_id, rid, item, digest, access, seq, run.generation, at)
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
            for ext in gone:
                rid = ids[ext]
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
            await self._add_outbox(conn, run.sync, notices, now)
        return RecordCounts(created, updated, deleted, processed=len(latest) + len(gone))

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
        self, run: RunWrite, now: datetime, items: list[Upsert], progress: Progress
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
            rows = []
            with_access: list[tuple[str, Upsert]] = []
            for item in items:
                rid = record_id(sync_id, item.external_id)
                seq += 1
                digest = record_hash(item.data)
                access = access_digest(item)
                if access is not None:
                    with_access.append((rid, item))
                rows.append(
                    _record_row(sync_id, rid, item, digest, access, seq, run.generation, at)
                )
            added = 0
            if rows:
                result = await conn.exec_driver_sql(self.db.native(_INSERT_NEW_RECORDS), rows)
                added = result.rowcount
                first = seq - len(rows) + 1
                if added == len(rows):  # every new sequence number is live: count by arithmetic
                    await self._add_to_blocks(conn, sync_id, _block_spans(first, seq))
                else:
                    await self._count_blocks(conn, sync_id, [], first, seq)
                await write_access(conn, self.db, sync_id, with_access, replace=False)
            await self._advance(conn, sync_id, seq, total + added, active + added, progress)
        return RecordCounts(created=added, processed=len(items))

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
                **_columns(
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
                await self._add_outbox(conn, run.sync, notices, now)
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

    # ------------------------------------------------------------------- outbox and event log

    async def _add_outbox(
        self, conn: AsyncConnection, sync: Sync, notices: Sequence[Notice], now: datetime
    ) -> None:
        if not notices:
            return
        rows = [
            {
                "event_id": n.event_id,
                "project_id": sync.project_id,
                "sync_id": sync.id,
                "event": n.event.value,
                "payload": _dumps(webhook_body(n, sync, now)),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for n in notices
        ]
        await conn.execute(insert(outbox), rows)

    async def _add_log(
        self,
        conn: AsyncConnection,
        sync: Sync,
        trace_id: str,
        entries: Sequence[LogEntry],
        now: datetime,
    ) -> None:
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
                "summary": None if e.summary is None else _dumps(e.summary),
                "error": None if e.error is None else _dumps(e.error),
                "created_at": now,
            }
            for e in entries
        ]
        await conn.execute(insert(sync_events), rows)

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
                "summary": _loads(r._mapping["summary"]),
                "error": _loads(r._mapping["error"]),
            }
            for r in rows
        ]

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
                sync = _sync_from_row(row)
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
                await self._add_log(conn, sync, str(uuid.uuid4()), [entry], now)

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
                await self._add_log(conn, log[0], str(uuid.uuid4()), log[1], now)

    async def outbox_counts(self) -> dict[str, int]:
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        async with self.db.read() as conn:
            return {r[0]: int(r[1]) for r in await conn.execute(query)}


def _columns(values: dict[str, object]) -> dict[str, object]:
    """Sync attribute values as column values: JSON columns serialized, enums as their value."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in ("checkpoint", "configuration"):
            out[key] = None if value is None else _dumps(value)
        elif isinstance(value, SyncStatus | SyncType):
            out[key] = value.value
        else:
            out[key] = value
    return out
