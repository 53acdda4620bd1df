"""Every permission answer matches a brute-force oracle, on random worlds, on both databases.

A world is a forest of folders and files (some in shared drives), users in two domains, groups
nested at random (cycles included), and grants of every kind (user, group, domain, anyone) on
items and drives. The oracle below restates the model from its definition, independently of
`syncline.permissions`: it walks parents and groups by plain recursion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncline.domain.ids import record_id
from syncline.domain.permissions import ANYONE, Access, Grant, Relation
from syncline.domain.records import Upsert
from syncline.permissions.evaluator import Check, Evaluator
from syncline.store import Database, Store
from syncline.store.store import Progress, RunWrite
from tests.support.store import new_sync

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=600)
USERS = ("ann@a.com", "bob@a.com", "cy@b.com", "di@b.com")
STRANGER = "eve@c.com"
GROUPS = ("g0@a.com", "g1@a.com", "g2@b.com")
DRIVES = ("D0", "D1")
RELATIONS = (Relation.OWNER, Relation.EDITOR, Relation.VIEWER)
SUBJECTS = (
    *(f"user:{u}" for u in USERS),
    *(f"group:{g}" for g in GROUPS),
    "domain:a.com",
    "domain:b.com",
    ANYONE,
)
ROLE_RELATIONS = {
    "can_read": {"viewer", "editor", "owner"},
    "can_write": {"editor", "owner"},
    "is_owner": {"owner"},
}


@dataclass(frozen=True)
class Node:
    index: int
    is_folder: bool
    parent: int | None  # a folder's index, or None: top level (My Drive root or the drive)
    drive: str | None
    grants: frozenset[tuple[str, str]]

    @property
    def external_id(self) -> str:
        return f"n{self.index}"


@dataclass(frozen=True)
class World:
    nodes: tuple[Node, ...]
    members: dict[str, frozenset[str]]  # group -> subjects
    drive_grants: dict[str, frozenset[tuple[str, str]]]


grant_sets = st.frozensets(
    st.tuples(st.sampled_from([r.value for r in RELATIONS]), st.sampled_from(SUBJECTS)),
    max_size=3,
)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    nodes: list[Node] = []
    for index in range(draw(st.integers(1, 14))):
        folders = [n for n in nodes if n.is_folder]
        parent = draw(st.sampled_from([None, *[f.index for f in folders]]))
        drive = (
            nodes[parent].drive if parent is not None else draw(st.sampled_from([None, *DRIVES]))
        )
        nodes.append(Node(index, draw(st.booleans()), parent, drive, draw(grant_sets)))
    member_subjects = st.sampled_from(
        [*(f"user:{u}" for u in USERS), *(f"group:{g}" for g in GROUPS)]
    )
    members = {g: draw(st.frozensets(member_subjects, max_size=3)) for g in GROUPS}
    drive_grants = {d: draw(grant_sets) for d in DRIVES}
    return World(tuple(nodes), members, drive_grants)


# -- the oracle ------------------------------------------------------------------------------


def _subjects(world: World, email: str) -> set[str]:
    found = {f"user:{email}", ANYONE, f"domain:{email.rpartition('@')[2]}"}
    changed = True
    while changed:  # a fixed point: nested groups, cycles included
        changed = False
        for group, members in world.members.items():
            if f"group:{group}" not in found and members & found:
                found.add(f"group:{group}")
                changed = True
    return found


def _direct(grants: frozenset[tuple[str, str]], relations: set[str], subjects: set[str]) -> bool:
    return any(rel in relations and subject in subjects for rel, subject in grants)


def oracle(world: World, node: Node, email: str, role: str) -> bool:
    subjects = _subjects(world, email)
    relations = ROLE_RELATIONS[role]
    if _direct(node.grants, relations, subjects):
        return True
    if role == "is_owner":
        return False
    if node.drive is not None and _direct(world.drive_grants[node.drive], relations, subjects):
        return True
    return node.parent is not None and oracle(world, world.nodes[node.parent], email, role)


def oracle_users(world: World, node: Node, role: str) -> set[str]:
    """Everyone named with access: users, the wildcards, and users of the groups granted."""
    relations = ROLE_RELATIONS[role]
    holders: set[str] = set()
    current: Node | None = node
    while current is not None:
        holders |= {s for rel, s in current.grants if rel in relations}
        if role == "is_owner":
            break
        if current.drive is not None:
            holders |= {s for rel, s in world.drive_grants[current.drive] if rel in relations}
        current = world.nodes[current.parent] if current.parent is not None else None
    pending = [s for s in holders if s.startswith("group:")]
    while pending:
        for member in world.members[pending.pop()[6:]]:
            if member not in holders:
                holders.add(member)
                if member.startswith("group:"):
                    pending.append(member)
    return {
        s if s == ANYONE else s.removeprefix("user:")
        for s in holders
        if s.startswith(("user:", "domain:"))
    }


# -- writing a world through the store -------------------------------------------------------


def _upsert(node: Node, world: World) -> Upsert:
    parent = world.nodes[node.parent].external_id if node.parent is not None else None
    parent = parent or node.drive or "root"
    grants = tuple(sorted(Grant(Relation(rel), subject) for rel, subject in node.grants))
    return Upsert(
        node.external_id,
        {"externalId": node.external_id, "name": node.external_id},
        is_folder=node.is_folder,
        parent_ids=(parent,),
        access=Access(grants=grants, container=node.drive),
    )


async def _new_sync(store: Store) -> RunWrite:
    sync = await new_sync(store, NOW)
    owner = f"w-{sync.id}"
    claimed = [s for s in await store.claim_due(owner, NOW, 1000, LEASE) if s.id == sync.id]
    return RunWrite(claimed[0], owner, str(uuid.uuid4()), LEASE, False, claimed[0].generation)


async def _write(store: Store, run: RunWrite, world: World) -> None:
    progress = Progress(cursor="c", checkpoint=None, checkpoint_type=None)
    await store.commit_page(
        run, NOW, upserts=[_upsert(n, world) for n in world.nodes], progress=progress
    )
    for group, members in world.members.items():
        rows = [(Relation.MEMBER.value, m) for m in sorted(members)]
        await store.permissions.replace_source(
            run.sync.id, "group", group, tuples=rows, status="ok", now=NOW
        )
    for drive, grants in world.drive_grants.items():
        await store.permissions.replace_source(
            run.sync.id, "drive", drive, tuples=sorted(grants), status="ok", now=NOW
        )


async def _compare(store: Store, run: RunWrite, world: World) -> None:
    evaluator = Evaluator(store.permissions)
    sync_id = run.sync.id
    rid = {n.index: record_id(sync_id, n.external_id) for n in world.nodes}
    questions = [
        (node, email, role)
        for node in world.nodes
        for email in (*USERS, STRANGER)
        for role in ROLE_RELATIONS
    ]
    answers = await evaluator.check(sync_id, [Check(rid[n.index], e, r) for n, e, r in questions])
    for (node, email, role), answer in zip(questions, answers, strict=True):
        assert oracle(world, node, email, role) == answer, (node, email, role)

    for email in (*USERS, STRANGER):
        for role in ROLE_RELATIONS:
            for kind, is_folder in (("file", False), ("folder", True)):
                listed = [o async for o in evaluator.objects(sync_id, email, role, kind)]
                expected = {
                    rid[n.index]
                    for n in world.nodes
                    if n.is_folder == is_folder and oracle(world, n, email, role)
                }
                assert len(listed) == len(set(listed))
                assert expected == set(listed), (email, role, kind)
                assert sorted(listed) == listed

    for node in world.nodes:
        for role in ROLE_RELATIONS:
            users = await evaluator.list_users(sync_id, rid[node.index], role, 10_000)
            assert oracle_users(world, node, role) == set(users), (node, role)


@pytest.fixture
async def store(database_url: str):
    db = Database(database_url)
    yield Store(db)
    await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=worlds(), regrants=st.lists(grant_sets, min_size=14, max_size=14))
async def test_answers_match_the_oracle(store: Store, first: World, regrants: list) -> None:
    """check, list-objects and list-users agree with the oracle for every user, item and role,
    before and after the items' grants are rewritten (a sharing change on every item)."""
    run = await _new_sync(store)
    await _write(store, run, first)
    await _compare(store, run, first)

    second = World(
        tuple(
            Node(n.index, n.is_folder, n.parent, n.drive, regrants[n.index]) for n in first.nodes
        ),
        first.members,
        first.drive_grants,
    )
    await _write(store, run, second)
    await _compare(store, run, second)


