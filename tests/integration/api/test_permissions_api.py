"""The Permissions API's contract over HTTP: check, batch-check, list-users, list-objects,
streamed-list-objects and expand, answered from tuples seeded through the store.

The world every test shares (`world`), for the sync of `user-1`:

    group eng@example.com        members: carol
    group all-staff@example.com  members: group eng, frank
    drive drive-1                viewer dana, editor ed

    folder F  viewer group:all-staff, editor erin, owner olive
      file S  viewer bob, viewer group:eng, owner sam
    file P    viewer user:*                    (anyone with the link)
    file D    viewer domain:example.com
    file X    in drive-1 (no grants of its own)
    file Q    owner quinn
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import pytest

from syncline.auth import mint_user_token
from syncline.domain.ids import record_id
from syncline.domain.permissions import Access, Grant, Relation
from syncline.domain.projects import Project
from syncline.domain.records import Upsert
from syncline.store.store import Progress, RunWrite
from syncline.types import JSONObject
from tests.support.harness import Harness, harness

LEASE = timedelta(minutes=10)
PROGRESS = Progress(cursor=None, checkpoint=None, checkpoint_type=None)
V, E, OWN = Relation.VIEWER, Relation.EDITOR, Relation.OWNER


def _item(
    ext: str,
    *grants: tuple[Relation, str],
    folder: bool = False,
    parents: tuple[str, ...] = (),
    container: str | None = None,
) -> Upsert:
    access = Access(grants=tuple(Grant(r, s) for r, s in grants), container=container)
    data: JSONObject = {"externalId": ext, "name": ext}
    return Upsert(ext, data, is_folder=folder, parent_ids=parents, access=access)


@dataclass
class Seeded:
    """A sync of `user-1`, leased by the test so that it can commit pages as a run would."""

    h: Harness
    sync_id: str
    run: RunWrite

    def rid(self, ext: str) -> str:
        return record_id(self.sync_id, ext)

    async def commit(self, upserts: list[Upsert], deletions: tuple[str, ...] = ()) -> None:
        now = self.h.clock()
        for start in range(0, max(len(upserts), 1), 500):
            await self.h.runtime.store.commit_page(
                self.run,
                now,
                upserts=upserts[start : start + 500],
                deletions=deletions if start == 0 else (),
                progress=PROGRESS,
            )

    async def source(self, kind: str, key: str, *tuples: tuple[str, str]) -> None:
        await self.h.runtime.store.permissions.replace_source(
            self.sync_id, kind, key, tuples=list(tuples), status="ok", now=self.h.clock()
        )

    async def post(self, endpoint: str, body: Any, user: str = "user-1") -> Any:
        """POST to the endpoint and return the httpx response."""
        return await self.h.api.post(
            f"/api/permissions/{self.sync_id}/{endpoint}", headers=self.h.auth(user), json=body
        )

    async def ok(self, endpoint: str, body: Any) -> Any:
        response = await self.post(endpoint, body)
        assert 200 == response.status_code, response.text
        return response.json()

    async def check(self, obj: str, user: str, role: str = "can_read") -> bool:
        body = await self.ok("check", {"object": obj, "user": user, "role": role})
        assert set(body) == {"hasAccess"}
        allowed = body["hasAccess"]
        assert isinstance(allowed, bool)
        return allowed

    async def objects(self, user: str, kind: str = "file", role: str = "can_read") -> list[str]:
        body = await self.ok("list-objects", {"objectType": kind, "user": user, "role": role})
        return list(body["objects"])

    async def users(self, obj: str, role: str = "can_read") -> list[str]:
        return list((await self.ok("list-users", {"object": obj, "role": role}))["users"])


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


@pytest.fixture
async def seeded(h):
    await h.connect()
    sync = await h.enable()
    claimed = await h.runtime.store.claim_due(
        "perm-test", h.clock() + timedelta(seconds=1), 10, LEASE
    )
    assert [sync["id"]] == [s.id for s in claimed]
    run = RunWrite(claimed[0], "perm-test", str(uuid.uuid4()), LEASE, False, claimed[0].generation)
    return Seeded(h, sync["id"], run)


@pytest.fixture
async def world(seeded):
    await seeded.commit(
        [
            _item(
                "F",
                (V, "group:all-staff@example.com"),
                (E, "user:erin@example.com"),
                (OWN, "user:olive@example.com"),
                folder=True,
            ),
            _item(
                "S",
                (V, "user:bob@example.com"),
                (V, "group:eng@example.com"),
                (OWN, "user:sam@example.com"),
                parents=("F",),
            ),
            _item("P", (V, "user:*")),
            _item("D", (V, "domain:example.com")),
            _item("X", parents=("drive-1",), container="drive-1"),
            _item("Q", (OWN, "user:quinn@example.com")),
        ]
    )
    await seeded.source("group", "eng@example.com", ("member", "user:carol@example.com"))
    await seeded.source(
        "group",
        "all-staff@example.com",
        ("member", "group:eng@example.com"),
        ("member", "user:frank@example.com"),
    )
    await seeded.source(
        "drive", "drive-1", ("viewer", "user:dana@example.com"), ("editor", "user:ed@example.com")
    )
    return seeded


# ------------------------------------------------------------------------------------- check


CHECKS = [
    # direct grant
    ("S", "bob@example.com", "can_read", True),
    ("F", "bob@example.com", "can_read", False),
    # nested groups: carol in eng, eng in all-staff, all-staff viewer on F, S inherits
    ("F", "carol@example.com", "can_read", True),
    ("S", "carol@example.com", "can_read", True),
    ("S", "frank@example.com", "can_read", True),
    ("S", "carol@example.com", "can_write", False),
    # reader cannot write; a writer on the folder writes its children
    ("S", "bob@example.com", "can_write", False),
    ("S", "erin@example.com", "can_write", True),
    ("S", "erin@example.com", "can_read", True),
    ("S", "erin@example.com", "is_owner", False),
    # ownership is not inherited, but a folder's owner may edit what is in it
    ("F", "olive@example.com", "is_owner", True),
    ("S", "olive@example.com", "is_owner", False),
    ("S", "olive@example.com", "can_write", True),
    ("S", "sam@example.com", "is_owner", True),
    ("S", "sam@example.com", "can_write", True),
    # anyone with the link
    ("P", "stranger@other.com", "can_read", True),
    ("P", "stranger@other.com", "can_write", False),
    # domain-wide
    ("D", "anyone@example.com", "can_read", True),
    ("D", "anyone@other.com", "can_read", False),
    ("D", "anyone@sub.example.com", "can_read", False),
    # shared-drive membership reaches items of the drive
    ("X", "dana@example.com", "can_read", True),
    ("X", "dana@example.com", "can_write", False),
    ("X", "ed@example.com", "can_write", True),
    ("X", "bob@example.com", "can_read", False),
    # a file only its owner sees
    ("Q", "quinn@example.com", "can_read", True),
    ("Q", "bob@example.com", "can_read", False),
]
"""(object, user, role, expected answer) in the world above."""


async def test_check_follows_every_path_of_the_model(world):
    """check answers through direct grants, parents, nested groups, domain, anyone and drives,
    and keeps can_read, can_write and is_owner apart (ownership is not inherited)."""
    wrong = [
        (obj, user, role, expected)
        for obj, user, role, expected in CHECKS
        if expected is not await world.check(world.rid(obj), user, role)
    ]

    assert [] == wrong


PREFIXED = [
    ("{S}", "bob@example.com"),
    ("file:{S}", "bob@example.com"),
    ("{S}", "user:bob@example.com"),
    ("file:{S}", "user:bob@example.com"),
    ("  file:{S} ", " user:BOB@Example.com "),
    ("{S}", "Bob@EXAMPLE.COM"),
    ("folder:{F}", "user:Carol@Example.com"),
]


async def test_check_accepts_prefixes_and_any_email_case(world):
    """Objects with or without `file:`/`folder:`, users with or without `user:`, emails in any
    case and padded with spaces, all name the same object and user."""
    ids = {"S": world.rid("S"), "F": world.rid("F")}
    denied = [
        (obj, user) for obj, user in PREFIXED if not await world.check(obj.format(**ids), user)
    ]

    assert [] == denied


async def test_check_accepts_relation_instead_of_role(world):
    """The older `relation` key works in place of `role`."""
    body = {"object": world.rid("S"), "user": "bob@example.com"}
    read = await world.ok("check", {**body, "relation": "can_read"})
    write = await world.ok("check", {**body, "relation": "can_write"})

    assert ({"hasAccess": True}, {"hasAccess": False}) == (read, write)


async def test_unknown_object_or_user_is_denied_not_missing(world):
    """An object or user the sync does not know is answered 200 hasAccess false, never 404."""
    unknown = str(uuid.uuid4())

    assert not await world.check(unknown, "bob@example.com")
    assert not await world.check(unknown, "nobody@nowhere.test", "is_owner")
    assert not await world.check(world.rid("S"), "nobody@nowhere.test")
    assert not await world.check("not-even-a-uuid", "bob@example.com")


async def test_another_users_or_projects_sync_is_not_found(world):
    """Every endpoint answers 404 for a sync id of another user or another project."""
    h = world.h
    other_project = str(uuid.uuid4())
    pem = h.runtime.settings.signing_public_key
    assert pem is not None
    await h.runtime.store.create_project(
        Project(other_project, "other", pem, None, None, h.clock()), h.clock()
    )
    foreign = mint_user_token(h.private_pem, other_project, "user-1")
    bodies = {
        "check": {"object": world.rid("S"), "user": "bob@example.com", "role": "can_read"},
        "batch-check": {"checks": []},
        "list-users": {"object": world.rid("S"), "role": "can_read"},
        "list-objects": {"user": "bob@example.com", "role": "can_read"},
        "streamed-list-objects": {"user": "bob@example.com", "role": "can_read"},
        "expand": {"object": world.rid("S"), "relation": "can_read"},
    }
    for headers in (h.auth("user-2"), {"Authorization": f"Bearer {foreign}"}):
        for endpoint, body in bodies.items():
            response = await h.api.post(
                f"/api/permissions/{world.sync_id}/{endpoint}", headers=headers, json=body
            )
            assert (endpoint, 404) == (endpoint, response.status_code), response.text
            assert "bob" not in response.text
    assert 200 == (await world.post("check", bodies["check"])).status_code
    unknown_sync = await h.api.post(
        f"/api/permissions/{uuid.uuid4()}/check", headers=h.auth(), json=bodies["check"]
    )
    assert 404 == unknown_sync.status_code


@pytest.mark.parametrize("endpoint", ["check", "list-users", "list-objects", "expand"])
async def test_invalid_role_is_422_naming_the_roles(world, endpoint):
    """A role outside can_read/can_write/is_owner answers 422 with a message naming them."""
    body = {"object": world.rid("S"), "user": "bob@example.com", "role": "can_fly"}
    if endpoint == "expand":
        body = {"object": world.rid("S"), "relation": "can_fly"}
    response = await world.post(endpoint, body)

    assert 422 == response.status_code
    assert "can_fly" in response.json()["message"]
    if endpoint != "expand":
        assert "INVALID_ROLE" == response.json()["code"]
        assert all(role in response.json()["message"] for role in ("can_read", "can_write"))


@pytest.mark.parametrize(
    "body",
    [
        {"user": "bob@example.com", "role": "can_read"},
        {"object": "x", "role": "can_read"},
        {"object": "x", "user": "bob@example.com"},
        {"object": "", "user": "bob@example.com", "role": "can_read"},
    ],
)
async def test_check_missing_fields_is_422(world, body):
    """A check without object, user or role is a 422 VALIDATION_ERROR, never a 500."""
    response = await world.post("check", body)

    assert (422, "VALIDATION_ERROR") == (response.status_code, response.json()["code"])


async def test_missing_token_is_401(world):
    """Without a bearer token every endpoint answers 401."""
    for endpoint in (
        "check",
        "batch-check",
        "list-users",
        "list-objects",
        "streamed-list-objects",
        "expand",
    ):
        response = await world.h.api.post(f"/api/permissions/{world.sync_id}/{endpoint}", json={})
        assert (endpoint, 401) == (endpoint, response.status_code)
        assert "UNAUTHORIZED" == response.json()["code"]


# -------------------------------------------------------------------------------- batch-check


async def test_batch_check_answers_in_order_and_echoes_file_objects(world):
    """batch-check answers each check in order and echoes each object as `file:<uuid>`."""
    s, f, p = world.rid("S"), world.rid("F"), world.rid("P")
    checks = [
        {"object": s, "user": "user:bob@example.com", "role": "can_read"},
        {"object": f"file:{s}", "user": "user:bob@example.com", "role": "can_write"},
        {"object": f"folder:{f}", "user": "carol@example.com", "relation": "can_read"},
        {"object": p, "user": "user:x@other.com", "role": "can_read"},
        {"object": str(uuid.uuid4()), "user": "bob@example.com", "role": "can_read"},
    ]
    result = (await world.ok("batch-check", {"checks": checks}))["result"]

    assert [True, False, True, True, False] == [r["allowed"] for r in result]
    assert [f"file:{_bare(c['object'])}" for c in checks] == [
        r["request"]["object"] for r in result
    ]
    assert [c["user"] for c in checks] == [r["request"]["user"] for r in result]
    assert ["can_read", "can_write", "can_read", "can_read", "can_read"] == [
        r["request"]["role"] for r in result
    ]
    assert all("error" not in r for r in result)
    # The reference client reads the id back with `.split(":")[1]`.
    assert s == result[0]["request"]["object"].split(":")[1]


def _bare(obj: str) -> str:
    return obj.split(":", 1)[1] if ":" in obj else obj


async def test_batch_check_malformed_items_get_their_own_error(world):
    """A malformed item gets `allowed: false` and its own `error`; the others are answered."""
    s = world.rid("S")
    checks: list[dict[str, Any]] = [
        {"object": s, "user": "bob@example.com", "role": "can_read"},
        {"object": s, "user": "bob@example.com", "role": "can_fly"},
        {"object": s, "user": "bob@example.com"},
        {"object": s, "role": "can_read"},
        {"user": "bob@example.com", "role": "can_read"},
        {"object": s, "user": 42, "role": "can_read"},
        {"object": s, "user": "carol@example.com", "role": "can_read"},
    ]
    result = (await world.ok("batch-check", {"checks": checks}))["result"]

    assert len(checks) == len(result)
    assert [True, False, False, False, False, False, True] == [r["allowed"] for r in result]
    assert ["error" in r for r in result] == [False, True, True, True, True, True, False]
    for entry in result:
        if "error" in entry:
            assert isinstance(entry["error"], str)
            assert entry["error"]
    assert "can_fly" in result[1]["error"]
    assert "role" in result[2]["error"]
    assert "user" in result[3]["error"]
    assert "object" in result[4]["error"]


async def test_batch_check_echoes_a_missing_or_non_string_object_as_sent(world):
    """An item whose object is missing or not a string echoes it as sent (never `file:None`)."""
    checks: list[dict[str, Any]] = [
        {"object": None, "user": "bob@example.com", "role": "can_read"},
        {"user": "bob@example.com", "role": "can_read"},
        {"object": 7, "user": "bob@example.com", "role": "can_read"},
    ]
    result = (await world.ok("batch-check", {"checks": checks}))["result"]

    assert [None, None, 7] == [r["request"]["object"] for r in result]
    assert all(not r["allowed"] and r["error"] for r in result)


@pytest.mark.parametrize("bad", ["x", None, 3, ["a"]])
async def test_batch_check_non_object_item_gets_its_own_error(world, bad):
    """An item that is not a JSON object is malformed like any other: it gets its own `error`
    and `allowed: false`, and the other checks are still answered (not a 422 for the batch)."""
    good = {"object": world.rid("S"), "user": "bob@example.com", "role": "can_read"}
    response = await world.post("batch-check", {"checks": [bad, good]})

    assert 200 == response.status_code, response.text
    result = response.json()["result"]
    assert [False, True] == [r["allowed"] for r in result]
    assert isinstance(result[0]["error"], str)
    assert "error" not in result[1]


async def test_batch_check_takes_1000_and_refuses_1001(world):
    """batch-check answers up to 1000 checks in order; 1001 is a 422 and answers none."""
    objs = [world.rid(x) for x in ("S", "F", "P", "D", "X", "Q")]
    expected = {
        objs[0]: True,
        objs[1]: True,
        objs[2]: True,
        objs[3]: True,
        objs[4]: False,
        objs[5]: False,
    }
    checks = [
        {"object": objs[i % len(objs)], "user": "user:carol@example.com", "role": "can_read"}
        for i in range(1000)
    ]
    result = (await world.ok("batch-check", {"checks": checks}))["result"]
    too_many = await world.post("batch-check", {"checks": [*checks, checks[0]]})

    assert 1000 == len(result)
    assert [expected[c["object"]] for c in checks] == [r["allowed"] for r in result]
    assert [f"file:{c['object']}" for c in checks] == [r["request"]["object"] for r in result]
    assert 422 == too_many.status_code
    assert "checks" in too_many.json()["message"] + str(too_many.json().get("field", ""))


async def test_batch_check_empty_is_an_empty_result(world):
    """An empty batch answers an empty result."""
    assert {"result": []} == await world.ok("batch-check", {"checks": []})


# --------------------------------------------------------------------------------- list-users


async def test_list_users_includes_groups_parents_and_owners(world):
    """list-users lists plain emails of everyone with access: direct, through (nested) groups and
    through the parent folder."""
    users = await world.users(world.rid("S"))

    assert [
        "bob@example.com",
        "carol@example.com",
        "erin@example.com",
        "frank@example.com",
        "olive@example.com",
        "sam@example.com",
    ] == users
    assert all(not u.startswith(("user:", "group:")) for u in users)


async def test_list_users_per_role_and_prefixed_object(world):
    """list-users follows the role: writers and owners are fewer than readers; `file:` accepted."""
    s = world.rid("S")
    writers = await world.users(f"file:{s}", "can_write")
    owners = (await world.ok("list-users", {"object": s, "relation": "is_owner"}))["users"]

    assert ["erin@example.com", "olive@example.com", "sam@example.com"] == writers
    assert ["sam@example.com"] == owners


async def test_list_users_reports_wildcards_and_drive_members(world):
    """`user:*` and `domain:<d>` appear as such where those grants apply; drive members appear
    for items of the drive; an unknown object has no users."""
    assert ["user:*"] == await world.users(world.rid("P"))
    assert ["domain:example.com"] == await world.users(world.rid("D"))
    assert ["dana@example.com", "ed@example.com"] == await world.users(world.rid("X"))
    assert ["ed@example.com"] == await world.users(world.rid("X"), "can_write")
    assert [] == await world.users(str(uuid.uuid4()))


async def test_list_users_is_capped_at_1000(seeded):
    """list-users answers at most 1000 users."""
    grants = [(V, f"user:u{i:04d}@example.com") for i in range(1100)]
    await seeded.commit([_item("crowd", *grants)])

    users = await seeded.users(seeded.rid("crowd"))

    assert 1000 == len(users)
    assert len(set(users)) == 1000
    assert set(users) <= {s.removeprefix("user:") for _, s in grants}


# ----------------------------------------------------------------------- cycles and depth


async def test_group_and_folder_cycles_end(seeded):
    """Groups inside each other and folders inside each other end the walk: answers come back,
    and are right, for check, list-users and list-objects."""
    await seeded.commit(
        [
            _item("L1", (V, "group:b@example.com"), folder=True, parents=("L2",)),
            _item("L2", folder=True, parents=("L1",)),
            _item("leaf", parents=("L2",)),
        ]
    )
    await seeded.source(
        "group", "a@example.com", ("member", "group:b@example.com"), ("member", "user:carol@x.com")
    )
    await seeded.source("group", "b@example.com", ("member", "group:a@example.com"))
    leaf = seeded.rid("leaf")

    assert await seeded.check(leaf, "carol@x.com")
    assert not await seeded.check(leaf, "bob@x.com")
    assert not await seeded.check(leaf, "carol@x.com", "can_write")
    assert ["carol@x.com"] == await seeded.users(leaf)
    assert [leaf] == await seeded.objects("carol@x.com")
    assert sorted([seeded.rid("L1"), seeded.rid("L2")]) == await seeded.objects(
        "carol@x.com", "folder"
    )


async def test_access_flows_down_100_nested_folders(seeded):
    """A grant on the top of 100 nested folders (Drive's deepest) reaches the file at the
    bottom, for check, list-users and list-objects."""
    items = [_item("d000", (E, "user:erin@example.com"), folder=True)]
    items += [_item(f"d{i:03d}", folder=True, parents=(f"d{i - 1:03d}",)) for i in range(1, 100)]
    items.append(_item("deep", parents=("d099",)))
    await seeded.commit(items)
    deep = seeded.rid("deep")

    assert await seeded.check(deep, "erin@example.com", "can_write")
    assert not await seeded.check(deep, "erin@example.com", "is_owner")
    assert ["erin@example.com"] == await seeded.users(deep)
    assert [deep] == await seeded.objects("erin@example.com")
    assert 100 == len(await seeded.objects("erin@example.com", "folder"))


# ------------------------------------------------------------------------------- list-objects


async def test_list_objects_by_type_with_every_path(world):
    """list-objects returns record ids of the requested type, reached by any path of the model."""
    ids = {x: world.rid(x) for x in ("S", "F", "P", "D", "X", "Q")}

    assert sorted([ids["S"], ids["P"], ids["D"]]) == await world.objects("carol@example.com")
    assert [ids["F"]] == await world.objects("user:Carol@Example.com", "folder")
    assert sorted([ids["S"], ids["P"], ids["D"]]) == await world.objects("bob@example.com")
    assert [] == await world.objects("bob@example.com", "folder")
    assert sorted([ids["X"], ids["P"], ids["D"]]) == await world.objects("dana@example.com")
    assert [ids["P"]] == await world.objects("x@other.com")
    assert [ids["S"]] == await world.objects("erin@example.com", role="can_write")
    assert [ids["S"]] == await world.objects("sam@example.com", role="is_owner")
    assert [] == await world.objects("olive@example.com", role="is_owner")
    assert [ids["F"]] == await world.objects("olive@example.com", "folder", role="is_owner")


async def test_list_objects_records_can_be_fetched(world):
    """The ids list-objects returns are record ids: Get Synced Record finds each."""
    for rid in await world.objects("carol@example.com"):
        response = await world.h.api.get(
            f"/api/syncs/{world.sync_id}/records/{rid}", headers=world.h.auth()
        )
        assert (rid, 200) == (rid, response.status_code)


@pytest.fixture
async def many(seeded):
    """250 files in a folder shared with group eng (carol), plus one file of bob's only."""
    items = [_item("shared", (V, "group:eng@example.com"), folder=True)]
    items += [_item(f"f{i:04d}", parents=("shared",)) for i in range(250)]
    items.append(_item("bobs", (V, "user:bob@example.com")))
    await seeded.commit(items)
    await seeded.source("group", "eng@example.com", ("member", "user:carol@example.com"))
    return seeded


async def test_list_objects_cursor_pages_without_repeats_or_gaps(many):
    """With `limit`, list-objects pages through every object with `cursor`: no repeats, no gaps,
    and no cursor on the last page."""
    body = {"objectType": "file", "user": "carol@example.com", "role": "can_read", "limit": 100}
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await many.ok("list-objects", body | ({"cursor": cursor} if cursor else {}))
        pages.append(page["objects"])
        cursor = page.get("cursor")
        if cursor is None:
            break
        assert len(pages) < 10

    everything = [rid for page in pages for rid in page]
    assert [100, 100, 50] == [len(p) for p in pages]
    assert sorted(many.rid(f"f{i:04d}") for i in range(250)) == everything


async def test_list_objects_default_limit_and_exact_limit(many):
    """Without a limit all 250 come back at once; a limit equal to the count gives no cursor."""
    everything = await many.ok(
        "list-objects", {"objectType": "file", "user": "carol@example.com", "role": "can_read"}
    )
    exact = await many.ok(
        "list-objects",
        {"objectType": "file", "user": "carol@example.com", "role": "can_read", "limit": 250},
    )

    assert 250 == len(everything["objects"])
    assert "cursor" not in everything
    assert (everything["objects"], None) == (exact["objects"], exact.get("cursor"))


@pytest.mark.parametrize(
    "change",
    [
        {"user": "bob@example.com"},
        {"role": "can_write"},
        {"objectType": "folder"},
    ],
)
async def test_list_objects_cursor_of_another_query_is_refused(many, change):
    """A cursor issued for one user, role or object type is refused for another: 422
    INVALID_CURSOR."""
    body = {"objectType": "file", "user": "carol@example.com", "role": "can_read", "limit": 10}
    cursor = (await many.ok("list-objects", body))["cursor"]

    response = await many.post("list-objects", body | change | {"cursor": cursor})

    assert (422, "INVALID_CURSOR") == (response.status_code, response.json()["code"])


async def test_list_objects_cursor_of_another_sync_or_tampered_is_refused(many):
    """A cursor from another sync, or an altered one, is refused with INVALID_CURSOR."""
    h = many.h
    body = {"objectType": "file", "user": "carol@example.com", "role": "can_read", "limit": 10}
    cursor = (await many.ok("list-objects", body))["cursor"]
    other = await h.enable(configurationName="other")
    elsewhere = await h.api.post(
        f"/api/permissions/{other['id']}/list-objects",
        headers=h.auth(),
        json=body | {"cursor": cursor},
    )
    tampered = await many.post("list-objects", body | {"cursor": cursor[:-2] + "xx"})
    garbage = await many.post("list-objects", body | {"cursor": "not a cursor"})

    for response in (elsewhere, tampered, garbage):
        assert (422, "INVALID_CURSOR") == (response.status_code, response.json()["code"])


@pytest.mark.parametrize("limit", [0, 1001, -1])
async def test_list_objects_limit_out_of_range(world, limit):
    """A limit outside 1..1000 answers 422."""
    response = await world.post(
        "list-objects", {"user": "bob@example.com", "role": "can_read", "limit": limit}
    )

    assert 422 == response.status_code


# ---------------------------------------------------------------------- streamed-list-objects


async def test_streamed_list_objects_streams_every_object_once(seeded):
    """streamed-list-objects answers NDJSON lines `{"object":"<uuid>"}`, every accessible object
    exactly once, far beyond list-objects' 1000."""
    items = [_item("big", (V, "group:eng@example.com"), folder=True)]
    items += [_item(f"b{i:04d}", parents=("big",)) for i in range(2500)]
    items.append(_item("hidden", (V, "user:bob@example.com")))
    await seeded.commit(items)
    await seeded.source("group", "eng@example.com", ("member", "user:carol@example.com"))
    body = {"objectType": "file", "user": "user:carol@example.com", "role": "can_read"}

    response = await seeded.post("streamed-list-objects", body)

    assert 200 == response.status_code
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.splitlines()
    assert response.text.endswith("\n")
    parsed = [orjson.loads(line) for line in lines]
    assert all(set(entry) == {"object"} for entry in parsed)
    objects = [entry["object"] for entry in parsed]
    assert 2500 == len(objects)
    assert {seeded.rid(f"b{i:04d}") for i in range(2500)} == set(objects)
    folders = await seeded.post("streamed-list-objects", body | {"objectType": "folder"})
    assert [{"object": seeded.rid("big")}] == [orjson.loads(x) for x in folders.text.splitlines()]


async def test_streamed_list_objects_with_nothing_is_empty(world):
    """A user with no access gets an empty NDJSON body, not an error."""
    response = await world.post(
        "streamed-list-objects",
        {"objectType": "folder", "user": "nobody@x.test", "role": "can_read"},
    )

    assert (200, "") == (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/x-ndjson")


# ------------------------------------------------------------------------------------- expand


async def test_expand_can_read_is_a_union_with_the_parent(world):
    """expand can_read is OpenFGA's tree: a union of the computed viewer userset and a
    tupleToUserset through `parent` naming the parent folder's can_read."""
    s, f = world.rid("S"), world.rid("F")
    tree = await world.ok("expand", {"object": f"file:{s}", "relation": "can_read"})

    root = tree["tree"]["root"]
    assert f"file:{s}#can_read" == root["name"]
    leaves = [node["leaf"] for node in root["union"]["nodes"]]
    assert all(node["name"] == f"file:{s}#can_read" for node in root["union"]["nodes"])
    assert {"computed": {"userset": f"file:{s}#viewer"}} in leaves
    assert {
        "tupleToUserset": {
            "tupleset": f"file:{s}#parent",
            "computed": [{"userset": f"folder:{f}#can_read"}],
        }
    } in leaves


async def test_expand_viewer_lists_users_and_groups(world):
    """expand viewer lists direct users as `user:…` and groups as `group:…#member`, beside the
    computed editor userset; `role` is accepted for `relation`."""
    s = world.rid("S")
    tree = await world.ok("expand", {"object": s, "role": "viewer"})

    root = tree["tree"]["root"]
    assert f"file:{s}#viewer" == root["name"]
    leaves = [node["leaf"] for node in root["union"]["nodes"]]
    assert {"users": {"users": ["group:eng@example.com#member", "user:bob@example.com"]}} in leaves
    assert {"computed": {"userset": f"file:{s}#editor"}} in leaves


async def test_expand_names_folders_and_drive_parents(world):
    """A folder expands as `folder:<id>`; an item of a shared drive names `drive:<id>` as parent."""
    f, x = world.rid("F"), world.rid("X")
    folder = await world.ok("expand", {"object": f"folder:{f}", "relation": "can_read"})
    in_drive = await world.ok("expand", {"object": x, "relation": "can_read"})

    assert f"folder:{f}#can_read" == folder["tree"]["root"]["name"]
    leaves = [node["leaf"] for node in in_drive["tree"]["root"]["union"]["nodes"]]
    assert {
        "tupleToUserset": {
            "tupleset": f"file:{x}#parent",
            "computed": [{"userset": "drive:drive-1#can_read"}],
        }
    } in leaves


# ---------------------------------------------------------------------------------- deletions


async def test_deleted_record_takes_its_access_with_it(world):
    """Once a record is deleted its access is gone: check is false, it is no longer listed,
    and it has no users."""
    s = world.rid("S")
    assert await world.check(s, "bob@example.com")

    await world.commit([], deletions=("S",))

    assert not await world.check(s, "bob@example.com")
    assert not await world.check(s, "carol@example.com")
    assert s not in await world.objects("bob@example.com")
    assert s not in await world.objects("carol@example.com")
    assert [] == await world.users(s)
    body = {"objectType": "file", "user": "bob@example.com", "role": "can_read"}
    streamed = (await world.post("streamed-list-objects", body)).text
    assert s not in streamed


async def test_deleted_folder_takes_inherited_access_with_it(world):
    """Deleting a folder removes what its children inherited from it, not their own grants."""
    s, f = world.rid("S"), world.rid("F")

    await world.commit([], deletions=("F",))

    assert not await world.check(f, "carol@example.com")
    assert not await world.check(s, "frank@example.com")
    assert not await world.check(s, "erin@example.com", "can_write")
    assert await world.check(s, "bob@example.com")
    assert await world.check(s, "carol@example.com")  # still viewer through group eng
    assert ["bob@example.com", "carol@example.com", "sam@example.com"] == await world.users(s)


async def test_changed_grants_replace_the_old_ones(world):
    """A record committed again with other grants answers from the new grants only."""
    s = world.rid("S")

    await world.commit([_item("S", (V, "user:zoe@example.com"), parents=("F",))])

    assert not await world.check(s, "bob@example.com")
    assert await world.check(s, "zoe@example.com")
    assert await world.check(s, "frank@example.com")  # still through the folder
