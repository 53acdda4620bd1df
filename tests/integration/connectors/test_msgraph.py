"""What SharePoint and OneDrive do beyond the connector contract (tests/integration/contract),
against the sandbox Graph over HTTP: paths, QuickXor hashes and list fields, content without
the bearer, item, library, link and Entra group permissions, and OneDrive's default drive."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.connectors.base import ConnectorContext
from syncline.connectors.msgraph.config import SharePointConfig
from syncline.connectors.msgraph.connector import GraphConnector
from syncline.domain.ids import record_id
from syncline.pipelines import validate_record
from syncline.sandbox.msgraph import GraphState
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
    QuickXor hashes, `customFields.fullPath`, the list item's columns in `metadata`, and what
    else Graph sent that the schema has no place for (author, site, drive type)."""
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
    assert (ALICE, site, "documentLibrary") == (
        q1["customFields"]["createdBy"]["email"],
        q1["customFields"]["siteId"],
        q1["customFields"]["driveType"],
    )
    assert ("QUICKXOR", "text/plain", ids["Reports"]) == (
        q1["hash"]["type"],
        q1["mimeType"],
        q1["parentFolderId"],
    )
    assert "" == records[ids["Reports"]]["mimeType"]
    assert 1 == len(g.h.receiver.events("sync_complete"))


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


async def test_a_refresh_names_the_scopes_the_user_granted(g):
    """Microsoft's refresh request carries `scope`: Syncline names the credential's granted
    scopes, so a refresh goes through; a credential that claims a scope the user never granted
    is refused at its first refresh, which shows the scopes are really sent."""
    drive = g.graph.add_personal_drive(ALICE)
    g.graph.add_file(drive, "notes.txt", b"n")
    granted = ["offline_access", "User.Read", "Files.Read.All"]
    results = {}
    for user, claimed in (("honest", granted), ("claims-more", [*granted, "Sites.Read.All"])):
        access, refresh = g.graph.issue_tokens(ALICE, granted)
        answer = await g.h.api.post(
            "/api/credentials",
            headers=g.h.auth(user),
            json={
                "integration": "onedrive",
                "accessToken": access,
                "refreshToken": refresh,
                "scopes": claimed,
            },
        )
        assert 201 == answer.status_code, answer.text
        enabled = await g.h.api.post(
            "/api/syncs",
            headers=g.h.auth(user),
            json={"integration": "onedrive", "pipeline": "files", "configuration": {}},
        )
        assert 200 == enabled.status_code, enabled.text
        results[user] = enabled.json()["id"]
    await g.h.settle()
    g.graph.grants.expire_access_tokens()
    for user, sid in results.items():
        await g.h.trigger(sid, user=user)
    await g.h.settle()

    assert "IDLE" == (await g.h.status(results["honest"], user="honest"))["status"]
    refused = await g.h.status(results["claims-more"], user="claims-more")
    assert "ERRORED" == refused["status"], refused


async def test_paths_of_changed_items_are_found_once_per_folder(g):
    """Delta sends no `parentReference.path`: a created, renamed or moved item gets its full
    path from its folder's, and each folder is looked up once per run however many of its
    items changed."""
    site, drive, ids = _site(g)
    await g.connect("sharepoint")
    sync = await g.enable("sharepoint", {"siteId": site})
    sid = sync["id"]
    await g.h.settle()
    new = [g.graph.add_file(drive, f"n{i}.txt", b"n", parent=ids["Old"]) for i in range(5)]
    g.graph.update(ids["readme"], name="README.md")
    g.graph.update(ids["spec"], parent=ids["Reports"])
    before = g.graph.request_count(f"/v1.0/drives/{drive}/items/")
    await _incremental(g, sid)
    lookups = g.graph.request_count(f"/v1.0/drives/{drive}/items/") - before
    records = await _records(g, sid)

    def path(item: str) -> str:
        return str(records[item]["customFields"]["fullPath"]).split("root:", 1)[1]

    assert [f"/Reports/Old/n{i}.txt" for i in range(5)] == [path(n) for n in new]
    assert "/README.md" == path(ids["readme"])
    assert "/Reports/spec.docx" == path(ids["spec"])
    assert 1 <= lookups <= 3  # Old, Reports and the root, each once


