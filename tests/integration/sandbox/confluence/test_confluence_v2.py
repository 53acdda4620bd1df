"""The sandbox Confluence's REST API v2 over real HTTP: cursor paging through `_links.next`
and the `Link` header, filters, sorts, `body-format`, single pages and spaces, the page tree
(children, direct children, descendants, ancestors) and the shapes of pages and spaces."""

from __future__ import annotations

import re

import httpx

from syncline.sandbox.confluence import ConfluenceState, SiteSamples
from tests.integration.sandbox.confluence.conftest import ALICE, follow

UTC_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _many(site: ConfluenceState, samples: SiteSamples, count: int) -> list[str]:
    return [
        site.add_page(samples.spaces["ENG"], f"Note {n:02d}", parent=samples.pages["ENG"])
        for n in range(count)
    ]


def test_cursor_paging_follows_links_next_and_the_link_header_to_the_end(site, samples, alice):
    """`GET /api/v2/pages?limit=5` pages by cursor: each page but the last carries
    `_links.next` and a `Link: <...>; rel="next", <base>; rel="base"` header naming the same
    URL, relative to the site (`/wiki/api/v2/...`, not the gateway's `/ex/confluence/...`);
    the last page has no `next` and no `Link`; every page appears exactly once."""
    _many(site, samples, 12)
    expected = {p.id for p in site.pages.values() if p.status == "current"}

    results, answers = follow(alice, "/api/v2/pages", limit=5)

    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids))
    assert expected == set(ids)
    for answer in answers[:-1]:
        following = answer.json()["_links"]["next"]
        assert following.startswith("/wiki/api/v2/pages?")
        assert "cursor=" in following
        assert "/ex/confluence/" not in following
        assert answer.headers["link"] == (
            f'<{following}>; rel="next", <{site.site_url}/wiki>; rel="base"'
        )
    assert "next" not in answers[-1].json()["_links"]
    assert "link" not in answers[-1].headers
    assert f"{site.site_url}/wiki" == answers[-1].json()["_links"]["base"]
    assert all(5 == len(a.json()["results"]) for a in answers[:-1])


def test_a_cursor_resumes_after_its_item_when_pages_change_between_requests(site, samples, alice):
    """Cursors name the last item's sort key: trashing an item of the first page before the
    second request neither repeats nor skips the items after it."""
    notes = _many(site, samples, 6)
    first = alice.get("/api/v2/pages", params={"space-id": samples.spaces["ENG"], "limit": 4})
    seen = [r["id"] for r in first.json()["results"]]
    site.trash_page(seen[0])

    rest, _ = follow(alice, first.json()["_links"]["next"].removeprefix("/wiki"))

    ids = seen + [r["id"] for r in rest]
    assert len(ids) == len(set(ids))
    assert set(notes) <= set(ids)


def test_a_garbled_or_foreign_cursor_is_refused_with_atlassians_400(site, samples, alice):
    """A cursor this server never issued, or one issued for another sort or listing, answers
    400 `INVALID_REQUEST_PARAMETER` "Provided value for 'cursor' is not the correct type.
    Expected type is Cursor." with Atlassian's detail, rather than the first page again."""
    _many(site, samples, 4)
    by_id = alice.get("/api/v2/pages", params={"limit": 2}).json()
    cursor = by_id["_links"]["next"].split("cursor=")[1].split("&")[0]

    garbled = alice.get("/api/v2/pages", params={"cursor": "eyJpZCI6MTIzfQ", "limit": 2})
    other_sort = alice.get("/api/v2/pages", params={"cursor": cursor, "sort": "title"})
    other_list = alice.get("/api/v2/spaces", params={"cursor": cursor})

    for answer in (garbled, other_sort, other_list):
        error = answer.json()["errors"][0]
        assert (400, 400, "INVALID_REQUEST_PARAMETER") == (
            answer.status_code,
            error["status"],
            error["code"],
        )
        assert (
            "Provided value for 'cursor' is not the correct type. Expected type is Cursor."
            == (error["title"])
        )
        assert error["detail"].startswith("The provided cursor was not valid.")


