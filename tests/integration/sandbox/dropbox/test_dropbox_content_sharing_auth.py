"""The sandbox Dropbox's content host, sharing members, team routes, rate limits and OAuth over
real HTTP."""

from __future__ import annotations

import json

import httpx

from syncline.sandbox import BackgroundServer
from syncline.sandbox.dropbox import (
    CONTENT_PREFIX,
    DropboxState,
    content_hash,
    create_dropbox_app,
)
from syncline.sandbox.dropbox.samples import populate
from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.integration.sandbox.dropbox.conftest import ALICE, BOB, client


def test_download_on_the_content_host_returns_bytes_and_metadata_in_the_result_header(
    dropbox, alice
):
    """`files/download` takes `Dropbox-API-Arg` and answers the bytes, with the file's
    metadata as JSON in `Dropbox-API-Result` (non-ASCII escaped); not on the RPC host."""
    file_id = dropbox.add_file("Résumé.txt", b"hello bytes", owner=ALICE)

    answer = alice.post(
        f"{CONTENT_PREFIX}/2/files/download",
        headers={"Dropbox-API-Arg": json.dumps({"path": file_id})},
    )
    on_rpc_host = alice.post("/2/files/download", json={"path": file_id})

    assert 200 == answer.status_code
    assert b"hello bytes" == answer.content
    raw = answer.headers["dropbox-api-result"]
    assert raw.isascii()
    result = json.loads(raw)
    assert (result["id"], result["name"]) == (file_id, "Résumé.txt")
    assert result["content_hash"] == content_hash(b"hello bytes")
    assert on_rpc_host.status_code >= 400


def test_paper_docs_are_not_downloadable_and_export_to_markdown_or_html(dropbox, alice):
    """A `.paper` file has `is_downloadable: false` and `export_info`; download is 409
    `unsupported_file`; `files/export` gives Markdown or HTML with `export_metadata`."""
    doc = dropbox.add_paper("Plan.paper", "# Plan\n\nShip it.\n", owner=ALICE)
    entry = alice.post("/2/files/get_metadata", json={"path": doc}).json()
    refused = alice.post(
        f"{CONTENT_PREFIX}/2/files/download", headers={"Dropbox-API-Arg": json.dumps({"path": doc})}
    )

    def export(fmt):
        arg = json.dumps({"path": doc, "export_format": fmt})
        return alice.post(f"{CONTENT_PREFIX}/2/files/export", headers={"Dropbox-API-Arg": arg})

    markdown, html = export("markdown"), export("html")

    assert entry["is_downloadable"] is False
    assert "markdown" in entry["export_info"]["export_options"]
    assert 409 == refused.status_code
    assert refused.json()["error"][".tag"] == "unsupported_file"
    assert markdown.text == "# Plan\n\nShip it.\n"
    assert (
        json.loads(markdown.headers["dropbox-api-result"])["export_metadata"]["name"] == "Plan.md"
    )
    assert "<h1>Plan</h1>" in html.text
    assert 409 == export("docx").status_code


def test_shared_folders_carry_ids_and_list_members_in_pages(dropbox, alice, bob):
    """A shared folder's entry has `sharing_info.shared_folder_id`, its files
    `parent_shared_folder_id`; the member sees it mounted at `/<name>`;
    `list_folder_members` pages users, groups and invitees with `access_type` through
    `/continue`."""
    samples = populate(dropbox, user=ALICE, colleague=BOB)
    shared = samples.shared_folder
    mine = alice.post("/2/files/list_folder", json={"path": "", "recursive": True}).json()
    theirs = bob.post("/2/files/list_folder", json={"path": "", "recursive": True}).json()

    first = alice.post(
        "/2/sharing/list_folder_members", json={"shared_folder_id": shared, "limit": 2}
    ).json()
    rest = alice.post(
        "/2/sharing/list_folder_members/continue", json={"cursor": first["cursor"]}
    ).json()
    meta = bob.post("/2/sharing/get_folder_metadata", json={"shared_folder_id": shared}).json()

    folder = next(e for e in mine["entries"] if e["path_lower"] == "/projects")
    assert folder["sharing_info"]["shared_folder_id"] == shared
    brief = next(e for e in theirs["entries"] if e["path_lower"] == "/projects/acme/brief.txt")
    assert brief["sharing_info"]["parent_shared_folder_id"] == shared
    users = first["users"] + rest["users"]
    assert {(u["user"]["email"], u["access_type"][".tag"]) for u in users} == {
        (ALICE, "owner"),
        (BOB, "editor"),
    }
    assert [g["group"]["group_name"] for g in first["groups"] + rest["groups"]] == ["Design"]
    invitees = first["invitees"] + rest["invitees"]
    assert invitees[0]["invitee"] == {".tag": "email", "email": "contractor@example.org"}
    assert invitees[0]["access_type"][".tag"] == "viewer_no_comment"
    assert "cursor" not in rest
    assert meta["access_type"][".tag"] == "editor"
    assert meta["path_lower"] == "/projects"


