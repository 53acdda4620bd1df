"""What the Dropbox connector does beyond the connector contract (tests/integration/contract),
against the sandbox Dropbox over HTTP: the sample account's records with `content_hash`,
id-less deleted entries resolved to ids (a file, a folder's whole subtree), moves and renames
as updates, a process that lost its path index falling back to a full sync, a `reset` cursor,
permissions from shared folder and file members, and Paper exported as Markdown."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import pytest

from syncline.connectors.base import ConnectorContext
from syncline.connectors.dropbox import paths
from syncline.connectors.dropbox.config import DropboxConfig
from syncline.connectors.dropbox.connector import DropboxConnector
from syncline.domain.ids import record_id
from syncline.domain.permissions import Grant, Relation
from syncline.errors import CursorInvalid
from syncline.pipelines import validate_record
from syncline.sandbox.dropbox import Member, content_hash
from syncline.sandbox.dropbox.samples import populate
from tests.support.dropbox import ALICE, BOB, DropboxHarness, dropbox_harness


@pytest.fixture
async def d(database_url):
    async with dropbox_harness(database_url) as running:
        yield running


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


async def _records(d: DropboxHarness, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await d.h.pull(sid)
    return {r["externalId"]: r for r in records}


async def _incremental(d: DropboxHarness, sid: str) -> None:
    await d.h.trigger(sid)
    await d.h.settle()


def _events(d: DropboxHarness) -> list[tuple[str, str]]:
    return sorted(
        (e["event"], e["data"]["recordId"])
        for e in d.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    )


async def _log(d: DropboxHarness, sid: str) -> list[str]:
    answer = await d.h.api.get(f"/api/syncs/{sid}/events", headers=d.h.auth())
    return [e["syncEvent"] for e in answer.json()["data"]]


def _tree(d: DropboxHarness) -> dict[str, str]:
    x = d.dropbox
    tree = {"A": x.add_folder("A", owner=ALICE), "B": x.add_folder("B", owner=ALICE)}
    tree["A/deep"] = x.add_folder("deep", tree["A"], owner=ALICE)
    tree["a1"] = x.add_file("a1.txt", b"one", tree["A"], owner=ALICE)
    tree["a2"] = x.add_file("a2.txt", b"two", tree["A/deep"], owner=ALICE)
    tree["b1"] = x.add_file("b1.txt", b"three", tree["B"], owner=ALICE)
    tree["top"] = x.add_file("top.txt", b"four", owner=ALICE)
    return tree


async def test_the_sample_account_is_listed_with_content_hashes_and_paper_as_markdown(d):
    """Every item is a valid File record: files carry Dropbox's `content_hash` (the 4 MiB
    block hash) in `hash`, a parent folder id resolved from the path, their paths in
    `customFields`; a Paper document is `text/markdown`."""
    samples = populate(d.dropbox, user=ALICE, colleague=BOB)
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()
    records = await _records(d, sid)

    for record in records.values():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    brief = records[samples.paths["Projects/Acme/brief.txt"]]
    assert {
        "type": "DROPBOX_CONTENT_HASH",
        "value": content_hash(b"Acme wants the launch in May.\n"),
    } == brief["hash"]
    assert samples.paths["Projects/Acme"] == brief["parentFolderId"]
    assert "/projects/acme/brief.txt" == brief["customFields"]["pathLower"]
    assert "text/plain" == brief["mimeType"]
    paper = records[samples.paths["Projects/Roadmap.paper"]]
    assert "text/markdown" == paper["mimeType"]
    assert "" == records[samples.paths["Projects"]]["mimeType"]


async def test_deleted_paths_become_deletions_of_the_ids_that_were_there(d):
    """A deleted file and a deleted folder arrive as entries with a path and no id: the file's
    id is deleted, and the folder's with every id below it; nothing else is deleted."""
    tree = _tree(d)
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()
    d.dropbox.delete(tree["b1"])
    d.dropbox.delete(tree["A"])
    await _incremental(d, sid)
    records = await _records(d, sid)

    gone = {"b1", "A", "A/deep", "a1", "a2"}
    assert sorted(("record_deleted", record_id(sid, tree[n])) for n in gone) == _events(d)
    assert all(records[tree[n]].get("deleted") for n in gone)
    assert not records[tree["top"]].get("deleted")
    assert not records[tree["B"]].get("deleted")


