"""The sandbox Confluence's permissions over real HTTP: v2 space permission assignments,
space visibility through users and groups, page read restrictions and their inheritance down
the tree, the v1 restriction endpoints, group members and users whose emails privacy settings
hide."""

from __future__ import annotations

from tests.integration.sandbox.confluence.conftest import ALICE, BOB, CAROL, DAVE, follow


def test_space_permissions_list_user_and_group_principals_with_operations(samples, alice):
    """`/api/v2/spaces/{id}/permissions` lists assignments `{id, principal {type, id},
    operation {key, targetType}}`: the author's `read`/`space` and `administer`/`space`, and
    the groups and users granted `read`/`space`; paged by cursor."""
    people = samples.spaces["PEOPLE"]

    assignments, answers = follow(alice, f"/api/v2/spaces/{people}/permissions", limit=2)

    found = {
        (
            a["principal"]["type"],
            a["principal"]["id"],
            a["operation"]["key"],
            a["operation"]["targetType"],
        )
        for a in assignments
    }
    assert {
        ("user", samples.users[ALICE], "read", "space"),
        ("user", samples.users[ALICE], "administer", "space"),
        ("user", samples.users[DAVE], "read", "space"),
        ("group", samples.groups["people"], "read", "space"),
    } == found
    assert 2 == len(answers)
    assert all(isinstance(a["id"], str) for a in assignments)


def test_a_space_is_visible_through_a_user_or_group_read_permission(site, samples, client):
    """Bob (engineering, not people) sees ENG but not PEOPLE: the space list leaves PEOPLE
    out and `GET /spaces/{id}` answers 404; granting his group `read` on PEOPLE shows it, and
    revoking it hides it again."""
    bob = client(BOB)
    people = samples.spaces["PEOPLE"]

    before = [s["key"] for s in bob.get("/api/v2/spaces").json()["results"]]
    hidden = bob.get(f"/api/v2/spaces/{people}")
    site.grant_space(people, group="engineering")
    granted = [s["key"] for s in bob.get("/api/v2/spaces").json()["results"]]
    site.revoke_space(people, group="engineering")
    revoked = bob.get(f"/api/v2/spaces/{people}")

    assert ["ENG"] == before
    assert 404 == hidden.status_code
    assert ["ENG", "PEOPLE"] == granted
    assert 404 == revoked.status_code


def test_a_read_restriction_hides_the_page_and_every_descendant(site, samples, alice, bob):
    """Leadership is read-restricted to Alice: Bob cannot list, get, or read the restrictions
    of it or of its child Q3 Roadmap (which has no restriction of its own), all 404s; Alice
    sees both. Inheritance follows moves: moving Q3 Roadmap out from under Leadership shows it
    to Bob."""
    leadership, roadmap = (
        samples.pages["ENG/Leadership"],
        samples.pages["ENG/Leadership/Q3 Roadmap"],
    )

    listed, _ = follow(bob, "/api/v2/pages", limit=250)
    page = bob.get(f"/api/v2/pages/{roadmap}")
    children = bob.get(f"/api/v2/pages/{leadership}/direct-children")
    restriction = bob.get(f"/rest/api/content/{roadmap}/restriction")
    for_alice = alice.get(f"/api/v2/pages/{roadmap}")
    site.move_page(roadmap, samples.pages["ENG"])
    moved = bob.get(f"/api/v2/pages/{roadmap}")

    assert not {leadership, roadmap} & {p["id"] for p in listed}
    assert (404, 404, 404) == (page.status_code, children.status_code, restriction.status_code)
    assert 404 == restriction.json()["statusCode"]
    assert 200 == for_alice.status_code
    assert 200 == moved.status_code


def test_a_group_restriction_admits_its_members_as_they_join_and_leave(site, samples, client):
    """Design Docs is read-restricted to `engineering`: Carol cannot see it or API Design
    below it until she joins the group, and loses both when she leaves."""
    carol = client(CAROL)
    design, api = samples.pages["ENG/Design Docs"], samples.pages["ENG/Design Docs/API Design"]

    before = carol.get(f"/api/v2/pages/{api}").status_code
    site.add_member("engineering", CAROL)
    joined = (
        carol.get(f"/api/v2/pages/{design}").status_code,
        carol.get(f"/api/v2/pages/{api}").status_code,
    )
    site.remove_member("engineering", CAROL)
    left = carol.get(f"/api/v2/pages/{api}").status_code

    assert (404, (200, 200), 404) == (before, joined, left)


def test_an_edit_restriction_does_not_hide_a_page(samples, client):
    """Onboarding is edit-restricted (`update`) to engineering: Carol still reads it."""
    carol = client(CAROL)

    assert 200 == carol.get(f"/api/v2/pages/{samples.pages['ENG/Onboarding']}").status_code


