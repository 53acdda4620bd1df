"""Permissions on the fake Drive: grant types, folder inheritance, groups, shared-drive members."""

import pytest

from syncline.sandbox import DriveState, Sharing, generate

PERMS = "permissions(id,type,role,emailAddress,domain,allowFileDiscovery,permissionDetails)"
BOB = "bob@example.com"


def auth(state: DriveState, user: str) -> dict[str, str]:
    access, _ = state.issue_tokens(user)
    return {"Authorization": f"Bearer {access}"}


async def permissions(client, file_id, headers=None, **params):
    response = await client.get(
        f"/drive/v3/files/{file_id}/permissions",
        params={"supportsAllDrives": "true", "fields": f"nextPageToken,{PERMS}", **params},
        headers=headers,
    )
    assert 200 == response.status_code, response.text
    return response.json()["permissions"]


async def listed_ids(client, headers=None):
    body = (
        await client.get(
            "/drive/v3/files",
            params={"pageSize": 1000, "fields": "files(id)"},
            headers=headers,
        )
    ).json()
    return {f["id"] for f in body["files"]}


async def test_folder_grant_is_inherited_by_items_below(state, alice):
    """A grant on a folder shows on a grandchild as inherited from that folder; the owner's
    entry is direct first, then inherited from the (same-owner) folders above."""
    folder = state.add_folder("Team")
    sub = state.add_folder("Sub", parent=folder)
    doc = state.add_file("doc.txt", parent=sub)
    state.share(folder, BOB, "writer")

    perms = await permissions(alice, doc)

    owner, bob = perms
    assert ("owner", [False, True, True]) == (
        owner["role"],
        [d["inherited"] for d in owner["permissionDetails"]],
    )
    assert (
        "writer",
        [{"permissionType": "file", "role": "writer", "inherited": True, "inheritedFrom": folder}],
    ) == (bob["role"], bob["permissionDetails"])


async def test_direct_and_inherited_grants_merge_into_the_strongest_role(state, alice):
    """One principal with a direct reader and an inherited writer grant is one writer entry
    carrying both details."""
    folder = state.add_folder("Team")
    doc = state.add_file("doc.txt", parent=folder)
    state.share(folder, BOB, "writer")
    state.share(doc, BOB, "reader")

    perms = await permissions(alice, doc)

    bob = next(p for p in perms if p.get("emailAddress") == BOB)
    assert ("writer", [False, True]) == (
        bob["role"],
        [d["inherited"] for d in bob["permissionDetails"]],
    )


async def test_folder_share_lists_items_below_to_the_grantee(state, alice, bob_headers):
    """After a folder share, the grantee lists the folder and everything below it, and the
    change feed has one entry for the folder only."""
    folder = state.add_folder("Team")
    doc = state.add_file("doc.txt", parent=folder)
    other = state.add_file("private.txt")
    start = (await alice.get("/drive/v3/changes/startPageToken", headers=bob_headers)).json()
    state.share(folder, BOB)

    seen = await listed_ids(alice, bob_headers)
    changes = (
        await alice.get(
            "/drive/v3/changes",
            params={"pageToken": start["startPageToken"], "fields": "changes(fileId,removed)"},
            headers=bob_headers,
        )
    ).json()["changes"]

    assert {folder, doc} == seen
    assert other not in seen
    assert [{"fileId": folder, "removed": False}] == changes


async def test_nested_group_members_see_group_shared_items(state, alice):
    """A user in a group nested inside the grantee group lists the item; others do not."""
    state.add_group("inner@example.com", ["carol@example.com"])
    state.add_group("eng@example.com", [BOB, "inner@example.com"])
    doc = state.add_file("doc.txt")
    state.share(doc, "eng@example.com", "commenter", type="group")

    perms = await permissions(alice, doc)

    assert doc in await listed_ids(alice, auth(state, "carol@example.com"))
    assert doc in await listed_ids(alice, auth(state, BOB))
    assert doc not in await listed_ids(alice, auth(state, "dave@example.com"))
    assert {"type": "group", "role": "commenter", "emailAddress": "eng@example.com"} == {
        k: perms[1][k] for k in ("type", "role", "emailAddress")
    }


