"""Syncs: statuses, run types, frequencies, and the sync as the engine sees it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncline.types import Checkpoint, JSONObject


class SyncStatus(enum.StrEnum):
    INITIALIZING = "INITIALIZING"
    ACTIVE = "ACTIVE"
    IDLE = "IDLE"
    RATE_LIMITED = "RATE_LIMITED"
    DISABLED = "DISABLED"
    ERRORED = "ERRORED"


class SyncType(enum.StrEnum):
    """The kind of run, as event logs name it."""

    INITIAL = "INITIAL"
    INCREMENTAL = "INCREMENTAL"
    FULL = "FULL"
    PERMISSION = "PERMISSION"


FREQUENCIES: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "10m": timedelta(minutes=10),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
}
DEFAULT_FREQUENCY = "1m"


def frequency_interval(value: str) -> timedelta:
    """The interval of an `incrementalAccumulatorFrequency` value; KeyError if it is not one."""
    return FREQUENCIES[value]


@dataclass(frozen=True, slots=True)
class Sync:
    """One enabled sync, as stored."""

    id: str
    project_id: str
    user_id: str
    integration: str
    pipeline: str
    configuration_name: str
    configuration: JSONObject
    credential_id: str | None
    frequency: str | None
    status: SyncStatus
    reason: str | None
    cursor: str | None
    """The upstream change-feed position to read from next (e.g. Drive's page token)."""
    checkpoint: Checkpoint | None
    """Where an unfinished initial or full listing resumes; None when no listing is under way."""
    checkpoint_type: SyncType | None
    generation: int
    """Bumped by each full listing; records it did not stamp are gone once the listing completes."""
    initial_completed_at: datetime | None
    last_synced_at: datetime | None
    last_full_synced_at: datetime | None
    next_run_at: datetime | None
    next_full_at: datetime | None
    requested_run: SyncType | None
    """A run asked for by trigger or PATCH, taken before the schedule's choice."""
    rate_limit_backoff_ms: int | None
    failures: int
    """Consecutive failed runs, for backoff."""
    total_records: int
    active_records: int
    last_seq: int
    created_at: datetime
    updated_at: datetime

    @property
    def interval(self) -> timedelta:
        return frequency_interval(self.frequency or DEFAULT_FREQUENCY)


def next_run_type(sync: Sync, now: datetime) -> SyncType:
    """Which run a due sync needs: initial first, then full when due, else incremental."""
    if sync.initial_completed_at is None:
        return SyncType.INITIAL
    if sync.checkpoint is not None and sync.checkpoint_type is SyncType.FULL:
        return SyncType.FULL
    if sync.requested_run is not None:
        return sync.requested_run
    if sync.cursor is None or (sync.next_full_at is not None and sync.next_full_at <= now):
        return SyncType.FULL
    return SyncType.INCREMENTAL
