"""The sandbox Confluence's v1 CQL searches (`/rest/api/content/search` and `/rest/api/search`)
over real HTTP: `lastmodified` at minute precision in the site's time zone, the refusal of
malformed CQL with Confluence's 400 body, the fields a sync client uses, `ORDER BY`, cursor
paging through `_links.next`, v1's parameter binding and its page-size caps."""

from __future__ import annotations

from syncline.sandbox.confluence import ConfluenceState, SiteSamples

SEARCH = "/rest/api/content/search"
CQL_400 = (
    "com.atlassian.confluence.api.service.exceptions.BadRequestException: Could not parse cql : "
)


def _ids(answer) -> list[str]:
    assert 200 == answer.status_code, answer.text
    return [r["id"] for r in answer.json()["results"]]


def _edit_runbooks_at_2030_30_in_sydney(site: ConfluenceState, samples: SiteSamples, clock) -> str:
    """The samples were written at 2024-05-01 10:00:00 UTC, 20:00 in Sydney; this edit lands
    30.5 minutes later, 20:30:30 Sydney time (10:30:30 UTC)."""
    clock.advance(30 * 60 + 30)
    runbooks = samples.pages["ENG/Architecture/Runbooks"]
    site.edit_page(runbooks, body="<p>Updated.</p>")
    return runbooks


def test_lastmodified_is_read_in_the_site_time_zone_at_minute_precision(
    site, samples, alice, clock
):
    """`lastmodified >= "yyyy/MM/dd HH:mm"` reads the date in the site's time zone (Sydney
    here), to the minute: an edit at 20:30:30 matches `>= 20:30` and `> 20:30` but not
    `>= 20:31`; `= 20:30` matches within that minute; the same wall time written in UTC
    (10:30) finds every page, since 10:30 in Sydney is ten hours earlier."""
    runbooks = _edit_runbooks_at_2030_30_in_sydney(site, samples, clock)

    def find(clause: str) -> list[str]:
        return _ids(alice.get(SEARCH, params={"cql": f"type = page AND {clause}", "limit": 100}))

    assert [runbooks] == find('lastmodified >= "2024/05/01 20:30"')
    assert [runbooks] == find('lastmodified > "2024-05-01 20:30"')
    assert [] == find('lastmodified >= "2024/05/01 20:31"')
    assert [runbooks] == find('lastmodified = "2024/05/01 20:30"')
    assert len(find('lastmodified >= "2024/05/01 10:30"')) > 1
    assert [] == find('lastmodified >= "2024-05-02"')
    assert runbooks in find('lastmodified >= "2024-05-01"')


def test_iso_timestamps_and_seconds_in_dates_are_refused_with_confluences_400(samples, alice):
    """Only `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd` and `yyyy-MM-dd` parse: an ISO
    timestamp (the shape v2 and v1 write their own times in) or a time with seconds is a 400
    whose body is v1's envelope with "BadRequestException: Could not parse cql : <cql>"."""
    for value in ("2024-05-01T10:30:00.000Z", "2024/05/01 20:30:00", "2024-05-01T20:30"):
        cql = f'type = page AND lastmodified >= "{value}"'

        answer = alice.get(SEARCH, params={"cql": cql})

        assert 400 == answer.status_code
        assert {
            "statusCode": 400,
            "data": {
                "authorized": False,
                "valid": True,
                "allowedInReadOnlyMode": True,
                "errors": [],
                "successful": False,
            },
            "message": CQL_400 + cql,
            "reason": "Bad Request",
        } == answer.json()


def test_malformed_cql_is_refused_with_could_not_parse_cql(samples, alice):
    """A dangling `AND`, an unclosed parenthesis or list, an unquoted value with a space, a
    missing operator, and an operator the field does not take are all 400 "Could not parse
    cql"; a missing `cql` parameter is a 400 too."""
    for cql in (
        "type = page AND",
        "(type = page",
        "space IN (ENG, PEOPLE",
        "title = Design Docs",
        "type page",
        'lastmodified ~ "2024-05-01"',
        "type = page ORDER lastmodified",
    ):
        answer = alice.get(SEARCH, params={"cql": cql})

        assert (400, CQL_400 + cql) == (answer.status_code, answer.json()["message"]), cql
    assert 400 == alice.get(SEARCH).status_code


