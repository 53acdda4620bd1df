"""What the Confluence connector does beyond the connector contract (tests/integration/contract),
against the sandbox Confluence over HTTP: the sample site's records, the cloud id, permissions
from space permissions, groups and inherited page restrictions (and their changes), the CQL
window in a site's own time zone, the trash, deep page trees, a space and pages together,
rotating refresh tokens, rate limits, and bad configuration."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.domain.ids import record_id
from syncline.pipelines import validate_record
from syncline.sandbox.confluence import ConfluenceState, generate, populate
from syncline.sandbox.confluence.state import RESOURCES_PATH
from tests.support.confluence import (
    ALICE,
    BOB,
    CAROL,
    ConfluenceHarness,
    SiteClock,
    confluence_harness,
)

DAVE = "dave@partner.example"


@pytest.fixture
async def c(database_url):
    async with confluence_harness(database_url) as running:
        yield running


async def _synced(c: ConfluenceHarness, configuration: dict[str, Any] | None = None) -> str:
    sync = await c.enable(configuration or {})
    await c.h.settle()
    return str(sync["id"])


def _events(c: ConfluenceHarness) -> list[tuple[str, str]]:
    return sorted(
        (e["event"], e["data"]["recordId"])
        for e in c.h.receiver.events()
        if "recordId" in (e.get("data") or {})
    )


async def test_the_sample_site_is_listed_as_html_pages_with_version_hashes(c):
    """Every page Alice sees, in both spaces, is a valid File record: `text/html`, the title as
    its name, the parent page as its parent, the web UI link, the version number as its hash,
    and the space, status, version and author in `customFields`."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    records = await c.records(sid)
    runbooks = records[samples.pages["ENG/Architecture/Runbooks"]]
    page = c.confluence.pages[samples.pages["ENG/Architecture/Runbooks"]]

    assert set(samples.pages.values()) == set(records)
    for record in records.values():
        validate_record("files", {k: v for k, v in record.items() if k not in ("id", "syncedAt")})
    assert "text/html" == runbooks["mimeType"]
    assert "Runbooks" == runbooks["name"]
    assert samples.pages["ENG/Architecture"] == runbooks["parentFolderId"]
    assert samples.pages["ENG/Architecture"] == runbooks["parentId"]
    assert {"type": "CONFLUENCE_VERSION", "value": "1"} == runbooks["hash"]
    assert runbooks["url"].startswith(
        f"https://syncline-sandbox.atlassian.net/wiki/spaces/ENG/pages/{page.id}/"
    )
    assert {
        "spaceId": samples.spaces["ENG"],
        "status": "current",
        "version": 1,
        "authorId": samples.users[BOB],
    }.items() <= runbooks["customFields"].items()


async def test_the_cloud_id_comes_from_provider_data_or_accessible_resources(c):
    """Without `providerData.cloudId` the connector asks accessible-resources which site the
    grant reaches; with it, it never asks."""
    populate(c.confluence)
    await c.connect(cloud_id=True)
    with_id = await _synced(c)
    asked_with_id = c.confluence.request_count(RESOURCES_PATH)
    await c.connect("user-2")
    answer = await c.h.api.post(
        "/api/syncs",
        headers=c.h.auth("user-2"),
        json={"integration": "confluence", "pipeline": "files"},
    )
    await c.h.settle()

    assert 0 == asked_with_id
    assert c.confluence.request_count(RESOURCES_PATH) > 0
    assert 200 == answer.status_code
    assert await c.live(with_id) == await c.live(answer.json()["id"], "user-2")