def test_the_restriction_endpoints_name_users_and_groups_per_operation(samples, alice):
    """`/rest/api/content/{id}/restriction` lists the page's own `read` and `update`
    restrictions with `restrictions.user` (users with account ids) and `restrictions.group`
    (`{type: group, name, id}`); `/byOperation` keys them by operation; `/byOperation/read`
    answers one; an inherited restriction is not listed on the child."""
    salaries, roadmap = samples.pages["PEOPLE/Salaries"], samples.pages["ENG/Leadership/Q3 Roadmap"]

    both = alice.get(f"/rest/api/content/{salaries}/restriction").json()
    by_operation = alice.get(f"/rest/api/content/{salaries}/restriction/byOperation").json()
    read = alice.get(f"/rest/api/content/{salaries}/restriction/byOperation/read").json()
    child = alice.get(f"/rest/api/content/{roadmap}/restriction/byOperation/read").json()
    bogus = alice.get(f"/rest/api/content/{salaries}/restriction/byOperation/delete")

    assert ["read", "update"] == [r["operation"] for r in both["results"]]
    assert both["restrictionsHash"]
    assert {"read", "update", "_links"} == set(by_operation)
    assert [samples.users[CAROL]] == [
        u["accountId"] for u in read["restrictions"]["user"]["results"]
    ]
    assert [("group", "people", samples.groups["people"])] == [
        (g["type"], g["name"], g["id"]) for g in read["restrictions"]["group"]["results"]
    ]
    assert [] == by_operation["update"]["restrictions"]["user"]["results"]
    assert (0, 0) == (child["restrictions"]["user"]["size"], child["restrictions"]["group"]["size"])
    assert 400 == bogus.status_code


def test_group_members_page_by_start_and_limit_and_refuse_a_limit_over_200(site, samples, alice):
    """`/rest/api/group/{groupId}/membersByGroupId` lists members in `start`/`limit` pages
    with `_links.next` (`next=true&limit=..&start=..`) until the last; `totalSize` comes only
    with `shouldReturnTotalSize=true`; `limit` above 200 is a 400 and an unknown group a 404."""
    crowd = site.add_group("crowd", [f"user{n}@example.com" for n in range(5)])

    first = alice.get(f"/rest/api/group/{crowd}/membersByGroupId", params={"limit": 2}).json()
    rest: list[dict] = []
    following = first["_links"].get("next")
    while following:
        page = alice.get(following).json()
        rest += page["results"]
        following = page["_links"].get("next")
    counted = alice.get(
        f"/rest/api/group/{crowd}/membersByGroupId", params={"shouldReturnTotalSize": "true"}
    ).json()
    too_many = alice.get(f"/rest/api/group/{crowd}/membersByGroupId", params={"limit": 201})
    unknown = alice.get("/rest/api/group/00000000-dead-beef-0000-000000000000/membersByGroupId")

    assert first["_links"]["next"].startswith(f"/rest/api/group/{crowd}/membersByGroupId?next=true")
    emails = [u["email"] for u in first["results"] + rest]
    assert [f"user{n}@example.com" for n in range(5)] == emails
    assert "totalSize" not in first
    assert 5 == counted["totalSize"]
    assert (400, 404) == (too_many.status_code, unknown.status_code)


def test_users_carry_account_ids_and_an_email_only_when_privacy_allows(samples, alice):
    """`/rest/api/user?accountId=` answers a user with `accountId`, `accountType`,
    `publicName`, `displayName`; Carol hides her email, so hers is the empty string (as the
    spec says it "may return"); `/user/bulk` takes several ids; `/user/memberof` her groups;
    an unknown account is a 404."""
    carol, bob = samples.users[CAROL], samples.users[BOB]

    hidden = alice.get("/rest/api/user", params={"accountId": carol}).json()
    shown = alice.get("/rest/api/user", params={"accountId": bob}).json()
    bulk = alice.get("/rest/api/user/bulk", params={"accountId": f"{carol},{bob}"}).json()
    groups = alice.get("/rest/api/user/memberof", params={"accountId": carol}).json()
    unknown = alice.get("/rest/api/user", params={"accountId": "557058:nobody"})
    me = alice.get("/rest/api/user/current").json()

    assert (carol, "atlassian", "") == (hidden["accountId"], hidden["accountType"], hidden["email"])
    assert hidden["publicName"] == hidden["displayName"] == "Carol"
    assert ("bob@example.com", "Bob Builder") == (shown["email"], shown["displayName"])
    assert {carol, bob} == {u["accountId"] for u in bulk["results"]}
    assert ["confluence-users", "people"] == [g["name"] for g in groups["results"]]
    assert 404 == unknown.status_code
    assert samples.users[ALICE] == me["accountId"]


def test_the_groups_list_and_group_by_id(samples, alice):
    """`/rest/api/group` lists every group by name; `/rest/api/group/by-id?id=` answers one
    (`{type: group, name, id}`)."""
    listed = alice.get("/rest/api/group").json()
    one = alice.get("/rest/api/group/by-id", params={"id": samples.groups["people"]}).json()

    assert ["confluence-users", "engineering", "people"] == [g["name"] for g in listed["results"]]
    assert ("group", "people", samples.groups["people"]) == (one["type"], one["name"], one["id"])