async def test_renames_and_moves_are_updates_and_need_no_full_sync(d):
    """A rename and a move (a deleted entry at the old path, the same id at the new one) are
    one `record_updated` each with the new name and parent; a folder moving takes its files
    along (updated too: their path and url changed); no full sync is needed to tell any of it
    from deletions."""
    tree = _tree(d)
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()
    d.dropbox.move(tree["top"], name="renamed.txt")
    d.dropbox.move(tree["b1"], parent=tree["A"])
    d.dropbox.move(tree["A/deep"], parent=tree["B"])
    await _incremental(d, sid)
    records = await _records(d, sid)

    assert sorted(
        ("record_updated", record_id(sid, tree[n])) for n in ("top", "b1", "A/deep", "a2")
    ) == _events(d)
    assert "renamed.txt" == records[tree["top"]]["name"]
    assert tree["A"] == records[tree["b1"]]["parentFolderId"]
    assert tree["B"] == records[tree["A/deep"]]["parentFolderId"]
    assert "/b/deep/a2.txt" == records[tree["a2"]]["customFields"]["pathLower"]
    assert "FULL_SYNC_COMPLETED" not in await _log(d, sid)


async def test_a_process_without_the_path_index_falls_back_to_a_full_sync(d):
    """When the process lost its index of paths (a restart, another process ran the sync), a
    deleted path cannot be resolved: a full sync finds the deletion, once, and nothing else
    is deleted."""
    tree = _tree(d)
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()
    paths._indexes.clear()
    d.dropbox.delete(tree["b1"])
    await _incremental(d, sid)
    await d.h.settle()

    assert [("record_deleted", record_id(sid, tree["b1"]))] == _events(d)
    assert "FULL_SYNC_COMPLETED" in await _log(d, sid)
    # The full sync built a new index: the next deletion resolves without one.
    d.dropbox.delete(tree["top"])
    before = (await _log(d, sid)).count("FULL_SYNC_COMPLETED")
    await _incremental(d, sid)
    assert before == (await _log(d, sid)).count("FULL_SYNC_COMPLETED")
    assert ("record_deleted", record_id(sid, tree["top"])) in _events(d)


async def test_a_folder_path_scope_holds_its_tree_and_follows_moves_out(d):
    """`folderId` given as a path scopes to that folder's tree; a file moved out of it is a
    deletion from the sync (it is still in Dropbox, elsewhere)."""
    tree = _tree(d)
    await d.connect()
    sid = (await d.enable({"folderId": "/A"}))["id"]
    await d.h.settle()
    before = {k for k, r in (await _records(d, sid)).items() if not r.get("deleted")}
    d.dropbox.move(tree["a1"], parent=tree["B"])
    await _incremental(d, sid)
    records = await _records(d, sid)

    assert {tree["A"], tree["A/deep"], tree["a1"], tree["a2"]} == before
    assert records[tree["a1"]]["deleted"] is True
    assert not records[tree["a2"]].get("deleted")


async def test_a_reset_cursor_is_a_cursor_error(d):
    """409 `reset` from `list_folder/continue` raises CursorInvalid (the engine resyncs)."""
    _tree(d)
    access, _ = d.dropbox.issue_tokens(ALICE)
    async with httpx.AsyncClient() as http:
        ctx = ConnectorContext(http, _Bearer(access), d.url)
        connector = DropboxConnector(DropboxConfig(), ctx)
        cursor = await connector.start_cursor()
        d.dropbox.reset_cursors()
        with pytest.raises(CursorInvalid):
            [page async for page in connector.changes(cursor)]


