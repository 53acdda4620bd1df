"""SharePoint and OneDrive through Syncline, against the sandbox Graph over HTTP: listings with
paths and list fields, the delta feed (creates, updates, renames, moves, deletions, folders
moving into scope), silent deletions found by the full sync, 410 resyncs, throttling, rotating
refresh tokens, content without leaking the bearer, permissions, and bad configuration."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.domain.ids import record_id
from syncline.pipelines import validate_record
from tests.support.graph import ALICE, GraphHarness, graph_harness


@pytest.fixture
async def g(database_url, tmp_path):
    async with graph_harness(database_url) as running:
        yield running


def _site(g: GraphHarness) -> tuple[str, str, dict[str, str]]:
    """A site "Engineering" whose library holds Reports/q1.txt (with list fields), Reports/Old,
    Specs/spec.docx and readme.txt; bob is a member of the site."""
    graph = g.graph
    site = graph.add_site("Engineering", ALICE, members=["bob@contoso.com"])
    drive = graph.sites[site].drive_ids[0]
    ids = {"Reports": graph.add_folder(drive, "Reports"), "Specs": graph.add_folder(drive, "Specs")}
    ids["q1"] = graph.add_file(
        drive, "q1.txt", b"first quarter", parent=ids["Reports"], fields={"Status": "Draft"}
    )
    ids["Old"] = graph.add_folder(drive, "Old", parent=ids["Reports"])
    ids["spec"] = graph.add_file(
        drive, "spec.docx", b"PK\x03\x04spec", parent=ids["Specs"],
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )  # fmt: skip
    ids["readme"] = graph.add_file(drive, "readme.txt", b"hello")
    return site, drive, ids


async def _records(g: GraphHarness, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await g.h.pull(sid)
    return {r["externalId"]: r for r in records}


def _events(g: GraphHarness) -> list[tuple[str, str]]:
    return [
        (e["event"], e["data"]["recordId"])
        for e in g.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    ]


async def _incremental(g: GraphHarness, sid: str) -> None:
    await g.h.trigger(sid)
    await g.h.settle()


async def test_a_site_library_is_listed_with_paths_hashes_and_list_fields(g):
    """Every item of the library, each a valid File record: folders with an empty mimeType,
    QuickXor hashes, `customFields.fullPath` and the list item's columns in `metadata`."""
    site, drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site, "includeListItemFields": True})
    await g.h.settle()
    records = await _records(g, sync["id"])

    assert set(ids.values()) == set(records)
    for record in records.values():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    q1 = records[ids["q1"]]
    assert f"/drives/{drive}/root:/Reports/q1.txt" == q1["customFields"]["fullPath"]
    assert "Draft" == q1["customFields"]["metadata"]["Status"]
    assert ("QUICKXOR", "text/plain", ids["Reports"]) == (
        q1["hash"]["type"],
        q1["mimeType"],
        q1["parentFolderId"],
    )
    assert "" == records[ids["Reports"]]["mimeType"]
    assert 1 == len(g.h.receiver.events("sync_complete"))


async def test_the_delta_feed_brings_every_kind_of_change(g):
    """A create, a content update, a rename, a move and a deletion each arrive with the next
    incremental sync, as one webhook each, and renamed or moved items get their new path."""
    site, drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()
    new = g.graph.add_file(drive, "new.txt", b"new", parent=ids["Specs"])
    g.graph.update(ids["q1"], content=b"revised")
    g.graph.update(ids["readme"], name="README.md")
    g.graph.update(ids["spec"], parent=ids["Reports"])
    g.graph.delete(ids["Old"])
    await _incremental(g, sid)
    records = await _records(g, sid)

    assert {
        ("record_created", record_id(sid, new)),
        ("record_updated", record_id(sid, ids["q1"])),
        ("record_updated", record_id(sid, ids["readme"])),
        ("record_updated", record_id(sid, ids["spec"])),
        ("record_deleted", record_id(sid, ids["Old"])),
    } == set(_events(g))
    assert len(_events(g)) == 5
    assert records[ids["readme"]]["customFields"]["fullPath"].endswith("/root:/README.md")
    assert records[ids["spec"]]["customFields"]["fullPath"].endswith("/root:/Reports/spec.docx")
    assert records[ids["Old"]]["deleted"] is True


