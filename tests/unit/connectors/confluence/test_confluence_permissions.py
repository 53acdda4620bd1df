"""Confluence's permissions in Syncline's model, as pure functions: restrictions and space
permissions read from Confluence's documented shapes, the intersection of space readers with
inherited restrictions, and the access each page gets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncline.connectors.confluence.permissions import (
    Principals,
    intersection,
    page_access,
    readers_group,
    restricted_page,
    restriction_of,
    space_grants,
    space_readers,
    subjects,
)
from syncline.domain.permissions import Access, Grant, Relation
from syncline.types import JSON, JSONObject


def _read(users: list[JSON], groups: list[JSON], limit: int = 100) -> JSONObject:
    return {
        "operation": "read",
        "restrictions": {
            "user": {"results": users, "start": 0, "limit": limit, "size": len(users)},
            "group": {"results": groups, "start": 0, "limit": limit, "size": len(groups)},
        },
    }


def test_a_read_restriction_names_users_by_account_and_groups_by_id():
    """Users come with their email unless their profile hides it (an empty string); groups are
    named by id."""
    found = restriction_of(
        _read(
            [
                {"type": "known", "accountId": "a-1", "email": "Ann@Example.com"},
                {"type": "known", "accountId": "a-2", "email": ""},
            ],
            [{"type": "group", "name": "engineering", "id": "g-1"}],
        )
    )

    assert found is not None
    assert Principals(frozenset({"a-1", "a-2"}), frozenset({"g-1"})) == found.principals
    assert {"a-1": "Ann@Example.com"} == dict(found.emails)
    assert not found.truncated


def test_an_empty_restriction_is_none_and_a_full_page_of_one_is_truncated():
    """No one named: the page is not restricted. As many as the limit: more may follow."""
    full = restriction_of(_read([{"accountId": "a-1"}, {"accountId": "a-2"}], [], limit=2))

    assert restriction_of(_read([], [])) is None
    assert restriction_of({"operation": "read"}) is None
    assert full is not None
    assert full.truncated


def test_space_readers_are_the_read_space_assignments_of_users_and_groups():
    """Only `read` on `space` counts; other operations and other principal types (roles,
    anonymous access) give nothing."""

    def assignment(kind: str, principal: str, key: str, target: str) -> JSONObject:
        return {
            "principal": {"type": kind, "id": principal},
            "operation": {"key": key, "targetType": target},
        }

    assignments: list[JSONObject] = [
        assignment("user", "a-1", "read", "space"),
        assignment("group", "g-1", "read", "space"),
        assignment("user", "a-2", "create", "page"),
        assignment("role", "r-1", "read", "space"),
        {"principal": None, "operation": {"key": "read", "targetType": "space"}},
    ]

    assert Principals(frozenset({"a-1"}), frozenset({"g-1"})) == space_readers(assignments)


def test_an_unrestricted_page_is_in_its_space_and_a_restricted_one_in_its_readers_group():
    """No restriction on the way up: the space is the container. Restrictions: one viewer grant
    to the readers of the lowest restricted page, and no container."""
    assert Access((), "98305") == page_access("98305", [])
    assert Access((Grant(Relation.VIEWER, "group:page-readers:12"),), None) == page_access(
        "98305", ["10", "12"]
    )


def test_readers_groups_name_their_page_and_no_other_group():
    """`page-readers:<id>` names a page; a Confluence group id (a UUID) does not."""
    assert "12" == restricted_page(readers_group("12"))
    assert restricted_page("2d9de33c-a212-4443-a6a9-89de1d200af1") is None
    assert restricted_page("page-readers:../x") is None


MEMBERS = {
    "everyone": frozenset({"ann", "bob", "cat"}),
    "eng": frozenset({"ann", "bob"}),
    "people": frozenset({"ann", "cat"}),
}


def test_the_intersection_keeps_groups_every_set_names_and_the_users_all_admit():
    """Space read by `everyone`, page restricted to `eng`: Ann and Bob, one by one (the space
    does not name `eng`). A group both name stays a group."""
    space = Principals(frozenset(), frozenset({"everyone"}))
    restriction = Principals(frozenset(), frozenset({"eng"}))

    assert (frozenset(), frozenset({"ann", "bob"})) == intersection([space, restriction], MEMBERS)
    assert (frozenset({"people"}), frozenset()) == intersection(
        [Principals(frozenset({"dan"}), frozenset({"people"})),
         Principals(frozenset({"cat"}), frozenset({"people"}))],
        MEMBERS,
    )  # fmt: skip


def test_each_restriction_on_the_way_up_narrows_the_readers():
    """A restricted page under a restricted page: only who both admit."""
    sets = [
        Principals(frozenset(), frozenset({"everyone"})),
        Principals(frozenset(), frozenset({"eng"})),
        Principals(frozenset({"ann", "cat"}), frozenset()),
    ]

    assert (frozenset(), frozenset({"ann"})) == intersection(sets, MEMBERS)


def test_a_group_whose_members_are_unknown_admits_nobody_through_them():
    """Members unread (403): the group alone lets no one in."""
    sets = [
        Principals(frozenset(), frozenset({"hidden"})),
        Principals(frozenset({"ann"}), frozenset()),
    ]

    assert (frozenset(), frozenset()) == intersection(sets, MEMBERS)


@given(
    st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(["ann", "bob", "cat", "dan"])),
            st.frozensets(st.sampled_from(list(MEMBERS))),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_intersection_grants_exactly_who_every_set_admits(raw):
    """Whatever the sets, a user is reached (directly or through a returned group) exactly
    when every set admits them: never more than Confluence, never less."""
    sets = [Principals(accounts, groups) for accounts, groups in raw]
    groups, accounts = intersection(sets, MEMBERS)
    reached = set(accounts).union(*(MEMBERS[g] for g in groups))

    for user in ("ann", "bob", "cat", "dan"):
        assert (user in reached) == all(s.admits(user, MEMBERS) for s in sets)


def test_subjects_name_users_by_email_and_leave_out_those_without_one():
    """Accounts become `user:<email>` (lowercased), groups `group:<id>`; a hidden email
    leaves the account out."""
    assert ["group:g-1", "user:ann@example.com"] == subjects(
        ["g-1"], ["a-1", "a-2"], {"a-1": "Ann@Example.com"}
    )


def test_a_spaces_readers_are_viewers_of_it():
    """Space grants are `viewer` grants to each reader."""
    readers = Principals(frozenset({"a-1"}), frozenset({"g-1"}))

    assert [
        Grant(Relation.VIEWER, "group:g-1"),
        Grant(Relation.VIEWER, "user:ann@example.com"),
    ] == space_grants(readers, {"a-1": "ann@example.com"})
