"""The sandbox Box's folder listings and single items over real HTTP: marker and offset paging,
`fields`, the order of folders, files and web links, and the shapes of files and folders."""

from __future__ import annotations

import re

from tests.integration.sandbox.box.conftest import ALICE, BOB

OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_marker_paging_visits_every_item_once_and_the_last_page_has_a_null_marker(box, alice):
    """With `usemarker=true`, following `next_marker` yields each child exactly once; pages
    carry `limit` and no `total_count`; the last page's `next_marker` is null."""
    folder = box.add_folder("Big", owner=ALICE)
    ids = {box.add_file(f"f{n:03}.txt", b"x", folder, owner=ALICE) for n in range(25)}
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        params = {"usemarker": "true", "limit": 10, **({"marker": marker} if marker else {})}
        body = alice.get(f"/2.0/folders/{folder}/items", params=params).json()
        pages += 1
        assert 10 == body["limit"]
        assert "total_count" not in body
        seen += [e["id"] for e in body["entries"]]
        marker = body["next_marker"]
        if marker is None:
            break

    assert 3 == pages
    assert ids == set(seen)
    assert len(seen) == len(set(seen))


def test_a_marker_resumes_after_its_item_even_when_items_change_between_pages(box, alice):
    """A marker names a position by key, not by count: deleting an item of the first page
    before asking for the second neither skips nor repeats items."""
    folder = box.add_folder("Shifting", owner=ALICE)
    ids = [box.add_file(f"f{n}.txt", b"x", folder, owner=ALICE) for n in range(6)]
    first = alice.get(
        f"/2.0/folders/{folder}/items", params={"usemarker": "true", "limit": 3}
    ).json()
    box.trash(ids[0])

    second = alice.get(
        f"/2.0/folders/{folder}/items",
        params={"usemarker": "true", "limit": 3, "marker": first["next_marker"]},
    ).json()

    assert ids[:3] == [e["id"] for e in first["entries"]]
    assert ids[3:] == [e["id"] for e in second["entries"]]
    assert second["next_marker"] is None


def test_offset_paging_reports_total_count_and_cuts_limit_to_1000(box, alice):
    """Without `usemarker`, a page carries `total_count`, `offset`, `limit` and `order`; a
    `limit` above the maximum is cut to 1000, and an offset beyond 9999 is refused."""
    for n in range(3):
        box.add_file(f"top{n}.txt", b"x", owner=ALICE)

    body = alice.get("/2.0/folders/0/items", params={"limit": 5000, "offset": 1}).json()
    refused = alice.get("/2.0/folders/0/items", params={"offset": 10000})

    assert (3, 1, 1000, 2) == (
        body["total_count"],
        body["offset"],
        body["limit"],
        len(body["entries"]),
    )
    assert isinstance(body["order"], list)
    assert 400 == refused.status_code
    assert "error" == refused.json()["type"]


def test_fields_returns_the_base_fields_and_only_those_asked_for(box, alice):
    """Without `fields`, entries are mini (`sha1`, `file_version`, no `size`); with `fields`
    they carry `type`, `id`, `etag` and exactly the fields named, unknown names ignored."""
    folder = box.add_folder("F", owner=ALICE)
    box.add_file("a.txt", b"hello", folder, owner=ALICE)

    mini = alice.get(f"/2.0/folders/{folder}/items").json()["entries"][0]
    chosen = alice.get(
        f"/2.0/folders/{folder}/items",
        params={"fields": "name,size,sha1,modified_at,item_status,no_such_field"},
    ).json()["entries"][0]

    assert {"type", "id", "file_version", "sequence_id", "etag", "sha1", "name"} == set(mini)
    assert {"type", "id", "etag", "name", "size", "sha1", "modified_at", "item_status"} == set(
        chosen
    )
    assert (5, "active") == (chosen["size"], chosen["item_status"])


def test_folders_come_before_files_and_files_before_web_links(box, alice):
    """A listing is ordered by type first (folders, files, web links), and web links appear
    with `type: web_link` and their `url`."""
    parent = box.add_folder("Mixed", owner=ALICE)
    link = box.add_web_link("Handbook", "https://example.com/handbook", parent, owner=ALICE)
    file = box.add_file("a.txt", b"x", parent, owner=ALICE)
    sub = box.add_folder("Sub", parent, owner=ALICE)

    entries = alice.get(f"/2.0/folders/{parent}/items").json()["entries"]

    assert [(sub, "folder"), (file, "file"), (link, "web_link")] == [
        (e["id"], e["type"]) for e in entries
    ]
    assert "https://example.com/handbook" == entries[2]["url"]


def test_a_file_carries_its_hash_size_path_and_string_versions(box, alice):
    """`GET /files/{id}` has `sha1` (of the content), integer `size`, `path_collection` from
    "All Files" down, `parent`, `item_status`, string `etag`/`sequence_id` that grow on change,
    and times with a zone offset; `If-None-Match` with the current etag answers 304."""
    folder = box.add_folder("Docs", owner=ALICE)
    file = box.add_file("a.txt", b"hello", folder, owner=ALICE)
    before = alice.get(f"/2.0/files/{file}").json()
    box.upload_version(file, b"hello again")

    after = alice.get(f"/2.0/files/{file}").json()
    unchanged = alice.get(f"/2.0/files/{file}", headers={"If-None-Match": after["etag"]})

    assert "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" == before["sha1"]
    assert 11 == after["size"]
    assert ["0", folder] == [e["id"] for e in after["path_collection"]["entries"]]
    assert (folder, "active") == (after["parent"]["id"], after["item_status"])
    assert isinstance(after["sequence_id"], str)
    assert int(after["etag"]) > int(before["etag"])
    assert after["file_version"]["id"] != before["file_version"]["id"]
    assert OFFSET_TIME.match(after["content_modified_at"])
    assert 304 == unchanged.status_code


def test_unseen_missing_and_trashed_items_answer_box_errors(box, alice, bob):
    """Another user's private file is 404 `not_found` (as if absent), a trashed one 404
    `trashed`, and a malformed id 405, each in Box's error body with a `request_id`."""
    private = box.add_file("secret.txt", b"x", owner=ALICE)
    trashed = box.add_file("old.txt", b"x", owner=ALICE)
    box.trash(trashed)

    hidden = bob.get(f"/2.0/files/{private}")
    gone = alice.get(f"/2.0/files/{trashed}")
    malformed = alice.get("/2.0/files/abc")

    assert (404, "not_found") == (hidden.status_code, hidden.json()["code"])
    assert (404, "trashed") == (gone.status_code, gone.json()["code"])
    assert 405 == malformed.status_code
    for answer in (hidden, gone, malformed):
        body = answer.json()
        assert ("error", answer.status_code) == (body["type"], body["status"])
        assert body["request_id"]
        assert body["message"]


def test_a_collaborator_sees_the_shared_folder_in_their_root_with_a_truncated_path(box, bob):
    """A folder shared with Bob lists in his "All Files", and items inside it show a path
    from "All Files" through the shared folder, not through Alice's folders above it."""
    outer = box.add_folder("Private", owner=ALICE)
    shared = box.add_folder("Shared", outer, owner=ALICE)
    file = box.add_file("plan.txt", b"x", shared, owner=ALICE)
    box.collaborate(shared, user=BOB, role="editor")

    root = bob.get("/2.0/folders/0/items").json()["entries"]
    path = bob.get(f"/2.0/files/{file}").json()["path_collection"]["entries"]

    assert [shared] == [e["id"] for e in root]
    assert ["0", shared] == [e["id"] for e in path]
    assert 404 == bob.get(f"/2.0/folders/{outer}").status_code
