"""The fake Drive's faults beyond plain error statuses, and steady (chaos) faults."""

from __future__ import annotations

import httpx
import pytest

from syncline.sandbox import CHAOS_FAULTS, DRIVE_FAULTS, DriveState, create_drive_app

STALE_TOKEN = {
    "error": {
        "code": 400,
        "message": "Invalid Value",
        "errors": [
            {
                "message": "Invalid Value",
                "domain": "global",
                "reason": "invalid",
                "location": "pageToken",
                "locationType": "parameter",
            }
        ],
    }
}
ALL_DRIVES = {
    "corpora": "allDrives",
    "supportsAllDrives": "true",
    "includeItemsFromAllDrives": "true",
    "fields": "nextPageToken,incompleteSearch,files(id)",
}
TOKEN_FORM = {
    "grant_type": "refresh_token",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
}


async def _second_page_token(alice: httpx.AsyncClient, params: dict[str, str]) -> str:
    first = await alice.get("/drive/v3/files", params={**params, "pageSize": "1"})
    token = first.json()["nextPageToken"]
    assert isinstance(token, str)
    return token


async def test_403_project_rate_limit_shape(alice, state):
    """403_rate_project answers a 403 with Drive's project-quota reason rateLimitExceeded."""
    state.inject("403_rate_project")

    response = await alice.get("/drive/v3/files")

    error = response.json()["error"]
    assert (403, 403, "usageLimits", "rateLimitExceeded") == (
        response.status_code,
        error["code"],
        error["errors"][0]["domain"],
        error["errors"][0]["reason"],
    )


async def test_502_is_googles_html_page(alice, state):
    """A 502 comes from Google's front end as an HTML page, not a JSON envelope."""
    state.inject("502")

    response = await alice.get("/drive/v3/files")

    assert 502 == response.status_code
    assert response.headers["content-type"].startswith("text/html")
    assert "Error 502 (Server Error)" in response.text


async def test_401_fault_expires_the_token_until_a_refresh(http, state):
    """A 401 fault kills the token it met: the same token fails again without any fault, and
    only a token from the token endpoint works."""
    access, refresh = state.issue_tokens()
    headers = {"Authorization": f"Bearer {access}"}
    state.inject("401")

    first = await http.get("/drive/v3/files", headers=headers)
    again = await http.get("/drive/v3/files", headers=headers)
    token = await http.post("/token", data={**TOKEN_FORM, "refresh_token": refresh})
    fresh = {"Authorization": f"Bearer {token.json()['access_token']}"}
    after = await http.get("/drive/v3/files", headers=fresh)

    assert (401, 401, 200, 200) == (
        first.status_code,
        again.status_code,
        token.status_code,
        after.status_code,
    )
    assert "authError" == first.json()["error"]["errors"][0]["reason"]


async def test_stale_list_token_hits_only_a_listing_with_a_page_token(alice, state):
    """stale_list_token spares a first page (no token) and answers the next files.list page
    with Drive's exact 400 for a bad pageToken."""
    for i in range(3):
        state.add_file(f"f{i}")
    state.inject("stale_list_token")

    token = await _second_page_token(alice, {})
    stale = await alice.get("/drive/v3/files", params={"pageSize": "1", "pageToken": token})
    retried = await alice.get("/drive/v3/files", params={"pageSize": "1", "pageToken": token})

    assert (400, STALE_TOKEN) == (stale.status_code, stale.json())
    assert 200 == retried.status_code


async def test_stale_change_token_hits_changes_list_only(alice, state):
    """stale_change_token spares getStartPageToken and files.list, and answers changes.list
    with Drive's exact 400 for a bad pageToken."""
    state.inject("stale_change_token")

    start = await alice.get("/drive/v3/changes/startPageToken")
    files = await alice.get("/drive/v3/files")
    token = start.json()["startPageToken"]
    changes = await alice.get("/drive/v3/changes", params={"pageToken": token})

    assert (200, 200) == (start.status_code, files.status_code)
    assert (400, STALE_TOKEN) == (changes.status_code, changes.json())


async def test_incomplete_search_leaves_out_shared_drive_items(alice, state):
    """An incomplete all-drives page says incompleteSearch and lacks the shared-drive items;
    a My Drive-only listing is not one it can hit."""
    mine = state.add_file("mine.txt")
    drive = state.add_shared_drive("Team")
    shared = state.add_file("shared.txt", drive_id=drive)
    state.inject("incomplete")

    user = await alice.get("/drive/v3/files", params={"fields": "incompleteSearch,files(id)"})
    partial = await alice.get("/drive/v3/files", params=ALL_DRIVES)
    whole = await alice.get("/drive/v3/files", params=ALL_DRIVES)

    assert (False, [mine]) == (
        user.json()["incompleteSearch"],
        [f["id"] for f in user.json()["files"]],
    )
    assert (True, {mine}) == (
        partial.json()["incompleteSearch"],
        {f["id"] for f in partial.json()["files"]},
    )
    assert (False, {mine, shared}) == (
        whole.json()["incompleteSearch"],
        {f["id"] for f in whole.json()["files"]},
    )