def test_an_unknown_field_and_a_negative_first_clause_are_refused(samples, alice):
    """A field Confluence has no such name for is 400 "No field exists with the name: 'x'";
    "a negative expression cannot be the first clause", so `type != page AND ...` is refused
    while the same clause later in the query is served."""
    unknown = alice.get(SEARCH, params={"cql": "colour = blue"})
    negative_first = alice.get(SEARCH, params={"cql": "type != blogpost AND space = ENG"})
    negative_later = alice.get(SEARCH, params={"cql": "space = ENG AND type != blogpost"})

    assert 400 == unknown.status_code
    assert unknown.json()["message"].endswith("No field exists with the name: 'colour'")
    assert 400 == negative_first.status_code
    assert 200 == negative_later.status_code


def test_space_ancestor_parent_title_and_type_clauses_select_pages(samples, alice):
    """`space`, `space.key`, `space.id`, `space IN (...)`, `ancestor` (descendants, not the
    page itself), `parent` (children), `title ~` (words, any case), `id IN` and `type` (only
    pages exist) select as Confluence's field reference describes."""
    pages, spaces = samples.pages, samples.spaces
    arch = pages["ENG/Architecture"]

    def find(cql: str) -> set[str]:
        return set(_ids(alice.get(SEARCH, params={"cql": cql, "limit": 100})))

    people = {pages["PEOPLE"], pages["PEOPLE/Handbook"], pages["PEOPLE/Salaries"]}
    assert people == find("space = PEOPLE")
    assert people == find(f"space.id = {spaces['PEOPLE']}")
    assert len(find('space IN ("ENG", "PEOPLE")')) == len(find("type = page"))
    assert find("space.key = ENG") == find("type = page AND space = ENG")
    assert {pages["ENG/Architecture/Runbooks"], pages["ENG/Architecture/Runbooks/On-call"]} == find(
        f"ancestor = {arch}"
    )
    assert {pages["ENG/Architecture/Runbooks"]} == find(f"parent = {arch}")
    assert {pages["ENG/Architecture/Runbooks"]} == find('title ~ "RUNBOOKS"')
    assert {arch, pages["PEOPLE/Handbook"]} == find(f"id IN ({arch}, {pages['PEOPLE/Handbook']})")
    assert set() == find("type = blogpost")
    assert people == find('space = PEOPLE OR (space = ENG AND title = "Nothing")')


def test_content_search_orders_by_lastmodified_and_pages_by_the_cursor_in_links_next(
    site, samples, alice, clock
):
    """`ORDER BY lastmodified DESC` puts the latest edit first; following `_links.next`
    (`/rest/api/content/search?next=true&cursor=...`, relative to `_links.base`) visits every
    match once; `start` is ignored by `content/search`, which pages by cursor only."""
    for n, path in enumerate(("ENG/Onboarding", "ENG/Architecture", "ENG/Design Docs")):
        clock.advance(60 * (n + 1))
        site.edit_page(samples.pages[path], body=f"<p>edit {n}</p>")
    cql = "type = page AND space = ENG ORDER BY lastmodified DESC"

    first = alice.get(SEARCH, params={"cql": cql, "limit": 4})
    ignored_start = alice.get(SEARCH, params={"cql": cql, "limit": 4, "start": 4})
    ids = _ids(first)
    following = first.json()["_links"]["next"]
    assert following.startswith("/rest/api/content/search?next=true&cursor=")
    while following:
        answer = alice.get(following)
        ids += _ids(answer)
        following = answer.json()["_links"].get("next")

    assert [
        samples.pages[p] for p in ("ENG/Design Docs", "ENG/Architecture", "ENG/Onboarding")
    ] == ids[:3]
    assert 9 == len(ids) == len(set(ids))
    assert _ids(first) == _ids(ignored_start)
    assert f"{site.site_url}/wiki" == first.json()["_links"]["base"]
    assert "/wiki" == first.json()["_links"]["context"]


def test_writes_between_search_pages_shift_the_results_as_a_search_index_does(site, samples, alice):
    """A search cursor is a position in the result set: trashing a match that was already
    served shifts the rest, so the next page skips one (a client needs overlap and
    idempotent upserts, or a full listing, to be complete)."""
    cql = "space = ENG ORDER BY created"
    first = alice.get(SEARCH, params={"cql": cql, "limit": 3})
    served = _ids(first)
    site.trash_page(served[0])

    second = _ids(alice.get(first.json()["_links"]["next"]))

    everything = set(_ids(alice.get(SEARCH, params={"cql": cql, "limit": 100})))
    assert everything - set(served) - set(second)  # one match was never served


