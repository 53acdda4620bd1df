"""Request bodies (camelCase as Paragon sends them, snake_case accepted too), and the shapes of
response bodies as the OpenAPI schema documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from syncline.permissions.model import ROLES

# Documents the roles the API answers for; the routes check them and answer INVALID_ROLE.
_ROLES: dict[str, Any] = {"enum": list(ROLES)}


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL, and no name, token or id of ours contains one.
        strings = value if isinstance(value, list) else [value]
        if any(isinstance(s, str) and "\x00" in s for s in strings):
            raise ValueError("must not contain NUL characters")
        return value


class SyncUpdate(_Body):
    """What PATCH may change; enabling a sync accepts the same fields."""

    credential_id: UUID | None = Field(
        default=None, validation_alias=AliasChoices("credentialId", "credential_id")
    )
    frequency: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "incrementalAccumulatorFrequency", "incremental_accumulator_frequency"
        ),
    )


class SyncCreate(SyncUpdate):
    integration: str = Field(min_length=1, max_length=64)
    pipeline: str = Field(min_length=1, max_length=64)
    configuration: dict[str, Any] | None = None  # Any: validated by the connector's config model
    configuration_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        validation_alias=AliasChoices("configurationName", "configuration_name"),
    )


class TriggerRequest(_Body):
    type: Literal["incremental", "full"] = "incremental"


class CredentialCreate(_Body):
    integration: str = Field(min_length=1, max_length=64)
    access_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=8192,
        validation_alias=AliasChoices("accessToken", "access_token"),
        description="Required, except for integrations whose credential is keys in "
        "providerData (amazons3).",
    )
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=8192,
        validation_alias=AliasChoices("refreshToken", "refresh_token"),
    )
    expires_at: datetime | None = Field(
        default=None, validation_alias=AliasChoices("expiresAt", "expires_at")
    )
    scopes: list[str] = Field(default_factory=list, max_length=200)
    account_email: str | None = Field(
        default=None, max_length=320, validation_alias=AliasChoices("accountEmail", "account_email")
    )
    provider_data: dict[str, str] | None = Field(
        default=None,
        max_length=20,
        validation_alias=AliasChoices("providerData", "provider_data"),
        description="What the provider's token response or account adds (instanceUrl, "
        "apiDomain, cloudId, keys); encrypted at rest and never returned.",
    )

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone, e.g. 2026-01-01T00:00:00Z")
        return value


# -- Permissions API (Paragon's bodies; `relation` accepted for `role`, as older docs sent) --


class CheckBody(_Body):
    object: str = Field(min_length=1, max_length=400)
    user: str = Field(min_length=1, max_length=330)
    role: str = Field(
        min_length=1,
        max_length=32,
        validation_alias=AliasChoices("role", "relation"),
        json_schema_extra=_ROLES,
    )


class BatchCheckBody(_Body):
    # Items are checked one by one, so one malformed item gets its own `error`, not a 422.
    checks: list[Any] = Field(max_length=1000)  # Any: each item is validated on its own


class ListUsersBody(_Body):
    object: str = Field(min_length=1, max_length=400)
    role: str = Field(
        min_length=1,
        max_length=32,
        validation_alias=AliasChoices("role", "relation"),
        json_schema_extra=_ROLES,
    )


class ListObjectsBody(_Body):
    object_type: Literal["file", "folder"] = Field(
        default="file", validation_alias=AliasChoices("objectType", "object_type", "type")
    )
    user: str = Field(min_length=1, max_length=330)
    role: str = Field(
        min_length=1,
        max_length=32,
        validation_alias=AliasChoices("role", "relation"),
        json_schema_extra=_ROLES,
    )
    cursor: str | None = Field(default=None, max_length=400)
    limit: int = Field(default=1000, ge=1, le=1000)


class ExpandBody(_Body):
    object: str = Field(min_length=1, max_length=400)
    relation: str = Field(
        min_length=1, max_length=32, validation_alias=AliasChoices("relation", "role")
    )


# -- Admin API (operator-only) --


class WebhookSet(_Body):
    """`PUT /admin/projects/{projectId}/webhook`: the endpoint, and its secret unless generated."""

    url: str = Field(min_length=1, max_length=2048)
    secret: str | None = Field(default=None, min_length=1, max_length=200, repr=False)


# -- Response bodies: documentation for the OpenAPI schema; the routes build plain dicts --


class SyncEnabled(BaseModel):
    id: str
    userId: str  # noqa: N815 - the API's camelCase names
    integration: str
    pipeline: str
    projectId: str  # noqa: N815
    configurationName: str | None  # noqa: N815
    credentialId: str | None  # noqa: N815
    status: str


class SyncListed(BaseModel):
    id: str
    integration: str
    pipeline: str
    status: str
    reason: str | None
    configurationName: str | None  # noqa: N815
    credentialId: str | None  # noqa: N815
    dateCreated: str  # noqa: N815
    dateUpdated: str  # noqa: N815


class SyncList(BaseModel):
    data: list[SyncListed]


class SyncSummary(BaseModel):
    totalRecords: int  # noqa: N815
    totalActiveRecords: int  # noqa: N815
    syncedRecordsCount: int  # noqa: N815
    lastSyncedAt: str | None  # noqa: N815
    lastPeriodicFullSyncedAt: str | None  # noqa: N815
    latestCursor: str  # noqa: N815


class SyncStatusPublic(BaseModel):
    id: str
    integration: str
    pipeline: str
    configurationName: str | None  # noqa: N815
    status: str
    summary: SyncSummary
    credentialId: str | None  # noqa: N815
    incrementalAccumulatorFrequency: str | None = None  # noqa: N815
    rateLimitBackoffMs: int | None = None  # noqa: N815
    reason: str | None = None


class SyncUpdateData(BaseModel):
    credentialId: str | None  # noqa: N815
    incrementalAccumulatorFrequency: str | None = None  # noqa: N815


class SyncUpdated(BaseModel):
    id: str
    data: SyncUpdateData
    message: str


class SyncAction(BaseModel):
    id: str
    status: str
    message: str


class TriggerAccepted(BaseModel):
    id: str
    type: Literal["incremental", "full"]


class SyncDeleted(BaseModel):
    id: str
    message: str


class SyncEvent(BaseModel):
    id: int
    syncId: str  # noqa: N815
    traceId: str  # noqa: N815
    userId: str  # noqa: N815
    integration: str
    pipeline: str
    syncEvent: str  # noqa: N815
    syncType: str  # noqa: N815
    syncStatus: str  # noqa: N815
    summary: dict[str, Any] | None
    error: dict[str, Any] | None
    timestamp: str


class CursorPaging(BaseModel):
    cursor: str | None


class EventsPage(BaseModel):
    data: list[SyncEvent]
    paging: CursorPaging


class Record(BaseModel):
    """A record of the sync's pipeline; a deleted one is a tombstone `{id, externalId, deleted}`."""

    id: str
    externalId: str  # noqa: N815
    deleted: bool = False