async def test_a_folder_deleted_while_the_listing_walks_it_does_not_stop_the_sync(
    database_url,
):
    """Graph answers 404 for the children of a folder deleted after its parent was listed: the
    listing goes on without it, the sync completes, and the next incremental deletes it."""
    state: dict[str, Any] = {}

    def wrap(app: ASGIApp, graph: GraphState) -> ASGIApp:
        async def deleting(scope: Scope, receive: Receive, send: Send) -> None:
            listing_old = scope["type"] == "http" and scope["path"].endswith(
                f"/items/{state.get('Old')}/children"
            )
            if listing_old and not state.get("deleted"):
                state["deleted"] = True
                graph.delete(state["Old"])
            await app(scope, receive, send)

        return deleting

    async with graph_harness(database_url, wrap=wrap) as g:
        site, _drive, ids = _site(g)
        state.update(ids)
        await g.connect("sharepoint")
        sync = await g.enable("sharepoint", {"siteId": site})
        sid = sync["id"]
        await g.h.settle()
        after_initial = await g.h.status(sid)
        await _incremental(g, sid)
        records = await _records(g, sid)

    assert state["deleted"]
    assert "IDLE" == after_initial["status"], after_initial
    assert 1 == len(g.h.receiver.events("sync_complete"))
    assert records[ids["Old"]]["deleted"] is True


async def test_a_drive_of_another_site_is_refused(g):
    """`driveId` must be one of the site's own libraries: another site's drive is a 422 naming
    the key, though the account can read it."""
    site, _drive, _ids = _site(g)
    other = g.graph.add_site("Finance", ALICE)
    foreign = g.graph.sites[other].drive_ids[0]
    await g.connect("sharepoint")
    answer = await g.h.api.post(
        "/api/syncs",
        headers=g.h.auth(),
        json={
            "integration": "sharepoint",
            "pipeline": "files",
            "configuration": {"siteId": site, "driveId": foreign},
        },
    )

    assert 422 == answer.status_code, answer.text
    assert "configuration.driveId" == answer.json()["field"]


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


async def test_the_listing_checkpoint_holds_one_path_of_the_tree_not_every_folder(g):
    """The listing walks folders depth first, so its checkpoint holds the unlisted siblings
    along one path (here at most 3 levels of 5), not every folder found so far (125 leaves
    for a breadth-first walk); resuming from any checkpoint lists the rest exactly."""
    site = g.graph.add_site("Tree", ALICE)
    drive = g.graph.sites[site].drive_ids[0]
    level = [None]
    for depth in range(3):
        level = [
            g.graph.add_folder(drive, f"d{depth}-{i}", parent=parent)
            for parent in level
            for i in range(5)
        ]
    access, _ = g.graph.issue_tokens(ALICE, ("Files.Read.All", "Sites.Read.All"))
    async with httpx.AsyncClient() as http:
        ctx = ConnectorContext(http, _Bearer(access), g.url)
        connector = GraphConnector(SharePointConfig.model_validate({"siteId": site}), ctx)
        pages = [page async for page in connector.list_all(None)]
        middle = pages[len(pages) // 2].checkpoint
        resumed = [page async for page in connector.list_all(middle)]

    listed = [item.external_id for page in pages for item in page.items]
    stacks = [page.checkpoint["folders"] for page in pages if page.checkpoint]
    sizes = [len(stack) for stack in stacks if isinstance(stack, list)]
    after = [item.external_id for page in pages[len(pages) // 2 + 1 :] for item in page.items]
    assert 5 + 25 + 125 == len(set(listed)) == len(listed)
    assert len(sizes) == len(stacks)
    assert max(sizes) <= 3 * 5 + 1
    assert after == [item.external_id for page in resumed for item in page.items]
