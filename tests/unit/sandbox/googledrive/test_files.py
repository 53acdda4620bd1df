"""files.list and files.get on the fake Drive: shapes, `fields`, paging, queries, visibility."""

import hashlib

import pytest

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


async def list_all(client, **params):
    """Follow nextPageToken to the end; returns (files, number of requests)."""
    files, pages, token = [], 0, None
    while True:
        query = dict(params, **({"pageToken": token} if token else {}))
        response = await client.get("/drive/v3/files", params=query)
        assert 200 == response.status_code, response.text
        body = response.json()
        files += body["files"]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            return files, pages


async def test_default_response_has_only_the_default_fields(state, alice):
    """Without `fields`, the list carries kind/incompleteSearch/files and each file only
    kind, id, name and mimeType."""
    fid = state.add_file("a.txt", content=b"hello")

    body = (await alice.get("/drive/v3/files")).json()

    expected = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": [{"kind": "drive#file", "id": fid, "name": "a.txt", "mimeType": "text/plain"}],
    }
    assert expected == body


async def test_fields_without_next_page_token_silently_stops_paging(state, alice):
    """Asking `files(id,name)` drops nextPageToken, so a naive client sees one page: the
    real API's trap."""
    for i in range(5):
        state.add_file(f"f{i}")

    body = (
        await alice.get("/drive/v3/files", params={"pageSize": 2, "fields": "files(id,name)"})
    ).json()

    assert ["files"] == list(body)
    assert 2 == len(body["files"])


async def test_paging_returns_every_file_exactly_once(state, alice):
    """Following nextPageToken visits each file once, in a stable order."""
    ids = [state.add_file(f"f{i}") for i in range(25)]

    files, pages = await list_all(alice, pageSize=10)
    again, _ = await list_all(alice, pageSize=7)

    assert ids == [f["id"] for f in files]
    assert ids == [f["id"] for f in again]
    assert 3 == pages


async def test_files_added_while_paging_do_not_break_the_token(state, alice):
    """Positions survive writes: a file added mid-listing shows up on a later page."""
    for i in range(3):
        state.add_file(f"f{i}")
    first = (await alice.get("/drive/v3/files", params={"pageSize": 2})).json()
    late = state.add_file("late")

    rest = (
        await alice.get(
            "/drive/v3/files", params={"pageSize": 10, "pageToken": first["nextPageToken"]}
        )
    ).json()

    assert ["f2", "late"] == [f["name"] for f in rest["files"]]
    assert late == rest["files"][-1]["id"]


@pytest.mark.parametrize("size", ["0", "1001", "abc"])
async def test_page_size_out_of_range_is_400(alice, size):
    """pageSize must be within [1, 1000]."""
    response = await alice.get("/drive/v3/files", params={"pageSize": size})

    error = response.json()["error"]
    assert (400, "invalid", "pageSize") == (
        response.status_code,
        error["errors"][0]["reason"],
        error["errors"][0]["location"],
    )


@pytest.mark.parametrize("token", ["garbage", "~!!~AAAA", "~!!~" + "A" * 40])
async def test_garbled_page_token_is_400_invalid(alice, token):
    """A token the server did not issue is 400 invalid at location pageToken."""
    response = await alice.get("/drive/v3/files", params={"pageToken": token})

    item = response.json()["error"]["errors"][0]
    assert (400, "invalid", "pageToken") == (response.status_code, item["reason"], item["location"])


async def test_page_token_from_another_query_is_rejected(state, alice):
    """A token is bound to the query that produced it."""
    for i in range(3):
        state.add_file(f"f{i}")
    token = (await alice.get("/drive/v3/files", params={"pageSize": 1})).json()["nextPageToken"]

    response = await alice.get(
        "/drive/v3/files", params={"pageToken": token, "q": "trashed = false"}
    )

    assert 400 == response.status_code


async def test_query_by_parent_and_type(state, alice):
    """`'<id>' in parents` with mimeType and trashed terms selects exactly the matches."""
    folder = state.add_folder("F")
    sub = state.add_folder("Sub", parent=folder)
    doc = state.add_file("doc", mime_type=DOC, parent=folder)
    gone = state.add_file("gone", parent=folder)
    state.add_file("elsewhere")
    state.trash(gone)

    folders, _ = await list_all(alice, q=f"'{folder}' in parents and mimeType = '{FOLDER}'")
    others, _ = await list_all(
        alice, q=f"'{folder}' in parents and mimeType != '{FOLDER}' and trashed = false"
    )
    everything, _ = await list_all(alice, q=f"'{folder}' in parents")

    assert [sub] == [f["id"] for f in folders]
    assert [doc] == [f["id"] for f in others]
    assert {sub, doc, gone} == {f["id"] for f in everything}