class RecordsPaging(BaseModel):
    totalRecords: int  # noqa: N815
    totalActiveRecords: int  # noqa: N815
    remainingRecords: int  # noqa: N815
    cursor: str
    lastSeen: int | None  # noqa: N815


class RecordsPage(BaseModel):
    data: list[Record]
    paging: RecordsPaging


class OneRecord(BaseModel):
    data: Record


class CredentialPublic(BaseModel):
    id: str
    integration: str
    status: str
    accountEmail: str | None  # noqa: N815
    scopes: list[str]
    dateCreated: str  # noqa: N815


class CredentialImported(CredentialPublic):
    warnings: list[str] | None = None
    """What could not be checked on import (the provider was unreachable); absent when none."""


class CredentialList(BaseModel):
    data: list[CredentialPublic]


class CredentialDeleted(BaseModel):
    id: str
    status: Literal["DELETED"]


class Me(BaseModel):
    userId: str  # noqa: N815
    allCredentials: list[CredentialPublic]  # noqa: N815


class CheckResult(BaseModel):
    hasAccess: bool  # noqa: N815


class BatchCheckItem(BaseModel):
    allowed: bool
    request: Any
    error: str | None = None


class BatchCheckResult(BaseModel):
    result: list[BatchCheckItem]


class UsersResult(BaseModel):
    users: list[str]


class ObjectsResult(BaseModel):
    objects: list[str]
    cursor: str | None = None


class ExpandResult(BaseModel):
    """OpenFGA's Expand answer: `{"tree": {"root": node}}`."""

    tree: dict[str, Any]
