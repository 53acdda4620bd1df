"""The sandbox Dropbox's listing and change cursor over real HTTP: recursive paging, changes
seen through a cursor taken before the listing, deleted entries without ids, `reset`, and the
content hash."""

from __future__ import annotations

import hashlib

from syncline.sandbox.dropbox import content_hash
from tests.integration.sandbox.dropbox.conftest import ALICE


def _drain(http, first):
    """Every entry from a first page and its continues; the last cursor."""
    body = first
    entries = list(body["entries"])
    while body["has_more"]:
        body = http.post("/2/files/list_folder/continue", json={"cursor": body["cursor"]}).json()
        entries += body["entries"]
    return entries, body["cursor"]


def test_recursive_listing_pages_by_limit_and_lists_every_item_once_parents_first(dropbox, alice):
    """`list_folder` with `recursive` and `limit` pages through `continue` until `has_more`
    is false, each item exactly once, a folder before its children, files with Dropbox's
    fields."""
    top = dropbox.add_folder("Reports", owner=ALICE)
    inner = dropbox.add_folder("2025", top, owner=ALICE)
    for n in range(7):
        dropbox.add_file(f"r{n}.txt", b"x" * n, inner, owner=ALICE)
    dropbox.add_file("root.txt", b"hello", owner=ALICE)

    first = alice.post(
        "/2/files/list_folder", json={"path": "", "recursive": True, "limit": 3}
    ).json()
    entries, _ = _drain(alice, first)

    paths = [e["path_lower"] for e in entries]
    assert first["has_more"] is True
    assert len(first["entries"]) == 3
    assert len(paths) == len(set(paths)) == 10
    assert (
        paths.index("/reports") < paths.index("/reports/2025") < paths.index("/reports/2025/r0.txt")
    )
    file = next(e for e in entries if e["path_lower"] == "/root.txt")
    assert file[".tag"] == "file"
    assert file["id"].startswith("id:")
    assert {"client_modified", "server_modified", "rev", "size", "content_hash"} <= set(file)
    assert file["content_hash"] == content_hash(b"hello")
    assert file["is_downloadable"] is True


def test_non_recursive_listing_of_a_folder_by_id_shows_only_its_direct_children(dropbox, alice):
    """`path` may be an `id:`; without `recursive` only the folder's direct children come."""
    top = dropbox.add_folder("Top", owner=ALICE)
    sub = dropbox.add_folder("Sub", top, owner=ALICE)
    dropbox.add_file("a.txt", b"a", top, owner=ALICE)
    dropbox.add_file("deep.txt", b"d", sub, owner=ALICE)

    body = alice.post("/2/files/list_folder", json={"path": top}).json()

    assert sorted(e["path_display"] for e in body["entries"]) == ["/Top/Sub", "/Top/a.txt"]


def test_a_cursor_taken_before_changes_sees_creates_edits_moves_and_deletes(dropbox, alice):
    """A `get_latest_cursor` cursor replays later changes through `continue`: a new file, an
    edit (new rev and hash), a rename as `deleted` at the old path plus the same id at the new
    path, and a delete as a `deleted` entry that has a path and no id."""
    keep = dropbox.add_file("keep.txt", b"v1", owner=ALICE)
    gone = dropbox.add_file("gone.txt", b"bye", owner=ALICE)
    cursor = alice.post(
        "/2/files/list_folder/get_latest_cursor", json={"path": "", "recursive": True}
    ).json()["cursor"]

    new = dropbox.add_file("new.txt", b"n", owner=ALICE)
    dropbox.edit(keep, b"v2")
    dropbox.move(new, name="renamed.txt")
    dropbox.delete(gone)
    body = alice.post("/2/files/list_folder/continue", json={"cursor": cursor}).json()

    tags = [(e[".tag"], e["path_lower"]) for e in body["entries"]]
    assert ("file", "/new.txt") in tags
    assert ("deleted", "/new.txt") in tags
    assert tags[-1] == ("deleted", "/gone.txt")
    renamed = next(e for e in body["entries"] if e["path_lower"] == "/renamed.txt")
    assert renamed["id"] == new
    edited = [e for e in body["entries"] if e["path_lower"] == "/keep.txt"][-1]
    assert edited["content_hash"] == content_hash(b"v2")
    for deleted in (e for e in body["entries"] if e[".tag"] == "deleted"):
        assert "id" not in deleted
        assert deleted["name"]
        assert deleted["path_display"]
    again = alice.post("/2/files/list_folder/continue", json={"cursor": body["cursor"]}).json()
    assert again == {"entries": [], "cursor": again["cursor"], "has_more": False}


def test_changes_during_a_listing_come_through_its_final_cursor(dropbox, alice):
    """The listing's last cursor replays from when the listing started, so an item deleted
    between two pages is still reported deleted afterwards."""
    ids = [dropbox.add_file(f"f{n}.txt", b"x", owner=ALICE) for n in range(4)]
    first = alice.post("/2/files/list_folder", json={"path": "", "limit": 2}).json()
    dropbox.delete(ids[3])
    _, cursor = _drain(alice, first)

    changes = alice.post("/2/files/list_folder/continue", json={"cursor": cursor}).json()

    assert {"deleted"} == {e[".tag"] for e in changes["entries"]}
    assert ["/f3.txt"] == [e["path_lower"] for e in changes["entries"]]