async def test_a_folder_scope_follows_moves_in_and_out(g):
    """`folderId`: only that tree; a file moved out is deleted from the sync; a folder moved in
    brings its contents through the full sync that follows."""
    site, drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site, "folderId": ids["Reports"]})
    sid = sync["id"]
    await g.h.settle()
    before = set(await _records(g, sid))
    g.graph.update(ids["q1"], parent=g.graph.root_id(drive))
    g.graph.update(ids["Specs"], parent=ids["Reports"])
    await _incremental(g, sid)
    after = {k for k, r in (await _records(g, sid)).items() if not r.get("deleted")}

    assert {ids["Reports"], ids["q1"], ids["Old"]} == before
    assert {ids["Reports"], ids["Old"], ids["Specs"], ids["spec"]} == after


async def test_a_silent_deletion_is_found_by_the_full_sync(g):
    """An item that vanishes with no delta entry stays until the full sync, which deletes it."""
    site, _drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()
    g.graph.silently_delete(ids["readme"])
    await _incremental(g, sid)
    quiet = _events(g)
    await g.h.trigger(sid, "full")
    await g.h.settle()

    assert [] == quiet
    assert [("record_deleted", record_id(sid, ids["readme"]))] == _events(g)


async def test_a_stale_delta_token_resyncs_without_loss_or_duplicates(g):
    """410 resyncRequired: the engine lists again and takes a new token; what changed meanwhile
    arrives once, nothing is lost, and nothing is sent twice."""
    site, drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()
    added = g.graph.add_file(drive, "during.txt", b"x")
    g.graph.expire_delta_tokens(drive)
    await _incremental(g, sid)
    records = await _records(g, sid)
    log = (await g.h.api.get(f"/api/syncs/{sid}/events", headers=g.h.auth())).json()["data"]

    assert [("record_created", record_id(sid, added))] == _events(g)
    assert len(records) == len(ids) + 1
    assert "FULL_SYNC_COMPLETED" in {e["syncEvent"] for e in log}


async def test_throttling_and_token_expiry_are_waited_out(g):
    """429 and 503 with Retry-After are honoured inside the run; expired access tokens are
    refreshed, and the rotated refresh token is kept (the old one no longer works)."""
    site, drive, _ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()
    for round_ in range(2):
        g.graph.grants.expire_access_tokens()
        g.graph.inject("429", path="/v1.0/drives", retry_after=1)
        g.graph.inject("503", path="/v1.0/drives", retry_after=1)
        g.graph.add_file(drive, f"after-{round_}.txt")
        await _incremental(g, sid)
    status = await g.h.status(sid)
    log = (await g.h.api.get(f"/api/syncs/{sid}/events", headers=g.h.auth())).json()["data"]

    assert "IDLE" == status["status"]
    assert 2 == len(g.h.receiver.events("record_created"))
    assert "SYNC_RUN_RATE_LIMITED" in {e["syncEvent"] for e in log}


async def test_content_comes_through_the_download_url_without_the_bearer(g):
    """Content is the file's bytes, fetched from Graph's pre-authenticated URL with no token
    (the sandbox refuses one there); a folder has none."""
    site, _drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()

    file = await g.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, ids['q1'])}/content", headers=g.h.auth()
    )
    folder = await g.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, ids['Reports'])}/content", headers=g.h.auth()
    )

    assert (200, b"first quarter") == (file.status_code, file.content)
    assert file.headers["content-type"].startswith("text/plain")
    assert 422 == folder.status_code


