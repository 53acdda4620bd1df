"""Migration 0005 on a database written by the previous version: records gain `syncedAt` from
the time of their last write, and events skipped for want of a webhook URL are held again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from alembic import command
from sqlalchemy import create_engine, pool, text

from syncline.domain.notifications import iso
from syncline.store.database import sync_driver_url
from syncline.store.migrate import _config, upgrade

WRITTEN = datetime(2026, 11, 30, 8, 15, 42, 123000, tzinfo=UTC)


def _execute(url: str, *statements: tuple[str, dict[str, object]]) -> list[tuple[object, ...]]:
    engine = create_engine(sync_driver_url(url), poolclass=pool.NullPool)
    rows: list[tuple[object, ...]] = []
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                result = conn.execute(text(sql), params)
                if result.returns_rows:
                    rows += [tuple(r) for r in result]
    finally:
        engine.dispose()
    return rows


def test_old_records_and_skipped_events_are_brought_forward(database_url):
    """A record written before 0005 carries `syncedAt` afterwards, in the feed's ISO form, at the
    millisecond of its `changed_at_ms`; a tombstone too; one already carrying it is left alone.
    Events skipped as "no webhook URL" become held; other outcomes stay as they were."""
    command.downgrade(_config(database_url), "0004")
    ms = int(WRITTEN.timestamp() * 1000)
    later = ms + 60_000
    record = (
        "INSERT INTO records (sync_id, record_id, seq, external_id, hash, deleted, is_folder,"
        " generation, changed_at_ms, data) VALUES (:sync, :rid, :seq, :ext, 'h', :deleted,"
        " :deleted, 1, :ms, :data)"
    )
    outbox = (
        "INSERT INTO outbox (event_id, project_id, sync_id, event, payload, status, attempts,"
        " next_attempt_at, last_error, created_at) VALUES (:id, 'p', 's', 'record_created', '{}',"
        " :status, 0, :at, :error, :at)"
    )
    already = orjson.dumps({"id": "r3", "name": "c", "syncedAt": "2020-01-01T00:00:00.000Z"})
    _execute(
        database_url,
        (record, {"sync": "s", "rid": "r1", "seq": 1, "ext": "a", "deleted": False, "ms": ms,
                  "data": '{"id":"r1","name":"a.txt"}'}),
        (record, {"sync": "s", "rid": "r2", "seq": 2, "ext": "b", "deleted": True, "ms": later,
                  "data": '{"id":"r2","externalId":"b","deleted":true}'}),
        (record, {"sync": "s", "rid": "r3", "seq": 3, "ext": "c", "deleted": False, "ms": ms,
                  "data": already.decode()}),
        (outbox, {"id": "e1", "status": "skipped", "error": "no webhook URL", "at": WRITTEN}),
        (outbox, {"id": "e2", "status": "delivered", "error": None, "at": WRITTEN}),
        (outbox, {"id": "e3", "status": "failed", "error": "HTTP 500", "at": WRITTEN}),
    )  # fmt: skip

    upgrade(database_url)
    rows = _execute(
        database_url,
        ("SELECT record_id, data FROM records WHERE sync_id = 's' ORDER BY seq", {}),
        ("SELECT event_id, status, last_error FROM outbox ORDER BY id", {}),
    )

    data = {rid: orjson.loads(str(doc)) for rid, doc in rows[:3]}
    assert {"id": "r1", "name": "a.txt", "syncedAt": iso(WRITTEN)} == data["r1"]
    assert iso(WRITTEN + timedelta(minutes=1)) == data["r2"]["syncedAt"]
    assert {"id", "externalId", "deleted", "syncedAt"} == set(data["r2"])
    assert orjson.loads(already) == data["r3"]
    assert [("e1", "held", None), ("e2", "delivered", None), ("e3", "failed", "HTTP 500")] == [
        tuple(r) for r in rows[3:]
    ]
