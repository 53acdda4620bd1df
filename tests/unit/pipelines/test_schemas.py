"""The pipeline schemas: a record has every key of its pipeline and no other, values of the
documented types; the published schema adds `id` and `syncedAt`."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncline.pipelines import PIPELINES, published_schema, validate_record

ADDRESS = {"street": "1 Main St", "city": "Oslo", "state": None, "postalCode": "0150",
           "country": "NO", "type": "work"}  # fmt: skip
PERSON = {"id": "u1", "name": "Ada", "email": "ada@example.com"}

SAMPLES: dict[str, dict[str, Any]] = {
    "files": {
        "externalId": "f1", "name": "a.txt", "mimeType": "text/plain", "size": 3,
        "url": "https://x", "thumbnailUrl": None, "createdAt": "2024-05-02T10:11:12.345Z",
        "updatedAt": None, "hash": {"type": "MD5", "value": "abc"}, "parentFolderId": None,
        "customFields": {"driveId": "d1"},
    },
    "contacts": {
        "externalId": "c1", "firstName": "Ada", "lastName": "L", "fullName": "Ada L",
        "companyName": None, "jobTitle": None,
        "emails": [{"value": "ada@example.com", "type": "work"}],
        "phoneNumbers": [{"value": "+47 1", "type": None}], "addresses": [ADDRESS],
        "type": "lead", "status": None, "ownerId": "o1", "lifecycleStage": None,
        "leadSource": None, "tags": [], "website": None, "createdAt": None, "updatedAt": None,
        "lastActivityAt": None, "customFields": {"Rating__c": 5},
    },
    "companies": {
        "externalId": "a1", "name": "Acme", "domain": "acme.com", "website": None,
        "industry": None, "description": None, "phoneNumbers": [], "addresses": [],
        "numberOfEmployees": 12, "annualRevenue": 1.5e6, "ownerId": None, "createdAt": None,
        "updatedAt": None, "customFields": {},
    },
    "deals": {
        "externalId": "d1", "name": "Big", "amount": 50000.0, "currency": "EUR",
        "statusType": "closed_won", "status": "Closed Won", "accountId": "a1", "ownerId": "o1",
        "closeDate": "2024-06-30", "probability": 100.0, "description": None, "nextStep": None,
        "createdAt": None, "updatedAt": None, "customFields": {},
    },
    "custom_objects": {
        "externalId": "x1", "objectType": "Product__c", "createdAt": None, "updatedAt": None,
        "customFields": {"price": 99.99, "tags": ["a"]},
    },
    "tickets": {
        "externalId": "t1", "title": "Broken", "type": "Bug",
        "status": {"name": "In Progress", "category": "in_progress"}, "priority": "high",
        "assignees": [PERSON], "createdBy": PERSON, "description": "**bold**", "tags": ["x"],
        "dueAt": None, "resolvedAt": None, "externalUrl": "https://t", "project": {"key": "P"},
        "createdAt": None, "updatedAt": None, "originalRecord": {"id": "10001"},
    },
}  # fmt: skip


def test_every_pipeline_has_a_sample():
    """The six pipelines of the catalogue each have a schema (and a sample here)."""
    assert set(SAMPLES) == set(PIPELINES)


@pytest.mark.parametrize("pipeline", sorted(SAMPLES))
def test_a_complete_record_validates(pipeline):
    """A record with every key, of the documented types, is valid."""
    validate_record(pipeline, SAMPLES[pipeline])


@pytest.mark.parametrize("pipeline", sorted(SAMPLES))
def test_an_unknown_key_is_refused(pipeline):
    """A provider field beside the schema's own is refused: it belongs in customFields."""
    with pytest.raises(ValidationError, match="Extra inputs"):
        validate_record(pipeline, {**SAMPLES[pipeline], "providerOnly": 1})


@pytest.mark.parametrize("pipeline", sorted(SAMPLES))
def test_a_missing_key_is_refused(pipeline):
    """Every key is present, null when the provider has nothing for it."""
    record = dict(SAMPLES[pipeline])
    record.pop("externalId")
    with pytest.raises(ValidationError, match="externalId"):
        validate_record(pipeline, record)


@pytest.mark.parametrize(
    ("pipeline", "key", "value"),
    [
        ("deals", "statusType", "won"),
        ("tickets", "priority", "critical"),
        ("tickets", "status", {"name": "x", "category": "done"}),
        ("files", "size", "12"),
        ("contacts", "emails", ["ada@example.com"]),
    ],
)
def test_values_outside_the_schema_are_refused(pipeline, key, value):
    """Enumerations hold (statusType, priority, status category), and types are strict."""
    with pytest.raises(ValidationError):
        validate_record(pipeline, {**SAMPLES[pipeline], key: value})


def test_the_published_schema_adds_id_and_synced_at():
    """What the records endpoint serves: the connector's record plus `id` and `syncedAt`,
    closed to other keys."""
    schema = published_schema("files")

    assert ["id", "syncedAt"] == schema["required"][:2]
    assert {"externalId", "customFields", "hash"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