def test_limit_defaults_to_25_and_out_of_range_values_are_refused(site, samples, alice):
    """Without `limit` a page holds 25; `limit` outside 1..250 or not a number is a 400 in the
    v2 envelope naming the parameter."""
    _many(site, samples, 30)

    default = alice.get("/api/v2/pages").json()
    refused = [alice.get("/api/v2/pages", params={"limit": v}) for v in ("0", "251", "abc")]

    assert 25 == len(default["results"])
    for answer in refused:
        assert 400 == answer.status_code
        assert "'limit'" in answer.json()["errors"][0]["title"]


def test_filters_by_space_id_page_id_and_title(site, samples, alice):
    """`space-id`, `id` (comma-separated lists) and `title` filter the listing; a space id
    that is not a number is refused."""
    people = samples.spaces["PEOPLE"]
    handbook, runbooks = (
        samples.pages["PEOPLE/Handbook"],
        samples.pages["ENG/Architecture/Runbooks"],
    )

    in_people = alice.get("/api/v2/pages", params={"space-id": people}).json()["results"]
    by_id = alice.get("/api/v2/pages", params={"id": f"{handbook},{runbooks}"}).json()["results"]
    by_title = alice.get("/api/v2/pages", params={"title": "Runbooks"}).json()["results"]
    refused = alice.get("/api/v2/pages", params={"space-id": "ENG"})

    assert {people} == {p["spaceId"] for p in in_people}
    assert {"People Home", "Handbook", "Salaries"} == {p["title"] for p in in_people}
    assert {handbook, runbooks} == {p["id"] for p in by_id}
    assert [runbooks] == [p["id"] for p in by_title]
    assert 400 == refused.status_code


def test_status_defaults_to_current_and_archived_and_trashed_pages_need_asking(
    site, samples, alice
):
    """By default the listing holds `current` and `archived` pages; a trashed page appears
    only with `status=trashed` (carrying `status: "trashed"`); an unknown status is a 400."""
    onboarding, handbook = samples.pages["ENG/Onboarding"], samples.pages["PEOPLE/Handbook"]
    site.trash_page(onboarding)
    site.archive_page(handbook)

    default, _ = follow(alice, "/api/v2/pages", limit=250)
    trashed = alice.get("/api/v2/pages", params={"status": "trashed"}).json()["results"]
    both, _ = follow(alice, "/api/v2/pages", status="current,trashed")
    refused = alice.get("/api/v2/pages", params={"status": "gone"})

    statuses = {p["id"]: p["status"] for p in default}
    assert onboarding not in statuses
    assert "archived" == statuses[handbook]
    assert [(onboarding, "trashed")] == [(p["id"], p["status"]) for p in trashed]
    assert onboarding in {p["id"] for p in both}
    assert handbook not in {p["id"] for p in both}
    assert 400 == refused.status_code


def test_sort_by_modified_date_descending_puts_the_latest_edit_first(site, samples, alice, clock):
    """`sort=-modified-date` orders by `version.createdAt`, latest first; `sort` outside the
    documented values is a 400."""
    clock.advance(600)  # (a token lives an hour)
    site.edit_page(samples.pages["ENG/Architecture"], body="<p>Now with queues.</p>")
    clock.advance(60)
    site.edit_page(samples.pages["PEOPLE/Handbook"], body="<p>New travel policy.</p>")

    latest = alice.get("/api/v2/pages", params={"sort": "-modified-date", "limit": 2}).json()
    refused = alice.get("/api/v2/pages", params={"sort": "modified"})

    assert [samples.pages["PEOPLE/Handbook"], samples.pages["ENG/Architecture"]] == [
        p["id"] for p in latest["results"]
    ]
    assert 400 == refused.status_code


