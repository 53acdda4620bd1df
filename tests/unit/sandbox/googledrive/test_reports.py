"""The Admin SDK Reports API's groups activities on the fake: scope, order, startTime, paging."""

from syncline.sandbox import DriveState
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE, REPORTS_SCOPE

ACTIVITIES = "/admin/reports/v1/activity/users/all/applications/groups"


def _headers(state: DriveState, *scopes: str) -> dict[str, str]:
    access, _ = state.issue_tokens("admin@example.com", scopes=[DRIVE_SCOPE, *scopes])
    return {"Authorization": f"Bearer {access}"}


def _changes(body: dict) -> list[tuple[str, str, str]]:
    found = []
    for item in body.get("items", []):
        for event in item["events"]:
            params = {p["name"]: p["value"] for p in event["parameters"]}
            found.append((event["name"], params["group_email"], params["user_email"]))
    return found


async def test_membership_changes_come_newest_first(state, http, clock):
    """Adding and removing members records add_user / remove_user activities, newest first,
    in the Reports API's shape."""
    state.add_group("Eng@example.com", ["bob@example.com"])
    clock.now += 60
    state.set_group_members("eng@example.com", ["carol@example.com"])

    body = (await http.get(ACTIVITIES, headers=_headers(state, REPORTS_SCOPE))).json()

    assert "admin#reports#activities" == body["kind"]
    assert [
        ("add_user", "eng@example.com", "carol@example.com"),
        ("remove_user", "eng@example.com", "bob@example.com"),
        ("add_user", "eng@example.com", "bob@example.com"),
    ] == _changes(body)
    assert "groups" == body["items"][0]["id"]["applicationName"]
    assert body["items"][0]["id"]["time"].endswith("Z")


async def test_start_time_and_paging(state, http, clock):
    """startTime keeps the activities at or after it; maxResults pages with a token."""
    state.add_group("a@example.com", ["u1@example.com"])
    clock.now += 3600
    state.add_group("b@example.com", ["u2@example.com", "u3@example.com"])
    headers = _headers(state, REPORTS_SCOPE)
    since = "2024-05-02T11:00:00.000Z"  # between the two (the clock starts at 10:11 UTC)

    first = (
        await http.get(ACTIVITIES, params={"startTime": since, "maxResults": 1}, headers=headers)
    ).json()
    rest = (
        await http.get(
            ACTIVITIES,
            params={"startTime": since, "maxResults": 1, "pageToken": first["nextPageToken"]},
            headers=headers,
        )
    ).json()

    assert [("add_user", "b@example.com", "u3@example.com")] == _changes(first)
    assert [("add_user", "b@example.com", "u2@example.com")] == _changes(rest)
    assert "nextPageToken" not in rest


async def test_without_the_reports_scope_the_answer_is_403(state, http):
    """A token without admin.reports.audit.readonly gets 403 insufficientPermissions."""
    answer = await http.get(ACTIVITIES, headers=_headers(state))

    assert 403 == answer.status_code
    assert "insufficientPermissions" == answer.json()["error"]["errors"][0]["reason"]
