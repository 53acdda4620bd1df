"""changes.getStartPageToken and changes.list on the fake Drive."""

import pytest

FULL = (
    "nextPageToken,newStartPageToken,changes(changeType,removed,fileId,driveId,file(name,trashed))"
)


async def start_token(client, **params):
    response = await client.get("/drive/v3/changes/startPageToken", params=params)
    return response.json()["startPageToken"]


async def read_all(client, token, **params):
    """Follow the feed to its end; returns (changes, newStartPageToken, pages)."""
    changes, pages = [], 0
    while True:
        response = await client.get(
            "/drive/v3/changes", params={"pageToken": token, "fields": FULL, **params}
        )
        assert 200 == response.status_code, response.text
        body = response.json()
        changes += body["changes"]
        pages += 1
        if "newStartPageToken" in body:
            assert "nextPageToken" not in body
            return changes, body["newStartPageToken"], pages
        token = body["nextPageToken"]


async def test_start_page_token_shape(alice):
    """getStartPageToken answers kind and a numeric token string."""
    body = (await alice.get("/drive/v3/changes/startPageToken")).json()

    assert "drive#startPageToken" == body["kind"]
    assert body["startPageToken"].isdigit()


async def test_changes_since_token_oldest_first(state, alice):
    """Only changes after the token are listed, oldest first, ending with newStartPageToken."""
    state.add_file("before")
    token = await start_token(alice)
    a = state.add_file("a")
    b = state.add_file("b")

    changes, new_token, _ = await read_all(alice, token)
    again, _, _ = await read_all(alice, new_token)

    assert [a, b] == [c["fileId"] for c in changes]
    assert [] == again


async def test_default_change_fields(state, alice):
    """Without fields a change has kind/changeType/time/removed/fileId and a 4-field file."""
    token = await start_token(alice)
    fid = state.add_file("a")

    body = (await alice.get("/drive/v3/changes", params={"pageToken": token})).json()

    expected = {
        "kind": "drive#change",
        "changeType": "file",
        "time": "2024-05-02T10:11:12.000Z",
        "removed": False,
        "fileId": fid,
        "file": {"kind": "drive#file", "id": fid, "name": "a", "mimeType": "text/plain"},
    }
    assert ("drive#changeList", [expected]) == (body["kind"], body["changes"])
    assert "newStartPageToken" in body


async def test_fields_without_tokens_lose_them(state, alice):
    """`fields=changes(fileId)` drops both tokens, as the real API does."""
    token = await start_token(alice)
    state.add_file("a")

    body = (
        await alice.get(
            "/drive/v3/changes", params={"pageToken": token, "fields": "changes(fileId)"}
        )
    ).json()

    assert ["changes"] == list(body)


async def test_paging_uses_next_page_token(state, alice):
    """More changes than pageSize come in pages carrying nextPageToken."""
    token = await start_token(alice)
    ids = [state.add_file(f"f{i}") for i in range(5)]

    changes, _, pages = await read_all(alice, token, pageSize=2)

    assert ids == [c["fileId"] for c in changes]
    assert 3 == pages


async def test_a_file_changed_several_times_appears_once_with_latest_state(state, alice):
    """Repeated edits collapse into one change, at the latest position, with the latest state."""
    token = await start_token(alice)
    fid = state.add_file("v1")
    other = state.add_file("other")
    state.update_file(fid, name="v2")

    changes, _, _ = await read_all(alice, token)

    assert [other, fid] == [c["fileId"] for c in changes]
    assert "v2" == changes[-1]["file"]["name"]


async def test_trash_is_not_removal(state, alice):
    """A trashed file comes back removed:false with file.trashed:true."""
    fid = state.add_file("a")
    token = await start_token(alice)
    state.trash(fid)

    changes, _, _ = await read_all(alice, token)

    assert [
        {
            "changeType": "file",
            "removed": False,
            "fileId": fid,
            "file": {"name": "a", "trashed": True},
        }
    ] == changes


