"""What the store's verbs take and give: plain dataclasses, and rows turned into domain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Row

from syncline.domain.credentials import Credential, CredentialStatus
from syncline.domain.notifications import OutboxItem
from syncline.domain.projects import Project
from syncline.domain.syncs import Sync, SyncStatus, SyncType
from syncline.types import Checkpoint, JSONObject

STOPPED = (SyncStatus.DISABLED.value, SyncStatus.ERRORED.value)


def dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | None) -> Any:  # Any: JSON of any shape, checked by the caller
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
class ConnectSession:
    """An end user's authorization in progress: who began it, and where to send them back."""

    id: str
    project_id: str
    user_id: str
    integration: str
    redirect: str
    verifier_enc: str | None
    expires_at: datetime


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
    scopes: tuple[str, ...] = ()
    """What the user granted, as far as it is known."""


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


def sync_from_row(row: Row[Any]) -> Sync:
    m = row._mapping
    return Sync(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        integration=m["integration"],
        pipeline=m["pipeline"],
        configuration_name=m["configuration_name"],
        configuration=loads(m["configuration"]),
        credential_id=m["credential_id"],
        frequency=m["frequency"],
        status=SyncStatus(m["status"]),
        reason=m["reason"],
        cursor=m["cursor"],
        checkpoint=loads(m["checkpoint"]),
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


def project_from_row(row: Row[Any]) -> Project:
    m = row._mapping
    return Project(
        id=m["id"],
        name=m["name"],
        public_key_pem=m["public_key_pem"],
        webhook_url=m["webhook_url"],
        webhook_secret_enc=m["webhook_secret_enc"],
        created_at=m["created_at"],
    )


def credential_from_row(row: Row[Any]) -> Credential:
    m = row._mapping
    return Credential(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        integration=m["integration"],
        status=CredentialStatus(m["status"]),
        account_email=m["account_email"],
        scopes=loads(m["scopes"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def columns(values: dict[str, object]) -> dict[str, object]:
    """Sync attribute values as column values: JSON columns serialized, enums as their value."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in ("checkpoint", "configuration"):
            out[key] = None if value is None else dumps(value)
        elif isinstance(value, SyncStatus | SyncType):
            out[key] = value.value
        else:
            out[key] = value
    return out