def test_body_format_storage_returns_the_storage_body_and_no_format_an_empty_body(samples, alice):
    """With `body-format=storage` each page carries `body.storage {value, representation:
    "storage"}`; without it `body` is empty; `view` is refused on the listing (only storage
    and atlas_doc_format are bulk formats) but served on a single page."""
    runbooks = samples.pages["ENG/Architecture/Runbooks"]

    listed = alice.get("/api/v2/pages", params={"id": runbooks, "body-format": "storage"})
    bare = alice.get("/api/v2/pages", params={"id": runbooks}).json()["results"][0]
    refused = alice.get("/api/v2/pages", params={"body-format": "view"})
    single = alice.get(f"/api/v2/pages/{runbooks}", params={"body-format": "view"}).json()

    body = listed.json()["results"][0]["body"]
    assert {
        "storage": {
            "representation": "storage",
            "value": "<h1>Runbooks</h1><p>What to do when.</p>",
        }
    } == body
    assert {} == bare["body"]
    assert 400 == refused.status_code
    assert "view" == single["body"]["view"]["representation"]


def test_a_single_page_carries_its_fields_links_and_versions(site, samples, alice, clock):
    """`GET /api/v2/pages/{id}`: `id`, `status`, `title`, `spaceId`, `parentId`,
    `parentType`, `authorId`, `ownerId`, `createdAt`, `version {number, createdAt, authorId,
    message, minorEdit}` and `_links` with `webui` and `base`; `version=1` serves an earlier
    version; `include-version=false` leaves `version` out."""
    runbooks = samples.pages["ENG/Architecture/Runbooks"]
    bob = samples.users["bob@example.com"]
    clock.advance(120)
    site.edit_page(runbooks, title="Runbooks (2024)", message="yearly review", minor_edit=True)

    page = alice.get(f"/api/v2/pages/{runbooks}").json()
    first = alice.get(f"/api/v2/pages/{runbooks}", params={"version": 1}).json()
    no_version = alice.get(f"/api/v2/pages/{runbooks}", params={"include-version": "false"})

    assert (runbooks, "current", "Runbooks (2024)") == (page["id"], page["status"], page["title"])
    assert (samples.spaces["ENG"], samples.pages["ENG/Architecture"], "page") == (
        page["spaceId"],
        page["parentId"],
        page["parentType"],
    )
    assert (bob, bob) == (page["authorId"], page["ownerId"])
    assert UTC_MILLIS.match(page["createdAt"])
    assert {"number": 2, "message": "yearly review", "minorEdit": True, "authorId": bob} == {
        k: page["version"][k] for k in ("number", "message", "minorEdit", "authorId")
    }
    assert UTC_MILLIS.match(page["version"]["createdAt"])
    assert page["_links"]["webui"] == f"/spaces/ENG/pages/{runbooks}/Runbooks+%282024%29"
    assert f"{site.site_url}/wiki" == page["_links"]["base"]
    assert (1, "Runbooks") == (first["version"]["number"], first["title"])
    assert "version" not in no_version.json()


def test_a_page_id_that_is_not_a_number_is_a_400_and_an_unknown_one_a_404(alice, samples):
    """A non-numeric id is refused with "Provided value {abc} for 'id' is not the correct type.
    Expected type is ContentId"; an unknown numeric id is the v2 404 body."""
    bad = alice.get("/api/v2/pages/abc")
    missing = alice.get("/api/v2/pages/999999999")

    assert 400 == bad.status_code
    assert (
        "Provided value {abc} for 'id' is not the correct type. Expected type is ContentId"
        == (bad.json()["errors"][0]["title"])
    )
    assert (
        404,
        {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]},
    ) == (
        missing.status_code,
        missing.json(),
    )