async def test_permissions_follow_shared_folder_and_file_members(d):
    """The owner reads their own items; a shared folder's user member reads everything in it
    (the folder is a container whose members the engine reads); a file shared on its own
    reaches its member only; a group is opaque without `orgWideSync`."""
    samples = populate(d.dropbox, user=ALICE, colleague=BOB)
    carol = "carol@example.com"
    d.dropbox.add_user(carol, "Carol")
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()

    async def can_read(user: str, path: str) -> bool:
        body = {"object": record_id(sid, samples.paths[path]), "user": user, "role": "can_read"}
        answer = await d.h.api.post(f"/api/permissions/{sid}/check", headers=d.h.auth(), json=body)
        assert 200 == answer.status_code, answer.text
        return bool(answer.json()["hasAccess"])

    assert await can_read(ALICE, "Notes.txt")
    assert not await can_read(BOB, "Notes.txt")
    assert await can_read(BOB, "Projects/Acme/brief.txt")  # editor of the shared folder
    assert await can_read(BOB, "Budget.csv")  # a file member
    assert not await can_read(carol, "Budget.csv")
    assert not await can_read(carol, "Projects/Acme/brief.txt")


async def test_the_connector_reads_members_as_dropbox_names_them(d):
    """Shared folder members map onto relations (editor; `viewer_no_comment` would be a
    viewer), groups are named by `group_id`, invitees give nothing; an item in no shared
    folder is its owner's; group members need `orgWideSync`."""
    samples = populate(d.dropbox, user=ALICE, colleague=BOB)
    access, _ = d.dropbox.issue_tokens(ALICE)
    async with httpx.AsyncClient() as http:
        ctx = ConnectorContext(http, _Bearer(access), d.url)
        connector = DropboxConnector(DropboxConfig(), ctx)
        await connector.start_cursor()
        items = {u.external_id: u for p in [p async for p in connector.list_all(None)]
                 for u in p.parsed()}  # fmt: skip
        members = await connector.container_grants(samples.shared_folder)
        opaque = await connector.group_members(samples.group)

    brief = items[samples.paths["Projects/Acme/brief.txt"]].access
    notes = items[samples.paths["Notes.txt"]].access
    budget = items[samples.paths["Budget.csv"]].access
    assert brief is not None
    assert notes is not None
    assert budget is not None
    assert samples.shared_folder == brief.container
    assert (Grant(Relation.OWNER, f"user:{ALICE}"),) == notes.grants
    assert Grant(Relation.VIEWER, f"user:{BOB}") in budget.grants
    assert Grant(Relation.EDITOR, f"user:{BOB}") in members
    assert Grant(Relation.VIEWER, f"group:{samples.group.lower()}") in members
    assert not any("contractor" in g.subject for g in members)
    assert opaque is None


async def test_content_comes_from_the_content_host_and_paper_as_markdown(d):
    """A file's bytes stream from the content host (`files/download`); a Paper document is
    exported (`files/export`) as Markdown; a folder has no content."""
    samples = populate(d.dropbox, user=ALICE, colleague=BOB)
    await d.connect()
    sid = (await d.enable({}))["id"]
    await d.h.settle()

    async def content(path: str) -> httpx.Response:
        rid = record_id(sid, samples.paths[path])
        return await d.h.api.get(f"/api/syncs/{sid}/records/{rid}/content", headers=d.h.auth())

    notes = await content("Notes.txt")
    assert (200, b"Call the printer on Monday.\n") == (notes.status_code, notes.content)
    paper = await content("Projects/Roadmap.paper")
    assert 200 == paper.status_code
    assert paper.content.startswith(b"# Roadmap")
    assert paper.headers["content-type"].startswith("text/markdown")
    assert 422 == (await content("Projects")).status_code


def _team_world(d: DropboxHarness) -> dict[str, str]:
    """A team with a team space: ALICE (an admin) and BOB; an "Eng" group of BOB and carol
    edits the "Engineering" team folder (ALICE is not in it); BOB keeps a file of his own."""
    x = d.dropbox
    x.create_team()
    x.ensure_user(ALICE).is_admin = True
    x.ensure_user(BOB)
    eng = x.add_group("Eng", [BOB, "carol@example.com"])
    folder = x.add_team_folder("Engineering", [Member("group", eng, "editor")])
    root = x.namespaces[folder].root_id
    return {
        "group": eng,
        "spec": x.add_file("spec.txt", b"the spec", root, owner=ALICE),
        "mine": x.add_file("mine.txt", b"bob's own", owner=BOB),
    }