async def test_domain_and_link_grants_open_but_do_not_list(state, alice):
    """Domain and anyone-with-link grants let a user open the item but never list it; a
    user of another domain cannot open the domain-shared item."""
    by_domain = state.add_file("domain.txt")
    by_link = state.add_file("link.txt")
    state.share_with_domain(by_domain, "example.com", discoverable=True)
    state.share_with_anyone(by_link)
    carol = auth(state, "carol@example.com")
    stranger = auth(state, "eve@other.org")

    domain_perms = await permissions(alice, by_domain)
    link_perms = await permissions(alice, by_link)

    assert {
        "type": "domain",
        "role": "reader",
        "domain": "example.com",
        "allowFileDiscovery": True,
    } == {k: domain_perms[1][k] for k in ("type", "role", "domain", "allowFileDiscovery")}
    assert ("anyoneWithLink", "anyone", False) == (
        link_perms[1]["id"],
        link_perms[1]["type"],
        link_perms[1]["allowFileDiscovery"],
    )
    assert 200 == (await alice.get(f"/drive/v3/files/{by_domain}", headers=carol)).status_code
    assert 404 == (await alice.get(f"/drive/v3/files/{by_domain}", headers=stranger)).status_code
    assert 200 == (await alice.get(f"/drive/v3/files/{by_link}", headers=stranger)).status_code
    assert set() == await listed_ids(alice, carol)


async def test_unshare_removes_groups_domains_and_links(state, alice):
    """unshare takes a group email, a domain or "anyone"; only the owner is left."""
    doc = state.add_file("doc.txt")
    state.share(doc, "eng@example.com", type="group")
    state.share_with_domain(doc, "example.com")
    state.share_with_anyone(doc)
    for name in ("eng@example.com", "example.com", "anyone"):
        state.unshare(doc, name)

    perms = await permissions(alice, doc)

    assert ["owner"] == [p["role"] for p in perms]


def test_sharing_rejects_unknown_roles_and_types(state):
    """Roles and grantee types outside Drive's vocabulary are refused."""
    doc = state.add_file("doc.txt")

    with pytest.raises(ValueError, match="role"):
        state.share(doc, BOB, "admin")
    with pytest.raises(ValueError, match="type"):
        state.share(doc, "example.com", type="domain")


async def test_files_carry_own_and_inherited_permissions(state, alice):
    """files.list renders `permissions` (inherited included) and `permissionIds` for My Drive
    items."""
    folder = state.add_folder("Team")
    doc = state.add_file("doc.txt", parent=folder)
    state.share(folder, BOB)

    body = (
        await alice.get(
            "/drive/v3/files",
            params={
                "q": f"'{folder}' in parents",
                "fields": "files(id,permissionIds,permissions(emailAddress))",
            },
        )
    ).json()

    file = body["files"][0]
    assert doc == file["id"]
    assert [{"emailAddress": "alice@example.com"}, {"emailAddress": BOB}] == file["permissions"]
    assert 2 == len(file["permissionIds"])


async def test_my_drive_permissions_list_returns_everything_without_page_size(state, alice):
    """Without pageSize a My Drive item's permissions come in one page (Drive's documented
    default); shared-drive items page by 100."""
    doc = state.add_file("doc.txt")
    for i in range(120):
        state.share(doc, f"user{i}@example.com")
    drive = state.add_shared_drive(
        "Big",
        {f"m{i}@example.com": "reader" for i in range(120)} | {"alice@example.com": "organizer"},
    )
    item = state.add_file("item.txt", drive_id=drive)

    mine = (await alice.get(f"/drive/v3/files/{doc}/permissions")).json()
    shared = (
        await alice.get(f"/drive/v3/files/{item}/permissions", params={"supportsAllDrives": "true"})
    ).json()

    assert (121, False) == (len(mine["permissions"]), "nextPageToken" in mine)
    assert (100, True) == (len(shared["permissions"]), "nextPageToken" in shared)


# --- shared drives --------------------------------------------------------------------------


async def test_drive_members_have_roles_and_list_on_the_drive_id(state, alice):
    """permissions.list on a shared drive's id lists its members with their roles, as direct
    `member` permissions."""
    drive = state.add_shared_drive("Eng", {"alice@example.com": "organizer", BOB: "reader"})
    state.add_group("eng@example.com", ["carol@example.com"])
    state.set_drive_member(drive, "eng@example.com", "writer", type="group")

    perms = await permissions(alice, drive)

    assert [
        ("alice@example.com", "user", "organizer"),
        (BOB, "user", "reader"),
        ("eng@example.com", "group", "writer"),
    ] == [(p["emailAddress"], p["type"], p["role"]) for p in perms]
    assert [{"permissionType": "member", "role": "reader", "inherited": False}] == perms[1][
        "permissionDetails"
    ]