async def test_or_between_parents(state, alice):
    """Parenthesised `or` of parents terms lists the children of every named folder."""
    a, b = state.add_folder("A"), state.add_folder("B")
    in_a, in_b = state.add_file("x", parent=a), state.add_file("y", parent=b)

    files, _ = await list_all(alice, q=f"('{a}' in parents or '{b}' in parents) and trashed=false")

    assert {in_a, in_b} == {f["id"] for f in files}


async def test_root_alias(state, alice):
    """`'root' in parents` lists the top of My Drive."""
    top = state.add_file("top")
    folder = state.add_folder("F")
    state.add_file("nested", parent=folder)

    files, _ = await list_all(alice, q="'root' in parents")

    assert {top, folder} == {f["id"] for f in files}


@pytest.mark.parametrize("q", ["name contains 'x'", "'a' in parents and", "modifiedTime > '2024'"])
async def test_unsupported_query_is_400_at_q(alice, q):
    """Queries outside the subset are 400 invalid at location q."""
    response = await alice.get("/drive/v3/files", params={"q": q})

    item = response.json()["error"]["errors"][0]
    assert (400, "invalid", "q") == (response.status_code, item["reason"], item["location"])


async def test_trashed_files_are_listed_unless_excluded(state, alice):
    """Like Drive, listing includes trash unless q says `trashed = false`."""
    keep, drop = state.add_file("keep"), state.add_file("drop")
    state.trash(drop)

    everything, _ = await list_all(alice, fields="nextPageToken,files(id,trashed)")
    live, _ = await list_all(alice, q="trashed = false")

    assert [{"id": keep, "trashed": False}, {"id": drop, "trashed": True}] == everything
    assert [keep] == [f["id"] for f in live]


async def test_users_see_only_their_files_and_shares(state, alice, bob_headers):
    """Visibility is by direct permission: Bob sees his files and what Alice shared."""
    mine = state.add_file("alice-only")
    shared = state.add_file("shared")
    bobs = state.add_file("bob's", owner="bob@example.com")
    state.share(shared, "bob@example.com")

    alice_ids = {f["id"] for f in (await list_all(alice))[0]}
    response = await alice.get("/drive/v3/files", headers=bob_headers)

    assert {mine, shared} == alice_ids
    assert {shared, bobs} == {f["id"] for f in response.json()["files"]}


async def test_shared_drive_items_need_both_flags(state, alice):
    """Shared-drive items are listed only with supportsAllDrives and includeItemsFromAllDrives."""
    drive = state.add_shared_drive("Eng")
    in_drive = state.add_file("spec", drive_id=drive)
    mine = state.add_file("mine")

    plain, _ = await list_all(alice)
    half, _ = await list_all(alice, includeItemsFromAllDrives="true")
    both, _ = await list_all(alice, supportsAllDrives="true", includeItemsFromAllDrives="true")
    only, _ = await list_all(
        alice,
        corpora="drive",
        driveId=drive,
        supportsAllDrives="true",
        includeItemsFromAllDrives="true",
    )

    assert [mine] == [f["id"] for f in plain]
    assert [mine] == [f["id"] for f in half]
    assert {mine, in_drive} == {f["id"] for f in both}
    assert [in_drive] == [f["id"] for f in only]


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"corpora": "allDrives"}, 403, "teamDriveIncludeItemsRequired"),
        (
            {"corpora": "drive", "driveId": "X", "supportsAllDrives": "true"},
            403,
            "teamDriveIncludeItemsRequired",
        ),
        (
            {"corpora": "drive", "supportsAllDrives": "true", "includeItemsFromAllDrives": "true"},
            400,
            "teamDriveIdRequiresTeamDriveCorpora",
        ),
        (
            {"driveId": "X", "supportsAllDrives": "true", "includeItemsFromAllDrives": "true"},
            400,
            "teamDriveIdRequiresTeamDriveCorpora",
        ),
        ({"corpora": "nonsense"}, 400, "invalid"),
        ({"supportsAllDrives": "yes"}, 400, "invalid"),
    ],
)
async def test_bad_corpora_combinations_are_refused(alice, params, status, reason):
    """corpora drive/allDrives without the shared-drive flags, or driveId without
    corpora=drive, are refused as the real API refuses them."""
    response = await alice.get("/drive/v3/files", params=params)

    assert (status, reason) == (
        response.status_code,
        response.json()["error"]["errors"][0]["reason"],
    )