async def test_permissions_follow_the_library_folders_links_and_groups(g):
    """Site members read everything; a folder shared with a user reaches its files; an
    organization link reaches the tenant's domain; an Entra group share reaches its members."""
    site, _drive, ids = _site(g)
    g.graph.share(ids["Specs"], user="carol@contoso.com")
    group = g.graph.add_group("Auditors", ["erin@contoso.com"])
    g.graph.share(ids["q1"], group=group)
    g.graph.create_link(ids["readme"], "organization")
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()

    async def can_read(user: str, item: str) -> bool:
        body = {"object": record_id(sid, ids[item]), "user": user, "role": "can_read"}
        answer = await g.h.api.post(f"/api/permissions/{sid}/check", headers=g.h.auth(), json=body)
        assert 200 == answer.status_code, answer.text
        return bool(answer.json()["hasAccess"])

    assert await can_read("bob@contoso.com", "q1")  # a member of the site
    assert await can_read("carol@contoso.com", "spec")  # through the shared folder
    assert not await can_read("carol@contoso.com", "q1")
    assert await can_read("erin@contoso.com", "q1")  # through the Entra group
    assert await can_read("zoe@contoso.com", "readme")  # the organization link
    assert not await can_read("zoe@elsewhere.org", "readme")


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        ({"siteId": "contoso.sharepoint.com,nope,nope"}, "configuration.siteId"),
        ({}, "configuration.siteId"),
        ({"siteId": "x", "folder": "y"}, "configuration.folder"),
        ({"siteId": "x", "folderId": "a", "fileIds": ["b"]}, "configuration"),
    ],
)
async def test_bad_configuration_is_a_422_naming_the_key(g, configuration, field):
    """An unknown site, a missing siteId, an unknown key, or both folderId and fileIds: 422
    naming the key, and no sync is created."""
    await g.connect("sharepoint")
    answer = await g.h.api.post(
        "/api/syncs",
        headers=g.h.auth(),
        json={"integration": "sharepoint", "pipeline": "files", "configuration": configuration},
    )
    listed = (await g.h.api.get("/api/syncs", headers=g.h.auth())).json()["data"]

    assert 422 == answer.status_code, answer.text
    assert answer.json()["field"].startswith(field)
    assert [] == listed


async def test_mime_types_and_file_ids_narrow_the_sync(g):
    """`mimeTypes` keeps folders and the files of those types; `fileIds` exactly those items."""
    site, _drive, ids = _site(g)
    await g.connect("sharepoint")
    typed = await g.enable(
        "sharepoint", {"siteId": site, "mimeTypes": ["text/plain"]}, configurationName="typed"
    )
    chosen = await g.enable(
        "sharepoint",
        {"siteId": site, "fileIds": [ids["spec"], ids["readme"]]},
        configurationName="chosen",
    )
    await g.h.settle()

    typed_names = {r["name"] for r in (await _records(g, typed["id"])).values()}
    chosen_ids = set(await _records(g, chosen["id"]))

    assert {"Reports", "Specs", "Old", "q1.txt", "readme.txt"} == typed_names
    assert {ids["spec"], ids["readme"]} == chosen_ids


async def test_a_onedrive_is_the_users_own_drive_by_default(g):
    """OneDrive without `driveId` syncs the signed-in user's drive, and its changes follow."""
    drive = g.graph.add_personal_drive(ALICE)
    first = g.graph.add_file(drive, "notes.txt", b"n")
    await g.connect("onedrive")
    sync = await g.enable("onedrive", {})
    sid = sync["id"]
    await g.h.settle()
    second = g.graph.add_file(drive, "more.txt", b"m")
    await _incremental(g, sid)
    records = await _records(g, sid)

    assert {first, second} == set(records)
    assert "fullPath" not in records[first]["customFields"]
    assert [("record_created", record_id(sid, second))] == _events(g)
