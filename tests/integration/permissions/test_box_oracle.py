"""Permission answers for Box syncs match a brute-force oracle of Box's sharing, on random worlds.

A world is a forest of folders and files whose top items belong to different users (an item
belongs to the owner of its top folder, as in Box), collaborations for users and groups in
every role Box has (some still pending), group memberships, and shared links (`open`,
`company`, `collaborators`). It is loaded into the sandbox Box through `BoxState`, synced by
the real engine with the `box` connector over HTTP, and every `batch-check`, `check`,
`list-objects`, `streamed-list-objects` and `list-users` answer is compared with the oracle.

The oracle restates Box's documented semantics, independently of `syncline.connectors.box`:

- a collaboration on a folder applies to everything below it; pending ones grant nothing;
- Box's permission table ("Understanding Collaborator Permission Levels") lets every role
  preview, so read, except `uploader`; owner, co-owner and editor have full read-write;
- an item's owner (the owner of its top folder) may do anything with it;
- an `open` shared link lets anyone read the item and what is below it, a `company` one
  everyone in the enterprise (here: logins in its domain), a `collaborators` one no one more;
- `is_owner` is the item's owner and its own owner/co-owner collaborations: Syncline's model
  does not inherit ownership (`syncline.permissions.model`).

A sync sees what the syncing user sees. When that user cannot see one of an item's folders
(a file shared out of a folder not shared with them), Box's sharing of that folder is
invisible to Syncline: answers must then match the oracle restricted to the folders the user
sees, and may never grant more than Box does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syncline.domain.ids import record_id
from tests.support.box import BoxHarness, box_harness

ENTERPRISE = "example.com"
PEOPLE = ("alice", "bob", "cy", "zed")
"""Alice syncs (an admin, so she reads every group's members); zed is outside the enterprise."""
OWNERS = ("alice", "alice", "bob", "cy")
STRANGER = "eve"
ROLES = (
    "owner",
    "co-owner",
    "editor",
    "viewer",
    "previewer",
    "uploader",
    "viewer uploader",
    "previewer uploader",
)
READ_ROLES = frozenset(ROLES) - {"uploader"}
WRITE_ROLES = frozenset({"owner", "co-owner", "editor"})
OWNER_ROLES = frozenset({"owner", "co-owner"})
LINKS = (None, None, "open", "company", "collaborators")
GROUPS = 2
API_ROLES = ("can_read", "can_write", "is_owner")

_examples = itertools.count()


@dataclass(frozen=True)
class Collab:
    subject: str
    """`user:<person>` or `group:<index>`."""
    role: str
    pending: bool


@dataclass(frozen=True)
class Node:
    index: int
    is_folder: bool
    parent: int | None
    owner: str
    collabs: tuple[Collab, ...]
    link: str | None


@dataclass(frozen=True)
class World:
    nodes: tuple[Node, ...]
    members: tuple[frozenset[str], ...]
    """Group index -> people."""


SUBJECTS = (*(f"user:{p}" for p in PEOPLE), *(f"group:{g}" for g in range(GROUPS)))
collabs = st.lists(
    st.builds(
        Collab,
        subject=st.sampled_from(SUBJECTS),
        role=st.sampled_from(ROLES),
        pending=st.sampled_from((False, False, True)),
    ),
    max_size=2,
).map(tuple)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    nodes: list[Node] = []
    for index in range(draw(st.integers(1, 10))):
        folders = [n.index for n in nodes if n.is_folder]
        parent = draw(st.sampled_from([None, *folders]))
        owner = draw(st.sampled_from(OWNERS)) if parent is None else nodes[parent].owner
        link = draw(st.sampled_from(LINKS))
        nodes.append(Node(index, draw(st.booleans()), parent, owner, draw(collabs), link))
    members = tuple(draw(st.frozensets(st.sampled_from(PEOPLE), max_size=3)) for _ in range(GROUPS))
    return World(tuple(nodes), members)


# -- the oracle ------------------------------------------------------------------------------


def _domain(person: str) -> str:
    return "elsewhere.org" if person == "zed" else ("c.com" if person == STRANGER else ENTERPRISE)


def _path(world: World, node: Node) -> list[Node]:
    """The item and the folders above it, innermost first."""
    found = [node]
    while found[-1].parent is not None:
        found.append(world.nodes[found[-1].parent])
    return found


def _holds(world: World, node: Node, person: str, roles: frozenset[str]) -> bool:
    """An accepted collaboration on this very item, for the person or a group of theirs."""
    subjects = {f"user:{person}"} | {
        f"group:{g}" for g, members in enumerate(world.members) if person in members
    }
    return any(not c.pending and c.role in roles and c.subject in subjects for c in node.collabs)


def sees(world: World, node: Node, person: str = "alice") -> bool:
    """In the person's "All Files": owned, or collaborated on (any role, uploaders list a
    folder's items too) directly or through a folder above."""
    return node.owner == person or any(
        _holds(world, n, person, frozenset(ROLES)) for n in _path(world, node)
    )


def _known_path(world: World, node: Node) -> list[Node]:
    """The item and the folders above it that the syncing user sees (they stop at the first
    one she does not: whoever sees a folder sees what is below it)."""
    path = _path(world, node)
    for depth, folder in enumerate(path):
        if not sees(world, folder):
            return path[:depth]
    return path


def _link_reaches(link: str | None, person: str) -> bool:
    return link == "open" or (link == "company" and _domain(person) == ENTERPRISE)


def may(world: World, node: Node, person: str, role: str, *, known: bool) -> bool:
    """Box's answer (`known=False`), or Box's answer from what the syncing user can see."""
    if node.owner == person:
        return True
    if role == "is_owner":
        return _holds(world, node, person, OWNER_ROLES)
    path = _known_path(world, node) if known else _path(world, node)
    roles = READ_ROLES if role == "can_read" else WRITE_ROLES
    return any(
        _holds(world, n, person, roles) or (role == "can_read" and _link_reaches(n.link, person))
        for n in path
    )


def holders(world: World, node: Node, role: str, email: dict[str, str]) -> set[str]:
    """Everyone the known sharing names for `role`: people, `user:*`, `domain:<enterprise>`."""
    path = [node] if role == "is_owner" else _known_path(world, node)
    roles = {"can_read": READ_ROLES, "can_write": WRITE_ROLES, "is_owner": OWNER_ROLES}[role]
    found = {email[node.owner]}
    for n in path:
        for c in n.collabs:
            if c.pending or c.role not in roles:
                continue
            kind, _, name = c.subject.partition(":")
            people = {name} if kind == "user" else world.members[int(name)]
            found |= {email[p] for p in people}
        if role == "can_read" and n.link == "open":
            found.add("user:*")
        if role == "can_read" and n.link == "company":
            found.add(f"domain:{ENTERPRISE}")
    return found


# -- loading a world into the sandbox Box ----------------------------------------------------


def _emails(n: int) -> dict[str, str]:
    """Logins of this example's people: fresh ones, so earlier examples' items stay out."""
    return {p: f"{p}{n}@{_domain(p)}" for p in (*PEOPLE, STRANGER)}


@dataclass(frozen=True)
class Loaded:
    """A world in the sandbox Box: each person's login, each group's and node's Box id."""

    email: dict[str, str]
    groups: list[str]
    ids: dict[int, str]


def _collaborate(b: BoxHarness, loaded: Loaded, item: str, c: Collab) -> None:
    kind, _, name = c.subject.partition(":")
    status = "pending" if c.pending else "accepted"
    if kind == "user":
        b.box.collaborate(item, user=loaded.email[name], role=c.role, status=status)
    else:
        b.box.collaborate(item, group=loaded.groups[int(name)], role=c.role, status=status)


def _load(b: BoxHarness, world: World, n: int) -> Loaded:
    """The world in the sandbox Box, with this example's fresh logins."""
    email = _emails(n)
    box = b.box
    box.add_user(email["alice"], "Alice", is_admin=True)
    for person in PEOPLE[1:]:
        box.ensure_user(email[person])
    groups = [
        box.add_group(f"Group {n}-{g}", sorted(email[p] for p in members))
        for g, members in enumerate(world.members)
    ]
    loaded = Loaded(email, groups, {})
    ids = loaded.ids
    for node in world.nodes:
        parent = ids[node.parent] if node.parent is not None else "0"
        name = f"n{node.index}"
        if node.is_folder:
            ids[node.index] = box.add_folder(name, parent, owner=email[node.owner])
        else:
            ids[node.index] = box.add_file(f"{name}.txt", b"x", parent, owner=email[node.owner])
        for c in node.collabs:
            _collaborate(b, loaded, ids[node.index], c)
        if node.link is not None:
            box.set_shared_link(ids[node.index], node.link)
    return loaded


async def _sync(b: BoxHarness, user: str, email: dict[str, str]) -> str:
    await b.connect(user=user, login=email["alice"])
    answer = await b.h.api.post(
        "/api/syncs",
        headers=b.h.auth(user),
        json={"integration": "box", "pipeline": "files", "configuration": {}},
    )
    assert 200 == answer.status_code, answer.text
    await b.h.settle()
    return str(answer.json()["id"])


# -- asking Syncline -------------------------------------------------------------------------


async def _post(b: BoxHarness, auth: dict[str, str], sid: str, path: str, body: Any) -> Any:
    answer = await b.h.api.post(f"/api/permissions/{sid}/{path}", headers=auth, json=body)
    assert 200 == answer.status_code, answer.text
    if path == "streamed-list-objects":
        return [orjson.loads(line)["object"] for line in answer.content.splitlines()]
    return answer.json()


async def _compare(b: BoxHarness, user: str, sid: str, world: World, loaded: Loaded) -> None:
    ids, email = loaded.ids, loaded.email
    auth = b.h.auth(user)  # one token: minting one costs more than most answers
    records, _ = await b.h.pull(sid, user=user)
    live = {r["externalId"] for r in records if not r.get("deleted")}
    synced = [n for n in world.nodes if sees(world, n)]
    assert {ids[n.index] for n in synced} == live, "the sync holds what Alice sees"

    rid = {n.index: record_id(sid, ids[n.index]) for n in world.nodes}
    people = (*PEOPLE, STRANGER)
    questions = [(n, p, r) for n in world.nodes for p in people for r in API_ROLES]
    checks = [
        {"object": rid[n.index], "user": f"user:{email[p]}", "role": r} for n, p, r in questions
    ]
    result = (await _post(b, auth, sid, "batch-check", {"checks": checks}))["result"]
    for (node, person, role), answer in zip(questions, result, strict=True):
        assert "error" not in answer
        expected = sees(world, node) and may(world, node, person, role, known=True)
        assert expected == answer["allowed"], (node, person, role)
        if answer["allowed"]:  # never more than Box itself allows
            assert may(world, node, person, role, known=False), (node, person, role)

    for person in people:
        for role in API_ROLES:
            for kind, is_folder in (("file", False), ("folder", True)):
                body = {"objectType": kind, "user": email[person], "role": role}
                listed = (await _post(b, auth, sid, "list-objects", body))["objects"]
                readable = {
                    rid[n.index]
                    for n in synced
                    if n.is_folder == is_folder and may(world, n, person, role, known=True)
                }
                assert readable == set(listed), (person, role, kind)
                assert len(listed) == len(set(listed))
        body = {"objectType": "file", "user": email[person], "role": "can_read"}
        streamed = await _post(b, auth, sid, "streamed-list-objects", body)
        single = {
            rid[n.index]
            for n in synced
            if not n.is_folder and may(world, n, person, "can_read", known=True)
        }
        assert single == set(streamed), person

    for node in synced:
        for role in API_ROLES:
            body = {"object": f"file:{rid[node.index]}", "role": role}
            users = (await _post(b, auth, sid, "list-users", body))["users"]
            assert holders(world, node, role, email) == set(users), (node, role)

    if synced:  # and one plain `check`, the way a client asks about a single document
        node = synced[0]
        body = {"object": rid[node.index], "user": email["alice"], "role": "can_read"}
        expected = may(world, node, "alice", "can_read", known=True)
        assert {"hasAccess": expected} == await _post(b, auth, sid, "check", body)


# -- changes between syncs -------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A collaboration added to a node, or an existing one's role changed or removed."""

    node: int
    collab: Collab | None  # added (None: change or remove the node's first collaboration)
    role: str | None  # the new role; None removes


changes = st.lists(
    st.builds(
        Change,
        node=st.integers(0, 9),
        collab=st.one_of(st.none(), collabs.map(lambda c: c[0] if c else None)),
        role=st.one_of(st.none(), st.sampled_from(ROLES)),
    ),
    max_size=4,
)


def _touches_alice(world: World, collab: Collab) -> bool:
    """Whether the collaboration is Alice's, or her group's: changing those changes what the
    sync holds, which is the listing's business, not this test's."""
    kind, _, name = collab.subject.partition(":")
    return name == "alice" if kind == "user" else "alice" in world.members[int(name)]


def _apply(b: BoxHarness, world: World, loaded: Loaded, wanted: list[Change]) -> World:
    """Make the changes in the sandbox Box (through `BoxState`) and return the new world."""
    box = b.box
    nodes = list(world.nodes)
    for change in wanted:
        if change.node >= len(nodes):
            continue
        node = nodes[change.node]
        item = loaded.ids[node.index]
        collabs = list(node.collabs)
        if change.collab is not None:
            if _touches_alice(world, change.collab):
                continue
            _collaborate(b, loaded, item, change.collab)
            collabs.append(change.collab)
        else:
            mine = [i for i, c in enumerate(collabs) if not _touches_alice(world, c)]
            if not mine:
                continue
            position = mine[0]
            made = sorted(
                (c for c in box.collaborations.values() if c.item == item), key=lambda c: int(c.id)
            )  # in the order they were made, as `collabs` is
            if change.role is None:
                box.remove_collaboration(made[position].id)
                del collabs[position]
            else:
                box.change_role(made[position].id, change.role)
                old = collabs[position]
                collabs[position] = Collab(old.subject, change.role, old.pending)
        nodes[change.node] = Node(
            node.index, node.is_folder, node.parent, node.owner, tuple(collabs), node.link
        )
    return World(tuple(nodes), world.members)


# -- the tests -------------------------------------------------------------------------------

HIDDEN_FOLDER = World(
    (
        # Bob's folder, shared with Cy and by an open link, but not with Alice...
        Node(0, True, None, "bob", (Collab("user:cy", "viewer", False),), "open"),
        # ...holds a file Bob shares with Alice: Syncline cannot know about Cy or the link.
        Node(1, False, 0, "bob", (Collab("user:alice", "editor", False),), None),
    ),
    (frozenset(), frozenset()),
)


@pytest.fixture
async def b(database_url):
    async with box_harness(database_url) as running:
        yield running


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), wanted=changes)
@example(world=HIDDEN_FOLDER, wanted=[])
async def test_box_answers_match_the_oracle(b: BoxHarness, world: World, wanted: list) -> None:
    """batch-check, check, list-objects, streamed-list-objects and list-users agree with the
    oracle of Box's sharing for every person, item and role after a full sync, and again after
    collaborations are added, re-roled and removed upstream and an incremental sync reads the
    stream's `COLLAB_*` events; the sync holds exactly what the syncing user sees."""
    n = next(_examples)
    user = f"box-oracle-{n}"
    loaded = _load(b, world, n)
    sid = await _sync(b, user, loaded.email)
    await _compare(b, user, sid, world, loaded)

    changed = _apply(b, world, loaded, wanted)
    await b.h.trigger(sid, user=user)
    await b.h.settle()
    await _compare(b, user, sid, changed, loaded)
