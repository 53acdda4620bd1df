"""The Admin SDK Directory API's members.list on the fake, with OAuth scopes."""

from syncline.sandbox import DriveState

GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
MEMBERS = "/admin/directory/v1/groups/{}/members"


def admin(state: DriveState) -> dict[str, str]:
    access, _ = state.issue_tokens("admin@example.com", scopes=[DRIVE_SCOPE, GROUP_SCOPE])
    return {"Authorization": f"Bearer {access}"}


async def test_members_list_shape_with_nested_groups(state, http):
    """Members come in Google's shape; a nested group is type GROUP."""
    state.add_group("inner@example.com", ["carol@example.com"])
    state.add_group("eng@example.com", ["bob@example.com", "inner@example.com"])

    body = (await http.get(MEMBERS.format("eng@example.com"), headers=admin(state))).json()

    assert "admin#directory#members" == body["kind"]
    assert [("bob@example.com", "USER"), ("inner@example.com", "GROUP")] == [
        (m["email"], m["type"]) for m in body["members"]
    ]
    assert {"kind": "admin#directory#member", "role": "MEMBER", "status": "ACTIVE"} == {
        k: body["members"][0][k] for k in ("kind", "role", "status")
    }
    assert "nextPageToken" not in body


async def test_members_list_pages_by_max_results(state, http):
    """maxResults pages the members; the token leads to the rest."""
    state.add_group("big@example.com", [f"u{i}@example.com" for i in range(5)])
    headers = admin(state)

    first = (
        await http.get(MEMBERS.format("big@example.com"), params={"maxResults": 3}, headers=headers)
    ).json()
    rest = (
        await http.get(
            MEMBERS.format("big@example.com"),
            params={"maxResults": 3, "pageToken": first["nextPageToken"]},
            headers=headers,
        )
    ).json()
    too_many = await http.get(
        MEMBERS.format("big@example.com"), params={"maxResults": 201}, headers=headers
    )

    assert 3 == len(first["members"])
    assert (2, False) == (len(rest["members"]), "nextPageToken" in rest)
    assert 400 == too_many.status_code


async def test_empty_group_omits_members(state, http):
    """An empty group answers without a `members` key."""
    state.add_group("empty@example.com")

    body = (await http.get(MEMBERS.format("empty@example.com"), headers=admin(state))).json()

    assert "members" not in body


async def test_unknown_group_is_google_404(state, http):
    """An unknown groupKey is Google's 404 notFound envelope."""
    response = await http.get(MEMBERS.format("nope@example.com"), headers=admin(state))

    assert 404 == response.status_code
    assert {
        "error": {
            "code": 404,
            "message": "Resource Not Found: groupKey",
            "errors": [
                {
                    "message": "Resource Not Found: groupKey",
                    "domain": "global",
                    "reason": "notFound",
                }
            ],
        }
    } == response.json()


async def test_drive_only_token_gets_insufficient_scopes(state, alice):
    """A token with only the Drive scope is refused with 403 insufficientPermissions."""
    state.add_group("eng@example.com", ["bob@example.com"])

    response = await alice.get(MEMBERS.format("eng@example.com"))

    assert 403 == response.status_code
    assert {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
        }
    } == response.json()


async def test_refresh_keeps_the_grant_scopes(state, http):
    """A refreshed token keeps its grant's scopes, listed space separated in `scope`."""
    state.add_group("eng@example.com", ["bob@example.com"])
    _, refresh = state.issue_tokens("admin@example.com", scopes=[DRIVE_SCOPE, GROUP_SCOPE])

    body = (
        await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": refresh, **CLIENT}
        )
    ).json()
    response = await http.get(
        MEMBERS.format("eng@example.com"),
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )

    assert f"{DRIVE_SCOPE} {GROUP_SCOPE}" == body["scope"]
    assert 200 == response.status_code


async def test_faults_apply_to_directory_paths(state, http):
    """An armed fault without a path also fails directory requests."""
    state.add_group("eng@example.com", ["bob@example.com"])
    state.inject("503")

    response = await http.get(MEMBERS.format("eng@example.com"), headers=admin(state))

    assert 503 == response.status_code
