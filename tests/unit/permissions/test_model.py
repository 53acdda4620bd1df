"""The authorization model's derived facts, which the evaluator relies on."""

from __future__ import annotations

import pytest

from syncline.permissions.model import (
    MODEL,
    PARENT_TYPES,
    ROLES,
    FromParent,
    direct_relations,
    parent_steps,
    reverse_plan,
)


@pytest.mark.parametrize(
    ("object_type", "role", "expected"),
    [
        ("file", "can_read", {"viewer", "editor", "owner"}),
        ("file", "can_write", {"editor", "owner"}),
        ("file", "is_owner", {"owner"}),
        ("drive", "can_read", {"viewer", "editor", "owner"}),
        ("group", "member", {"member"}),
    ],
)
def test_direct_relations_follow_computed_usersets(object_type, role, expected):
    """A role is granted by the tuples of every relation it computes from, on the same object."""
    assert expected == direct_relations(object_type, role)


def test_reading_and_writing_inherit_from_parents_and_ownership_does_not():
    """can_read and can_write look at the parent; is_owner stops at the item itself."""
    assert {FromParent("parent", "can_read")} == parent_steps("file", "can_read")
    assert {FromParent("parent", "can_write")} == parent_steps("folder", "can_write")
    assert set() == parent_steps("file", "is_owner")
    assert set() == parent_steps("drive", "can_read")


@pytest.mark.parametrize("object_type", ["file", "folder"])
@pytest.mark.parametrize("role", ROLES)
def test_the_reverse_plan_is_exact_for_this_model(object_type, role):
    """Walking down from granted ancestors is exact only if every type a parent can be grants
    the inherited relation through the same direct relations as the item: check that it does."""
    relations, inherited = reverse_plan(object_type, role)

    assert direct_relations(object_type, role) == relations
    for step in parent_steps(object_type, role):
        for parent_type in PARENT_TYPES:
            assert direct_relations(parent_type, step.relation) == relations
            for deeper in parent_steps(parent_type, step.relation):
                assert step == deeper
    assert inherited == bool(parent_steps(object_type, role))


def test_every_computed_and_inherited_relation_exists():
    """The model names no relation it does not define (a typo would silently deny)."""
    for object_type, relations in MODEL.items():
        for rules in relations.values():
            for rule in rules:
                if isinstance(rule, FromParent):
                    assert rule.tupleset in relations
                    for parent_type in PARENT_TYPES:
                        assert rule.relation in MODEL[parent_type]
                elif hasattr(rule, "relation"):
                    assert rule.relation in relations, (object_type, rule)
