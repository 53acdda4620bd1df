"""The Paragon RAG recipes against a sandbox Drive whose sharing changes between syncs.

A client written from the contract filters search results with `batch-check` (post-search)
and builds a metadata filter with `streamed-list-objects` (pre-search); every answer is
compared with who may open each file in the sandbox at that moment.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from syncline.domain.ids import record_id
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from tests.support.harness import Harness, harness

DIRECTORY = "https://www.googleapis.com/auth/admin.directory.group.readonly"
USERS = ("bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com",
         "frank@example.com", "zed@elsewhere.org")  # fmt: skip


@pytest.fixture
async def h(database_url, tmp_path):
    async with harness(database_url, tmp_path) as running:
        yield running


def _drive(h: Harness) -> dict[str, str]:
    """Alice's drive: a folder shared with a nested group, a private file, a domain-wide file
    and a shared drive with a group member; returns the item ids by name."""
    d = h.drive
    d.add_group("team@example.com", ["carol@example.com"])
    d.add_group("eng@example.com", ["bob@example.com", "team@example.com"])
    d.add_group("sales@example.com", ["frank@example.com"])
    ids = {"Eng": d.add_folder("Eng")}
    ids["spec"] = d.add_file("spec.txt", parent=ids["Eng"])
    ids["Deep"] = d.add_folder("Deep", parent=ids["Eng"])
    ids["design"] = d.add_file("design.txt", parent=ids["Deep"])
    ids["private"] = d.add_file("private.txt")
    ids["handbook"] = d.add_file("handbook.txt")
    ids["roadmap"] = d.add_file("roadmap.txt")
    d.share(ids["roadmap"], "team@example.com", "reader", type="group")
    d.share(ids["Eng"], "eng@example.com", "reader", type="group")
    d.share(ids["private"], "dave@example.com", "writer")
    d.share_with_domain(ids["handbook"], "example.com", "reader")
    sales = d.add_shared_drive(
        "Sales", {"alice@example.com": "organizer", "erin@example.com": "reader"}
    )
    d.set_drive_member(sales, "sales@example.com", "writer", type="group")
    ids["deal"] = d.add_file("deal.txt", parent=sales, drive_id=sales)
    ids["Sales"] = sales
    return ids


async def _post(h: Harness, sync_id: str, path: str, body: dict[str, Any]) -> Any:
    response = await h.api.post(f"/api/permissions/{sync_id}/{path}", headers=h.auth(), json=body)
    assert 200 == response.status_code, response.text
    if path == "streamed-list-objects":
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [orjson.loads(line)["object"] for line in response.content.splitlines()]
    return response.json()


async def _readable(h: Harness, sync_id: str, ids: dict[str, str], names: list[str]) -> dict:
    """Post-search filtering: which of these files may each user read (one batch-check)."""
    checks = [
        {"object": record_id(sync_id, ids[name]), "user": f"user:{user}", "role": "can_read"}
        for user in USERS
        for name in names
    ]
    result = (await _post(h, sync_id, "batch-check", {"checks": checks}))["result"]
    by_id = {record_id(sync_id, ids[name]): name for name in names}
    allowed: dict[str, set[str]] = {user: set() for user in USERS}
    for check, answer in zip(checks, result, strict=True):
        assert "error" not in answer
        assert f"file:{check['object']}" == answer["request"]["object"]
        if answer["allowed"]:
            allowed[check["user"][5:]].add(by_id[check["object"]])
    return allowed


async def _listed(h: Harness, sync_id: str, ids: dict[str, str], user: str) -> set[str]:
    """Pre-search filtering: every file the user may read, streamed."""
    names = {record_id(sync_id, item): name for name, item in ids.items()}
    body = {"objectType": "file", "user": user, "role": "can_read"}
    return {names[o] for o in await _post(h, sync_id, "streamed-list-objects", body)}


FILES = ["spec", "design", "private", "handbook", "roadmap", "deal"]


async def test_answers_follow_sharing_changes_between_syncs(h):
    """Answers match the sandbox's sharing after the initial sync, and again after folder,
    file, shared-drive and group changes reach Syncline through incremental syncs."""
    ids = _drive(h)
    await h.connect(scopes=(DRIVE_SCOPE, DIRECTORY))
    sync = await h.enable()
    await h.settle()
    sid = sync["id"]

    assert {
        "bob@example.com": {"spec", "design", "handbook"},
        "carol@example.com": {"spec", "design", "handbook", "roadmap"},  # team@ is in eng@
        "dave@example.com": {"private", "handbook"},
        "erin@example.com": {"handbook", "deal"},  # a reader of the shared drive
        "frank@example.com": {"handbook", "deal"},  # through sales@, a writer of the drive
        "zed@elsewhere.org": set(),
    } == await _readable(h, sid, ids, FILES)
    assert {"spec", "design", "handbook", "roadmap"} == await _listed(
        h, sid, ids, "carol@example.com"
    )
    assert await _post(
        h,
        sid,
        "check",
        {
            "object": record_id(sid, ids["deal"]),
            "user": "frank@example.com",
            "role": "can_write",
        },
    ) == {"hasAccess": True}

    # Sharing changes upstream: the folder loses its group, one file gains a user, the drive
    # loses a member and its group gains one (re-read with the changed drive), and a group
    # gains a member (Drive reports no change for that).
    h.drive.unshare(ids["Eng"], "eng@example.com")
    h.drive.share(ids["design"], "bob@example.com", "reader")
    h.drive.set_drive_member(ids["Sales"], "erin@example.com", None)
    h.drive.set_group_members("sales@example.com", ["frank@example.com", "zed@elsewhere.org"])
    h.drive.set_group_members("team@example.com", ["carol@example.com", "dave@example.com"])
    await h.trigger(sid)
    await h.settle()

    assert {
        "bob@example.com": {"design", "handbook"},
        "carol@example.com": {"handbook", "roadmap"},
        "dave@example.com": {"private", "handbook"},  # team@ is re-read once it is stale
        "erin@example.com": {"handbook"},
        "frank@example.com": {"handbook", "deal"},
        "zed@elsewhere.org": {"deal"},
    } == await _readable(h, sid, ids, FILES)

    h.clock.advance(hours=2)  # memberships older than an hour are read again by any run
    await h.trigger(sid)
    await h.settle()
    assert {"private", "handbook", "roadmap"} == await _listed(h, sid, ids, "dave@example.com")


async def test_without_the_directory_scope_groups_stay_opaque_and_say_so(h):
    """Without a directory scope, nobody gets access through a group, folder and direct grants
    still work, and the event log's PERMISSION entry names the opaque groups."""
    ids = _drive(h)
    await h.connect()
    sync = await h.enable()
    await h.settle()
    sid = sync["id"]

    readable = await _readable(h, sid, ids, FILES)
    assert set() == readable["bob@example.com"] - {"handbook"}
    assert {"private", "handbook"} == readable["dave@example.com"]
    assert {"handbook"} == readable["frank@example.com"]

    response = await h.api.get(f"/api/syncs/{sid}/events", headers=h.auth())
    entries = [e for e in response.json()["data"] if e["syncType"] == "PERMISSION"]
    assert 1 == len(entries)
    summary = entries[0]["summary"]
    assert 3 == summary["opaqueGroups"]  # eng@, team@ (roadmap) and sales@ (the drive)
    assert "eng@example.com" in summary["message"]
    assert "PERMISSION_SYNC_COMPLETED" == entries[0]["syncEvent"]


async def test_list_users_and_expand_describe_a_shared_folder(h):
    """list-users names the nested group's members; expand shows the parent it inherits from."""
    ids = _drive(h)
    await h.connect(scopes=(DRIVE_SCOPE, DIRECTORY))
    sync = await h.enable()
    await h.settle()
    sid = sync["id"]
    spec = record_id(sid, ids["spec"])

    users = await _post(h, sid, "list-users", {"object": f"file:{spec}", "role": "can_read"})
    tree = await _post(h, sid, "expand", {"object": spec, "relation": "can_read"})

    assert ["alice@example.com", "bob@example.com", "carol@example.com"] == users["users"]
    nodes = tree["tree"]["root"]["union"]["nodes"]
    assert {"userset": f"file:{spec}#viewer"} == nodes[0]["leaf"]["computed"]
    parent = record_id(sid, ids["Eng"])
    assert [{"userset": f"folder:{parent}#can_read"}] == nodes[1]["leaf"]["tupleToUserset"][
        "computed"
    ]
