"""The sandbox Notion's search over real HTTP: paging by cursor, the sort by last_edited_time,
the object filter of each API version, title queries, what is shared, and its speed at 10,000
pages."""

from __future__ import annotations

import time

from syncline.sandbox.notion.samples import generate
from tests.integration.sandbox.notion.conftest import search_all

DESC = {"sort": {"timestamp": "last_edited_time", "direction": "descending"}}
ASC = {"sort": {"timestamp": "last_edited_time", "direction": "ascending"}}


def test_paging_by_cursor_visits_every_shared_page_once_in_edit_order(notion, clock, api):
    """With `page_size: 2`, following `next_cursor` yields each shared page exactly once, newest
    edit first (descending) or oldest first (ascending); pages carry `object: list`,
    `has_more`, and the last page's `next_cursor` is null."""
    root = notion.add_page("Root")
    notion.share(root)
    ids = [root]
    for n in range(6):
        clock.advance(120)
        ids.append(notion.add_page(f"Child {n}", root))

    first = api.post("/v1/search", json={**DESC, "page_size": 2}).json()
    newest_first = [r["id"] for r in search_all(api, DESC, page_size=2)]
    oldest_first = [r["id"] for r in search_all(api, ASC, page_size=3)]

    assert "list" == first["object"]
    assert (True, 2) == (first["has_more"], len(first["results"]))
    assert isinstance(first["next_cursor"], str)
    assert ids[::-1] == newest_first
    assert ids == oldest_first


def test_an_edit_moves_a_page_to_the_front_of_the_descending_order(notion, clock, api):
    """Editing a page's title moves its `last_edited_time` on, so it comes first newest-first."""
    root = notion.add_page("Root")
    notion.share(root)
    older = notion.add_page("Older", root)
    clock.advance(300)
    notion.add_page("Newer", root)
    clock.advance(300)

    notion.edit_page(older, title="Older, edited")
    top = api.post("/v1/search", json={**DESC, "page_size": 1}).json()["results"][0]

    assert older == top["id"]
    assert "Older, edited" == top["properties"]["title"]["title"][0]["plain_text"]


def test_search_returns_only_what_is_shared_with_the_integration(notion, api):
    """Pages neither shared nor under a shared page are absent; a shared page's descendants are
    present."""
    shared = notion.add_page("Shared")
    notion.share(shared)
    child = notion.add_page("Child", shared)
    notion.add_page("Private")

    assert {shared, child} == {r["id"] for r in search_all(api)}


def test_query_matches_titles_without_regard_to_case(notion, api):
    """`query` keeps results whose title contains it, ignoring case."""
    root = notion.add_page("Projects")
    notion.share(root)
    plan = notion.add_page("Q3 Plan", root)
    notion.add_page("Budget", root)

    assert [plan] == [r["id"] for r in search_all(api, {"query": "q3 pl"})]


def test_the_object_filter_takes_database_before_2025_and_data_source_after(notion, api, old_api):
    """`2022-06-28` filters on `database` and answers database objects (`type:
    page_or_database`); `2025-09-03` filters on `data_source`, answers data source objects
    (`type: page_or_data_source`) and refuses `database` with a validation error."""
    root = notion.add_page("Wiki")
    notion.share(root)
    db = notion.add_database("Tasks", root, {"Name": "title"})
    notion.add_row(db, {"Name": "One"})
    source = notion.databases[db].data_source_id

    old = old_api.post("/v1/search", json={"filter": {"property": "object", "value": "database"}})
    new = api.post("/v1/search", json={"filter": {"property": "object", "value": "data_source"}})
    refused = api.post("/v1/search", json={"filter": {"property": "object", "value": "database"}})
    pages = api.post("/v1/search", json={"filter": {"property": "object", "value": "page"}})

    assert ("page_or_database", [("database", db)]) == (
        old.json()["type"],
        [(r["object"], r["id"]) for r in old.json()["results"]],
    )
    assert "properties" in old.json()["results"][0]
    assert ("page_or_data_source", [("data_source", source)]) == (
        new.json()["type"],
        [(r["object"], r["id"]) for r in new.json()["results"]],
    )
    assert {"type": "database_id", "database_id": db} == new.json()["results"][0]["parent"]
    assert (400, "validation_error") == (refused.status_code, refused.json()["code"])
    assert '`"page"` or `"data_source"`' in refused.json()["message"]
    assert {"page"} == {r["object"] for r in pages.json()["results"]}


def test_search_refuses_what_notion_refuses(notion, api):
    """`page_size` above 100, an unknown body key, a sort on another timestamp, and a cursor
    the server never issued are each 400 `validation_error` in Notion's wording."""
    over = api.post("/v1/search", json={"page_size": 101})
    unknown = api.post("/v1/search", json={"limit": 5})
    bad_sort = api.post(
        "/v1/search", json={"sort": {"timestamp": "created_time", "direction": "ascending"}}
    )
    forged = api.post("/v1/search", json={"start_cursor": "3c90c3cc-0d44-4b50-8888-8dd25736052a"})

    assert [400] * 4 == [r.status_code for r in (over, unknown, bad_sort, forged)]
    assert {"validation_error"} == {r.json()["code"] for r in (over, unknown, bad_sort, forged)}
    assert (
        "body failed validation: body.page_size should be ≤ `100`, instead was `101`."
        == over.json()["message"]
    )
    assert "body.limit should be not present" in unknown.json()["message"]
    assert forged.json()["message"].startswith("The start_cursor provided is invalid")


def test_expired_cursors_are_refused(notion, api):
    """After `expire_cursors`, a `next_cursor` issued before is refused as invalid, as Notion's
    session-scoped cursors are."""
    root = notion.add_page("Root")
    notion.share(root)
    for n in range(3):
        notion.add_page(f"P{n}", root)
    cursor = api.post("/v1/search", json={"page_size": 2}).json()["next_cursor"]

    notion.expire_cursors()
    again = api.post("/v1/search", json={"page_size": 2, "start_cursor": cursor})

    assert (400, "validation_error") == (again.status_code, again.json()["code"])


def test_new_pages_lag_behind_in_search_unless_shared_directly(notion, clock, api):
    """With `search_lag`, a page created moments ago under a shared page is not yet found, the
    directly shared page is, and the new one appears once the lag has passed."""
    notion.search_lag = 60.0
    root = notion.add_page("Root")
    notion.share(root)
    child = notion.add_page("Fresh", root)

    before = {r["id"] for r in search_all(api)}
    clock.advance(61)
    after = {r["id"] for r in search_all(api)}

    assert {root} == before
    assert {root, child} == after


def test_ten_thousand_pages_build_fast_and_list_in_pages_of_constant_cost(notion, api):
    """`generate` builds 10,000 pages in well under two seconds, and listing them all by search
    (101 requests) costs about as much per request at the end as at the start: paging is not
    quadratic."""
    built = generate(notion, 10_000)
    started = time.perf_counter()
    cursor, seen, durations = None, 0, []
    while True:
        body = {**DESC, "page_size": 100}
        if cursor:
            body["start_cursor"] = cursor
        began = time.perf_counter()
        page = api.post("/v1/search", json=body).json()
        durations.append(time.perf_counter() - began)
        seen += len(page["results"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    listed = time.perf_counter() - started

    assert built.seconds < 2.0
    assert 10_001 == seen
    assert listed < 20.0
    first, last = sorted(durations[:10])[5], sorted(durations[-10:])[5]
    assert last < max(5 * first, 0.05)
