"""What the Box connector does beyond the connector contract (tests/integration/contract),
against the sandbox Box over HTTP: the sample account's records, web links, permissions from
owners, collaborations, groups and shared links, an event stream that repeats, duplicates and
reorders, moves across the scope's edge, copies and restores, a stale stream position, and
rotating refresh tokens."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import pytest

from syncline.connectors.base import ConnectorContext
from syncline.connectors.box.config import BoxConfig
from syncline.connectors.box.connector import BoxConnector
from syncline.domain.ids import record_id
from syncline.domain.permissions import Grant, Relation
from syncline.errors import CursorInvalid, NotDownloadable
from syncline.pipelines import validate_record
from syncline.sandbox.box.samples import populate
from tests.support.box import ALICE, BOB, BoxHarness, box_harness


@pytest.fixture
async def b(database_url):
    async with box_harness(database_url) as running:
        yield running


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


async def _records(b: BoxHarness, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await b.h.pull(sid)
    return {r["externalId"]: r for r in records}


async def _live(b: BoxHarness, sid: str) -> set[str]:
    return {k for k, r in (await _records(b, sid)).items() if not r.get("deleted")}


async def _incremental(b: BoxHarness, sid: str) -> None:
    await b.h.trigger(sid)
    await b.h.settle()


async def _messy_events(b: BoxHarness) -> None:
    """From now on the event stream repeats old events, duplicates and shuffles them, and
    returns short chunks, as Box's user stream may."""
    answer = httpx.put(
        f"{b.url}/_box/events/delivery",
        json={
            "overlap": 3,
            "duplicate_rate": 0.5,
            "shuffle": True,
            "short_chunks": True,
            "seed": 7,
        },
    )
    assert 200 == answer.status_code, answer.text


async def test_the_sample_account_is_listed_with_sha1_hashes_and_web_links(b):
    """Every item the user sees (their own and the folder shared with them), each a valid File
    record: files with Box's `sha1` as a SHA1 hash and a MIME type from the extension, folders
    with an empty one, and the web link as a `text/uri-list` record whose url is its target."""
    samples = populate(b.box, user=ALICE, colleague=BOB)
    await b.connect()
    sync = await b.enable({})
    await b.h.settle()
    records = await _records(b, sync["id"])

    assert set(samples.paths.values()) == set(records)
    for record in records.values():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    msa = records[samples.paths["Contracts/Acme MSA.pdf"]]
    assert "application/pdf" == msa["mimeType"]
    assert "SHA1" == msa["hash"]["type"]
    assert 40 == len(msa["hash"]["value"])
    assert samples.paths["Contracts"] == msa["parentFolderId"]
    assert "" == records[samples.paths["Contracts"]]["mimeType"]
    link = records[samples.paths["Design/Style guide"]]
    assert "text/uri-list" == link["mimeType"]
    assert "https://example.com/style" == link["url"]
    assert "web_link" == link["customFields"]["type"]
    assert ALICE == msa["customFields"]["ownedBy"]["login"]


async def test_permissions_follow_owners_collaborations_groups_and_shared_links(b):
    """The owner reads everything they own; a group collaboration on a folder reaches the
    group's members and the folder's files; a user collaboration reaches that user only; a
    company shared link reaches the owner's domain and no one outside it."""
    samples = populate(b.box, user=ALICE, colleague=BOB)
    carol = "carol@example.com"
    b.box.add_user(carol, "Carol")
    await b.connect()
    sid = (await b.enable({}))["id"]
    await b.h.settle()

    async def can_read(user: str, path: str) -> bool:
        body = {"object": record_id(sid, samples.paths[path]), "user": user, "role": "can_read"}
        answer = await b.h.api.post(f"/api/permissions/{sid}/check", headers=b.h.auth(), json=body)
        assert 200 == answer.status_code, answer.text
        return bool(answer.json()["hasAccess"])

    assert await can_read(ALICE, "Contracts/Renewals/2025.txt")  # the owner
    assert await can_read(BOB, "Contracts/Renewals/2025.txt")  # through the Legal group
    assert not await can_read(carol, "Contracts/Acme MSA.pdf")
    assert await can_read(BOB, "Design/Logo.svg")  # a user collaboration on the folder
    assert await can_read(carol, "Notes.txt")  # the company shared link
    assert not await can_read("zoe@elsewhere.org", "Notes.txt")
    assert await can_read(ALICE, "Shared with me/Agenda.txt")  # a collaboration with Alice
    assert await can_read(BOB, "Shared with me/Agenda.txt")  # its owner


async def test_the_connector_reads_grants_and_group_members_as_box_names_them(b):
    """Collaborations map onto relations (editor, viewer for `viewer uploader`), groups are
    named by id and expand through `/groups/{id}/memberships`, an open link is `user:*`."""
    samples = populate(b.box, user=ALICE, colleague=BOB)
    b.box.set_shared_link(samples.paths["Design/Logo.svg"], "open")
    access, _ = b.box.issue_tokens(ALICE)
    async with httpx.AsyncClient() as http:
        connector = BoxConnector(BoxConfig(), ConnectorContext(http, _Bearer(access), b.url))
        items = {
            u.external_id: u for page in [p async for p in connector.list_all(None)]
            for u in page.parsed()
        }  # fmt: skip
        members = await connector.group_members(samples.group)

    def grants(path: str) -> set[Grant]:
        found = items[samples.paths[path]].access
        assert found is not None
        return set(found.grants)

    assert Grant(Relation.VIEWER, f"group:{samples.group}") in grants("Contracts")
    assert Grant(Relation.EDITOR, f"user:{BOB}") in grants("Design")
    assert Grant(Relation.VIEWER, f"user:{ALICE}") in grants("Shared with me")
    assert Grant(Relation.VIEWER, "user:*") in grants("Design/Logo.svg")
    assert Grant(Relation.OWNER, f"user:{ALICE}") in grants("Notes.txt")
    assert [f"user:{BOB}"] == members


