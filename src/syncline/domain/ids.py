"""Deterministic identifiers: the same inputs always give the same UUIDv5."""

from __future__ import annotations

import uuid

SYNC_NAMESPACE = uuid.UUID("6f1b7a52-3c1e-5e0a-9d43-2a1c5b7e9f10")


def sync_id(project_id: str, user_id: str, integration: str, pipeline: str, name: str) -> str:
    """The id of a sync: enabling the same sync twice, or again after deleting it, gives this id."""
    key = f"{project_id}:{user_id}:{integration}:{pipeline}:{name}"
    return str(uuid.uuid5(SYNC_NAMESPACE, key))


def record_id(sync: str, external_id: str) -> str:
    """The id of a record: stable across re-syncs of the same upstream item."""
    return str(uuid.uuid5(uuid.UUID(sync), external_id))
