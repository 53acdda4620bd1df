"""Permission answers for Dropbox syncs match a brute-force oracle of Dropbox's sharing, on random
worlds.

A world is a forest of folders and files in the Dropboxes of a few people (the syncing user,
Alice, and others), some folders turned into shared folders (owned by Alice, or by someone else
and mounted by Alice when she is a member) with members of every access level Dropbox has
(users, groups, invitees), files shared on their own with members, and group memberships. It is
loaded into the sandbox Dropbox through `DropboxState`, synced by the real engine with the
`dropbox` connector over HTTP, and every `batch-check`, `check`, `list-objects`,
`streamed-list-objects` and `list-users` answer is compared with the oracle.

The oracle restates Dropbox's documented semantics, independently of
`syncline.connectors.dropbox`:

- shared folders do not nest (`SharePathError.inside_shared_folder`, `contains_shared_folder`);
  a shared folder's members reach everything inside it, its root included;
- `AccessLevel`: `owner` and `editor` view and edit, `viewer` and `viewer_no_comment` only view;
  `traverse` and `no_access` do not let one read the folder's contents; invitees (invited, not
  yet joined) get nothing;
- an item in no shared folder is its Dropbox owner's; a file's own members
  (`has_explicit_shared_members`, `sharing/list_file_members`) get their access level on that
  file, on top of what a shared folder above gives them (`MembershipInfo.access_type`: "inherited
  access type from parent folder, and acquired access type from this folder");
- a group member grants its access level to the group's members.

What Syncline can answer (docs/connectors/dropbox.md, "Permissions"; docs/api.md): without
`orgWideSync` a group is an opaque principal, and nobody but the connected user (whom Dropbox
tells whether she is in each group: `GroupInfo.is_member`) gets access through it; the connected
account owns the items in no shared folder; a shared folder's members are grants on its
container, so they reach `can_read` and `can_write` of everything inside but not `is_owner`
(ownership is not inherited: `syncline.permissions.model`). Answers must match the oracle
restricted to that (`known=True`), and may never grant more than Dropbox does (`known=False`).

A sync sees what the syncing user sees: her own Dropbox and the shared folders she is a member
of (directly or through a group, at any access level: the sandbox mounts them all). Files shared
with her on their own from someone else's Dropbox are not in `files/list_folder`, so not synced.
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
from syncline.sandbox.dropbox import Member
from tests.support.dropbox import DropboxHarness, dropbox_harness

DOMAIN = "example.com"
PEOPLE = ("alice", "bob", "cy", "dee")
"""Alice syncs; everyone here has a Dropbox account."""
OWNERS = ("alice", "alice", "bob", "cy")
STRANGER = "eve"
"""No Dropbox account: only ever invited."""
FOLDER_LEVELS = ("editor", "viewer", "viewer_no_comment", "traverse", "no_access")
FILE_LEVELS = ("editor", "viewer", "viewer_no_comment")
READ_LEVELS = frozenset({"owner", "editor", "viewer", "viewer_no_comment"})
WRITE_LEVELS = frozenset({"owner", "editor"})
GROUPS = 2
API_ROLES = ("can_read", "can_write", "is_owner")

_examples = itertools.count()


@dataclass(frozen=True)
class Share:
    subject: str
    """`user:<person>`, `group:<index>` or `invitee:<person or stranger>`."""
    level: str


@dataclass(frozen=True)
class Node:
    index: int
    is_folder: bool
    parent: int | None
    owner: str
    """Whose Dropbox it was made in (the owner of its top folder)."""
    shared: bool
    """A folder made a shared folder (never inside another one: Dropbox does not nest them)."""
    members: tuple[Share, ...]
    """A shared folder's members besides its owner; a file's own members."""


@dataclass(frozen=True)
class World:
    nodes: tuple[Node, ...]
    groups: tuple[frozenset[str], ...]
    """Group index -> people."""


def _shares(draw: st.DrawFn, levels: tuple[str, ...], owner: str) -> tuple[Share, ...]:
    """At most three members, each subject once, never the owner."""
    subjects = st.sampled_from(
        (
            *(f"user:{p}" for p in PEOPLE if p != owner),
            *(f"group:{g}" for g in range(GROUPS)),
            *(f"invitee:{p}" for p in (*PEOPLE, STRANGER) if p != owner),
        )
    )
    drawn = draw(
        st.lists(
            st.builds(Share, subject=subjects, level=st.sampled_from(levels)),
            max_size=3,
            unique_by=lambda s: s.subject,
        )
    )
    return tuple(drawn)


def _shared_root(nodes: list[Node] | tuple[Node, ...], index: int | None) -> Node | None:
    """The shared folder the item `index` is in (itself, if it is one), or None."""
    while index is not None:
        if nodes[index].shared:
            return nodes[index]
        index = nodes[index].parent
    return None


@st.composite
def worlds(draw: st.DrawFn) -> World:
    nodes: list[Node] = []
    for index in range(draw(st.integers(1, 10))):
        folders = [n.index for n in nodes if n.is_folder]
        parent = draw(st.sampled_from([None, *folders]))
        owner = draw(st.sampled_from(OWNERS)) if parent is None else nodes[parent].owner
        is_folder = draw(st.booleans())
        shared = is_folder and _shared_root(nodes, parent) is None and draw(st.booleans())
        if shared:
            members = _shares(draw, FOLDER_LEVELS, owner)
        elif not is_folder:
            members = _shares(draw, FILE_LEVELS, owner) if draw(st.booleans()) else ()
        else:
            members = ()
        nodes.append(Node(index, is_folder, parent, owner, shared, members))
    groups = tuple(draw(st.frozensets(st.sampled_from(PEOPLE), max_size=3)) for _ in range(GROUPS))
    return World(tuple(nodes), groups)


# -- the oracle ------------------------------------------------------------------------------


def _subjects(world: World, person: str, *, groups: bool) -> set[str]:
    """Who the person is in a members list: themselves, and their groups when those count."""
    found = {f"user:{person}"}
    if groups:
        found |= {f"group:{g}" for g, people in enumerate(world.groups) if person in people}
    return found


def _levels(world: World, node: Node, person: str, *, known: bool) -> set[str]:
    """The person's access levels on the item: as its owner, as a member of the shared folder
    it is in, and as one of its own members (invitees never match a person's subjects). With
    `known`, only what Syncline can know: groups are opaque except to the syncing user (each
    group entry says whether the caller is in it, `GroupInfo.is_member`), and is_owner below."""
    subjects = _subjects(world, person, groups=not known or person == "alice")
    levels = {s.level for s in node.members if not node.shared and s.subject in subjects}
    root = _shared_root(world.nodes, node.index)
    if root is None:
        if node.owner == person:
            levels.add("owner")
    else:
        if root.owner == person:
            levels.add("owner")
        levels |= {s.level for s in root.members if s.subject in subjects}
    return levels


def _owns(world: World, node: Node, person: str, *, known: bool) -> bool:
    """Dropbox: the owner of the Dropbox or shared folder the item is in. Syncline: an owner
    grant on the item itself, which only items in no shared folder carry (their owner: the
    connected account); a shared folder's owner owns its container, and ownership is not
    inherited."""
    if not known:
        return "owner" in _levels(world, node, person, known=False)
    root = _shared_root(world.nodes, node.index)
    own = () if node.shared else node.members  # a shared folder's members are its container's
    return (root is None and node.owner == person) or Share(f"user:{person}", "owner") in own


def sees(world: World, node: Node, person: str = "alice") -> bool:
    """In the person's Dropbox: in their own, or in a shared folder they are a member of
    (directly or through a group, any access level; not as an invitee)."""
    root = _shared_root(world.nodes, node.index)
    if root is None:
        return node.owner == person
    subjects = _subjects(world, person, groups=True)
    return root.owner == person or any(s.subject in subjects for s in root.members)


def may(world: World, node: Node, person: str, role: str, *, known: bool) -> bool:
    """Dropbox's answer (`known=False`), or what Syncline can know of it (`known=True`).

    Parent folders add nothing here: a folder carries no grant but its owner's (items in no
    shared folder) or its shared folder's (the same container as what is inside it)."""
    if role == "is_owner":
        return _owns(world, node, person, known=known)
    levels = READ_LEVELS if role == "can_read" else WRITE_LEVELS
    return bool(_levels(world, node, person, known=known) & levels)