async def test_permissions_intersect_space_permissions_with_inherited_restrictions(c):
    """A page is readable by its space's readers unless it or an ancestor is read-restricted:
    then only by those every restriction on the way up admits, who must also read the space."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    pages = samples.pages

    assert await c.can_read(sid, BOB, pages["ENG/Architecture/Runbooks/On-call"])  # the space
    assert await c.can_read(sid, BOB, pages["ENG/Onboarding"])  # edit restrictions hide nothing
    assert await c.can_read(sid, BOB, pages["ENG/Design Docs/API Design"])  # engineering
    assert not await c.can_read(sid, BOB, pages["ENG/Leadership"])
    assert not await c.can_read(sid, BOB, pages["ENG/Leadership/Q3 Roadmap"])  # inherited
    assert await c.can_read(sid, ALICE, pages["ENG/Leadership/Q3 Roadmap"])
    assert not await c.can_read(sid, DAVE, pages["ENG/Architecture"])  # not a space reader
    assert await c.can_read(sid, DAVE, pages["PEOPLE/Handbook"])
    assert not await c.can_read(sid, DAVE, pages["PEOPLE/Salaries"])  # not in `people`
    assert await c.can_read(sid, ALICE, pages["PEOPLE/Salaries"])  # through `people`
    assert not await c.can_read(sid, BOB, pages["PEOPLE/Handbook"])


async def test_a_user_whose_email_is_hidden_is_granted_nothing(c):
    """Carol's profile hides her email: the Permissions API, which names users by email, cannot
    name her, so she reads nothing (never more than Confluence grants)."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)

    assert not await c.can_read(sid, CAROL, samples.pages["ENG/Architecture"])


async def test_restriction_and_membership_changes_follow_at_the_membership_pace(database_url):
    """With memberships re-read on every incremental, a member leaving a restriction's group
    loses the restricted pages, and a user added to a restriction gains them, without any edit
    of the pages."""
    async with confluence_harness(database_url, group_membership_max_age="0") as c:
        samples = populate(c.confluence)
        await c.connect()
        sid = await _synced(c)
        pages = samples.pages
        before = await c.can_read(sid, BOB, pages["ENG/Design Docs/API Design"])
        c.confluence.remove_member("engineering", BOB)
        c.confluence.restrict(pages["ENG/Leadership"], users=[ALICE, BOB])
        await c.incremental(sid)

        assert before
        assert not await c.can_read(sid, BOB, pages["ENG/Design Docs/API Design"])
        assert await c.can_read(sid, BOB, pages["ENG/Leadership/Q3 Roadmap"])


async def test_list_users_names_a_restricted_pages_readers(c):
    """`list-users` on a restricted page answers the intersection's users."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    answer = await c.h.api.post(
        f"/api/permissions/{sid}/list-users",
        headers=c.h.auth(),
        json={"object": record_id(sid, samples.pages["ENG/Design Docs"]), "role": "can_read"},
    )

    assert 200 == answer.status_code, answer.text
    assert {ALICE, BOB} == {u.removeprefix("user:") for u in answer.json()["users"]}


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Australia/Sydney"])
async def test_the_window_finds_edits_whatever_the_sites_time_zone(database_url, zone):
    """CQL reads dates in the site's time zone (UTC+14 to UTC-12 here); the window's bound is
    relative to Confluence's own clock, so an edit made a moment after the last run is found,
    and one older than the window is not read again."""
    clock = SiteClock()
    state = ConfluenceState(time_zone=zone, clock=clock)
    async with confluence_harness(database_url, state=state) as c:
        with clock.earlier(hours=3):
            samples = populate(c.confluence)
        await c.connect()
        sid = await _synced(c)
        await c.incremental(sid)
        quiet = _events(c)
        c.confluence.edit_page(samples.pages["ENG/Architecture"], body="<p>Queues.</p>")
        await c.incremental(sid)
        records = await c.records(sid)

        assert [] == quiet
        assert [("record_updated", record_id(sid, samples.pages["ENG/Architecture"]))] == (
            _events(c)
        )
        assert "2" == records[samples.pages["ENG/Architecture"]]["hash"]["value"]


async def test_many_edits_page_through_the_search(c):
    """Edits past one search page (100 results) all arrive with one incremental, once each."""
    made = generate(c.confluence, 230, reader=ALICE)
    await c.connect()
    sid = await _synced(c)
    for page_id in made.page_ids:
        c.confluence.edit_page(page_id, title=f"Edited {page_id}")
    await c.incremental(sid)

    assert sorted(("record_updated", record_id(sid, p)) for p in made.page_ids) == _events(c)


async def test_trashed_pages_are_deleted_by_the_incremental_and_purged_ones_by_the_full(c):
    """A page moved to the trash is deleted by the next incremental (the trash is listed); a
    page purged at once, and a page moved without an edit, wait for the full sync."""
    with c.clock.earlier():
        samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    pages = samples.pages
    c.confluence.trash_page(pages["ENG/Onboarding"])
    c.confluence.purge_page(pages["PEOPLE/Handbook"])
    c.confluence.move_page(pages["ENG/Architecture/Runbooks"], pages["ENG/Design Docs"])
    await c.incremental(sid)
    after_incremental = _events(c)
    await c.full(sid)
    records = await c.records(sid)

    assert [("record_deleted", record_id(sid, pages["ENG/Onboarding"]))] == after_incremental
    assert records[pages["PEOPLE/Handbook"]].get("deleted") is True
    assert pages["ENG/Design Docs"] == records[pages["ENG/Architecture/Runbooks"]]["parentId"]


async def test_a_trash_read_again_changes_nothing(c):
    """Pages still in the trash on later incrementals send no second `record_deleted`."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    c.confluence.trash_page(samples.pages["ENG/Onboarding"])
    await c.incremental(sid)
    first = _events(c)
    await c.incremental(sid)

    assert first == _events(c)


