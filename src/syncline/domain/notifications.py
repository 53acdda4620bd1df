"""What Syncline tells the application: webhook payloads and event-log entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from syncline.domain.events import SyncEvent, WebhookEvent
from syncline.domain.syncs import Sync, SyncStatus, SyncType
from syncline.types import JSONObject


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as Paragon's payloads show timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Notice:
    """A webhook event waiting to be written to the outbox with the change that causes it."""

    event: WebhookEvent
    data: JSONObject | None = None
    error: JSONObject | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def webhook_body(notice: Notice, sync: Sync, now: datetime) -> JSONObject:
    """The JSON body of a webhook: Paragon's envelope plus a stable `id` and a `timestamp`."""
    body: JSONObject = {
        "id": notice.event_id,
        "event": notice.event.value,
        "timestamp": iso(now),
        "sync": sync.integration,
        "syncInstanceId": sync.id,
        "credentialId": sync.credential_id,
        "user": {"id": sync.user_id},
    }
    if notice.data is not None:
        body["data"] = notice.data
    if notice.error is not None:
        body["error"] = notice.error
    return body


def record_notice(event: WebhookEvent, record_id: str, pipeline: str) -> Notice:
    return Notice(event, data={"recordId": record_id, "model": pipeline})


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event-log line of a run."""

    sync_event: SyncEvent
    sync_type: SyncType
    sync_status: SyncStatus
    summary: JSONObject | None = None
    error: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A webhook event claimed for delivery."""

    id: int
    event_id: str
    project_id: str
    sync_id: str
    event: str
    payload: str
    attempts: int
    created_at: datetime
    status: str = "pending"
    """`pending` (in order behind its sync's earlier events) or `parked` (on its own)."""
    first_failed_at: datetime | None = None