def holders(world: World, node: Node, role: str, email: dict[str, str]) -> set[str]:
    """Everyone the known sharing names for `role` (only people: groups are opaque)."""
    return {email[p] for p in (*PEOPLE, STRANGER) if may(world, node, p, role, known=True)}


# -- loading a world into the sandbox Dropbox ------------------------------------------------


def _emails(n: int) -> dict[str, str]:
    """Logins of this example's people: fresh ones, so earlier examples' items stay out."""
    return {p: f"{p}{n}@{DOMAIN}" for p in (*PEOPLE, STRANGER)}


@dataclass(frozen=True)
class Loaded:
    """A world in the sandbox Dropbox: each person's email, each group's, node's and shared
    folder's Dropbox id."""

    email: dict[str, str]
    groups: list[str]
    ids: dict[int, str]
    shared: dict[int, str]
    """Node index -> shared folder id."""


def _member(loaded: Loaded, share: Share) -> Member:
    kind, _, name = share.subject.partition(":")
    if kind == "group":
        return Member("group", loaded.groups[int(name)], share.level)
    return Member("user" if kind == "user" else "invitee", loaded.email[name], share.level)


def _load(b: DropboxHarness, world: World, n: int) -> Loaded:
    """The world in the sandbox Dropbox, with this example's fresh emails."""
    email = _emails(n)
    dropbox = b.dropbox
    for person in PEOPLE:
        dropbox.add_user(email[person], person.title())
    groups = [
        dropbox.add_group(f"Group {n}-{g}", sorted(email[p] for p in people))
        for g, people in enumerate(world.groups)
    ]
    loaded = Loaded(email, groups, {}, {})
    ids = loaded.ids
    for node in world.nodes:
        parent = ids[node.parent] if node.parent is not None else None
        name, owner = f"n{node.index}", email[node.owner]
        if node.is_folder:
            ids[node.index] = dropbox.add_folder(name, parent, owner=owner)
        else:
            ids[node.index] = dropbox.add_file(f"{name}.txt", b"x", parent, owner=owner)
        if node.shared:
            shared = dropbox.share_folder(owner, ids[node.index])
            loaded.shared[node.index] = shared
            for share in node.members:
                dropbox.add_folder_member(shared, _member(loaded, share))
        else:
            for share in node.members:
                dropbox.add_file_member(ids[node.index], _member(loaded, share))
    return loaded