async def _connect_team(
    d: DropboxHarness, provider_data: dict[str, str] | None = None
) -> dict[str, Any]:
    access, refresh = d.dropbox.issue_team_tokens()
    body: dict[str, Any] = {
        "integration": "dropbox",
        "accessToken": access,
        "refreshToken": refresh,
    }
    if provider_data:
        body["providerData"] = provider_data
    answer = await d.h.api.post("/api/credentials", headers=d.h.auth(), json=body)
    assert 201 == answer.status_code, answer.text
    return dict(answer.json())


async def _can_read(d: DropboxHarness, sid: str, user: str, item: str) -> bool:
    body = {"object": record_id(sid, item), "user": user, "role": "can_read"}
    answer = await d.h.api.post(f"/api/permissions/{sid}/check", headers=d.h.auth(), json=body)
    assert 200 == answer.status_code, answer.text
    return bool(answer.json()["hasAccess"])


async def test_org_wide_sync_reads_the_team_space_as_a_team_member_and_expands_groups(d):
    """With `orgWideSync` and a team-linked token whose `providerData.teamMemberId` names the
    member to act as, the sync lists the team space from its root (team folders at `/<name>`,
    the member's own folder at its home path), and a team group's members reach what the
    group may read."""
    world = _team_world(d)
    bob = d.dropbox.user(BOB)
    await _connect_team(d, {"teamMemberId": str(bob.team_member_id)})
    sid = (await d.enable({"orgWideSync": True}))["id"]
    await d.h.settle()

    records = await _records(d, sid)
    assert "/engineering/spec.txt" == records[world["spec"]]["customFields"]["pathLower"]
    home = f"/{bob.name.lower()}/mine.txt"
    assert home == records[world["mine"]]["customFields"]["pathLower"]
    assert await _can_read(d, sid, "carol@example.com", world["spec"])  # through the group
    assert await _can_read(d, sid, BOB, world["spec"])
    assert not await _can_read(d, sid, ALICE, world["spec"])
    assert await _can_read(d, sid, BOB, world["mine"])
    assert not await _can_read(d, sid, "carol@example.com", world["mine"])


async def test_without_org_wide_sync_a_team_group_stays_opaque(d):
    """A user-linked token on a team account, without `orgWideSync`: the member's own view
    (no path root), and a group's members are not read (only a team token may), so they get
    nothing through it."""
    world = _team_world(d)
    await d.connect(email=BOB)
    sid = (await d.enable({}))["id"]
    await d.h.settle()

    records = await _records(d, sid)
    assert "/mine.txt" == records[world["mine"]]["customFields"]["pathLower"]
    assert await _can_read(d, sid, BOB, world["spec"])
    assert not await _can_read(d, sid, "carol@example.com", world["spec"])
    assert await _can_read(d, sid, BOB, world["mine"])


async def test_a_team_token_without_a_member_acts_as_the_admin_who_linked_it(d):
    """A team-linked token with no `teamMemberId`: Dropbox refuses it on user routes until a
    member is selected, so the connector asks who linked it
    (`team/token/get_authenticated_admin`) and acts as that admin: the credential is the
    admin's, and the sync reads the admin's view of the team space."""
    world = _team_world(d)
    mine = d.dropbox.add_file("admin.txt", b"alice's own", owner=ALICE)
    credential = await _connect_team(d)
    sid = (await d.enable({"orgWideSync": True}))["id"]
    await d.h.settle()

    records = await _records(d, sid)
    assert ALICE == credential["accountEmail"]
    assert "/alice admin/admin.txt" == records[mine]["customFields"]["pathLower"]
    assert world["spec"] not in records  # the admin is not in the Engineering folder
    assert world["mine"] not in records  # BOB's own folder is not the admin's
    assert await _can_read(d, sid, ALICE, mine)
