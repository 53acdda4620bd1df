"""The sandbox Notion's access rules over real HTTP: sharing and unsharing with an integration,
trashed (archived) pages, pages deleted for good, and moves."""

from __future__ import annotations

from syncline.sandbox.notion.content import paragraph
from tests.integration.sandbox.notion.conftest import children_all, client, search_all


def test_unsharing_makes_a_page_and_its_descendants_vanish_silently(notion, api):
    """After `unshare`, the page, its sub-page and its blocks answer 404 `object_not_found`
    ("Could not find page with ID: ... Make sure the relevant pages and databases are shared
    with your integration.") and search no longer lists them; nothing marks them deleted."""
    page = notion.add_page("Shared", content=[paragraph("hello")])
    notion.share(page)
    sub = notion.add_page("Sub", page)
    block = notion.pages[page].children[0]
    assert {page, sub} == {r["id"] for r in search_all(api)}

    notion.unshare(page)
    gone = api.get(f"/v1/pages/{page}")
    sub_gone = api.get(f"/v1/pages/{sub}")
    block_gone = api.get(f"/v1/blocks/{block}")
    children_gone = api.get(f"/v1/blocks/{page}/children")

    assert [] == search_all(api)
    assert [404] * 4 == [r.status_code for r in (gone, sub_gone, block_gone, children_gone)]
    assert {
        "object": "error",
        "status": 404,
        "code": "object_not_found",
        "message": f"Could not find page with ID: {page}. Make sure the relevant pages and "
        "databases are shared with your integration.",
    } == {k: v for k, v in gone.json().items() if k != "request_id"}
    assert block_gone.json()["message"].startswith(f"Could not find block with ID: {block}.")


def test_a_sub_page_shared_on_its_own_stays_when_its_parent_is_unshared(notion, api):
    """Access comes from any shared ancestor: a sub-page shared directly survives the
    unsharing of its parent, and still names its real parent."""
    parent = notion.add_page("Parent")
    sub = notion.add_page("Sub", parent)
    notion.share(parent)
    notion.share(sub)

    notion.unshare(parent)

    assert [sub] == [r["id"] for r in search_all(api)]
    assert {"type": "page_id", "page_id": parent} == api.get(f"/v1/pages/{sub}").json()["parent"]
    assert 404 == api.get(f"/v1/pages/{parent}").status_code


def test_each_integration_sees_only_what_was_shared_with_it(notion, notion_server):
    """Two integrations in one workspace: each token reads only its own shares."""
    other = notion.add_bot("Other")
    mine = notion.add_page("Mine")
    theirs = notion.add_page("Theirs")
    notion.share(mine)
    notion.share(theirs, other)
    token, _ = notion.issue_tokens()
    other_token, _ = notion.issue_tokens(other)

    with client(notion_server, token) as me, client(notion_server, other_token) as them:
        assert [mine] == [r["id"] for r in search_all(me)]
        assert [theirs] == [r["id"] for r in search_all(them)]
        assert 404 == me.get(f"/v1/pages/{theirs}").status_code


def test_a_trashed_page_stays_readable_but_leaves_search_and_its_parents_children(
    notion, clock, api, old_api
):
    """Trashing sets `in_trash` and `archived` (its deprecated alias before 2026-03-11) on the
    page and its sub-pages, moves `last_edited_time`, drops them from search and from the
    parent's children, and keeps them readable; restoring undoes it."""
    root = notion.add_page("Root")
    notion.share(root)
    page = notion.add_page("Draft", root)
    sub = notion.add_page("Draft detail", page)
    clock.advance(120)

    notion.trash(page)
    trashed = api.get(f"/v1/pages/{page}").json()
    sub_trashed = old_api.get(f"/v1/pages/{sub}").json()
    listed = {r["id"] for r in search_all(api)}
    children = [b["id"] for b in children_all(api, root)]
    notion.restore(page)
    restored = api.get(f"/v1/pages/{page}").json()

    assert (True, True) == (trashed["in_trash"], trashed["archived"])
    assert "2024-05-01T10:02:00.000Z" == trashed["last_edited_time"]
    assert (True, True) == (sub_trashed["in_trash"], sub_trashed["archived"])
    assert {root} == listed
    assert [] == children
    assert (False, False) == (restored["in_trash"], restored["archived"])
    assert {root, page, sub} == {r["id"] for r in search_all(api)}


def test_archive_is_the_same_as_trash_in_the_emulated_versions(notion, api):
    """`archive` is `trash`: before 2026-03-11 `archived` is an alias of `in_trash`."""
    page = notion.add_page("Old")
    notion.share(page)

    notion.archive(page)

    body = api.get(f"/v1/pages/{page}").json()
    assert (True, True) == (body["archived"], body["in_trash"])


def test_a_purged_page_is_gone_without_a_trace(notion, api):
    """`purge` deletes a page and its subtree for good: 404 on every read, absent from search
    and from its parent's children."""
    root = notion.add_page("Root")
    notion.share(root)
    page = notion.add_page("Doomed", root, content=[paragraph("bye")])
    block = notion.pages[page].children[0]

    notion.purge(page)

    assert {root} == {r["id"] for r in search_all(api)}
    assert [] == children_all(api, root)
    assert (404, 404) == (
        api.get(f"/v1/pages/{page}").status_code,
        api.get(f"/v1/blocks/{block}").status_code,
    )


def test_moving_a_page_out_of_the_shared_tree_hides_it(notion, clock, api):
    """A page moved under a page the integration cannot see disappears for it; moved back
    under a shared page it reappears with its new parent and a later `last_edited_time`."""
    shared = notion.add_page("Shared")
    notion.share(shared)
    private = notion.add_page("Private")
    page = notion.add_page("Wanderer", shared)

    clock.advance(60)
    notion.move(page, private)
    hidden = api.get(f"/v1/pages/{page}").status_code
    clock.advance(60)
    notion.move(page, shared)
    back = api.get(f"/v1/pages/{page}").json()

    assert 404 == hidden
    assert {"type": "page_id", "page_id": shared} == back["parent"]
    assert "2024-05-01T10:02:00.000Z" == back["last_edited_time"]
    assert [page] == [b["id"] for b in children_all(api, shared)]