def test_deleting_a_folder_reports_one_deleted_entry_and_include_deleted_lists_tombstones(
    dropbox, alice
):
    """Deleting a folder gives one `deleted` entry (children implied); a later listing with
    `include_deleted` shows what used to exist, still without ids."""
    folder = dropbox.add_folder("Old", owner=ALICE)
    dropbox.add_file("a.txt", b"a", folder, owner=ALICE)
    cursor = alice.post(
        "/2/files/list_folder/get_latest_cursor", json={"path": "", "recursive": True}
    ).json()["cursor"]
    dropbox.delete(folder)

    changes = alice.post("/2/files/list_folder/continue", json={"cursor": cursor}).json()
    listing = alice.post(
        "/2/files/list_folder", json={"path": "", "recursive": True, "include_deleted": True}
    ).json()

    assert [("deleted", "/old")] == [(e[".tag"], e["path_lower"]) for e in changes["entries"]]
    assert {"/old", "/old/a.txt"} == {e["path_lower"] for e in listing["entries"]}
    assert all("id" not in e for e in listing["entries"])


def test_an_expired_cursor_answers_409_reset(dropbox, dropbox_server, alice):
    """After the reset control (and with the `reset` fault), `continue` answers 409 with
    `error_summary` `reset/...` and `error.{.tag: reset}`; a new listing works again."""
    dropbox.add_file("a.txt", b"a", owner=ALICE)
    cursor = alice.post("/2/files/list_folder", json={"path": ""}).json()["cursor"]
    alice.post("/_dropbox/cursors/reset")

    reset = alice.post("/2/files/list_folder/continue", json={"cursor": cursor})
    fresh = alice.post("/2/files/list_folder", json={"path": ""}).json()["cursor"]
    dropbox.faults.inject("reset")
    faulted = alice.post("/2/files/list_folder/continue", json={"cursor": fresh})

    assert 409 == reset.status_code == faulted.status_code
    assert reset.json()["error"] == {".tag": "reset"}
    assert reset.json()["error_summary"].startswith("reset/")
    assert faulted.json()["error"] == {".tag": "reset"}


def test_malformed_input_is_a_plain_text_400_and_a_missing_path_a_409(alice):
    """A `path` of "/" (Dropbox wants "" for the root) is a plain-text 400; an unknown path
    is 409 `path/not_found`."""
    bad = alice.post("/2/files/list_folder", json={"path": "nope"})
    missing = alice.post("/2/files/list_folder", json={"path": "/nowhere"})

    assert 400 == bad.status_code
    assert bad.headers["content-type"].startswith("text/plain")
    assert 'Error in call to API function "files/list_folder"' in bad.text
    assert 409 == missing.status_code
    assert missing.json()["error"] == {".tag": "path", "path": {".tag": "not_found"}}
    assert missing.json()["error_summary"].startswith("path/not_found/")


def test_get_metadata_by_id_and_path(dropbox, alice):
    """`files/get_metadata` answers the same entry by path and by id; a deleted path answers
    `deleted` only with `include_deleted`."""
    file_id = dropbox.add_file("Doc.txt", b"d", owner=ALICE)
    by_path = alice.post("/2/files/get_metadata", json={"path": "/doc.TXT"}).json()
    by_id = alice.post("/2/files/get_metadata", json={"path": file_id}).json()
    dropbox.delete(file_id)
    gone = alice.post("/2/files/get_metadata", json={"path": "/Doc.txt"})
    tomb = alice.post(
        "/2/files/get_metadata", json={"path": "/Doc.txt", "include_deleted": True}
    ).json()

    assert by_path == by_id
    assert by_path["path_display"] == "/Doc.txt"
    assert 409 == gone.status_code
    assert tomb[".tag"] == "deleted"
    assert "id" not in tomb


