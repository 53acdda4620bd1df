"""The sandbox Box's collaborations, group memberships, shared links, content downloads,
rate limiting and OAuth over real HTTP."""

from __future__ import annotations

import httpx

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.integration.sandbox.box.conftest import ALICE, BOB


def test_folder_and_file_collaborations_name_users_groups_and_roles(box, alice):
    """`/folders/{id}/collaborations` and `/files/{id}/collaborations` list the item's own
    collaborations: `accessible_by` a user (with `login`) or a group (with `group_type`), the
    `role`, `status` (pending ones too) and the `item`; marker paged with a null last marker."""
    folder = box.add_folder("Legal", owner=ALICE)
    file = box.add_file("nda.pdf", b"x", folder, owner=ALICE)
    group = box.add_group("Counsel", [BOB])
    box.collaborate(folder, group=group, role="co-owner")
    box.collaborate(folder, user="carol@example.com", role="previewer", status="pending")
    box.collaborate(file, user=BOB, role="editor")

    on_folder = alice.get(f"/2.0/folders/{folder}/collaborations").json()
    on_file = alice.get(f"/2.0/files/{file}/collaborations").json()

    assert on_folder["next_marker"] is None
    grantees = [(c["accessible_by"]["type"], c["role"], c["status"]) for c in on_folder["entries"]]
    assert [("group", "co-owner", "accepted"), ("user", "previewer", "pending")] == grantees
    assert "managed_group" == on_folder["entries"][0]["accessible_by"]["group_type"]
    assert [(BOB, "editor", file)] == [
        (c["accessible_by"]["login"], c["role"], c["item"]["id"]) for c in on_file["entries"]
    ]
    assert "collaboration" == on_file["entries"][0]["type"]


def test_collaborations_page_by_marker(box, alice):
    """With more collaborations than `limit`, `next_marker` leads to the rest."""
    folder = box.add_folder("Crowd", owner=ALICE)
    for n in range(5):
        box.collaborate(folder, user=f"user{n}@example.com")

    first = alice.get(f"/2.0/folders/{folder}/collaborations", params={"limit": 3}).json()
    rest = alice.get(
        f"/2.0/folders/{folder}/collaborations",
        params={"limit": 3, "marker": first["next_marker"]},
    ).json()

    logins = [c["accessible_by"]["login"] for c in first["entries"] + rest["entries"]]
    assert [f"user{n}@example.com" for n in range(5)] == logins
    assert rest["next_marker"] is None


def test_group_memberships_page_by_offset_with_total_count(box, alice, bob):
    """`/groups/{id}/memberships` pages by `offset`/`limit` and reports `total_count`; each
    entry is a `group_membership` with its `user` and `group`; a user neither admin nor member
    is refused 403."""
    group = box.add_group("Everyone", [f"m{n}@example.com" for n in range(5)])
    outsiders = box.add_group("Others", ["zed@example.com"])

    first = alice.get(f"/2.0/groups/{group}/memberships", params={"limit": 2}).json()
    last = alice.get(f"/2.0/groups/{group}/memberships", params={"limit": 2, "offset": 4}).json()
    refused = bob.get(f"/2.0/groups/{outsiders}/memberships")

    assert (5, 0, 2) == (first["total_count"], first["offset"], first["limit"])
    assert ["m0@example.com", "m1@example.com"] == [e["user"]["login"] for e in first["entries"]]
    assert ["m4@example.com"] == [e["user"]["login"] for e in last["entries"]]
    assert ("group_membership", group) == (
        first["entries"][0]["type"],
        first["entries"][0]["group"]["id"],
    )
    assert (403, "access_denied_insufficient_permissions") == (
        refused.status_code,
        refused.json()["code"],
    )


def test_shared_links_carry_their_access_level(box, alice):
    """An item's `shared_link` is null until made, then carries `url`, `access` and
    `effective_access` (`open`, `company` or `collaborators`), and `download_url` for files."""
    file = box.add_file("memo.txt", b"x", owner=ALICE)
    before = alice.get(f"/2.0/files/{file}").json()["shared_link"]
    box.set_shared_link(file, "collaborators")

    link = alice.get(f"/2.0/files/{file}", params={"fields": "shared_link"}).json()["shared_link"]

    assert before is None
    assert ("collaborators", "collaborators") == (link["access"], link["effective_access"])
    assert link["url"].startswith("https://app.box.com/s/")
    assert link["download_url"].endswith(".txt")