async def test_unknown_objects_and_users_are_denied(store: Store) -> None:
    """An object id the sync does not hold, and a user nobody granted, are simply denied."""
    run = await _new_sync(store)
    world = World(
        (Node(0, False, None, None, frozenset({("viewer", "user:ann@a.com")})),),
        {g: frozenset() for g in GROUPS},
        {d: frozenset() for d in DRIVES},
    )
    await _write(store, run, world)
    evaluator = Evaluator(store.permissions)
    rid = record_id(run.sync.id, "n0")
    answers = await evaluator.check(
        run.sync.id,
        [
            Check(rid, "ann@a.com", "can_read"),
            Check(str(uuid.uuid4()), "ann@a.com", "can_read"),
            Check(rid, "nobody@nowhere.org", "can_read"),
        ],
    )
    assert [True, False, False] == answers
    other = await _new_sync(store)
    assert [False] == await evaluator.check(other.sync.id, [Check(rid, "ann@a.com", "can_read")])


async def test_a_deleted_record_takes_its_access_with_it(store: Store) -> None:
    """Deleting a folder's record removes its tuples: its children no longer inherit from it."""
    run = await _new_sync(store)
    world = World(
        (
            Node(0, True, None, None, frozenset({("viewer", "user:ann@a.com")})),
            Node(1, False, 0, None, frozenset()),
        ),
        {g: frozenset() for g in GROUPS},
        {d: frozenset() for d in DRIVES},
    )
    await _write(store, run, world)
    evaluator = Evaluator(store.permissions)
    child = record_id(run.sync.id, "n1")
    assert [True] == await evaluator.check(run.sync.id, [Check(child, "ann@a.com", "can_read")])

    progress = Progress(cursor="c2", checkpoint=None, checkpoint_type=None)
    await store.commit_page(run, NOW, upserts=[], deletions=["n0"], progress=progress)

    assert [False] == await evaluator.check(run.sync.id, [Check(child, "ann@a.com", "can_read")])
