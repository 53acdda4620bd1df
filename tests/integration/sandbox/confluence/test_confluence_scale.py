"""The sandbox Confluence at benchmark size: 10,000 pages build in one pass and list in full,
by v2 cursor and by CQL search, without a page costing more as the listing goes on."""

from __future__ import annotations

import time

import httpx

from syncline.sandbox import BackgroundServer
from syncline.sandbox.confluence import ConfluenceState, create_confluence_app, generate

COUNT = 10_000


def test_ten_thousand_pages_build_fast_and_list_in_full_without_quadratic_paging(
    record_property,
):
    """`generate` builds 10,000 pages in well under a second; listing them all through
    `/api/v2/pages?limit=250` (40 requests) and through `content/search` (10 requests of
    1,000) returns each page once, and the last v2 request costs about what the first did
    (cursors are keyset positions, not offsets rescanned from the start)."""
    state = ConfluenceState()
    started = time.perf_counter()
    generated = generate(state, COUNT)
    built = time.perf_counter() - started
    access, _ = state.issue_tokens("alice@example.com")

    with (
        BackgroundServer(create_confluence_app(state)) as server,
        httpx.Client(
            base_url=f"{server.url}/ex/confluence/{state.cloud_id}/wiki",
            headers={"Authorization": f"Bearer {access}"},
            timeout=30,
        ) as http,
    ):
        started = time.perf_counter()
        seen: list[str] = []
        costs: list[float] = []
        url = f"/api/v2/spaces/{generated.space_id}/pages?limit=250"
        while url:
            asked = time.perf_counter()
            body = http.get(url).json()
            costs.append(time.perf_counter() - asked)
            seen += [p["id"] for p in body["results"]]
            url = body["_links"].get("next", "").removeprefix("/wiki")
        listed = time.perf_counter() - started

        started = time.perf_counter()
        found: list[str] = []
        answer = http.get("/rest/api/content/search", params={"cql": "type = page", "limit": 1000})
        while True:
            found += [r["id"] for r in answer.json()["results"]]
            following = answer.json()["_links"].get("next")
            if not following:
                break
            answer = http.get(following)
        searched = time.perf_counter() - started

    record_property("build_seconds", round(built, 3))
    record_property("v2_list_seconds", round(listed, 3))
    record_property("cql_search_seconds", round(searched, 3))
    expected = set(generated.page_ids) | {state.spaces[generated.space_id].homepage_id}
    assert built < 2.0
    assert len(seen) == len(set(seen)) == COUNT + 1
    assert expected == set(seen) == set(found)
    assert listed < 20.0
    assert searched < 20.0
    assert max(costs[-5:]) < 5 * max(costs[1:6]) + 0.05