async def test_trashing_a_folder_trashes_its_contents(state, alice):
    """Descendants of a trashed folder are reported trashed too; untrash restores them."""
    folder = state.add_folder("F")
    child = state.add_file("c", parent=folder)
    token = await start_token(alice)
    state.trash(folder)

    changes, token, _ = await read_all(alice, token)
    state.untrash(folder)
    restored, _, _ = await read_all(alice, token)

    assert {folder: True, child: True} == {c["fileId"]: c["file"]["trashed"] for c in changes}
    assert {folder: False, child: False} == {c["fileId"]: c["file"]["trashed"] for c in restored}


async def test_delete_is_removed_without_file(state, alice):
    """A permanent delete is removed:true and has no file object."""
    fid = state.add_file("a")
    token = await start_token(alice)
    state.delete(fid)

    changes, _, _ = await read_all(alice, token)

    assert [{"changeType": "file", "removed": True, "fileId": fid}] == changes


async def test_include_removed_false_hides_removals(state, alice):
    """includeRemoved=false leaves removed entries out."""
    fid = state.add_file("a")
    token = await start_token(alice)
    state.delete(fid)

    changes, _, _ = await read_all(alice, token, includeRemoved="false")

    assert [] == changes


async def test_silent_delete_leaves_no_trace(state, alice):
    """silently_delete produces no change, even for a token older than the file."""
    token = await start_token(alice)
    fid = state.add_file("a")
    state.silently_delete(fid)

    changes, _, _ = await read_all(alice, token)

    assert [] == changes
    assert 404 == (await alice.get(f"/drive/v3/files/{fid}")).status_code


async def test_sharing_and_unsharing_reach_the_other_user(state, alice, bob_headers):
    """A share appears in the grantee's feed; unsharing shows them removed:true, while the
    owner sees ordinary changes."""
    fid = state.add_file("doc")
    alice_token = await start_token(alice)
    bob_start = (await alice.get("/drive/v3/changes/startPageToken", headers=bob_headers)).json()[
        "startPageToken"
    ]
    state.share(fid, "bob@example.com")

    shared = (
        await alice.get(
            "/drive/v3/changes",
            params={"pageToken": bob_start, "fields": FULL},
            headers=bob_headers,
        )
    ).json()
    state.unshare(fid, "bob@example.com")
    unshared = (
        await alice.get(
            "/drive/v3/changes",
            params={"pageToken": shared["newStartPageToken"], "fields": FULL},
            headers=bob_headers,
        )
    ).json()
    owner, _, _ = await read_all(alice, alice_token)

    assert [(fid, False)] == [(c["fileId"], c["removed"]) for c in shared["changes"]]
    assert [(fid, True)] == [(c["fileId"], c["removed"]) for c in unshared["changes"]]
    assert [(fid, False)] == [(c["fileId"], c["removed"]) for c in owner]


async def test_unshare_is_seen_even_after_later_edits(state, alice, bob_headers):
    """An owner's edit after the unshare does not hide the removal from the former reader."""
    fid = state.add_file("doc")
    state.share(fid, "bob@example.com")
    bob_start = (await alice.get("/drive/v3/changes/startPageToken", headers=bob_headers)).json()[
        "startPageToken"
    ]
    state.unshare(fid, "bob@example.com")
    state.update_file(fid, name="renamed")

    body = (
        await alice.get(
            "/drive/v3/changes",
            params={"pageToken": bob_start, "fields": FULL},
            headers=bob_headers,
        )
    ).json()

    assert [(fid, True)] == [(c["fileId"], c["removed"]) for c in body["changes"]]


async def test_other_users_changes_are_invisible(state, alice):
    """Changes to files the caller cannot see are not in their feed."""
    token = await start_token(alice)
    state.add_file("bob's", owner="bob@example.com")

    changes, _, _ = await read_all(alice, token)

    assert [] == changes