async def test_unknown_shared_drive_is_404(alice):
    """Listing a shared drive the caller is not a member of is 404."""
    params = {
        "corpora": "drive",
        "driveId": "0AnotMine",
        "supportsAllDrives": "true",
        "includeItemsFromAllDrives": "true",
    }

    response = await alice.get("/drive/v3/files", params=params)

    assert 404 == response.status_code


async def test_unknown_field_is_400_invalid_parameter(alice):
    """Selecting a field Drive does not have is 400 invalidParameter at `fields`."""
    response = await alice.get("/drive/v3/files", params={"fields": "files(id,title)"})

    expected = {
        "error": {
            "code": 400,
            "message": "Invalid field selection title",
            "errors": [
                {
                    "message": "Invalid field selection title",
                    "domain": "global",
                    "reason": "invalidParameter",
                    "location": "fields",
                    "locationType": "parameter",
                }
            ],
        }
    }
    assert expected == response.json()


async def test_binary_file_resource(state, alice):
    """A binary file has size as a string, md5, version, owners and content links."""
    fid = state.add_file("report.pdf", mime_type="application/pdf", content=b"%PDF-1.4 hi")

    fields = (
        "id,size,md5Checksum,version,owners(emailAddress,me),parents,trashed,createdTime,"
        "modifiedTime,webViewLink,thumbnailLink,fileExtension,permissionIds"
    )
    body = (await alice.get(f"/drive/v3/files/{fid}", params={"fields": fields})).json()

    assert "11" == body["size"]
    assert hashlib.md5(b"%PDF-1.4 hi").hexdigest() == body["md5Checksum"]
    assert "1" == body["version"]
    assert [{"emailAddress": "alice@example.com", "me": True}] == body["owners"]
    assert [state.root_id()] == body["parents"]
    assert "2024-05-02T10:11:12.000Z" == body["createdTime"] == body["modifiedTime"]
    assert f"https://drive.google.com/file/d/{fid}/view?usp=drivesdk" == body["webViewLink"]
    assert ("pdf", False) == (body["fileExtension"], body["trashed"])
    assert 1 == len(body["permissionIds"])
    assert "thumbnailLink" in body


async def test_google_doc_has_no_size_or_checksum_but_export_links(state, alice):
    """Native Docs report neither size nor md5, and do carry exportLinks."""
    fid = state.add_file("Plan", mime_type=DOC, content=b"text")

    body = (await alice.get(f"/drive/v3/files/{fid}", params={"fields": "*"})).json()

    assert not {"size", "md5Checksum", "thumbnailLink"} & set(body)
    assert f"https://docs.google.com/document/d/{fid}/edit?usp=drivesdk" == body["webViewLink"]
    assert body["exportLinks"]["application/pdf"].endswith(f"id={fid}&exportFormat=pdf")


async def test_shortcut_details(state, alice):
    """A shortcut carries shortcutDetails with the target's id and type."""
    target = state.add_file("Plan", mime_type=DOC)
    fid = state.add_shortcut("Plan link", target)

    body = (
        await alice.get(f"/drive/v3/files/{fid}", params={"fields": "mimeType,shortcutDetails"})
    ).json()

    expected = {
        "mimeType": "application/vnd.google-apps.shortcut",
        "shortcutDetails": {"targetId": target, "targetMimeType": DOC},
    }
    assert expected == body


async def test_get_default_fields_and_root(state, alice):
    """files.get without fields returns kind/id/name/mimeType; `root` is My Drive."""
    body = (await alice.get("/drive/v3/files/root")).json()

    expected = {"kind": "drive#file", "id": state.root_id(), "name": "My Drive", "mimeType": FOLDER}
    assert expected == body


async def test_get_shared_drive_item_needs_supports_all_drives(state, alice):
    """Without supportsAllDrives a shared-drive file is 404 notFound, with it it is found."""
    drive = state.add_shared_drive("Eng")
    fid = state.add_file("spec", drive_id=drive)

    missing = await alice.get(f"/drive/v3/files/{fid}")
    found = await alice.get(
        f"/drive/v3/files/{fid}",
        params={"supportsAllDrives": "true", "fields": "driveId,parents,owners"},
    )

    expected_error = {
        "message": f"File not found: {fid}.",
        "domain": "global",
        "reason": "notFound",
        "location": "fileId",
        "locationType": "parameter",
    }
    assert (404, expected_error) == (missing.status_code, missing.json()["error"]["errors"][0])
    assert {"driveId": drive, "parents": [drive]} == found.json()


