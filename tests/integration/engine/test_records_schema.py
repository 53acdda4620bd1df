"""Every record a connector produces holds to its pipeline's schema, as the API serves it and as
the OpenAPI document describes it."""

from __future__ import annotations

import pytest

from syncline.pipelines import validate_record
from syncline.sandbox import populate
from tests.support.harness import harness


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


async def test_google_drive_records_hold_to_the_files_schema(h):
    """Folders, Docs, Sheets, Slides, Drawings, PDFs, text, a shortcut, a shared-drive file and
    one shared by a colleague: each record, and each tombstone, is what the schema says."""
    ids = populate(h.drive)
    await h.connect()
    sync = await h.enable()
    await h.settle()
    h.drive.trash(ids["README.txt"])
    await h.trigger(sync["id"])
    await h.settle()
    records, _ = await h.pull(sync["id"])
    schema = (await h.api.get("/openapi.json")).json()["components"]["schemas"]

    live = [r for r in records if not r.get("deleted")]
    gone = [r for r in records if r.get("deleted")]
    for record in live:
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    assert len(live) >= 15
    assert [{"id", "externalId", "deleted", "syncedAt"}] == [set(r) for r in gone]
    assert set(schema["Tombstone"]["required"]) == set(gone[0])
    assert {"FileRecord", "ContactRecord", "TicketRecord"} <= set(schema)
    assert {"$ref": "#/components/schemas/FileRecord"} in schema["Record"]["anyOf"]