async def test_shared_drive_changes_need_both_flags(state, alice):
    """Shared-drive changes (file and drive entries) appear only with both flags."""
    token = await start_token(alice)
    drive = state.add_shared_drive("Eng")
    fid = state.add_file("spec", drive_id=drive)

    without, _, _ = await read_all(alice, token)
    with_flags, _, _ = await read_all(
        alice, token, supportsAllDrives="true", includeItemsFromAllDrives="true"
    )

    assert [] == without
    expected = [
        {"changeType": "drive", "removed": False, "driveId": drive},
        {
            "changeType": "file",
            "removed": False,
            "fileId": fid,
            "driveId": drive,
            "file": {"name": "spec", "trashed": False},
        },
    ]
    assert expected == with_flags


@pytest.mark.parametrize("token", ["abc", "0", "-1", "999999", ""])
async def test_bad_or_future_token_is_400(alice, token):
    """A garbled, zero or future token is 400 invalid at pageToken (missing: required)."""
    response = await alice.get("/drive/v3/changes", params={"pageToken": token})

    item = response.json()["error"]["errors"][0]
    assert (400, "pageToken") == (response.status_code, item["location"])
    assert item["reason"] in ("invalid", "required")


async def test_tokens_never_expire(state, alice, clock):
    """An old start token still reads everything since, however much later."""
    token = await start_token(alice)
    fid = state.add_file("a")
    clock.now += 365 * 86400
    access, _ = state.issue_tokens()
    alice.headers["Authorization"] = f"Bearer {access}"

    changes, _, _ = await read_all(alice, token)

    assert [fid] == [c["fileId"] for c in changes]


async def test_empty_pages_knob_for_changes(state, alice):
    """With empty_pages on the feed serves an empty page with nextPageToken first; following
    tokens still delivers every change."""
    token = await start_token(alice)
    ids = [state.add_file(f"f{i}") for i in range(3)]
    state.empty_pages = True

    first = (
        await alice.get("/drive/v3/changes", params={"pageToken": token, "fields": FULL})
    ).json()
    changes, _, pages = await read_all(alice, first["nextPageToken"], pageSize=2)

    assert ([], True) == (first["changes"], "nextPageToken" in first)
    assert ids == [c["fileId"] for c in changes]
    assert pages >= 2


async def test_move_changes_parents_and_listings(state, alice):
    """Moving a file is one change with the new parents; folder listings follow it."""
    a, b = state.add_folder("A"), state.add_folder("B")
    fid = state.add_file("f", parent=a)
    token = await start_token(alice)
    state.update_file(fid, parent=b)

    body = (
        await alice.get(
            "/drive/v3/changes",
            params={"pageToken": token, "fields": "changes(fileId,file/parents)"},
        )
    ).json()
    in_a = (await alice.get("/drive/v3/files", params={"q": f"'{a}' in parents"})).json()["files"]
    in_b = (await alice.get("/drive/v3/files", params={"q": f"'{b}' in parents"})).json()["files"]

    assert [{"fileId": fid, "file": {"parents": [b]}}] == body["changes"]
    assert ([], [fid]) == (in_a, [f["id"] for f in in_b])


def test_invalid_scripting_is_refused(state):
    """The state API refuses what Drive could not do: cycles, owner re-shares, unknown ids."""
    folder = state.add_folder("F")
    child = state.add_folder("C", parent=folder)
    fid = state.add_file("f")

    with pytest.raises(ValueError, match="into itself"):
        state.update_file(folder, parent=child)
    with pytest.raises(ValueError, match="owner"):
        state.share(fid, "alice@example.com")
    with pytest.raises(ValueError, match="owner"):
        state.unshare(fid, "alice@example.com")
    with pytest.raises(KeyError):
        state.trash("missing")
    with pytest.raises(ValueError, match="already used"):
        state.add_file("again", id=fid)