async def test_a_messy_event_stream_brings_every_change_once_and_no_false_deletion(b):
    """With events repeated, duplicated, shuffled and in short chunks: a rename, an edit, a
    trash, a restore, a copy and a new file all arrive, and nothing that exists is deleted."""
    top = b.box.add_folder("Top")
    keep = b.box.add_file("keep.txt", b"keep", top)
    gone = b.box.add_file("gone.txt", b"gone", top)
    back = b.box.add_file("back.txt", b"back", top)
    await b.connect()
    sid = (await b.enable({}))["id"]
    await b.h.settle()
    await _messy_events(b)

    b.box.rename(keep, "kept.txt")
    b.box.upload_version(keep, b"kept, edited")
    b.box.trash(gone)
    b.box.trash(back)
    b.box.restore(back)
    copy = b.box.copy(keep, top, "copy.txt")
    new = b.box.add_file("new.txt", b"new", top)
    for _ in range(3):  # later runs see the same events again
        await _incremental(b, sid)

    records = await _records(b, sid)
    assert {top, keep, back, copy, new} == await _live(b, sid)
    assert records[gone]["deleted"]
    assert "kept.txt" == records[keep]["name"]
    assert "copy.txt" == records[copy]["name"]


async def test_moves_across_a_folder_scope_are_deletions_and_creations(b):
    """In a `folderId` sync, a file moved out of the folder leaves the sync, one moved in joins
    it, and a folder moved in brings its contents (the engine lists what the stream shows bare)."""
    inside = b.box.add_folder("Inside")
    outside = b.box.add_folder("Outside")
    leaving = b.box.add_file("leaving.txt", b"l", inside)
    arriving = b.box.add_file("arriving.txt", b"a", outside)
    sub = b.box.add_folder("Sub", outside)
    deep = b.box.add_file("deep.txt", b"d", sub)
    await b.connect()
    sid = (await b.enable({"folderId": inside}))["id"]
    await b.h.settle()
    assert {inside, leaving} == await _live(b, sid)

    b.box.move(leaving, outside)
    b.box.move(arriving, inside)
    b.box.move(sub, inside)
    await _incremental(b, sid)
    await _incremental(b, sid)

    assert {inside, arriving, sub, deep} == await _live(b, sid)


async def test_a_stale_stream_position_is_a_cursor_error(b):
    """Box refuses a stream position older than its retention (400 naming `stream_position`):
    the connector says the cursor is invalid, so the engine resyncs from a fresh one."""
    access, _ = b.box.issue_tokens(ALICE)
    async with httpx.AsyncClient() as http:
        connector = BoxConnector(BoxConfig(), ConnectorContext(http, _Bearer(access), b.url))
        cursor = await connector.start_cursor()
        assert int(cursor) > 2**53  # kept exact, never a float
        b.box.add_file("x.txt", b"x")
        b.box.expire_stream_positions()
        with pytest.raises(CursorInvalid):
            _ = [page async for page in connector.changes(cursor)]


async def test_content_follows_the_redirect_and_web_links_have_none(b):
    """A file's bytes come through the 302 to the download host; a web link and a folder are
    not downloadable."""
    folder = b.box.add_folder("F")
    file_id = b.box.add_file("f.txt", b"hello box", folder)
    link = b.box.add_web_link("L", "https://example.com", folder)
    access, _ = b.box.issue_tokens(ALICE)
    async with httpx.AsyncClient() as http:
        connector = BoxConnector(BoxConfig(), ConnectorContext(http, _Bearer(access), b.url))
        download = await connector.download(file_id)
        body = b"".join([chunk async for chunk in download.chunks])
        await download.close()  # type: ignore[misc]
        for item in (link, folder):
            with pytest.raises(NotDownloadable):
                await connector.download(item)
    assert b"hello box" == body
    assert "text/plain" == download.media_type


async def test_single_use_refresh_tokens_rotate_across_refreshes(b):
    """Box's refresh tokens are single-use: after two expiries in a row, each refresh used the
    token the one before it returned, and the sync still reads."""
    b.box.add_file("one.txt", b"1")
    await b.connect()
    sid = (await b.enable({}))["id"]
    await b.h.settle()
    for name in ("two.txt", "three.txt"):
        b.box.grants.expire_access_tokens()
        b.box.add_file(name, name.encode())
        await _incremental(b, sid)
    names = {r["name"] for r in (await _records(b, sid)).values()}
    assert {"one.txt", "two.txt", "three.txt"} == names
    assert 2 <= b.box.request_count("/oauth2/token")


async def test_a_credential_without_a_file_scope_is_refused_with_a_reason(b):
    """A Box token whose app lacks `root_readonly` (here: only `manage_groups`) is refused
    `insufficient_scope` by Box: connecting it answers 422 naming the token and Box's refusal,
    never a 500 and never a credential whose syncs would then fail forever."""
    access, refresh = b.box.issue_tokens(ALICE, scopes=("manage_groups",))
    answer = await b.h.api.post(
        "/api/credentials",
        headers=b.h.auth(),
        json={"integration": "box", "accessToken": access, "refreshToken": refresh},
    )
    assert 422 == answer.status_code, answer.text
    assert "accessToken" == answer.json()["field"]
    assert "insufficient_scope" in answer.json()["message"]