async def test_truncated_listing_ends_early_and_says_so(alice, state):
    """A truncated all-drives page reports incompleteSearch and carries no nextPageToken,
    although more items are left."""
    for i in range(3):
        state.add_file(f"f{i}")
    state.inject("truncated")

    page = await alice.get("/drive/v3/files", params={**ALL_DRIVES, "pageSize": "1"})

    body = page.json()
    assert (True, None, 1) == (
        body["incompleteSearch"],
        body.get("nextPageToken"),
        len(body["files"]),
    )


def test_every_fault_kind_is_known_and_chaos_spares_permission_errors():
    """CHAOS_FAULTS is DRIVE_FAULTS less the one fault no client may retry past."""
    assert set(DRIVE_FAULTS) - set(CHAOS_FAULTS) == {"403_permission"}


async def test_chaos_fails_a_steady_share_and_counts_by_kind(alice, state):
    """At rate 0.3 about 30% of 400 requests fail, and faults_fired counts exactly those."""
    state.chaos(0.3, kinds=("500", "503", "429"), seed=7)

    statuses = [(await alice.get("/drive/v3/about?fields=kind")).status_code for _ in range(400)]

    failed = sum(1 for s in statuses if s != 200)
    assert 80 <= failed <= 160
    assert set(statuses) <= {200, 500, 503, 429}
    assert failed == sum(state.faults_fired.values())
    assert {"500", "503", "429"} == set(state.faults_fired)


async def test_chaos_with_one_seed_replays_the_same_failures(clock):
    """Two sandboxes with the same seed fail the same requests of a sequential client."""
    runs = []
    for _ in range(2):
        state = DriveState(clock=clock)
        access, _ = state.issue_tokens()
        state.chaos(0.5, kinds=("500", "503"), seed=42)
        transport = httpx.ASGITransport(app=create_drive_app(state))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://sandbox",
            headers={"Authorization": f"Bearer {access}"},
        ) as client:
            runs.append([(await client.get("/drive/v3/files")).status_code for _ in range(50)])

    assert runs[0] == runs[1]
    assert {200, 500, 503} == set(runs[0])


async def test_chaos_only_draws_kinds_that_fit_the_request(alice, state):
    """With only a changes-token fault to draw, a files.list never fails, even at rate 1."""
    state.chaos(1.0, kinds=("stale_change_token",), seed=1)

    statuses = {(await alice.get("/drive/v3/files")).status_code for _ in range(20)}

    assert {200} == statuses
    assert {} == state.faults_fired


async def test_chaos_spares_the_token_endpoint_and_stops_on_calm(http, state):
    """Steady faults never hit /token; calm() ends them."""
    access, refresh = state.issue_tokens()
    state.chaos(1.0, kinds=("503",), seed=3)

    token = await http.post("/token", data={**TOKEN_FORM, "refresh_token": refresh})
    during = await http.get("/drive/v3/files", headers={"Authorization": f"Bearer {access}"})
    state.calm()
    after = await http.get("/drive/v3/files", headers={"Authorization": f"Bearer {access}"})

    assert (200, 503, 200) == (token.status_code, during.status_code, after.status_code)


async def test_chaos_rate_limits_draw_retry_after(alice, state):
    """A drawn 429 sends one of the configured Retry-After values, or none."""
    state.chaos(1.0, kinds=("429",), seed=5, retry_after=(None, 3.0))

    headers = [(await alice.get("/drive/v3/files")).headers.get("retry-after") for _ in range(40)]

    assert {None, "3"} == set(headers)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 1.5}, "rate"),
        ({"rate": 0.1, "kinds": ()}, "at least one fault kind"),
        ({"rate": 0.1, "kinds": ("418",)}, "unknown fault"),
        ({"rate": 0.1, "retry_after": ()}, "retry_after"),
    ],
)
def test_chaos_rejects_bad_settings(state, kwargs, message):
    """chaos() refuses rates outside [0, 1], empty or unknown kinds, and no retry_after."""
    with pytest.raises(ValueError, match=message):
        state.chaos(**kwargs)
