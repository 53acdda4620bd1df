"""The sandbox Box's user event stream over real HTTP: `stream_position=now`, the events each
change makes, the `changes` and `all` streams, repeated, duplicated and reordered delivery,
and the answer to a stream position older than the events kept."""

from __future__ import annotations

import json

import httpx

from syncline.sandbox import BackgroundServer
from syncline.sandbox.box import STREAM_BASE, BoxState, create_box_app
from tests.integration.sandbox.box.conftest import ALICE, BOB


def drain(client: httpx.Client, position: int, stream_type: str = "changes", limit: int = 100):
    """Every event from `position` until an empty chunk: (entries, final position)."""
    entries = []
    while True:
        body = client.get(
            "/2.0/events",
            params={"stream_type": stream_type, "stream_position": position, "limit": limit},
        ).json()
        entries += body["entries"]
        position = body["next_stream_position"]
        if body["chunk_size"] == 0:
            return entries, position


def now(client: httpx.Client) -> int:
    return client.get("/2.0/events", params={"stream_position": "now"}).json()[
        "next_stream_position"
    ]


def test_now_returns_only_a_position_above_2_53_as_a_json_integer(box, alice):
    """`stream_position=now` answers no entries and `next_stream_position` as a JSON integer
    too big for a double, so a client parsing it as a float loses it."""
    box.add_file("a.txt", b"x", owner=ALICE)

    response = alice.get("/2.0/events", params={"stream_position": "now"})
    body = response.json()

    assert (0, []) == (body["chunk_size"], body["entries"])
    assert isinstance(body["next_stream_position"], int)
    assert body["next_stream_position"] > 2**53
    assert float(body["next_stream_position"]) != body["next_stream_position"]
    assert f'"next_stream_position":{body["next_stream_position"]}' in response.text


def test_events_after_now_are_the_changes_made_since_and_then_an_empty_chunk(box, alice):
    """From a `now` position, the next calls return exactly the events of later changes,
    each `{type: event, event_id, event_type, created_at, source}` with the item as it then
    was, and an empty chunk once caught up."""
    box.add_file("before.txt", b"x", owner=ALICE)
    start = now(alice)
    file = box.add_file("a.txt", b"hello", owner=ALICE)
    folder = box.add_folder("New", owner=ALICE)

    entries, end = drain(alice, start)

    assert [("ITEM_UPLOAD", file), ("ITEM_CREATE", folder)] == [
        (e["event_type"], e["source"]["id"]) for e in entries
    ]
    upload = entries[0]
    assert "event" == upload["type"]
    assert upload["event_id"]
    assert upload["created_at"]
    assert ("file", "a.txt", 5) == (
        upload["source"]["type"],
        upload["source"]["name"],
        upload["source"]["size"],
    )
    assert end == now(alice)


def test_trash_restore_move_rename_copy_each_make_their_event(box, alice):
    """Trash, restore, move, rename, copy and a new version make `ITEM_TRASH` (source
    `item_status: trashed`), `ITEM_UNDELETE_VIA_TRASH`, `ITEM_MOVE` (new parent), `ITEM_RENAME`
    (new name), `ITEM_COPY` (the new item as source) and `ITEM_UPLOAD`; `sequence_id` grows."""
    target = box.add_folder("Target", owner=ALICE)
    file = box.add_file("a.txt", b"x", owner=ALICE)
    start = now(alice)

    box.trash(file)
    box.restore(file)
    box.move(file, target)
    box.rename(file, "b.txt")
    copy = box.copy(file, "0", "b copy.txt")
    box.upload_version(file, b"y")
    entries, _ = drain(alice, start)

    kinds = [(e["event_type"], e["source"]["id"]) for e in entries]
    assert [
        ("ITEM_TRASH", file),
        ("ITEM_UNDELETE_VIA_TRASH", file),
        ("ITEM_MOVE", file),
        ("ITEM_RENAME", file),
        ("ITEM_COPY", copy),
        ("ITEM_UPLOAD", file),
    ] == kinds
    assert ["trashed", "active"] == [e["source"]["item_status"] for e in entries[:2]]
    assert target == entries[2]["source"]["parent"]["id"]
    assert "b.txt" == entries[3]["source"]["name"]
    sequences = [int(e["source"]["sequence_id"]) for e in entries if e["source"]["id"] == file]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)


def test_trashing_a_folder_makes_one_event_and_hides_its_subtree(box, alice):
    """Trashing a folder emits a single `ITEM_TRASH` for the folder, none for its children,
    though the children are gone from listings and answer 404 `trashed`."""
    folder = box.add_folder("Old", owner=ALICE)
    child = box.add_file("inside.txt", b"x", folder, owner=ALICE)
    start = now(alice)

    box.trash(folder)
    entries, _ = drain(alice, start)

    assert [("ITEM_TRASH", folder)] == [(e["event_type"], e["source"]["id"]) for e in entries]
    assert "trashed" == alice.get(f"/2.0/files/{child}").json()["code"]
    assert folder not in [e["id"] for e in alice.get("/2.0/folders/0/items").json()["entries"]]


