"""The database schema as SQLAlchemy Core tables (one MetaData; migrations mirror it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        # SQLite compares datetimes as text: one naive UTC format keeps the order right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = String(36)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("webhook_url", Text, nullable=True),
    Column("webhook_secret_enc", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("integration", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("access_token_enc", Text, nullable=False),
    Column("refresh_token_enc", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("scopes", Text, nullable=False),
    Column("account_email", String(320), nullable=True),
    # What the provider's token response or account adds (instance URL, API domain, cloud id,
    # keys), a JSON object of strings, encrypted like the tokens.
    Column("provider_data_enc", Text, nullable=True),
    Column("refresh_lock_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "project_id", "user_id", "integration", "created_at"),
)

# An end user's trip through a provider's consent screen (`/connect/...`): the random `id` is
# the OAuth `state`, good once and for a few minutes, bound to the project and user that began.
connect_sessions = Table(
    "connect_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("integration", String(64), nullable=False),
    Column("redirect", Text, nullable=False),
    Column("verifier_enc", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

syncs = Table(
    "syncs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("integration", String(64), nullable=False),
    Column("pipeline", String(64), nullable=False),
    Column("configuration_name", String(255), nullable=False),
    Column("configuration", Text, nullable=False),
    Column("credential_id", ID, nullable=True),
    Column("frequency", String(8), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("cursor", Text, nullable=True),
    Column("checkpoint", Text, nullable=True),
    Column("checkpoint_type", String(16), nullable=True),
    Column("generation", Integer, nullable=False),
    Column("initial_completed_at", UTCDateTime, nullable=True),
    Column("last_synced_at", UTCDateTime, nullable=True),
    Column("last_full_synced_at", UTCDateTime, nullable=True),
    Column("next_run_at", UTCDateTime, nullable=True),
    Column("next_full_at", UTCDateTime, nullable=True),
    Column("requested_run", String(16), nullable=True),
    Column("rate_limit_backoff_ms", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False),
    Column("total_records", BigInteger, nullable=False),
    Column("active_records", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "project_id", "user_id"),
    Index(None, "next_run_at"),
)

# Runs asked for through the API and not yet taken by a worker: one row per sync, a full request
# outranking an incremental one. Kept apart from `syncs` so that asking never waits on the sync
# row, which a run holds locked while it writes a page; claims fold the requests in.
run_requests = Table(
    "run_requests",
    metadata,
    Column("sync_id", ID, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
)

# Keyed by sync first so the table can be hash-partitioned by sync_id later without a code change.
records = Table(
    "records",
    metadata,
    Column("sync_id", ID, primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("hash", String(32), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("is_folder", Boolean, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("changed_at_ms", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    # A digest of the item's permissions and parents: a sharing change rewrites the item's
    # permission tuples without touching the record (no record_updated for it).
    Column("access_hash", String(32), nullable=True),
    Index(None, "sync_id", "seq", unique=True),
)

# Who may open what, as relationship tuples `object#relation@subject` (OpenFGA's shape). Both
# ends are keys of `permission_keys`: a tuple is three integers (see store/permissions.py). The
# keys are numbered per database, each sync's own, so the tuples need no sync column.
permission_keys = Table(
    "permission_keys",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("sync_id", ID, nullable=False),
    # file, folder, drive, group (objects); user, domain, group, folder, drive (subjects).
    Column("type", String(16), nullable=False),
    # A record id, drive id, email, domain, or `*` (anyone with the link).
    Column("name", String(320), nullable=False),
    Index(None, "sync_id", "name", "type", unique=True),
)

permission_tuples = Table(
    "permission_tuples",
    metadata,
    Column("object", BigInteger, primary_key=True),
    Column("relation", SmallInteger, primary_key=True),
    Column("subject", BigInteger, primary_key=True),
    # Reverse walks: a user's groups, a folder's children, the objects a subject holds.
    Index(None, "subject", "relation", "object"),
    # SQLite: the rows live in the primary-key B-tree itself, one B-tree fewer to write.
    sqlite_with_rowid=False,
)

# The shared drives and groups whose members a sync has read, and how that went.
permission_sources = Table(
    "permission_sources",
    metadata,
    Column("sync_id", ID, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)

# Live records per block of 4096 sequence numbers, so the feed can count what follows a cursor
# without scanning it (see Store._count_blocks).
record_blocks = Table(
    "record_blocks",
    metadata,
    Column("sync_id", ID, primary_key=True),
    Column("block", BigInteger, primary_key=True),
    Column("live", BigInteger, nullable=False),
)

# Status: `pending` (due at next_attempt_at, in order per sync), `held` (the project has no
# webhook URL: kept until one is set), `parked` (failed past SYNCLINE_WEBHOOK_BLOCK_AFTER: retried
# on its own, out of order), `delivered`, `failed` (gave up), `skipped` (before migration 0005).
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", ID, nullable=False, unique=True),
    Column("project_id", ID, nullable=False),
    Column("sync_id", ID, nullable=False),
    Column("event", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    # When the event first failed: past SYNCLINE_WEBHOOK_BLOCK_AFTER it is parked, so the
    # events behind it flow.
    Column("first_failed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index(None, "status", "sync_id", "id"),
)

sync_events = Table(
    "sync_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("sync_id", ID, nullable=False),
    Column("project_id", ID, nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("trace_id", ID, nullable=False),
    Column("integration", String(64), nullable=False),
    Column("pipeline", String(64), nullable=False),
    Column("sync_event", String(64), nullable=False),
    Column("sync_type", String(16), nullable=False),
    Column("sync_status", String(16), nullable=False),
    Column("summary", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "sync_id", "id"),
)