async def test_shared_drive_item_lists_members_folder_and_direct_grants(state, alice):
    """A shared-drive item's permissions.list has members inherited from the drive, a folder's
    grant inherited from the folder, and its own direct grant; files.list gives only ids."""
    drive = state.add_shared_drive("Eng", {"alice@example.com": "organizer"})
    folder = state.add_folder("Specs", drive_id=drive)
    doc = state.add_file("spec.txt", parent=folder)
    state.share(folder, BOB, "commenter")
    state.share(doc, "carol@example.com", "writer")

    perms = await permissions(alice, doc)
    listed = (
        await alice.get(
            "/drive/v3/files",
            params={
                "corpora": "drive",
                "driveId": drive,
                "supportsAllDrives": "true",
                "includeItemsFromAllDrives": "true",
                "q": f"'{folder}' in parents",
                "fields": "files(id,permissions,permissionIds)",
            },
        )
    ).json()["files"][0]

    assert [
        ("carol@example.com", "file", False, None),
        (BOB, "file", True, folder),
        ("alice@example.com", "member", True, drive),
    ] == [
        (
            p["emailAddress"],
            p["permissionDetails"][0]["permissionType"],
            p["permissionDetails"][0]["inherited"],
            p["permissionDetails"][0].get("inheritedFrom"),
        )
        for p in perms
    ]
    assert "permissions" not in listed
    assert [p["id"] for p in perms] == listed["permissionIds"]


async def test_set_drive_member_emits_a_drive_change(state, alice, bob_headers):
    """Adding a member shows a `drive` change to them; removing shows it removed."""
    drive = state.add_shared_drive("Eng")
    start = (await alice.get("/drive/v3/changes/startPageToken", headers=bob_headers)).json()
    params = {
        "supportsAllDrives": "true",
        "includeItemsFromAllDrives": "true",
        "fields": "newStartPageToken,changes(changeType,driveId,removed)",
    }
    state.set_drive_member(drive, BOB, "reader")
    added = (
        await alice.get(
            "/drive/v3/changes",
            params={**params, "pageToken": start["startPageToken"]},
            headers=bob_headers,
        )
    ).json()
    state.set_drive_member(drive, BOB, None)
    removed = (
        await alice.get(
            "/drive/v3/changes",
            params={**params, "pageToken": added["newStartPageToken"]},
            headers=bob_headers,
        )
    ).json()

    assert [{"changeType": "drive", "driveId": drive, "removed": False}] == added["changes"]
    assert [{"changeType": "drive", "driveId": drive, "removed": True}] == removed["changes"]


async def test_group_membership_of_a_drive_reaches_its_members(state, alice):
    """A user in a group that is a drive member lists the drive and its items."""
    state.add_group("eng@example.com", ["carol@example.com"])
    drive = state.add_shared_drive(
        "Eng", {"alice@example.com": "organizer", "Eng@Example.com": "reader"}
    )
    item = state.add_file("x.txt", drive_id=drive)
    carol = auth(state, "carol@example.com")

    drives = (await alice.get("/drive/v3/drives", headers=carol)).json()["drives"]
    files = (
        await alice.get(
            "/drive/v3/files",
            params={
                "corpora": "allDrives",
                "supportsAllDrives": "true",
                "includeItemsFromAllDrives": "true",
            },
            headers=carol,
        )
    ).json()["files"]

    assert [drive] == [d["id"] for d in drives]
    assert item in {f["id"] for f in files}


# --- generation -------------------------------------------------------------------------------


def test_generate_with_sharing_makes_a_permission_rich_drive():
    """`sharing` creates users and (some nested) groups, and grants of every type on folders
    and files, deterministically for a seed."""
    state, again = DriveState(), DriveState()

    made = generate(state, 2_000, 40, sharing=Sharing(users=50, groups=10))
    generate(again, 2_000, 40, sharing=Sharing(users=50, groups=10))

    def grantees(drive: DriveState) -> list[list[str | None]]:
        items = [drive.get(i) for i in made.folder_ids + made.file_ids]
        return [[p.email or p.domain or p.type for p in f.perms] for f in items if f is not None]

    types = {
        p.type for i in made.file_ids + made.folder_ids for p in getattr(state.get(i), "perms", ())
    }
    assert (50, 10) == (len(made.users), len(made.groups))
    assert {"user", "group", "domain", "anyone"} == types
    assert "group-001@example.com" in (state.group("group-000@example.com") or ())
    assert grantees(state) == grantees(again)