async def test_get_invisible_file_is_404(state, alice):
    """Someone else's unshared file does not exist for the caller."""
    fid = state.add_file("private", owner="bob@example.com")

    assert 404 == (await alice.get(f"/drive/v3/files/{fid}")).status_code


async def test_download_streams_bytes_with_content_type(state, alice):
    """alt=media returns the bytes and the file's type, trashed or not."""
    fid = state.add_file("a.csv", mime_type="text/csv", content=b"a,b\n1,2\n")
    state.trash(fid)

    response = await alice.get(f"/drive/v3/files/{fid}", params={"alt": "media"})

    assert (200, b"a,b\n1,2\n") == (response.status_code, response.content)
    assert response.headers["content-type"].startswith("text/csv")


async def test_download_range(state, alice):
    """A Range header gets 206 with that slice."""
    fid = state.add_file("a.bin", mime_type="application/octet-stream", content=b"0123456789")

    response = await alice.get(
        f"/drive/v3/files/{fid}", params={"alt": "media"}, headers={"Range": "bytes=2-4"}
    )

    assert (206, b"234", "bytes 2-4/10") == (
        response.status_code,
        response.content,
        response.headers["content-range"],
    )


@pytest.mark.parametrize("mime", [DOC, FOLDER])
async def test_download_native_or_folder_is_403_not_downloadable(state, alice, mime):
    """Docs and folders cannot be downloaded: 403 fileNotDownloadable."""
    fid = state.add_file("x", mime_type=mime)

    response = await alice.get(f"/drive/v3/files/{fid}", params={"alt": "media"})

    assert (403, "fileNotDownloadable") == (
        response.status_code,
        response.json()["error"]["errors"][0]["reason"],
    )


async def test_empty_pages_knob_interleaves_empty_pages_with_tokens(state, alice):
    """With empty_pages on, empty pages that still carry nextPageToken appear, and a client
    that keeps following tokens still gets everything."""
    ids = [state.add_file(f"f{i}") for i in range(4)]
    state.empty_pages = True

    first = (await alice.get("/drive/v3/files", params={"pageSize": 2})).json()
    files, pages = await list_all(alice, pageSize=2)

    assert ([], True) == (first["files"], "nextPageToken" in first)
    assert ids == [f["id"] for f in files]
    assert pages > 3


async def test_incomplete_search_knob(state, alice):
    """incomplete_search makes files.list report incompleteSearch: true."""
    state.incomplete_search = True

    body = (await alice.get("/drive/v3/files")).json()

    assert body["incompleteSearch"] is True


async def test_permissions_list(state, alice):
    """permissions.list pages through a file's grants in Drive's shape."""
    fid = state.add_file("shared")
    state.share(fid, "bob@example.com", "writer")

    body = (await alice.get(f"/drive/v3/files/{fid}/permissions")).json()
    page = (
        await alice.get(
            f"/drive/v3/files/{fid}/permissions",
            params={"pageSize": 1, "fields": "nextPageToken,permissions(role)"},
        )
    ).json()
    rest = (
        await alice.get(
            f"/drive/v3/files/{fid}/permissions", params={"pageToken": page["nextPageToken"]}
        )
    ).json()

    assert "drive#permissionList" == body["kind"]
    assert [("owner", "alice@example.com"), ("writer", "bob@example.com")] == [
        (p["role"], p["emailAddress"]) for p in body["permissions"]
    ]
    assert [{"role": "owner"}] == page["permissions"]
    assert ["writer"] == [p["role"] for p in rest["permissions"]]


async def test_shared_drive_permissions_are_inherited_organizers(state, alice):
    """In a shared drive, members show up as inherited organizers."""
    drive = state.add_shared_drive("Eng", ["alice@example.com", "bob@example.com"])
    fid = state.add_file("spec", drive_id=drive)

    body = (
        await alice.get(
            f"/drive/v3/files/{fid}/permissions",
            params={"supportsAllDrives": "true", "fields": "*"},
        )
    ).json()

    details = [p["permissionDetails"][0] for p in body["permissions"]]
    assert [True, True] == [d["inherited"] for d in details]
    assert {drive} == {d["inheritedFrom"] for d in details}


async def test_drives_list_and_about(state, alice):
    """drives.list shows the caller's shared drives; about requires fields."""
    drive = state.add_shared_drive("Eng")
    state.add_shared_drive("Other", ["bob@example.com"])

    drives = (await alice.get("/drive/v3/drives")).json()
    about = await alice.get("/drive/v3/about")

    assert [{"kind": "drive#drive", "id": drive, "name": "Eng"}] == drives["drives"]
    assert (400, "required") == (about.status_code, about.json()["error"]["errors"][0]["reason"])
