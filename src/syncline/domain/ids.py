"""Deterministic identifiers: the same inputs always give the same UUIDv5."""

from __future__ import annotations

import functools
import hashlib
import uuid

SYNC_NAMESPACE = uuid.UUID("6f1b7a52-3c1e-5e0a-9d43-2a1c5b7e9f10")


def sync_id(project_id: str, user_id: str, integration: str, pipeline: str, name: str) -> str:
    """The id of a sync: enabling the same sync twice, or again after deleting it, gives this id."""
    key = f"{project_id}:{user_id}:{integration}:{pipeline}:{name}"
    return str(uuid.uuid5(SYNC_NAMESPACE, key))


@functools.lru_cache(maxsize=1024)
def _namespace(sync: str) -> bytes:
    return uuid.UUID(sync).bytes


def record_id(sync: str, external_id: str) -> str:
    """The id of a record, a UUIDv5 of (sync, external id): stable across re-syncs.

    Equal to `str(uuid.uuid5(UUID(sync), external_id))`, computed without building UUID
    objects, because every record of every page needs one.
    """
    digest = bytearray(hashlib.sha1(_namespace(sync) + external_id.encode()).digest()[:16])  # noqa: S324 - UUIDv5 is defined on SHA-1
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
