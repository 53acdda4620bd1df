"""Each pipeline's record as a `TypedDict`: a connector builds plain dicts (no object per
record on the hot path), mypy checks their keys, and pydantic validates them in tests and
writes their JSON Schema for the OpenAPI document.

A record here is what a connector emits: everything but `id` and `syncedAt`, which the store
adds. Every key is present (a value may be null), and no other key is allowed: provider fields
the schema has no place for go to `customFields` (`originalRecord` for tickets), never dropped
and never beside the schema's own.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, NotRequired

from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

__all__ = [
    "PIPELINES",
    "Address",
    "CompanyRecord",
    "ContactRecord",
    "CustomObjectRecord",
    "DealRecord",
    "Email",
    "FileHash",
    "FileRecord",
    "Person",
    "Phone",
    "TicketRecord",
    "TicketStatus",
    "published_schema",
    "validate_record",
]

_CLOSED = ConfigDict(extra="forbid")

Timestamp = str
"""ISO-8601 UTC with milliseconds and `Z`: `2024-05-02T10:11:12.345Z`."""
Fields = dict[str, Any]  # Any: provider fields, as the provider sends them


@with_config(_CLOSED)
class FileHash(TypedDict):
    type: str
    """`MD5`, `SHA1`, `QUICKXOR`, ... as the provider computes it."""
    value: str


@with_config(_CLOSED)
class FileRecord(TypedDict):
    """A file, folder or page (`files`)."""

    externalId: str
    name: str
    mimeType: str
    size: int | None
    url: str | None
    thumbnailUrl: str | None
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    hash: FileHash | None
    parentFolderId: str | None
    customFields: Fields
    parentId: NotRequired[str | None]
    """The parent page or database (Notion child pages)."""


@with_config(_CLOSED)
class Email(TypedDict):
    value: str
    type: str | None


@with_config(_CLOSED)
class Phone(TypedDict):
    value: str
    type: str | None


@with_config(_CLOSED)
class Address(TypedDict):
    street: str | None
    city: str | None
    state: str | None
    postalCode: str | None
    country: str | None
    type: str | None


@with_config(_CLOSED)
class ContactRecord(TypedDict):
    """A person in a CRM (`contacts`); `emails` and `phoneNumbers` list the primary first."""

    externalId: str
    firstName: str | None
    lastName: str | None
    fullName: str | None
    companyName: str | None
    jobTitle: str | None
    emails: list[Email]
    phoneNumbers: list[Phone]
    addresses: list[Address]
    type: str | None
    status: str | None
    ownerId: str | None
    lifecycleStage: str | None
    leadSource: str | None
    tags: list[str]
    website: str | None
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    lastActivityAt: Timestamp | None
    customFields: Fields


@with_config(_CLOSED)
class CompanyRecord(TypedDict):
    """A company, organization or account (`companies`)."""

    externalId: str
    name: str | None
    domain: str | None
    website: str | None
    industry: str | None
    description: str | None
    phoneNumbers: list[Phone]
    addresses: list[Address]
    numberOfEmployees: int | None
    annualRevenue: float | None
    ownerId: str | None
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    customFields: Fields


@with_config(_CLOSED)
class DealRecord(TypedDict):
    """An opportunity or deal (`deals`)."""

    externalId: str
    name: str | None
    amount: float | None
    currency: str | None
    statusType: Literal["open", "closed_won", "closed_lost"]
    status: str | None
    """The provider's own stage or status label."""
    accountId: str | None
    ownerId: str | None
    closeDate: str | None
    probability: float | None
    description: str | None
    nextStep: str | None
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    customFields: Fields


@with_config(_CLOSED)
class CustomObjectRecord(TypedDict):
    """A record of a custom object type (`custom_objects`): every field as the provider sends."""

    externalId: str
    objectType: str
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    customFields: Fields


@with_config(_CLOSED)
class TicketStatus(TypedDict):
    name: str
    category: Literal["open", "in_progress", "closed"]


@with_config(_CLOSED)
class Person(TypedDict):
    id: str | None
    name: str | None
    email: str | None


@with_config(_CLOSED)
class TicketRecord(TypedDict):
    """A ticket or issue (`tickets`); `description` is Markdown."""

    externalId: str
    title: str
    type: str | None
    status: TicketStatus
    priority: Literal["low", "normal", "high", "urgent"]
    assignees: list[Person]
    createdBy: Person | None
    description: str | None
    tags: list[str]
    dueAt: Timestamp | None
    resolvedAt: Timestamp | None
    externalUrl: str | None
    project: Fields | None
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    originalRecord: Fields


PIPELINES: dict[str, type[Any]] = {
    "files": FileRecord,
    "contacts": ContactRecord,
    "companies": CompanyRecord,
    "deals": DealRecord,
    "custom_objects": CustomObjectRecord,
    "tickets": TicketRecord,
}
"""Every pipeline of the catalogue and the record its connectors emit."""


@functools.cache
def _adapter(pipeline: str) -> TypeAdapter[Any]:
    return TypeAdapter(PIPELINES[pipeline])


def validate_record(pipeline: str, data: object) -> None:
    """Check that `data` is a record of `pipeline`, as a connector emits it.

    Raises:
        KeyError: no such pipeline.
        pydantic.ValidationError: a key is missing, unknown, or of the wrong type.
    """
    _adapter(pipeline).validate_python(data, strict=True)


def published_schema(pipeline: str) -> dict[str, Any]:
    """The JSON Schema of a record of `pipeline` as the records endpoint serves it: the
    connector's fields, plus `id` and `syncedAt`, which the store adds."""
    schema = _adapter(pipeline).json_schema(ref_template="#/components/schemas/{model}")
    properties = {
        "id": {"type": "string", "format": "uuid", "description": "Syncline's id of the record"},
        "syncedAt": {
            "type": "string",
            "format": "date-time",
            "description": "When Syncline wrote this version of the record",
        },
        **schema.get("properties", {}),
    }
    return {
        **schema,
        "properties": properties,
        "required": ["id", "syncedAt", *schema.get("required", [])],
    }
