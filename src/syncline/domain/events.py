"""The names of webhook events and event-log entries."""

from __future__ import annotations

import enum


class WebhookEvent(enum.StrEnum):
    SYNC_COMPLETE = "sync_complete"
    SYNC_ERRORED = "sync_errored"
    RECORD_CREATED = "record_created"
    RECORD_UPDATED = "record_updated"
    RECORD_DELETED = "record_deleted"
    RECORD_ERRORED = "record_errored"


class SyncEvent(enum.StrEnum):
    INITIAL_SYNC_STARTED = "INITIAL_SYNC_STARTED"
    INITIAL_SYNC_COMPLETED = "INITIAL_SYNC_COMPLETED"
    INCREMENTAL_SYNC_STARTED = "INCREMENTAL_SYNC_STARTED"
    INCREMENTAL_SYNC_COMPLETED = "INCREMENTAL_SYNC_COMPLETED"
    FULL_SYNC_STARTED = "FULL_SYNC_STARTED"
    FULL_SYNC_COMPLETED = "FULL_SYNC_COMPLETED"
    PERMISSION_SYNC_COMPLETED = "PERMISSION_SYNC_COMPLETED"
    SYNC_RUN_RATE_LIMITED = "SYNC_RUN_RATE_LIMITED"
    SYNC_RUN_RETRY = "SYNC_RUN_RETRY"
    SYNC_RUN_ERROR = "SYNC_RUN_ERROR"
    SYNC_RUN_WARNING = "SYNC_RUN_WARNING"
    WEBHOOK_DELIVERY_FAILED = "WEBHOOK_DELIVERY_FAILED"
    WEBHOOK_DELIVERY_HELD = "WEBHOOK_DELIVERY_HELD"
    WEBHOOK_DELIVERY_PARKED = "WEBHOOK_DELIVERY_PARKED"

    @classmethod
    def started(cls, run: str) -> SyncEvent:
        return cls(f"{run}_SYNC_STARTED")

    @classmethod
    def completed(cls, run: str) -> SyncEvent:
        return cls(f"{run}_SYNC_COMPLETED")