async def _sync(b: DropboxHarness, user: str, email: dict[str, str]) -> str:
    await b.connect(user=user, email=email["alice"])
    answer = await b.h.api.post(
        "/api/syncs",
        headers=b.h.auth(user),
        json={"integration": "dropbox", "pipeline": "files", "configuration": {}},
    )
    assert 200 == answer.status_code, answer.text
    await b.h.settle()
    return str(answer.json()["id"])


# -- asking Syncline -------------------------------------------------------------------------


async def _post(b: DropboxHarness, auth: dict[str, str], sid: str, path: str, body: Any) -> Any:
    answer = await b.h.api.post(f"/api/permissions/{sid}/{path}", headers=auth, json=body)
    assert 200 == answer.status_code, answer.text
    if path == "streamed-list-objects":
        return [orjson.loads(line)["object"] for line in answer.content.splitlines()]
    return answer.json()


async def _compare(b: DropboxHarness, user: str, sid: str, world: World, loaded: Loaded) -> None:
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
        if answer["allowed"]:  # never more than Dropbox itself allows
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
    """A shared folder's member added, re-levelled (`level`) or removed (`level` None)."""

    folder: int
    """Which of the world's shared folders (modulo how many there are)."""
    subject: str
    level: str | None


changes = st.lists(
    st.builds(
        Change,
        folder=st.integers(0, 9),
        subject=st.sampled_from(
            (
                *(f"user:{p}" for p in PEOPLE),
                *(f"group:{g}" for g in range(GROUPS)),
                *(f"invitee:{p}" for p in (*PEOPLE, STRANGER)),
            )
        ),
        level=st.one_of(st.none(), st.sampled_from(FOLDER_LEVELS)),
    ),
    max_size=4,
)


def _touches_alice(world: World, subject: str) -> bool:
    """Whether the member is Alice, or her group: changing those changes what the sync holds,
    which is the listing's business, not this test's."""
    kind, _, name = subject.partition(":")
    if kind == "group":
        return "alice" in world.groups[int(name)]
    return kind == "user" and name == "alice"


