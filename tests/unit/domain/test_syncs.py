"""Which run a due sync needs, identifiers, frequencies, and record hashing."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.domain.ids import record_id, sync_id
from syncline.domain.records import record_hash
from syncline.domain.syncs import FREQUENCIES, Sync, SyncStatus, SyncType, next_run_type

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

BASE = Sync(
    id=str(uuid.uuid4()),
    project_id="p",
    user_id="u",
    integration="googledrive",
    pipeline="files",
    configuration_name="default",
    configuration={},
    credential_id="c",
    frequency=None,
    status=SyncStatus.IDLE,
    reason=None,
    cursor="10",
    checkpoint=None,
    checkpoint_type=None,
    generation=1,
    initial_completed_at=NOW,
    last_synced_at=NOW,
    last_full_synced_at=None,
    next_run_at=NOW,
    next_full_at=NOW + timedelta(hours=1),
    requested_run=None,
    rate_limit_backoff_ms=None,
    failures=0,
    total_records=0,
    active_records=0,
    last_seq=0,
    created_at=NOW,
    updated_at=NOW,
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, SyncType.INCREMENTAL),
        ({"initial_completed_at": None}, SyncType.INITIAL),
        ({"initial_completed_at": None, "requested_run": SyncType.FULL}, SyncType.INITIAL),
        ({"next_full_at": NOW}, SyncType.FULL),
        ({"cursor": None}, SyncType.FULL),
        ({"requested_run": SyncType.FULL}, SyncType.FULL),
        ({"requested_run": SyncType.INCREMENTAL}, SyncType.INCREMENTAL),
        ({"checkpoint": {"connector": None}, "checkpoint_type": SyncType.FULL}, SyncType.FULL),
    ],
)
def test_next_run_type(changes, expected):
    """Initial first, then an unfinished full listing, then requests, then the schedule."""
    sync = dataclasses.replace(BASE, **changes)

    assert expected == next_run_type(sync, NOW)


def test_sync_id_is_deterministic_and_scoped():
    """The same inputs give the same UUIDv5; another user or name gives another id."""
    first = sync_id("p", "u", "googledrive", "files", "default")

    assert first == sync_id("p", "u", "googledrive", "files", "default")
    assert first != sync_id("p", "u2", "googledrive", "files", "default")
    assert first != sync_id("p", "u", "googledrive", "files", "other")
    assert 5 == uuid.UUID(first).version


def test_record_id_is_stable_per_sync():
    """A record keeps its id across re-syncs and differs between syncs."""
    a = str(uuid.uuid4())

    assert record_id(a, "file1") == record_id(a, "file1")
    assert record_id(a, "file1") != record_id(str(uuid.uuid4()), "file1")


def test_record_hash_ignores_key_order():
    """Equal records hash equal whatever their key order; any value change changes the hash."""
    assert record_hash({"a": 1, "b": [1, 2]}) == record_hash({"b": [1, 2], "a": 1})
    assert record_hash({"a": 1}) != record_hash({"a": 2})


def test_frequencies_of_the_contract():
    """Exactly the eight frequencies of the contract are accepted."""
    assert ["1m", "5m", "10m", "30m", "1h", "3h", "6h", "24h"] == list(FREQUENCIES)


@given(st.uuids(), st.text(max_size=80))
def test_record_id_is_the_standard_uuid5(sync, external_id):
    """The fast record id equals the standard library's UUIDv5 for any sync and external id."""
    assert str(uuid.uuid5(sync, external_id)) == record_id(str(sync), external_id)