def test_file_members_include_explicit_and_inherited_members(dropbox, alice):
    """`list_file_members` lists a file's own members and, with `include_inherited`, those
    of its shared folder marked `is_inherited`; `limit` pages through `/continue`."""
    samples = populate(dropbox, user=ALICE, colleague=BOB)
    budget = samples.paths["Budget.csv"]
    brief = samples.paths["Projects/Acme/brief.txt"]

    own = alice.post("/2/sharing/list_file_members", json={"file": budget}).json()
    page = alice.post("/2/sharing/list_file_members", json={"file": brief, "limit": 1}).json()
    pages = [page]
    while "cursor" in page:
        page = alice.post(
            "/2/sharing/list_file_members/continue", json={"cursor": page["cursor"]}
        ).json()
        pages.append(page)

    assert {(u["user"]["email"], u["access_type"][".tag"]) for u in own["users"]} == {
        (ALICE, "owner"),
        (BOB, "viewer"),
    }
    inherited = [m for p in pages for m in p["users"] + p["groups"] + p["invitees"]]
    assert 4 == len(pages) == len(inherited)
    assert all(m["is_inherited"] for m in inherited)


def test_team_routes_list_team_folders_groups_and_group_members(dropbox, dropbox_server):
    """With a team token: `team/team_folder/list`, `team/groups/list` and
    `team/groups/members/list` (+ `/continue`); user routes need `Dropbox-API-Select-User`,
    and `Dropbox-API-Path-Root` with the team root shows team folders."""
    samples = populate(dropbox, user=ALICE, colleague=BOB)
    dropbox.add_group("Everyone", [ALICE, BOB])
    team_token, _ = dropbox.issue_team_tokens()
    with client(dropbox_server, team_token) as team:
        folders = team.post("/2/team/team_folder/list", json={}).json()
        groups = team.post("/2/team/groups/list", json={"limit": 1}).json()
        more = team.post("/2/team/groups/list/continue", json={"cursor": groups["cursor"]}).json()
        everyone = next(
            g for g in groups["groups"] + more["groups"] if g["group_name"] == "Everyone"
        )
        members = team.post(
            "/2/team/groups/members/list",
            json={"group": {".tag": "group_id", "group_id": everyone["group_id"]}, "limit": 1},
        ).json()
        rest = team.post(
            "/2/team/groups/members/list/continue", json={"cursor": members["cursor"]}
        ).json()
        no_select = team.post("/2/files/list_folder", json={"path": ""})
        bob_id = dropbox.user(BOB).team_member_id
        root = json.dumps({".tag": "root", "root": dropbox.team.root_ns})
        as_bob = team.post(
            "/2/files/list_folder",
            json={"path": ""},
            headers={"Dropbox-API-Select-User": bob_id, "Dropbox-API-Path-Root": root},
        ).json()

    assert [f["team_folder_id"] for f in folders["team_folders"]] == [samples.team_folder]
    assert folders["has_more"] is False
    assert groups["has_more"] is True
    emails = {m["profile"]["email"] for m in members["members"] + rest["members"]}
    assert emails == {ALICE, BOB}
    assert members["has_more"]
    assert not rest["has_more"]
    assert 400 == no_select.status_code
    assert "Dropbox-API-Select-User" in no_select.text
    assert "/handbook" in {e["path_lower"] for e in as_bob["entries"]}


def _refresh(server, refresh_token):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    return httpx.post(f"{server.url}/dropbox/oauth2/token", data=form).json()["access_token"]


def test_get_authenticated_admin_names_the_admin_who_linked_the_team_app(dropbox, dropbox_server):
    """`team/token/get_authenticated_admin` takes no arguments (no body, or `null` as the SDKs
    send) and answers a team token with the `admin_profile` of whoever linked it, a
    `TeamMemberProfile` (team member id, account id, email, name, status, groups, member and
    root folder ids): by default the team's first admin (BOB here, though ALICE joined first),
    else the member `issue_team_tokens(admin=...)` names; a refreshed access token keeps its
    grant's admin."""
    dropbox.create_team()
    dropbox.user(ALICE).is_admin = False
    dropbox.user(BOB).is_admin = True
    design = dropbox.add_group("Design", [ALICE])
    default_access, refresh = dropbox.issue_team_tokens()
    named_access, _ = dropbox.issue_team_tokens(admin=ALICE)
    refreshed_access = _refresh(dropbox_server, refresh)
    route = "/2/team/token/get_authenticated_admin"
    with client(dropbox_server, default_access) as team:
        bare = team.post(route)
    with client(dropbox_server, refreshed_access) as team:
        refreshed = team.post(route, content=b"null", headers={"Content-Type": "application/json"})
    with client(dropbox_server, named_access) as team:
        named = team.post(route).json()["admin_profile"]

    alice, bob = dropbox.user(ALICE), dropbox.user(BOB)
    assert 200 == bare.status_code == refreshed.status_code
    assert refreshed_access != default_access
    assert bare.json() == refreshed.json()
    profile = bare.json()["admin_profile"]
    assert (profile["team_member_id"], profile["account_id"], profile["email"]) == (
        bob.team_member_id,
        bob.account_id,
        BOB,
    )
    assert profile["name"]["display_name"] == "Bob Builder"
    assert profile["status"] == {".tag": "active"}
    assert profile["membership_type"] == {".tag": "full"}
    assert profile["groups"] == []
    assert profile["member_folder_id"] == bob.home
    assert profile["root_folder_id"] == dropbox.team.root_ns
    assert {"email_verified", "joined_on"} <= set(profile)
    assert (named["team_member_id"], named["email"], named["groups"]) == (
        alice.team_member_id,
        ALICE,
        [design],
    )