def test_content_redirects_to_a_download_url_that_serves_the_bytes_without_a_token(box, alice):
    """`/files/{id}/content` answers 302 with a `Location` on another path; that URL serves
    the bytes to a client without any token, and honours `Range`."""
    file = box.add_file("report.txt", b"0123456789", owner=ALICE)

    redirect = alice.get(f"/2.0/files/{file}/content")
    location = redirect.headers["location"]
    whole = httpx.get(location)
    part = httpx.get(location, headers={"Range": "bytes=2-4"})

    assert 302 == redirect.status_code
    assert "/2.0/" not in location
    assert (200, b"0123456789") == (whole.status_code, whole.content)
    assert (206, b"234", "bytes 2-4/10") == (
        part.status_code,
        part.content,
        part.headers["content-range"],
    )


def test_content_not_ready_answers_202_with_retry_after(box, alice):
    """The `content_not_ready` fault makes a download answer 202 with `Retry-After` and no
    body, as Box does for a file uploaded a moment ago; the retry gets the redirect."""
    file = box.add_file("fresh.txt", b"x", owner=ALICE)
    box.inject("content_not_ready", retry_after=2)

    waiting = alice.get(f"/2.0/files/{file}/content")
    ready = alice.get(f"/2.0/files/{file}/content")

    assert (202, "2", b"") == (waiting.status_code, waiting.headers["retry-after"], waiting.content)
    assert 302 == ready.status_code


def test_rate_limit_fault_answers_429_with_retry_after_and_box_body(box, alice):
    """An injected 429 carries `retry-after` and Box's documented body (`rate_limit_exceeded`,
    "Request rate limit exceeded, please try again later"); the next request succeeds."""
    box.inject("429", retry_after=7)

    limited = alice.get("/2.0/folders/0/items")
    after = alice.get("/2.0/folders/0/items")

    body = limited.json()
    assert (429, "7") == (limited.status_code, limited.headers["retry-after"])
    assert ("error", 429, "rate_limit_exceeded") == (body["type"], body["status"], body["code"])
    assert "Request rate limit exceeded, please try again later" == body["message"]
    assert 200 == after.status_code


def test_an_expired_access_token_gets_401_with_www_authenticate(box, alice):
    """After the `401` fault expires the caller's token, every call with it answers 401
    `unauthorized` with a `WWW-Authenticate: Bearer ... invalid_token` header."""
    box.inject("401")

    first = alice.get("/2.0/users/me")
    second = alice.get("/2.0/users/me")

    assert (401, 401) == (first.status_code, second.status_code)
    assert "unauthorized" == second.json()["code"]
    assert 'error="invalid_token"' in second.headers["www-authenticate"]


def test_refresh_tokens_are_single_use_and_rotate(box, box_server):
    """A refresh (form body) returns a new access token and a new refresh token, with
    `token_type: bearer`, `restricted_to` and no `scope`; the old refresh token is then refused
    with 400 `invalid_grant`, and the new one works once more."""
    access, refresh = box.issue_tokens(ALICE)
    form = {
        "grant_type": "refresh_token",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    url = f"{box_server.url}/oauth2/token"

    first = httpx.post(url, data={**form, "refresh_token": refresh})
    reused = httpx.post(url, data={**form, "refresh_token": refresh})
    body = first.json()
    again = httpx.post(url, data={**form, "refresh_token": body["refresh_token"]})
    me = httpx.get(
        f"{box_server.url}/2.0/users/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )

    assert 200 == first.status_code
    assert body["refresh_token"] != refresh
    assert body["access_token"] != access
    assert ("bearer", []) == (body["token_type"], body["restricted_to"])
    assert "scope" not in body
    assert (400, "invalid_grant") == (reused.status_code, reused.json()["error"])
    assert 200 == again.status_code
    assert ALICE == me.json()["login"]


def test_authorization_code_flow_issues_tokens_once(box, box_server):
    """`/api/oauth2/authorize` redirects back with a code and the `state`; exchanging it
    yields tokens, and exchanging it again is refused with `invalid_grant`."""
    redirect = httpx.get(
        f"{box_server.url}/api/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": SANDBOX_CLIENT_ID,
            "redirect_uri": "https://app.example.com/cb",
            "state": "xyz",
            "box_login": BOB,
        },
    )
    query = httpx.URL(redirect.headers["location"]).params
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "redirect_uri": "https://app.example.com/cb",
    }

    exchanged = httpx.post(f"{box_server.url}/oauth2/token", data=form)
    replayed = httpx.post(f"{box_server.url}/oauth2/token", data=form)

    assert (302, "xyz") == (redirect.status_code, query["state"])
    assert 200 == exchanged.status_code
    assert exchanged.json()["refresh_token"]
    assert (400, "invalid_grant") == (replayed.status_code, replayed.json()["error"])