def _apply(b: DropboxHarness, world: World, loaded: Loaded, wanted: list[Change]) -> World:
    """Make the changes in the sandbox Dropbox and return the new world. Dropbox's feed says
    nothing of them: Syncline must re-read the shared folders' members (here on every run,
    SYNCLINE_GROUP_MEMBERSHIP_MAX_AGE=0)."""
    nodes = list(world.nodes)
    shared = [n.index for n in nodes if n.shared]
    for change in wanted:
        if not shared:
            break
        node = nodes[shared[change.folder % len(shared)]]
        owner = f"user:{node.owner}"
        if change.subject == owner or _touches_alice(world, change.subject):
            continue
        kept = [s for s in node.members if s.subject != change.subject]
        if change.level is not None:
            kept.append(Share(change.subject, change.level))
        member = _member(loaded, Share(change.subject, change.level or "viewer"))
        with b.dropbox.lock:
            listed = b.dropbox.namespaces[loaded.shared[node.index]].members
            listed[:] = [m for m in listed if (m.kind, m.key) != (member.kind, member.key)]
            if change.level is not None:
                listed.append(member)
        nodes[node.index] = Node(
            node.index, node.is_folder, node.parent, node.owner, node.shared, tuple(kept)
        )
    return World(tuple(nodes), world.groups)


# -- the tests -------------------------------------------------------------------------------

MIXED = World(
    (
        # Bob's shared folder: Alice views it, Cy edits it through a group, Dee may only
        # traverse it, Eve is invited...
        Node(
            0,
            True,
            None,
            "bob",
            True,
            (
                Share("user:alice", "viewer"),
                Share("group:0", "editor"),
                Share("user:dee", "traverse"),
                Share("invitee:eve", "editor"),
            ),
        ),
        # ...and holds a file Dee also has of her own, as an editor.
        Node(1, False, 0, "bob", False, (Share("user:dee", "editor"),)),
        # Alice's folder holds her shared folder, where Bob views without comments, and a file
        # of hers that Cy may edit and that Bob's group views.
        Node(2, True, None, "alice", False, ()),
        Node(3, True, 2, "alice", True, (Share("user:bob", "viewer_no_comment"),)),
        Node(4, False, 3, "alice", False, ()),
        Node(5, False, 2, "alice", False, (Share("user:cy", "editor"), Share("group:1", "viewer"))),
        # Cy's file in Cy's own Dropbox, shared with Alice on its own: not in her Dropbox.
        Node(6, False, None, "cy", False, (Share("user:alice", "editor"),)),
    ),
    (frozenset({"cy"}), frozenset({"bob", "dee"})),
)

ALICE_IN_A_GROUP = World(
    (
        # Bob's shared folder, whose only other member is a group of Alice and Cy (editors):
        # without `orgWideSync` the group is opaque, so Cy gets nothing through it, but
        # Dropbox's `GroupInfo.is_member` tells the sync's own user, Alice, that she is in it.
        Node(0, True, None, "bob", True, (Share("group:0", "editor"),)),
        Node(1, False, 0, "bob", False, ()),
    ),
    (frozenset({"alice", "cy"}), frozenset()),
)


@pytest.fixture
async def b(database_url):
    async with dropbox_harness(database_url, group_membership_max_age="0") as running:
        yield running


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), wanted=changes)
@example(world=ALICE_IN_A_GROUP, wanted=[])
@example(
    world=MIXED,
    wanted=[
        Change(0, "user:dee", "editor"),
        Change(1, "user:bob", None),
        Change(0, "user:cy", "viewer"),
    ],
)
async def test_dropbox_answers_match_the_oracle(
    b: DropboxHarness, world: World, wanted: list[Change]
) -> None:
    """batch-check, check, list-objects, streamed-list-objects and list-users agree with the
    oracle of Dropbox's sharing for every person, item and role after a full sync, and again
    after shared folders' members are added, re-levelled and removed upstream and an
    incremental sync re-reads them; the sync holds exactly what the syncing user sees."""
    n = next(_examples)
    user = f"dropbox-oracle-{n}"
    loaded = _load(b, world, n)
    sid = await _sync(b, user, loaded.email)
    await _compare(b, user, sid, world, loaded)

    changed = _apply(b, world, loaded, wanted)
    await b.h.trigger(sid, user=user)
    await b.h.settle()
    await _compare(b, user, sid, changed, loaded)