def test_shared_link_events_are_in_the_all_stream_only(box, alice):
    """Creating, changing and removing a shared link shows as `ITEM_SHARED_CREATE`,
    `ITEM_SHARED_UPDATE` and `ITEM_SHARED_UNSHARE` in `all`, and not at all in `changes`."""
    file = box.add_file("a.txt", b"x", owner=ALICE)
    start = now(alice)

    box.set_shared_link(file, "open")
    box.set_shared_link(file, "company")
    box.set_shared_link(file, None)
    changes, _ = drain(alice, start, "changes")
    everything, _ = drain(alice, start, "all")

    assert [] == changes
    assert ["ITEM_SHARED_CREATE", "ITEM_SHARED_UPDATE", "ITEM_SHARED_UNSHARE"] == [
        e["event_type"] for e in everything
    ]
    assert "company" == everything[1]["source"]["shared_link"]["access"]


def test_collaboration_events_reach_the_owner_and_the_new_collaborator(box, alice, bob):
    """Sharing a folder with Bob puts `COLLAB_ADD_COLLABORATOR` on both users' `changes`
    streams; removing him puts `COLLAB_REMOVE_COLLABORATOR` on his too."""
    folder = box.add_folder("Team", owner=ALICE)
    alice_start, bob_start = now(alice), now(bob)

    collaboration = box.collaborate(folder, user=BOB, role="editor")
    box.remove_collaboration(collaboration)
    alice_events, _ = drain(alice, alice_start)
    bob_events, _ = drain(bob, bob_start)

    expected = ["COLLAB_ADD_COLLABORATOR", "COLLAB_REMOVE_COLLABORATOR"]
    assert expected == [e["event_type"] for e in alice_events]
    assert expected == [e["event_type"] for e in bob_events]


def test_events_repeat_duplicate_and_arrive_out_of_order_when_told(box, alice):
    """With delivery garbled through the control endpoint (overlap, duplicates, shuffling,
    short chunks), the chunks hold repeats and disorder, yet de-duplicating by `event_id` and
    ordering by the source's `sequence_id` recovers exactly the changes made."""
    start = now(alice)
    file = box.add_file("a.txt", b"0", owner=ALICE)
    for n in range(1, 12):
        box.upload_version(file, str(n).encode())
    answer = alice.put(
        "/_box/events/delivery",
        content=json.dumps(
            {"overlap": 2, "duplicate_rate": 0.5, "shuffle": True, "short_chunks": True, "seed": 7}
        ),
    )

    entries, _ = drain(alice, start, limit=4)

    ids = [e["event_id"] for e in entries]
    unique = {e["event_id"]: e for e in entries}
    assert 200 == answer.status_code
    assert answer.json()["overlap"] == 2
    assert 12 == len(unique)
    assert len(ids) > len(unique)
    sequences = [int(e["source"]["sequence_id"]) for e in entries]
    assert sequences != sorted(sequences)
    latest = max(unique.values(), key=lambda e: int(e["source"]["sequence_id"]))
    assert 11 == int(latest["source"]["sequence_id"])


def test_a_position_older_than_the_events_kept_is_refused_as_stale(box, alice):
    """Once the events before a position have aged out, that position gets 400 in Box's
    invalid-parameter shape naming `stream_position` (the client must list everything again);
    `stream_position=now` then gives a position that works."""
    position = now(alice)
    box.add_file("a.txt", b"x", owner=ALICE)
    expired = alice.post("/_box/events/expire")

    stale = alice.get("/2.0/events", params={"stream_position": position})
    fresh = alice.get("/2.0/events", params={"stream_position": now(alice)})

    body = stale.json()
    assert 200 == expired.status_code
    assert (400, "error", "bad_request") == (stale.status_code, body["type"], body["code"])
    assert "stream_position" == body["context_info"]["errors"][0]["name"]
    assert 200 == fresh.status_code


def test_retention_window_drops_old_events():
    """With a retention window, events older than it are dropped: a position from before
    them is stale, and a full read (no position) starts at the oldest event kept."""
    clock = [1_000_000.0]
    state = BoxState(clock=lambda: clock[0])
    state.retention_seconds = 100.0
    access, _ = state.issue_tokens(ALICE)

    with (
        BackgroundServer(create_box_app(state)) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {access}"}) as http,
    ):
        early = now(http)
        state.add_file("old.txt", b"x", owner=ALICE)
        clock[0] += 500
        new = state.add_file("new.txt", b"x", owner=ALICE)

        stale = http.get("/2.0/events", params={"stream_position": early})
        everything = http.get("/2.0/events").json()

    assert 400 == stale.status_code
    assert [new] == [e["source"]["id"] for e in everything["entries"]]


def test_the_stale_position_fault_refuses_a_position_once(box, alice):
    """The kit's `stale_stream_position` fault answers the stale error to the next request
    that carries a position (not to `now`), then the stream works again."""
    position = now(alice)
    box.inject("stale_stream_position")

    untouched = alice.get("/2.0/events", params={"stream_position": "now"})
    refused = alice.get("/2.0/events", params={"stream_position": position})
    again = alice.get("/2.0/events", params={"stream_position": position})

    assert (200, 400, 200) == (untouched.status_code, refused.status_code, again.status_code)
    assert position >= STREAM_BASE
