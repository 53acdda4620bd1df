"""Request bodies: camelCase as Paragon sends them, snake_case accepted too."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)


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
    access_token: str = Field(
        min_length=1, max_length=8192, validation_alias=AliasChoices("accessToken", "access_token")
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
        min_length=1, max_length=32, validation_alias=AliasChoices("role", "relation")
    )


class BatchCheckBody(_Body):
    # Items are checked one by one, so one malformed item gets its own `error`, not a 422.
    checks: list[Any] = Field(max_length=1000)  # Any: each item is validated on its own


class ListUsersBody(_Body):
    object: str = Field(min_length=1, max_length=400)
    role: str = Field(
        min_length=1, max_length=32, validation_alias=AliasChoices("role", "relation")
    )


class ListObjectsBody(_Body):
    object_type: Literal["file", "folder"] = Field(
        default="file", validation_alias=AliasChoices("objectType", "object_type", "type")
    )
    user: str = Field(min_length=1, max_length=330)
    role: str = Field(
        min_length=1, max_length=32, validation_alias=AliasChoices("role", "relation")
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