async def test_page_ids_take_each_tree_below_five_levels_deep(c):
    """`pageIds` holds each page and every descendant, however deep (descendants are read five
    levels at a time)."""
    c.confluence.add_user(ALICE, "Alice Admin")
    space = c.confluence.add_space("DEEP", "Deep", author=ALICE)
    chain = [c.confluence.add_page(space, "level 0")]
    for depth in range(1, 12):
        chain.append(c.confluence.add_page(space, f"level {depth}", parent=chain[-1]))
    aside = c.confluence.add_page(space, "aside")
    await c.connect()
    sid = await _synced(c, {"pageIds": [chain[2]]})

    assert set(chain[2:]) == await c.live(sid)
    assert aside not in await c.live(sid)


async def test_a_space_and_pages_together_keep_the_trees_in_the_space(c):
    """`spaceId` with `pageIds`: the named trees, which must be in the space."""
    samples = populate(c.confluence)
    await c.connect()
    pages = samples.pages
    sid = await _synced(
        c, {"spaceId": samples.spaces["ENG"], "pageIds": [pages["ENG/Architecture"]]}
    )

    assert {
        pages["ENG/Architecture"],
        pages["ENG/Architecture/Runbooks"],
        pages["ENG/Architecture/Runbooks/On-call"],
    } == await c.live(sid)


async def test_a_space_sync_holds_that_space_and_follows_its_edits(c):
    """`spaceId` holds the space's pages only; an edit elsewhere is not brought in."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c, {"spaceId": samples.spaces["PEOPLE"]})
    c.confluence.edit_page(samples.pages["ENG/Architecture"], body="<p>x</p>")
    c.confluence.edit_page(samples.pages["PEOPLE/Handbook"], body="<p>y</p>")
    await c.incremental(sid)

    assert {v for k, v in samples.pages.items() if k.startswith("PEOPLE")} == await c.live(sid)
    assert [("record_updated", record_id(sid, samples.pages["PEOPLE/Handbook"]))] == _events(c)


async def test_content_is_the_pages_view_rendering_as_an_html_document(c):
    """A page downloads as an HTML document of its `view` body, titled; a trashed one is 404."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    page = samples.pages["ENG/Architecture/Runbooks"]
    answer = await c.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, page)}/content", headers=c.h.auth()
    )
    c.confluence.trash_page(page)
    gone = await c.h.api.get(
        f"/api/syncs/{sid}/records/{record_id(sid, page)}/content", headers=c.h.auth()
    )

    assert 200 == answer.status_code, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert b"<title>Runbooks</title>" in answer.content
    assert b"<body><h1>Runbooks</h1><p>What to do when.</p></body>" in answer.content
    assert 404 == gone.status_code


