"""How pages change in the sandbox Confluence, seen over real HTTP: created, edited (the
version grows), moved (no new version), trashed (children move up), restored, archived and
purged (a 404 everywhere); and the test controls that script those changes over HTTP and
through the kit's file-control API."""

from __future__ import annotations

import httpx

from syncline.sandbox.confluence import ConfluenceControl
from tests.integration.sandbox.confluence.conftest import ALICE, follow

SEARCH = "/rest/api/content/search"


def test_an_edit_adds_a_version_and_moves_lastmodified(site, samples, alice, clock):
    """Each edit adds one to `version.number`, sets `version.createdAt` (and so what CQL's
    `lastmodified` sees) to the edit's time, and keeps `createdAt`."""
    runbooks = samples.pages["ENG/Architecture/Runbooks"]
    before = alice.get(f"/api/v2/pages/{runbooks}").json()
    clock.advance(90)

    site.edit_page(runbooks, body="<p>v2</p>")
    site.edit_page(runbooks, title="Runbooks v3")
    after = alice.get(f"/api/v2/pages/{runbooks}", params={"body-format": "storage"}).json()

    assert (1, 3) == (before["version"]["number"], after["version"]["number"])
    assert before["createdAt"] == after["createdAt"]
    assert after["version"]["createdAt"] > before["version"]["createdAt"]
    assert ("Runbooks v3", "<p>v2</p>") == (after["title"], after["body"]["storage"]["value"])


def test_a_new_page_appears_in_listings_and_searches(site, samples, alice):
    """A page created under Architecture is listed, found by `ancestor`, and its parent's
    `direct-children` name it."""
    arch = samples.pages["ENG/Architecture"]

    created = site.add_page(samples.spaces["ENG"], "Queues", "<p>SQS.</p>", parent=arch)

    listed, _ = follow(alice, "/api/v2/pages", limit=250)
    found = alice.get(SEARCH, params={"cql": f"ancestor = {arch}"}).json()["results"]
    children = alice.get(f"/api/v2/pages/{arch}/direct-children").json()["results"]
    assert created in {p["id"] for p in listed}
    assert created in {r["id"] for r in found}
    assert created in {c["id"] for c in children}


def test_a_move_changes_the_parent_without_a_new_version(site, samples, alice):
    """Moving On-call under the homepage changes its `parentId` and its ancestors but not its
    `version` (so a `lastmodified` search does not see the move; a full listing does)."""
    oncall, home = samples.pages["ENG/Architecture/Runbooks/On-call"], samples.pages["ENG"]
    before = alice.get(f"/api/v2/pages/{oncall}").json()

    site.move_page(oncall, home)

    after = alice.get(f"/api/v2/pages/{oncall}").json()
    ancestors = alice.get(f"/api/v2/pages/{oncall}/ancestors").json()["results"]
    assert (home, before["version"]) == (after["parentId"], after["version"])
    assert [home] == [a["id"] for a in ancestors]


def test_trashing_a_page_moves_its_children_up_and_restoring_brings_it_back(site, samples, alice):
    """A trashed page answers 404 (unless asked for with `status=trashed`, when it says
    `trashed`), leaves default listings and searches, and its children move up to its
    parent; restoring makes it current again under its old parent."""
    arch, runbooks = samples.pages["ENG/Architecture"], samples.pages["ENG/Architecture/Runbooks"]

    site.trash_page(arch)
    gone = alice.get(f"/api/v2/pages/{arch}")
    asked = alice.get(f"/api/v2/pages/{arch}", params={"status": "trashed"}).json()
    moved_up = alice.get(f"/api/v2/pages/{runbooks}").json()
    searched = alice.get(SEARCH, params={"cql": "type = page", "limit": 100}).json()["results"]
    site.restore_page(arch)
    restored = alice.get(f"/api/v2/pages/{arch}").json()

    assert 404 == gone.status_code
    assert "trashed" == asked["status"]
    assert samples.pages["ENG"] == moved_up["parentId"]
    assert arch not in {r["id"] for r in searched}
    assert ("current", samples.pages["ENG"]) == (restored["status"], restored["parentId"])


def test_trashing_a_tree_trashes_every_descendant(site, samples, alice):
    """With `with_descendants`, the page and all below it go to the trash together."""
    arch = samples.pages["ENG/Architecture"]

    site.trash_page(arch, with_descendants=True)

    trashed = alice.get("/api/v2/pages", params={"status": "trashed"}).json()["results"]
    assert {
        arch,
        samples.pages["ENG/Architecture/Runbooks"],
        samples.pages["ENG/Architecture/Runbooks/On-call"],
    } == {p["id"] for p in trashed}