def test_the_search_endpoint_answers_search_results_with_total_size(site, samples, alice):
    """`/rest/api/search` wraps each page in a `SearchResult` (`content`, `title`, `excerpt`,
    `url`, `resultGlobalContainer`, `entityType`, `lastModified`) and reports `start`,
    `limit`, `size`, `totalSize` and `cqlQuery`; it honours `start`, and its `next` carries
    `next=true`, the cursor, `limit` and `start`. `expand=content.version` expands each
    result's content."""
    cql = "space = ENG ORDER BY created"

    first = alice.get(
        "/rest/api/search", params={"cql": cql, "limit": 2, "expand": "content.version"}
    )
    skipped = alice.get("/rest/api/search", params={"cql": cql, "limit": 2, "start": 2})

    body = first.json()
    result = body["results"][0]
    assert (0, 2, 2, 9, cql) == (
        body["start"],
        body["limit"],
        body["size"],
        body["totalSize"],
        body["cqlQuery"],
    )
    assert ("content", "Engineering Home") == (result["entityType"], result["title"])
    assert result["url"].startswith("/spaces/ENG/pages/")
    assert {"title": "Engineering", "displayUrl": "/spaces/ENG"} == result["resultGlobalContainer"]
    assert 1 == result["content"]["version"]["number"]
    assert result["lastModified"].endswith("Z")
    assert body["_links"]["next"].startswith("/rest/api/search?next=true&cursor=")
    assert "start=2" in body["_links"]["next"]
    first_ids = [r["content"]["id"] for r in body["results"]]
    assert first_ids[1] != skipped.json()["results"][0]["content"]["id"]
    assert 2 == skipped.json()["start"]


def test_search_parameters_bind_as_confluences_do(samples, alice):
    """On the CQL search a `limit` or `start` that is not an integer is a 404 with no body
    and no content type, a negative one is 400 "IllegalArgumentException: limit cannot be
    less than zero", and an empty one is the default (all as measured against a real site)."""
    unparsable = alice.get("/rest/api/search", params={"cql": "type = page", "limit": "abc"})
    negative = alice.get("/rest/api/search", params={"cql": "type = page", "limit": "-1"})
    empty = alice.get("/rest/api/search", params={"cql": "type = page", "limit": ""})

    assert (404, b"") == (unparsable.status_code, unparsable.content)
    assert "content-type" not in unparsable.headers
    assert 400 == negative.status_code
    assert negative.json()["message"] == (
        "java.lang.IllegalArgumentException: limit cannot be less than zero"
    )
    assert (200, 25) == (empty.status_code, empty.json()["limit"])


def test_a_body_expansion_caps_a_search_page_at_50_whatever_limit_says(site, samples, alice):
    """With `expand=body.storage` a page of search results holds at most 50 even when
    `limit` asks for 100 (`limit` is echoed as asked), and `_links.next` leads to the rest:
    a client must page until `next` is gone, not until a page is short."""
    for n in range(60):
        site.add_page(samples.spaces["ENG"], f"Bulk {n}", parent=samples.pages["ENG"])

    answer = alice.get(
        SEARCH, params={"cql": 'title ~ "bulk"', "limit": 100, "expand": "body.storage"}
    )

    body = answer.json()
    assert (100, 50) == (body["limit"], body["size"])
    assert "next" in body["_links"]
    assert body["results"][0]["body"]["storage"]["representation"] == "storage"


def test_search_leaves_out_trashed_archived_and_unviewable_pages(site, samples, alice, bob, carol):
    """Only current pages the caller may view are found: Bob (engineering) misses Alice's
    Leadership page and its child; Carol (not in engineering) misses Design Docs and, through
    inheritance, API Design; a trashed and an archived page are found by nobody."""
    pages = samples.pages
    site.trash_page(pages["ENG/Onboarding"])
    site.archive_page(pages["PEOPLE/Handbook"])

    def find(http) -> set[str]:
        return set(_ids(http.get(SEARCH, params={"cql": "type = page", "limit": 100})))

    for_alice, for_bob, for_carol = find(alice), find(bob), find(carol)

    assert pages["ENG/Onboarding"] not in for_alice | for_bob | for_carol
    assert pages["PEOPLE/Handbook"] not in for_alice
    assert {pages["ENG/Leadership"], pages["ENG/Leadership/Q3 Roadmap"]} <= for_alice
    assert not {pages["ENG/Leadership"], pages["ENG/Leadership/Q3 Roadmap"]} & for_bob
    assert pages["ENG/Design Docs/API Design"] in for_bob
    assert not {pages["ENG/Design Docs"], pages["ENG/Design Docs/API Design"]} & for_carol
    assert pages["PEOPLE/Salaries"] in for_carol
    assert pages["PEOPLE/Salaries"] not in for_bob
