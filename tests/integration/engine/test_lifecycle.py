"""The whole Sync API lifecycle on Google Drive: enable, initial, incremental, full, webhooks."""

from __future__ import annotations

import pytest

from syncline.domain.ids import record_id
from tests.support.harness import harness

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


def _names(records):
    return sorted(r["name"] for r in records if not r.get("deleted"))


async def test_initial_sync_then_records_and_sync_complete(h):
    """An initial sync lists every file once, ends IDLE, and sends one signed sync_complete."""
    folder = h.drive.add_folder("Reports")
    h.drive.add_file("q1.pdf", mime_type="application/pdf", content=b"%PDF-1.4 q1", parent=folder)
    h.drive.add_file("notes", mime_type=DOC)
    await h.connect()
    sync = await h.enable()

    assert "INITIALIZING" == sync["status"]
    await h.settle()

    status = await h.status(sync["id"])
    records, _ = await h.pull(sync["id"])
    completes = h.receiver.events("sync_complete")
    assert "IDLE" == status["status"]
    assert status["summary"]["lastSyncedAt"] is not None
    assert ["Reports", "notes", "q1.pdf"] == _names(records)
    assert 1 == len(completes)
    assert {"model": "files", "numRecords": 3} == {
        k: completes[0]["data"][k] for k in ("model", "numRecords")
    }
    assert sync["id"] == completes[0]["syncInstanceId"]
    assert [] == h.receiver.events("record_created")  # the initial sync sends no record events


async def test_file_record_follows_the_schema(h):
    """A file record carries the File schema's fields, typed as the contract says."""
    folder = h.drive.add_folder("Reports")
    fid = h.drive.add_file("q1.pdf", mime_type="application/pdf", content=b"12345", parent=folder)
    await h.connect()
    sync = await h.enable()
    await h.settle()

    records, _ = await h.pull(sync["id"])
    pdf = next(r for r in records if r["externalId"] == fid)

    assert record_id(sync["id"], fid) == pdf["id"]
    assert ("q1.pdf", "application/pdf", 5, folder) == (
        pdf["name"],
        pdf["mimeType"],
        pdf["size"],
        pdf["parentFolderId"],
    )
    assert "MD5" == pdf["hash"]["type"]
    assert pdf["createdAt"].endswith("Z")
    assert pdf["updatedAt"].endswith("Z")
    assert pdf["url"].startswith("http")


