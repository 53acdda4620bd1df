"""What the Notion connector does beyond the connector contract (tests/integration/contract),
against the sandbox Notion over HTTP: the sample workspace's records and content, minute-rounded
edit times, an incremental that reads only what changed, the trash, restored sub-pages,
`pageIds` trees with databases, enabling with a page that is not one, Notion's request rate,
and search cursors that expire."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import httpx
import orjson
import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncline.connectors.base import ConnectorContext
from syncline.connectors.notion.client import NOTION_VERSION
from syncline.connectors.notion.config import NotionConfig
from syncline.connectors.notion.connector import NotionConnector
from syncline.domain.ids import record_id
from syncline.errors import CursorInvalid
from syncline.pipelines import validate_record
from syncline.sandbox.notion import NotionState, RateLimit
from syncline.sandbox.notion.content import paragraph
from syncline.sandbox.notion.render import Renderer
from syncline.sandbox.notion.samples import generate, populate
from tests.support.notion import NotionHarness, notion_harness


@pytest.fixture
async def n(database_url):
    async with notion_harness(database_url) as running:
        yield running


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


async def _records(n: NotionHarness, sid: str) -> dict[str, dict[str, Any]]:
    records, _ = await n.h.pull(sid)
    return {r["externalId"]: r for r in records}


async def _live(n: NotionHarness, sid: str) -> set[str]:
    return {k for k, r in (await _records(n, sid)).items() if not r.get("deleted")}


async def _incremental(n: NotionHarness, sid: str) -> None:
    await n.h.trigger(sid)
    await n.h.settle()


def _events(n: NotionHarness) -> list[tuple[str, str]]:
    return [
        (e["event"], e["data"]["recordId"])
        for e in n.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    ]


async def _log(n: NotionHarness, sid: str) -> list[str]:
    answer = await n.h.api.get(f"/api/syncs/{sid}/events", headers=n.h.auth())
    return [e["syncEvent"] for e in answer.json()["data"]]


async def _content(n: NotionHarness, sid: str, page: str) -> httpx.Response:
    return await n.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, page)}/content", headers=n.h.auth()
    )


def _versions(seen: list[str]) -> Any:
    """Wraps the fake's app to record each API request's `Notion-Version`."""

    def wrap(app: ASGIApp, _: NotionState) -> ASGIApp:
        async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and scope["path"].startswith("/v1/")
                and "oauth" not in scope["path"]
            ):
                headers = dict(scope["headers"])
                seen.append(headers.get(b"notion-version", b"").decode())
            await app(scope, receive, send)

        return recorded

    return wrap


async def test_the_sample_workspace_is_listed_as_markdown_records(database_url):
    """Every page the integration sees is a valid File record of `text/markdown` with a
    SHA256 of its content; a sub-page names its page, a page in a toggle the page holding the
    toggle, a row its database as `parentId` and the database's page as `parentFolderId`, its
    properties in `customFields`; trashed and unshared pages are absent; every request names
    Notion-Version 2025-09-03."""
    versions: list[str] = []
    async with notion_harness(database_url, wrap=_versions(versions)) as n:
        s = populate(n.notion)
        await n.connect()
        sid = (await n.enable({}))["id"]
        await n.h.settle()
        records = await _records(n, sid)
        paths = s.paths

        expected = {
            paths[p]
            for p in (
                "Engineering",
                "Engineering/Archive/Old runbook",
                "Engineering/Q3 plan",
                "Engineering/Q3 plan/Risks",
                "Engineering/Tasks/Write docs",
                "Engineering/Tasks/Build the fake",
                "Engineering/Tasks/Load test",
                "Meeting notes",
            )
        }
        assert expected == set(records)
        for record in records.values():
            validate_record(
                "files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")}
            )
            assert "text/markdown" == record["mimeType"]
            assert "SHA256" == record["hash"]["type"]
            assert 64 == len(record["hash"]["value"])
        eng, plan = paths["Engineering"], paths["Engineering/Q3 plan"]
        assert (None, None) == (records[eng]["parentId"], records[eng]["parentFolderId"])
        risks = records[paths["Engineering/Q3 plan/Risks"]]
        assert (plan, plan) == (risks["parentId"], risks["parentFolderId"])
        runbook = records[paths["Engineering/Archive/Old runbook"]]
        assert (eng, eng) == (runbook["parentId"], runbook["parentFolderId"])
        row = records[paths["Engineering/Tasks/Write docs"]]
        assert (paths["Engineering/Tasks"], eng) == (row["parentId"], row["parentFolderId"])
        assert "Write docs" == row["name"]
        fields = row["customFields"]
        assert ("Done", ["docs"], 2, True, "2024-05-01") == (
            fields["Status"],
            fields["Tags"],
            fields["Points"],
            fields["Done"],
            fields["Due"],
        )
        assert ["Alice Example"] == fields["Owner"]
        assert versions
        assert {NOTION_VERSION} == set(versions)


async def test_a_page_downloads_as_markdown_with_its_properties_as_front_matter(n):
    """Content is the page rendered now: YAML front matter of its properties, then its blocks,
    sub-pages and databases as links; `Content-Type: text/markdown`."""
    s = populate(n.notion)
    await n.connect()
    sid = (await n.enable({}))["id"]
    await n.h.settle()
    page = await _content(n, sid, s.paths["Engineering"])
    row = await _content(n, sid, s.paths["Engineering/Tasks/Write docs"])

    assert 200 == page.status_code
    assert page.headers["content-type"].startswith("text/markdown")
    assert page.text.startswith('---\ntitle: "Engineering"\n---\n\n# Engineering handbook\n')
    assert "We ship **small changes** often" in page.text
    assert "- [x] Rotate the keys" in page.text
    assert "```python\ndef sync() -> None:" in page.text
    assert "| Service | Owner |" in page.text
    assert (
        f"[Q3 plan](https://www.notion.so/{s.paths['Engineering/Q3 plan'].replace('-', '')})"
        in page.text
    )
    assert row.text.startswith('---\nName: "Write docs"\n')
    assert 'Status: "Done"\n' in row.text
    assert "Details of write docs." in row.text


async def test_an_edit_in_the_same_minute_is_found_and_the_overlap_sends_nothing_twice(
    database_url,
):
    """Notion shows `last_edited_time` to the minute: two edits in the minute the page was
    last read leave its time as it was, yet each arrives as one `record_updated` (the window
    reads from a minute and more before its mark, and the content hash changed); a run with
    no edit reads the same page again and sends nothing."""
    frozen = time.time()
    notion = NotionState(clock=lambda: frozen)
    async with notion_harness(database_url, notion=notion) as n:
        page = n.notion.add_page("Plan", content=[paragraph("one")])
        n.notion.share(page)
        await n.connect()
        sid = (await n.enable({}))["id"]
        await n.h.settle()
        before = (await _records(n, sid))[page]["updatedAt"]
        n.replace_content(page, [paragraph("two")])
        await _incremental(n, sid)
        n.replace_content(page, [paragraph("three")])
        await _incremental(n, sid)
        await _incremental(n, sid)
        after = (await _records(n, sid))[page]
        content = await _content(n, sid, page)

        assert before == after["updatedAt"]
        assert [("record_updated", record_id(sid, page))] * 2 == _events(n)
        assert content.text.endswith("\nthree\n")


async def test_an_incremental_reads_only_the_pages_edited_since_its_mark(n):
    """Search runs newest first and stops at the first page older than the window: with 30
    pages edited weeks ago and one edited now, the incremental reads one page's content."""
    generated = generate(n.notion, 30, blocks_per_page=1)
    await n.connect()
    sid = (await n.enable({}))["id"]
    await n.h.settle()
    edited = generated.pages[7]
    n.replace_content(edited, [paragraph("new text")])
    first = len(n.notion.requests)
    await _incremental(n, sid)
    content_reads = [
        path for _, path, _ in n.notion.requests[first:] if path.startswith("/v1/blocks/")
    ]

    assert [f"/v1/blocks/{edited}/children"] == content_reads
    assert [("record_updated", record_id(sid, edited))] == _events(n)


