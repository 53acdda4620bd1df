"""Drive permission resources as grants: role mapping, subjects and direct-only filtering."""

import pytest

from syncline.connectors.googledrive.permissions import (
    direct_grants,
    grant_of,
    is_inherited,
    member_subject,
)
from syncline.domain.permissions import ANYONE, Grant, Relation

OWNER, EDITOR, VIEWER = Relation.OWNER, Relation.EDITOR, Relation.VIEWER


def user(role, email="Bob@Example.com", **extra):
    return {"id": "1", "type": "user", "role": role, "emailAddress": email, **extra}


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        (user("owner"), Grant(OWNER, "user:bob@example.com")),
        (user("organizer"), Grant(OWNER, "user:bob@example.com")),
        (user("fileOrganizer"), Grant(EDITOR, "user:bob@example.com")),
        (user("writer"), Grant(EDITOR, "user:bob@example.com")),
        (user("commenter"), Grant(VIEWER, "user:bob@example.com")),
        (user("reader"), Grant(VIEWER, "user:bob@example.com")),
        (
            {"type": "group", "role": "writer", "emailAddress": "Eng@example.com"},
            Grant(EDITOR, "group:eng@example.com"),
        ),
        (
            {"type": "domain", "role": "reader", "domain": "Example.com"},
            Grant(VIEWER, "domain:example.com"),
        ),
        (
            {"id": "anyoneWithLink", "type": "anyone", "role": "reader"},
            Grant(VIEWER, ANYONE),
        ),
        (user("reader", deleted=True), None),
        (user("reader", email=""), None),
        ({"type": "user", "role": "reader"}, None),
        ({"type": "domain", "role": "reader"}, None),
        ({"type": "group", "role": "reader"}, None),
        (user("admin"), None),
        ({"type": "robot", "role": "reader", "emailAddress": "x@example.com"}, None),
    ],
)
def test_grant_of_maps_roles_and_subjects(permission, expected):
    """Roles map to owner/editor/viewer and types to subjects; unusable entries are None."""
    assert expected == grant_of(permission)


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (None, False),
        ([], False),
        ([{"inherited": False}], False),
        ([{"inherited": True, "inheritedFrom": "0AShared"}], True),
        ([{"inherited": True}, {"inherited": False}], False),
        ([{"inherited": True}, {"inherited": True}], True),
    ],
)
def test_is_inherited_needs_every_detail_inherited(details, expected):
    """An entry is inherited only when all its permissionDetails say so; none means direct."""
    permission = user("reader") | ({} if details is None else {"permissionDetails": details})

    assert expected == is_inherited(permission)


def test_direct_grants_drop_inherited_sort_and_deduplicate():
    """Only the item's own grants remain, sorted and without repeats."""
    permissions = [
        user("reader", email="zed@example.com"),
        user("writer", permissionDetails=[{"inherited": True, "inheritedFrom": "1Folder"}]),
        {"type": "anyone", "role": "reader", "permissionDetails": [{"inherited": False}]},
        user("reader", email="ZED@example.com"),
        user("owner", email="alice@example.com"),
    ]

    assert (
        Grant(OWNER, "user:alice@example.com"),
        Grant(VIEWER, ANYONE),
        Grant(VIEWER, "user:zed@example.com"),
    ) == direct_grants(permissions)


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ({"email": "Bob@example.com", "type": "USER", "status": "ACTIVE"}, "user:bob@example.com"),
        (
            {"email": "eng@example.com", "type": "GROUP", "status": "ACTIVE"},
            "group:eng@example.com",
        ),
        ({"email": "eng@example.com", "type": "GROUP"}, "group:eng@example.com"),
        ({"email": "bob@example.com", "type": "USER", "status": "SUSPENDED"}, None),
        ({"id": "C01abc", "type": "CUSTOMER", "status": "ACTIVE"}, None),
        ({"type": "USER", "status": "ACTIVE"}, None),
    ],
)
def test_member_subject(member, expected):
    """Active users and groups become subjects; customers, suspended and nameless do not."""
    assert expected == member_subject(member)