async def test_rotating_refresh_tokens_are_kept_across_refreshes(c):
    """Atlassian rotates the refresh token on every refresh; each new one is stored, so a
    second and third expiry refresh again (a reused old token would fail after its leeway)."""
    samples = populate(c.confluence)
    c.confluence.grants.leeway = 0.0
    await c.connect()
    sid = await _synced(c)
    for round_ in range(3):
        c.confluence.expire_access_tokens()
        c.confluence.edit_page(samples.pages["ENG/Architecture"], body=f"<p>{round_}</p>")
        await c.incremental(sid)

    assert 3 <= c.confluence.grants.refreshes
    assert "IDLE" == (await c.h.status(sid))["status"]
    assert 3 == len(_events(c))


async def test_a_429_with_retry_after_is_waited_out(c):
    """Confluence's burst 429 (with `Retry-After`) on the search is retried inside the run."""
    samples = populate(c.confluence)
    await c.connect()
    sid = await _synced(c)
    c.confluence.inject("429", path="/ex/confluence/", times=2, retry_after=1)
    c.confluence.edit_page(samples.pages["ENG/Architecture"], body="<p>z</p>")
    await c.incremental(sid)
    log = await c.h.api.get(f"/api/syncs/{sid}/events", headers=c.h.auth())

    assert "IDLE" == (await c.h.status(sid))["status"]
    assert [("record_updated", record_id(sid, samples.pages["ENG/Architecture"]))] == _events(c)
    assert "SYNC_RUN_RATE_LIMITED" in {e["syncEvent"] for e in log.json()["data"]}


async def test_a_stale_listing_cursor_restarts_the_listing(c):
    """A v2 cursor refused mid-listing starts the listing again: every page is held once."""
    made = generate(c.confluence, 600, reader=ALICE)
    await c.connect()
    c.confluence.inject("stale_cursor", path="/ex/confluence/", times=1)
    sid = await _synced(c)

    assert 1 == sum(c.confluence.faults.fired.values())
    assert set(made.page_ids) | {c.confluence.spaces[made.space_id].homepage_id} >= (
        await c.live(sid)
    )
    assert set(made.page_ids) <= await c.live(sid)


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        (lambda s: {"spaceId": "999999"}, "configuration.spaceId"),
        (lambda s: {"spaceId": "ENG"}, "configuration.spaceId"),
        (lambda s: {"pageIds": []}, "configuration.pageIds"),
        (lambda s: {"pageIds": ["4242424242"]}, "configuration.pageIds"),
        (lambda s: {"pageIds": [s.pages["ENG/Leadership"]]}, "configuration.pageIds"),
        (
            lambda s: {"spaceId": s.spaces["ENG"], "pageIds": [s.pages["PEOPLE/Handbook"]]},
            "configuration.pageIds",
        ),
        (lambda s: {"space": "ENG"}, "configuration.space"),
    ],
    ids=[
        "unknown space",
        "a space key",
        "no page ids",
        "unknown page",
        "a page the user cannot see",
        "a page outside the space",
        "unknown key",
    ],
)
async def test_bad_configuration_is_a_422_naming_the_key(c, configuration, field):
    """What the sync cannot cover is refused at enable with 422 naming the key (Bob cannot see
    the Leadership page), and no sync is made."""
    samples = populate(c.confluence)
    await c.connect(email=BOB)
    answer = await c.enable_answer(configuration(samples))
    listed = (await c.h.api.get("/api/syncs", headers=c.h.auth())).json()["data"]

    assert 422 == answer.status_code, answer.text
    assert answer.json()["field"].startswith(field), answer.text
    assert [] == listed