def _with_trash_search(app: ASGIApp, state: NotionState) -> ASGIApp:
    """Notion documents `filter: {"in_trash": true}` on search (the trash, newest edit first),
    which the sandbox refuses: this answers it from the sandbox's state, and passes the rest."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/search":
            await app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        body = orjson.loads(raw or b"{}")
        if (body.get("filter") or {}).get("in_trash") is not True:
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}

            await app(scope, replay, send)
            return
        with state.lock:
            bot = state.bots[state.bot]
            render = Renderer(state, NOTION_VERSION, bot)
            trashed = [p for p in state.pages.values() if state.access(bot, p.id) == (True, True)]
            trashed.sort(key=lambda p: p.edited, reverse=True)
            results = [render.page(p, trashed=True) for p in trashed]
        answer = {"object": "list", "results": results, "next_cursor": None, "has_more": False}
        await Response(orjson.dumps(answer), media_type="application/json")(scope, receive, send)

    return wrapped


async def test_pages_moved_to_the_trash_are_deletions_in_the_incremental(database_url):
    """Where Notion's search of the trash answers, a page trashed since the mark is a
    `record_deleted` in the next incremental, without waiting for the full sync."""
    async with notion_harness(database_url, wrap=_with_trash_search) as n:
        s = populate(n.notion)
        await n.connect()
        sid = (await n.enable({}))["id"]
        await n.h.settle()
        gone = s.paths["Meeting notes"]
        n.notion.trash(gone)
        await _incremental(n, sid)

        assert [("record_deleted", record_id(sid, gone))] == _events(n)
        assert "FULL_SYNC_STARTED" not in await _log(n, sid)


async def test_a_page_restored_from_the_trash_brings_back_its_sub_pages(n):
    """Trashed pages (and their sub-pages) leave with the full sync; a page restored comes
    back in the incremental, and, new to the sync with sub-pages the window did not bring,
    brings a full listing that restores them too."""
    notion = n.notion
    parent = notion.add_page("Handbook", content=[paragraph("top")])
    child = notion.add_page("Chapter", parent, content=[paragraph("inner")])
    notion.share(parent)
    await n.connect()
    sid = (await n.enable({}))["id"]
    await n.h.settle()
    notion.trash(parent)
    await n.h.trigger(sid, "full")
    await n.h.settle()
    gone = await _live(n, sid)
    notion.restore(parent)
    await _incremental(n, sid)

    assert set() == gone
    assert {parent, child} == await _live(n, sid)
    assert [
        ("record_deleted", record_id(sid, parent)),
        ("record_deleted", record_id(sid, child)),
        ("record_created", record_id(sid, parent)),
        ("record_created", record_id(sid, child)),
    ] == sorted(
        _events(n), key=lambda e: (e[0] != "record_deleted", e[1] != record_id(sid, parent))
    )


async def test_a_new_page_with_a_new_database_arrives_without_a_full_listing(n):
    """A page created with an inline database made at the same time brings its rows in the
    same incremental (they are new too): nothing calls for a full listing."""
    notion = n.notion
    root = notion.add_page("Projects", content=[paragraph("all")])
    notion.share(root)
    await n.connect()
    sid = (await n.enable({}))["id"]
    await n.h.settle()
    page = notion.add_page("Launch", root, content=[paragraph("plan")])
    tasks = notion.add_database("Tasks", page, {"Name": "title"}, inline=True)
    row = notion.add_row(tasks, {"Name": "Write the post"})
    await _incremental(n, sid)

    assert {
        ("record_created", record_id(sid, page)),
        ("record_created", record_id(sid, row)),
    } == set(_events(n))
    assert "FULL_SYNC_STARTED" not in await _log(n, sid)


async def test_page_ids_hold_sub_pages_pages_in_blocks_and_database_rows(n):
    """A configured page brings everything below it: sub-pages at any depth, a page inside a
    toggle, the live rows of a database placed in it; other shared pages stay out."""
    s = populate(n.notion)
    await n.connect()
    sid = (await n.enable({"pageIds": [s.paths["Engineering"]]}))["id"]
    await n.h.settle()

    assert {
        s.paths[p]
        for p in (
            "Engineering",
            "Engineering/Archive/Old runbook",
            "Engineering/Q3 plan",
            "Engineering/Q3 plan/Risks",
            "Engineering/Tasks/Write docs",
            "Engineering/Tasks/Build the fake",
            "Engineering/Tasks/Load test",
        )
    } == await _live(n, sid)


async def test_page_ids_follow_pages_leaving_the_tree_and_parent_edits_list_nothing(n):
    """With `pageIds`, a page moved out of the tree is a deletion; an edit to a held page
    with sub-pages is an update and no full listing; a page created below is a creation."""
    notion = n.notion
    root = notion.add_page("Root", content=[paragraph("r")])
    kept = notion.add_page("Kept", root, content=[paragraph("k")])
    leaving = notion.add_page("Leaving", root, content=[paragraph("l")])
    elsewhere = notion.add_page("Elsewhere")
    for shared in (root, elsewhere):
        notion.share(shared)
    await n.connect()
    sid = (await n.enable({"pageIds": [root]}))["id"]
    await n.h.settle()
    notion.move(leaving, elsewhere)
    n.replace_content(root, [paragraph("r, revised")])
    added = notion.add_page("Added", kept, content=[paragraph("a")])
    await _incremental(n, sid)

    assert {root, kept, added} == await _live(n, sid)
    assert sorted(
        [
            ("record_deleted", record_id(sid, leaving)),
            ("record_updated", record_id(sid, root)),
            ("record_created", record_id(sid, added)),
        ]
    ) == sorted(_events(n))
    assert "FULL_SYNC_STARTED" not in await _log(n, sid)


async def test_a_database_given_as_a_page_is_refused_naming_the_key(n):
    """`pageIds` naming a database (Notion: "is a database, not a page") is a 422 on
    `configuration.pageIds`, and no sync is made."""
    s = populate(n.notion)
    await n.connect()
    answer = await n.h.api.post(
        "/api/syncs",
        headers=n.h.auth(),
        json={
            "integration": "notion",
            "pipeline": "files",
            "configuration": {"pageIds": [s.paths["Engineering/Tasks"]]},
        },
    )

    assert 422 == answer.status_code, answer.text
    assert "configuration.pageIds" == answer.json()["field"]


async def _rate_limited_sync(n: NotionHarness) -> tuple[str, int]:
    """Four pages synced with Notion's limit enforced (3 a second, a burst of 3): the sync's
    status and how many requests the sandbox refused."""
    for title in ("One", "Two", "Three", "Four"):
        n.notion.share(n.notion.add_page(title, content=[paragraph(title)]))
    n.notion.set_rate_limit(RateLimit(rate=3.0, burst=3.0))
    await n.connect()
    sid = (await n.enable({}))["id"]
    await n.h.settle()
    return str((await n.h.status(sid))["status"]), sum(n.notion.limiter.refused.values())


async def test_paced_requests_stay_under_notions_rate(database_url):
    """With the connector's pace (3 a second, a burst of 2, shared by the credential's
    requests), no request is refused, and the sync ends IDLE with every page."""
    async with notion_harness(database_url, paced=True) as n:
        status, refused = await _rate_limited_sync(n)

        assert ("IDLE", 0) == (status, refused)


async def test_without_pacing_notion_refuses_requests(database_url):
    """The same sync without pacing is refused (429 with Retry-After) and ends rate limited:
    what the pacing above avoids."""
    async with notion_harness(database_url, paced=False) as n:
        status, refused = await _rate_limited_sync(n)

        assert refused > 0
        assert "RATE_LIMITED" == status


async def test_a_search_cursor_notion_no_longer_honours_is_a_cursor_error(n):
    """Notion's cursors expire: a listing resumed with one it refuses raises `CursorInvalid`
    (the engine then lists again from the start)."""
    generate(n.notion, 120)
    access, _ = n.notion.issue_tokens()
    async with httpx.AsyncClient() as http:
        ctx = ConnectorContext(http=http, auth=_Bearer(access), api_url=n.url)
        connector = NotionConnector(NotionConfig(), ctx)
        pages = connector.list_all(None)
        first = await anext(pages)
        n.notion.expire_cursors()

        with pytest.raises(CursorInvalid):
            await anext(pages)
        assert 100 == len(first.items)
        assert first.checkpoint is not None