def test_get_authenticated_admin_refuses_a_user_token_like_every_team_route(dropbox, alice):
    """A user-linked token on `team/token/get_authenticated_admin` gets the plain-text 400 that
    the other team routes give it (the token is for a single Dropbox user)."""
    dropbox.create_team()

    answer = alice.post("/2/team/token/get_authenticated_admin")
    groups = alice.post("/2/team/groups/list", json={})

    assert 400 == answer.status_code == groups.status_code
    assert answer.headers["content-type"].startswith("text/plain")
    assert "for a single Dropbox user" in answer.text
    assert answer.text.replace("team/token/get_authenticated_admin", "team/groups/list") == (
        groups.text
    )


def test_get_authenticated_admin_without_an_active_linking_admin_is_a_409():
    """A team token for which no admin was recorded (linked before the team had a member)
    answers 409 `mapping_not_found`; one whose admin has lost the admin role since linking
    answers 409 `admin_not_active`; other team routes still answer such a token."""
    state = DropboxState()
    state.create_team()
    unmapped, _ = state.issue_team_tokens()
    state.add_user(ALICE, "Alice Admin", is_admin=True)
    demoted, _ = state.issue_team_tokens()
    state.user(ALICE).is_admin = False
    with BackgroundServer(create_dropbox_app(state)) as server:
        with client(server, unmapped) as team:
            missing = team.post("/2/team/token/get_authenticated_admin")
            works = team.post("/2/team/groups/list", json={})
        with client(server, demoted) as team:
            inactive = team.post("/2/team/token/get_authenticated_admin")

    assert 409 == missing.status_code == inactive.status_code
    assert missing.json() == {
        "error_summary": "mapping_not_found/...",
        "error": {".tag": "mapping_not_found"},
    }
    assert inactive.json()["error"] == {".tag": "admin_not_active"}
    assert inactive.json()["error_summary"].startswith("admin_not_active/")
    assert 200 == works.status_code


def test_429_comes_with_retry_after_as_json_or_plain_text(dropbox, alice):
    """The `429` fault answers `too_many_requests` with `retry_after` and `Retry-After`; the
    `429_text` fault a body that is not JSON with only the header."""
    dropbox.faults.inject("429", retry_after=3)
    dropbox.faults.inject("429_text", retry_after=2)
    limited = alice.post("/2/files/list_folder", json={"path": ""})
    bare = alice.post("/2/files/list_folder", json={"path": ""})
    fine = alice.post("/2/files/list_folder", json={"path": ""})

    assert (429, "3") == (limited.status_code, limited.headers["retry-after"])
    assert limited.json()["error"] == {"reason": {".tag": "too_many_requests"}, "retry_after": 3}
    assert limited.json()["error_summary"].startswith("too_many_requests/")
    assert (429, "2", b"") == (bare.status_code, bare.headers["retry-after"], bare.content)
    assert 200 == fine.status_code


def test_expired_tokens_get_401_and_refresh_keeps_the_same_refresh_token(dropbox, dropbox_server):
    """An expired access token answers 401 `expired_access_token`; `POST /dropbox/oauth2/token`
    with the refresh token gives a new access token with `expires_in` 14400 and no new
    refresh token, and the same refresh token works again."""
    access, refresh = dropbox.issue_tokens(ALICE)
    dropbox.expire_access_token(access)
    with client(dropbox_server, access) as http:
        expired = http.post("/2/files/list_folder", json={"path": ""})
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    first = httpx.post(f"{dropbox_server.url}/dropbox/oauth2/token", data=form).json()
    second = httpx.post(f"{dropbox_server.url}/dropbox/oauth2/token", data=form)
    bad = httpx.post(
        f"{dropbox_server.url}/dropbox/oauth2/token", data={**form, "refresh_token": "nope"}
    )
    with client(dropbox_server, first["access_token"]) as http:
        works = http.post("/2/files/list_folder", json={"path": ""})

    assert 401 == expired.status_code
    assert expired.json()["error"] == {".tag": "expired_access_token"}
    assert first["expires_in"] == 14400
    assert first["token_type"] == "bearer"
    assert "refresh_token" not in first
    assert 200 == second.status_code
    assert 200 == works.status_code
    assert (400, "invalid_grant") == (bad.status_code, bad.json()["error"])
