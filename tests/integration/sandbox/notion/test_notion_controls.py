"""The sandbox Notion's test controls, in Python and over HTTP: edits, appended and changed
blocks, moves, trash, sharing and purges, each moving `last_edited_time` as Notion's would, and
the kit's file control adapter."""

from __future__ import annotations

import httpx
import pytest

from syncline.sandbox.notion import NotionControl
from syncline.sandbox.notion.content import paragraph, to_do
from tests.integration.sandbox.notion.conftest import children_all, search_all


@pytest.fixture
def control(notion_server):
    with httpx.Client(base_url=notion_server.url, timeout=5) as http:
        yield http


def test_appending_and_changing_blocks_moves_the_pages_last_edited_time(notion, clock, api):
    """Appending blocks (also after a given block), changing one and deleting one each move the
    page's `last_edited_time`; a changed block shows its own new time, and a deleted one
    leaves the children list."""
    page = notion.add_page("Doc", content=[paragraph("one"), paragraph("three")])
    notion.share(page)
    first = notion.pages[page].children[0]

    clock.advance(60)
    notion.append_blocks(page, [paragraph("two")], after=first)
    after_append = api.get(f"/v1/pages/{page}").json()["last_edited_time"]
    clock.advance(60)
    notion.update_block(first, {"paragraph": {"rich_text": [{"text": {"content": "uno"}}]}})
    clock.advance(60)
    last = notion.pages[page].children[-1]
    notion.delete_block(last)
    blocks = children_all(api, page)
    deleted = api.get(f"/v1/blocks/{last}").json()

    assert "2024-05-01T10:01:00.000Z" == after_append
    assert ["uno", "two"] == [b["paragraph"]["rich_text"][0]["plain_text"] for b in blocks]
    assert "2024-05-01T10:02:00.000Z" == blocks[0]["last_edited_time"]
    assert "2024-05-01T10:03:00.000Z" == api.get(f"/v1/pages/{page}").json()["last_edited_time"]
    assert (True, True) == (deleted["in_trash"], deleted["archived"])


def test_a_nested_block_edit_moves_its_page_not_only_the_block(notion, clock, api):
    """Appending under a nested block moves that block's page's `last_edited_time` too."""
    page = notion.add_page("Doc", content=[to_do("parent")])
    notion.share(page)
    block = notion.pages[page].children[0]

    clock.advance(120)
    notion.append_blocks(block, [paragraph("child")])

    assert "2024-05-01T10:02:00.000Z" == api.get(f"/v1/pages/{page}").json()["last_edited_time"]
    assert api.get(f"/v1/blocks/{block}").json()["has_children"]


def test_the_http_controls_edit_trash_share_move_append_and_purge(notion, clock, api, control):
    """`/_notion/pages/{id}` and friends change the fake as the Python methods do, and answer
    404 for an unknown id."""
    root = notion.add_page("Root")
    page = notion.add_page("Page", root)
    other = notion.add_page("Other")

    shared = control.post(f"/_notion/pages/{root}/share")
    clock.advance(60)
    edited = control.patch(f"/_notion/pages/{page}", json={"title": "Renamed"})
    appended = control.post(
        f"/_notion/blocks/{page}/children", json={"children": [paragraph("added")]}
    )
    title = api.get(f"/v1/pages/{page}").json()["properties"]["title"]["title"][0]["plain_text"]
    content = [b["type"] for b in children_all(api, page)]
    control.post(f"/_notion/pages/{page}/trash")
    trashed = api.get(f"/v1/pages/{page}").json()["in_trash"]
    control.post(f"/_notion/pages/{page}/restore")
    control.post(f"/_notion/pages/{page}/move", json={"parent": other})
    moved_away = api.get(f"/v1/pages/{page}").status_code
    control.post(f"/_notion/pages/{other}/share")
    control.post(f"/_notion/pages/{other}/purge")
    purged = api.get(f"/v1/pages/{other}").status_code
    unknown = control.post("/_notion/pages/3c90c3cc-0d44-4b50-8888-8dd25736052a/trash")

    assert (200, 200) == (shared.status_code, edited.status_code)
    assert 1 == len(appended.json()["children"])
    assert ("Renamed", ["paragraph"], True) == (title, content, trashed)
    assert (404, 404) == (moved_away, purged)
    assert 404 == unknown.status_code
    assert {root} == {r["id"] for r in search_all(api)}


def test_touch_moves_only_the_time(notion, clock, api):
    """`touch` is an edit that changes nothing but `last_edited_time` and `last_edited_by`."""
    bob = notion.add_person("Bob Builder")
    page = notion.add_page("Doc")
    notion.share(page)
    before = api.get(f"/v1/pages/{page}").json()

    clock.advance(90)
    notion.touch(page, by=bob)
    after = api.get(f"/v1/pages/{page}").json()

    assert before["properties"] == after["properties"]
    assert ("2024-05-01T10:01:00.000Z", bob) == (
        after["last_edited_time"],
        after["last_edited_by"]["id"],
    )


def test_the_file_control_adds_edits_and_trashes_pages(notion, clock, api):
    """`NotionControl` lists the pages the integration sees, adds a shared page with one
    paragraph per line, replaces its content and title on edit, and trashes it on delete."""
    files = NotionControl(notion)

    page = files.add("Notes", b"first line\nsecond line\n")
    listed = [(f.id, f.name) for f in files.files()]
    clock.advance(60)
    files.edit(page, name="Notes v2", content=b"only line\n")
    content = [b["paragraph"]["rich_text"][0]["plain_text"] for b in children_all(api, page)]
    body = api.get(f"/v1/pages/{page}").json()
    files.delete(page)

    assert [(page, "Notes")] == listed
    assert ["only line"] == content
    assert "Notes v2" == body["properties"]["title"]["title"][0]["plain_text"]
    assert "2024-05-01T10:01:00.000Z" == body["last_edited_time"]
    assert [] == files.files()
    assert api.get(f"/v1/pages/{page}").json()["in_trash"]


def test_controls_refuse_what_notion_cannot_hold(notion):
    """Rows go in databases and blocks in pages; unknown block types and computed properties
    are refused."""
    root = notion.add_page("Root")
    db = notion.add_database("Tasks", root, {"Name": "title", "Created": "created_time"})

    with pytest.raises(ValueError, match="database holds rows"):
        notion.append_blocks(db, [paragraph("x")])
    with pytest.raises(ValueError, match="unsupported block type"):
        notion.append_blocks(root, [{"type": "synced_block", "synced_block": {}}])
    with pytest.raises(ValueError, match="computes it"):
        notion.add_row(db, {"Name": "x", "Created": "2024-01-01"})
    with pytest.raises(ValueError, match="under itself"):
        notion.move(root, notion.add_page("Child", root))