async def test_incremental_changes_reach_cursor_and_webhooks(h):
    """Creates, updates, trashes and removals found by an incremental sync arrive once each,
    in the feed after the saved cursor and as record events."""
    keep = h.drive.add_file("keep.txt", content=b"a")
    edit = h.drive.add_file("edit.txt", content=b"a")
    trash = h.drive.add_file("trash.txt", content=b"a")
    gone = h.drive.add_file("gone.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    _, cursor = await h.pull(sync["id"])

    new = h.drive.add_file("new.txt", content=b"b")
    h.drive.update_file(edit, content=b"changed")
    h.drive.trash(trash)
    h.drive.delete(gone)
    await h.trigger(sync["id"])
    await h.settle()
    changes, _ = await h.pull(sync["id"], cursor)

    by_id = {r["externalId"]: r for r in changes}
    assert {new, edit, trash, gone} == set(by_id)
    assert keep not in by_id
    assert by_id[trash] == {
        "id": record_id(sync["id"], trash),
        "externalId": trash,
        "deleted": True,
        "syncedAt": by_id[trash]["syncedAt"],
    }
    assert by_id[gone]["deleted"] is True
    assert [record_id(sync["id"], new)] == [
        e["data"]["recordId"] for e in h.receiver.events("record_created")
    ]
    assert [record_id(sync["id"], edit)] == [
        e["data"]["recordId"] for e in h.receiver.events("record_updated")
    ]
    assert {record_id(sync["id"], trash), record_id(sync["id"], gone)} == {
        e["data"]["recordId"] for e in h.receiver.events("record_deleted")
    }


async def test_nothing_changed_means_nothing_sent(h):
    """An incremental sync with no upstream change writes no record and sends no event."""
    h.drive.add_file("a.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.settle()
    before = len(h.receiver.deliveries)
    _, cursor = await h.pull(sync["id"])

    await h.trigger(sync["id"])
    await h.settle()

    assert before == len(h.receiver.deliveries)
    assert [] == (await h.pull(sync["id"], cursor))[0]


async def test_full_sync_finds_silent_deletions(h):
    """A periodic full sync tombstones what vanished without a change entry, and says so."""
    files = [h.drive.add_file(f"f{i}.txt", content=b"x") for i in range(5)]
    await h.connect()
    sync = await h.enable()
    await h.settle()

    h.drive.silently_delete(files[0])
    await h.trigger(sync["id"], "full")
    await h.settle()

    status = await h.status(sync["id"])
    deleted = [e["data"]["recordId"] for e in h.receiver.events("record_deleted")]
    assert [record_id(sync["id"], files[0])] == deleted
    assert status["summary"]["lastPeriodicFullSyncedAt"] is not None
    assert 4 == status["summary"]["totalActiveRecords"]


async def test_full_sync_refuses_mass_deletion(h):
    """When most records would vanish at once, the full sync deletes nothing and logs why."""
    files = [h.drive.add_file(f"f{i}.txt", content=b"x") for i in range(20)]
    await h.connect()
    sync = await h.enable()
    await h.settle()

    for fid in files[:15]:
        h.drive.silently_delete(fid)
    await h.trigger(sync["id"], "full")
    await h.settle()

    events = (await h.api.get(f"/api/syncs/{sync['id']}/events", headers=h.auth())).json()["data"]
    assert [] == h.receiver.events("record_deleted")
    assert 20 == (await h.status(sync["id"]))["summary"]["totalActiveRecords"]
    assert any(e["syncEvent"] == "SYNC_RUN_WARNING" for e in events)


async def test_full_sync_after_incomplete_listing_deletes_nothing(h):
    """A listing that Drive reports incomplete never turns missing files into deletions."""
    files = [h.drive.add_file(f"f{i}.txt", content=b"x") for i in range(5)]
    await h.connect()
    sync = await h.enable()
    await h.settle()

    h.drive.silently_delete(files[0])
    h.drive.incomplete_search = True
    await h.trigger(sync["id"], "full")
    await h.settle()

    assert [] == h.receiver.events("record_deleted")


async def test_folder_scope_syncs_only_the_subtree(h):
    """configuration.folderId syncs the folder and everything below it, and follows it over time."""
    root = h.drive.add_folder("Root")
    sub = h.drive.add_folder("Sub", parent=root)
    inside = h.drive.add_file("in.txt", content=b"a", parent=sub)
    h.drive.add_file("out.txt", content=b"a")
    await h.connect()
    sync = await h.enable(configuration={"folderId": root})
    await h.settle()
    records, cursor = await h.pull(sync["id"])

    assert {root, sub, inside} == {r["externalId"] for r in records}

    later = h.drive.add_file("later.txt", content=b"b", parent=sub)
    h.drive.add_file("elsewhere.txt", content=b"b")
    h.drive.update_file(inside, parent=h.drive.root_id())  # moved out of scope
    await h.trigger(sync["id"])
    await h.settle()
    changes, _ = await h.pull(sync["id"], cursor)

    assert {later: False, inside: True} == {
        r["externalId"]: bool(r.get("deleted")) for r in changes
    }


async def test_file_ids_scope(h):
    """configuration.fileIds syncs exactly those files."""
    wanted = h.drive.add_file("a.txt", content=b"a")
    h.drive.add_file("b.txt", content=b"b")
    await h.connect()
    sync = await h.enable(configuration={"fileIds": [wanted]})
    await h.settle()

    records, _ = await h.pull(sync["id"])

    assert [wanted] == [r["externalId"] for r in records]


async def test_shared_drive_files_are_synced(h):
    """Files in shared drives the account belongs to are synced alongside My Drive."""
    drive_id = h.drive.add_shared_drive("Eng")
    shared = h.drive.add_file("design.txt", content=b"a", parent=drive_id, drive_id=drive_id)
    await h.connect()
    sync = await h.enable()
    await h.settle()

    records, _ = await h.pull(sync["id"])
    found = next(r for r in records if r["externalId"] == shared)

    assert drive_id == found["customFields"]["driveId"]


async def test_webhooks_are_retried_in_order_until_delivered(h):
    """Failed deliveries are retried with backoff, keep their id, and arrive in order per sync."""
    h.drive.add_file("a.txt", content=b"a")
    await h.connect()
    sync = await h.enable()
    await h.run_due()
    h.drive.add_file("b.txt", content=b"b")
    h.drive.add_file("c.txt", content=b"c")
    await h.trigger(sync["id"])
    await h.run_due()

    h.receiver.fail_next(3)
    for _ in range(6):  # 3 retries are due within 8 + 16 + 32 s; stay inside signature tolerance
        await h.deliver()
        h.clock.advance(seconds=35)
    await h.deliver()

    accepted = h.receiver.events()
    attempted_ids = [d["headers"].get("webhook-id") for d in h.receiver.deliveries]
    assert ["sync_complete", "record_created", "record_created"] == [e["event"] for e in accepted]
    assert 6 == len(attempted_ids)
    assert 3 == len(set(attempted_ids))


async def test_content_download(h):
    """Content streams from Drive; Google Docs export to DOCX; folders have no content."""
    folder = h.drive.add_folder("F")
    pdf = h.drive.add_file("a.pdf", mime_type="application/pdf", content=b"%PDF-1.4 hello")
    doc = h.drive.add_file("Plan", mime_type=DOC)
    await h.connect()
    sync = await h.enable()
    await h.settle()
    base = f"/api/syncs/{sync['id']}/records"

    raw = await h.api.get(f"{base}/{record_id(sync['id'], pdf)}/content", headers=h.auth())
    docx = await h.api.get(f"{base}/{record_id(sync['id'], doc)}/content", headers=h.auth())
    nope = await h.api.get(f"{base}/{record_id(sync['id'], folder)}/content", headers=h.auth())

    assert (200, b"%PDF-1.4 hello", "application/pdf") == (
        raw.status_code,
        raw.content,
        raw.headers["content-type"],
    )
    assert 200 == docx.status_code
    assert docx.content.startswith(b"PK\x03\x04")
    assert "wordprocessingml" in docx.headers["content-type"]
    assert 422 == nope.status_code