def test_content_hash_matches_dropbox_algorithm_on_known_values():
    """`content_hash` is SHA-256 over the concatenated SHA-256 of each 4 MiB block: the empty
    file gives the spec's example `e3b0...b855` (SHA-256 of nothing), and independent
    published values (rdrop2's tests) match for one short string, one full block, a block
    plus one byte, and 3.5 blocks."""
    block = 4 * 1024 * 1024
    pattern = bytes(range(256)) * (block // 256)
    assert content_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert content_hash(b"hello rdrop2") == (
        "1aa2b7623dfff520c4abdc1227d10bc4e229b74005b66b3458345830e556f4de"
    )
    assert content_hash(pattern) == (
        "894bbb52d1212d6bcbe9967f1a2169138c4d4af0c8dfbaeae86cd1d3f0c03faf"
    )
    assert content_hash(pattern + b"\xff") == (
        "9149387a91f71c7c2149b8427d15526b71c1a38d6c6f999ad71486a2ce788d57"
    )
    three_and_half = (pattern * 4)[: int(3.5 * block)]
    assert content_hash(three_and_half) == (
        "f61d3ae93fa4f7646d37949fc0885141bf682faa9a130896b93459c650335d0f"
    )
    assert content_hash(b"abc") != hashlib.sha256(b"abc").hexdigest()


def test_a_listing_of_thousands_of_items_serves_each_once_in_path_order_over_many_pages(
    dropbox, alice
):
    """A recursive listing of 3,040 items (40 folders of 75 files, mixed case, some names with
    characters that sort before "/") with `limit` 97 comes in full pages until the last, with
    `has_more` false only there, every item exactly once, ordered by lowercased path (so each
    folder before its contents), and the last cursor then has no changes to replay."""
    expected = set()
    for f in range(40):
        name = f"Folder {f:02d}" + (" (old)" if f % 7 == 0 else "")
        folder = dropbox.add_folder(name, owner=ALICE)
        expected.add(f"/{name}".lower())
        for n in range(75):
            file_name = f"{'Doc' if n % 2 else 'doc'}-{n:03d}.txt"
            dropbox.add_file(file_name, b"x", folder, owner=ALICE)
            expected.add(f"/{name}/{file_name}".lower())

    first = alice.post(
        "/2/files/list_folder", json={"path": "", "recursive": True, "limit": 97}
    ).json()
    pages = [first]
    while pages[-1]["has_more"]:
        cursor = pages[-1]["cursor"]
        pages.append(alice.post("/2/files/list_folder/continue", json={"cursor": cursor}).json())
    after = alice.post("/2/files/list_folder/continue", json={"cursor": pages[-1]["cursor"]})

    paths = [e["path_lower"] for page in pages for e in page["entries"]]
    assert len(pages) == -(-3040 // 97) == 32
    assert all(len(page["entries"]) == 97 for page in pages[:-1])
    assert [page["has_more"] for page in pages] == [True] * 31 + [False]
    assert len(paths) == len(set(paths)) == 3040
    assert set(paths) == expected
    assert paths == sorted(paths)
    for path in paths:
        parent = path.rsplit("/", 1)[0]
        assert not parent or paths.index(parent) < paths.index(path)
    assert after.json()["entries"] == []
    assert after.json()["has_more"] is False


def test_each_page_shows_the_dropbox_as_it_is_then_after_the_last_path_served(dropbox, alice):
    """Changes between two pages of a listing show in the pages still to come: a file created
    after the last path served is listed, one deleted (or removed from the state directly, as
    the benchmark's `vanish` does) before it was served is not, one renamed further on is
    listed once at its new path, one renamed to before the last path served is not listed at
    all (only the last cursor's changes report it), and an edit shows its new content; nothing
    already served comes again."""
    ids = {n: dropbox.add_file(f"a{n:02d}.txt", b"v1", owner=ALICE) for n in range(20)}
    first = alice.post("/2/files/list_folder", json={"path": "", "limit": 5}).json()
    dropbox.add_file("z-new.txt", b"n", owner=ALICE)
    dropbox.delete(ids[10])
    dropbox.move(ids[12], name="b12.txt")
    dropbox.move(ids[15], name="0-first.txt")
    dropbox.edit(ids[18], b"v2")
    with dropbox.lock:
        del dropbox.items[ids[17]]
    entries, cursor = _drain(alice, first)
    changes, _ = _drain(
        alice, alice.post("/2/files/list_folder/continue", json={"cursor": cursor}).json()
    )

    paths = [e["path_lower"] for e in entries]
    kept = [n for n in range(20) if n not in (10, 12, 15, 17)]
    assert paths == [f"/a{n:02d}.txt" for n in kept] + ["/b12.txt", "/z-new.txt"]
    edited = next(e for e in entries if e["path_lower"] == "/a18.txt")
    assert edited["content_hash"] == content_hash(b"v2")
    assert ("file", "/0-first.txt") in [(e[".tag"], e["path_lower"]) for e in changes]


def test_include_deleted_pages_deleted_entries_in_path_order_with_the_items(dropbox, alice):
    """With `include_deleted` and a small `limit`, `deleted` entries (no `id`) come in path
    order among the live items, across pages, each once; a path deleted and then created
    again is listed once, as the live item."""
    ids = {n: dropbox.add_file(f"f{n:02d}.txt", b"x", owner=ALICE) for n in range(10)}
    dropbox.delete(ids[3])
    dropbox.delete(ids[7])
    dropbox.delete(ids[8])
    again = dropbox.add_file("f08.txt", b"back", owner=ALICE)

    first = alice.post(
        "/2/files/list_folder", json={"path": "", "include_deleted": True, "limit": 3}
    ).json()
    entries, _ = _drain(alice, first)

    assert [(e[".tag"], e["path_lower"]) for e in entries] == [
        ("deleted" if n in (3, 7) else "file", f"/f{n:02d}.txt") for n in range(10)
    ]
    assert all("id" not in e for e in entries if e[".tag"] == "deleted")
    assert next(e for e in entries if e["path_lower"] == "/f08.txt")["id"] == again