def test_spaces_list_by_id_with_ids_and_keys_filters_and_a_single_space(site, samples, alice):
    """`GET /api/v2/spaces` lists the spaces the caller may view by id, filtered by `ids` and
    `keys`, cursor paged; `GET /api/v2/spaces/{id}` carries `key`, `name`, `type`, `status`,
    `homepageId` and `_links.webui`."""
    everything, answers = follow(alice, "/api/v2/spaces", limit=1)
    by_key = alice.get("/api/v2/spaces", params={"keys": "PEOPLE"}).json()["results"]
    by_id = alice.get("/api/v2/spaces", params={"ids": samples.spaces["ENG"]}).json()["results"]
    single = alice.get(f"/api/v2/spaces/{samples.spaces['ENG']}").json()

    assert ["ENG", "PEOPLE"] == [s["key"] for s in everything]
    assert 2 == len(answers)
    assert ["PEOPLE"] == [s["key"] for s in by_key]
    assert ["ENG"] == [s["key"] for s in by_id]
    assert ("ENG", "Engineering", "global", "current") == (
        single["key"],
        single["name"],
        single["type"],
        single["status"],
    )
    assert samples.pages["ENG"] == single["homepageId"]
    assert "/spaces/ENG" == single["_links"]["webui"]


def test_space_pages_with_depth_root_lists_only_top_level_pages(site, samples, alice):
    """`/api/v2/spaces/{id}/pages?depth=root` lists the pages without a parent (the
    homepage); `depth=all` every page of the space."""
    eng = samples.spaces["ENG"]

    root = alice.get(f"/api/v2/spaces/{eng}/pages", params={"depth": "root"}).json()["results"]
    every, _ = follow(alice, f"/api/v2/spaces/{eng}/pages")

    assert [samples.pages["ENG"]] == [p["id"] for p in root]
    assert 9 == len(every)
    assert {eng} == {p["spaceId"] for p in every}


def test_direct_children_descendants_and_ancestors_walk_the_tree(samples, alice):
    """`/direct-children` lists a page's children (`type: page`, `childPosition`);
    `/descendants` lists the tree top to bottom with each item's `depth` and `parentId`,
    down to `depth` levels (default 2); `/ancestors` lists `{id, type}` from the root down."""
    home, arch = samples.pages["ENG"], samples.pages["ENG/Architecture"]
    runbooks, oncall = (
        samples.pages["ENG/Architecture/Runbooks"],
        samples.pages["ENG/Architecture/Runbooks/On-call"],
    )

    children = alice.get(f"/api/v2/pages/{home}/direct-children").json()["results"]
    two_deep = alice.get(f"/api/v2/pages/{home}/descendants").json()["results"]
    three_deep = alice.get(f"/api/v2/pages/{home}/descendants", params={"depth": 3}).json()
    ancestors = alice.get(f"/api/v2/pages/{oncall}/ancestors").json()["results"]

    assert ["Architecture", "Design Docs", "Leadership", "Onboarding"] == [
        c["title"] for c in children
    ]
    assert {"page"} == {c["type"] for c in children}
    assert [0, 1, 2, 3] == [c["childPosition"] for c in children]
    depths = [d["depth"] for d in two_deep]
    assert depths == sorted(depths)
    assert {1, 2} == set(depths)
    assert (runbooks, arch, 2) in {(d["id"], d["parentId"], d["depth"]) for d in two_deep}
    assert oncall in {d["id"] for d in three_deep["results"]}
    assert [
        {"id": home, "type": "page"},
        {"id": arch, "type": "page"},
        {"id": runbooks, "type": "page"},
    ] == ancestors


def test_descendants_refuse_a_depth_outside_one_to_five(samples, alice):
    """`depth` is 1..5 as the spec bounds it; 6 is a 400."""
    answer = alice.get(f"/api/v2/pages/{samples.pages['ENG']}/descendants", params={"depth": 6})

    assert 400 == answer.status_code


def test_the_gateway_paths_need_the_sites_cloud_id(site, samples, server):
    """Under `/ex/confluence/{cloudId}` only the site's cloud id reaches Confluence: any other
    is a 404 from the gateway."""
    access, _ = site.issue_tokens(ALICE)

    answer = httpx.get(
        f"{server.url}/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/api/v2/pages",
        headers={"Authorization": f"Bearer {access}"},
    )

    assert (404, {"code": 404, "message": "Not Found"}) == (answer.status_code, answer.json())