def test_a_purged_page_is_a_404_everywhere_and_in_no_listing(site, samples, alice):
    """Purged, a page answers 404 on v2 (whatever `status` asks) and on v1's restriction
    endpoint, and no listing or search, trashed ones included, shows it."""
    onboarding = samples.pages["ENG/Onboarding"]

    site.purge_page(onboarding)

    listed, _ = follow(alice, "/api/v2/pages", limit=250, status="current,archived,trashed")
    assert 404 == alice.get(f"/api/v2/pages/{onboarding}", params={"status": "trashed"}).status_code
    assert 404 == alice.get(f"/rest/api/content/{onboarding}/restriction").status_code
    assert onboarding not in {p["id"] for p in listed}
    assert [] == alice.get(SEARCH, params={"cql": f"id = {onboarding}"}).json()["results"]


def test_an_archived_page_is_listed_as_archived(site, samples, alice):
    """Archived, a page stays in the default v2 listing with `status: archived`."""
    handbook = samples.pages["PEOPLE/Handbook"]

    site.archive_page(handbook)

    page = alice.get(f"/api/v2/pages/{handbook}").json()
    assert "archived" == page["status"]


def test_the_http_controls_script_pages_permissions_and_groups(site, samples, server, client):
    """`/_confluence/...` creates, edits, moves, restricts, trashes and purges pages, grants
    and revokes space permissions and changes group members, each visible at once through the
    API; a page that does not exist is a 404 from the control."""
    control = httpx.Client(base_url=f"{server.url}/_confluence", timeout=10)
    bob = client("bob@example.com")
    eng, home = samples.spaces["ENG"], samples.pages["ENG"]

    created = control.post(
        "/pages", json={"space": "ENG", "title": "Control", "parentId": home}
    ).json()["id"]
    edited = control.patch(
        f"/pages/{created}", json={"body": "<p>edited</p>", "message": "m"}
    ).json()
    control.post(f"/pages/{created}/move", json={"parentId": samples.pages["ENG/Architecture"]})
    control.put(f"/pages/{created}/restrictions/read", json={"users": [ALICE]})
    hidden_from_bob = bob.get(f"/api/v2/pages/{created}").status_code
    control.put(f"/pages/{created}/restrictions/read", json={"users": [], "groups": []})
    shown_to_bob = bob.get(f"/api/v2/pages/{created}").status_code
    control.post(
        f"/spaces/{samples.spaces['PEOPLE']}/permissions", json={"user": "bob@example.com"}
    )
    bob_sees_people = bob.get(f"/api/v2/spaces/{samples.spaces['PEOPLE']}").status_code
    revoked = control.request(
        "DELETE",
        f"/spaces/{samples.spaces['PEOPLE']}/permissions",
        json={"user": "bob@example.com"},
    ).json()
    control.put(f"/groups/people/members/{samples.users['bob@example.com']}")
    bob_in_people = bob.get(f"/api/v2/spaces/{samples.spaces['PEOPLE']}").status_code
    control.post(f"/pages/{created}/trash")
    control.delete(f"/pages/{created}")
    missing = control.post(f"/pages/{created}/restore")

    assert (2, 1) == (edited["version"], revoked["removed"])
    assert site.pages.get(created) is None
    assert (404, 200, 200, 200) == (hidden_from_bob, shown_to_bob, bob_sees_people, bob_in_people)
    assert eng in site.spaces
    assert 404 == missing.status_code
    control.close()


def test_the_file_control_adapter_adds_edits_and_trashes_pages(site, samples):
    """`ConfluenceControl` (the kit's `syncline sandbox add|edit|delete`) adds a page under a
    space homepage the user sees, edits it into a new version, and trashes it."""
    control = ConfluenceControl(site, ALICE)

    page_id = control.add("Notes.txt", b"Call the printer & co.")
    control.edit(page_id, name="Notes", content=b"<p>Done.</p>")
    names = {f.name for f in control.files()}
    control.delete(page_id)

    page = site.pages[page_id]
    assert "Notes" in names
    assert (2, "<p>Done.</p>", "trashed") == (page.version.number, page.body, page.status)
    assert "<p>Call the printer &amp; co.</p>" == page.versions[0].body
