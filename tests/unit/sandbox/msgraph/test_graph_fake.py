"""The Graph fake behaves as Microsoft documents Graph v1.0 and its identity platform: paging,
delta (latest state, repeats, children before parents, deletions without names, moved folders
without descendants, 410 on a stale token), the 302 download that refuses a bearer token,
permissions with `inheritedFrom`, group members behind their scope, and rotating refresh
tokens with PKCE."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from syncline.sandbox.kit.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from syncline.sandbox.msgraph import GraphState, create_graph_app, quick_xor_hash

ALICE = "alice@contoso.com"


@pytest.fixture
def state() -> GraphState:
    return GraphState()


@pytest.fixture
async def http(state: GraphState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_graph_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://graph") as client:
        yield client


def _auth(state: GraphState, *scopes: str) -> dict[str, str]:
    access, _ = state.issue_tokens(ALICE, scopes or ("Files.Read.All", "Sites.Read.All"))
    return {"Authorization": f"Bearer {access}"}


def _reference_quick_xor(data: bytes) -> str:
    """A literal port of Microsoft's published QuickXorHash (three 64-bit cells, the last one
    32 bits wide), to check the fake's shorter circular form against."""
    width, shift = 160, 11
    cells = [0, 0, 0]
    vector_index, vector_offset = 0, 0
    for i in range(min(len(data), width)):
        last = vector_index == len(cells) - 1
        bits = 32 if last else 64
        if vector_offset <= bits - 8:
            for j in range(i, len(data), width):
                cells[vector_index] ^= data[j] << vector_offset
        else:
            index2 = 0 if last else vector_index + 1
            low = bits - vector_offset
            xored = 0
            for j in range(i, len(data), width):
                xored ^= data[j]
            cells[vector_index] ^= xored << vector_offset
            cells[index2] ^= xored >> low
        cells = [c & ((1 << 64) - 1) for c in cells]
        vector_offset += shift
        while vector_offset >= bits:
            vector_index = 0 if last else vector_index + 1
            vector_offset -= bits
            last = vector_index == len(cells) - 1
            bits = 32 if last else 64
    out = bytearray(cells[0].to_bytes(8, "little") + cells[1].to_bytes(8, "little"))
    out += cells[2].to_bytes(8, "little")[:4]
    for k, byte in enumerate(len(data).to_bytes(8, "little")):
        out[12 + k] ^= byte
    return base64.b64encode(bytes(out)).decode()


@pytest.mark.parametrize("size", [0, 1, 7, 19, 20, 21, 159, 160, 161, 1000, 4096])
def test_quick_xor_hash_matches_the_reference_algorithm(size):
    """The fake's QuickXorHash equals a literal port of Microsoft's reference, for sizes
    around the 160-byte period."""
    data = random.Random(size).randbytes(size)

    assert _reference_quick_xor(data) == quick_xor_hash(data)


async def test_children_page_with_next_links_and_select(state, http):
    """`children` pages by `$top` with an absolute `@odata.nextLink`; `$select` narrows the
    properties; items carry `parentReference.path`."""
    drive = state.add_personal_drive(ALICE)
    for i in range(5):
        state.add_file(drive, f"f{i}.txt")
    headers = _auth(state)

    first = (
        await http.get(
            f"/v1.0/drives/{drive}/root/children",
            params={"$top": 2, "$select": "id,name,parentReference"},
            headers=headers,
        )
    ).json()
    names = [i["name"] for i in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = (await http.get(link, headers=headers)).json()
        names += [i["name"] for i in page["value"]]
        link = page.get("@odata.nextLink")

    assert link is None
    assert [f"f{i}.txt" for i in range(5)] == names
    assert {"id", "name", "parentReference"} == set(first["value"][0])
    assert first["value"][0]["parentReference"]["path"] == f"/drives/{drive}/root:"


async def test_delta_shows_latest_state_repeats_and_deletions(state, http):
    """From `token=latest`, delta lists what changed: an item changed twice shows its latest
    state each time it appears, deletions carry `deleted` and no name, children come before
    their parents, and delta items carry no path."""
    drive = state.add_personal_drive(ALICE)
    headers = _auth(state)
    latest = (
        await http.get(
            f"/v1.0/drives/{drive}/root/delta", params={"token": "latest"}, headers=headers
        )
    ).json()
    folder = state.add_folder(drive, "Docs")
    doc = state.add_file(drive, "a.txt", parent=folder)
    state.update(doc, name="b.txt")
    gone = state.add_file(drive, "gone.txt")
    state.delete(gone)

    page = (await http.get(latest["@odata.deltaLink"], headers=headers)).json()
    value = page["value"]

    assert [] == latest["value"]
    assert ["b.txt", "b.txt"] == [i["name"] for i in value if i["id"] == doc]
    assert [v["id"] for v in value].index(doc) < [v["id"] for v in value].index(folder)
    deleted = [i for i in value if i["id"] == gone]
    assert all("deleted" in i and "name" not in i for i in deleted)
    assert all("path" not in i.get("parentReference", {}) for i in value)
    assert "@odata.deltaLink" in page


async def test_a_moved_folder_comes_without_its_descendants(state, http):
    """Moving a folder reports the folder only; its children's place changed silently."""
    drive = state.add_personal_drive(ALICE)
    headers = _auth(state)
    source = state.add_folder(drive, "Source")
    target = state.add_folder(drive, "Target")
    moved = state.add_folder(drive, "Moved", parent=source)
    child = state.add_file(drive, "inside.txt", parent=moved)
    latest = (
        await http.get(
            f"/v1.0/drives/{drive}/root/delta", params={"token": "latest"}, headers=headers
        )
    ).json()
    state.update(moved, parent=target)

    value = (await http.get(latest["@odata.deltaLink"], headers=headers)).json()["value"]

    assert [moved] == [i["id"] for i in value]
    assert child not in {i["id"] for i in value}


async def test_a_stale_delta_token_is_410_resync_required(state, http):
    """A token the service no longer honours answers 410 Gone with `resyncRequired` and a
    Location that restarts the enumeration; so does the `stale_delta` fault."""
    drive = state.add_personal_drive(ALICE)
    headers = _auth(state)
    latest = (
        await http.get(
            f"/v1.0/drives/{drive}/root/delta", params={"token": "latest"}, headers=headers
        )
    ).json()["@odata.deltaLink"]
    state.add_file(drive, "x.txt")
    state.expire_delta_tokens(drive)

    stale = await http.get(latest, headers=headers)

    assert 410 == stale.status_code
    assert "resyncRequired" == stale.json()["error"]["code"]
    assert stale.headers["location"].endswith(f"/drives/{drive}/root/delta")


async def test_a_silent_deletion_never_shows_in_delta(state, http):
    """An item that vanishes without a trace is absent from every later delta page."""
    drive = state.add_personal_drive(ALICE)
    headers = _auth(state)
    quiet = state.add_file(drive, "quiet.txt")
    latest = (
        await http.get(
            f"/v1.0/drives/{drive}/root/delta", params={"token": "latest"}, headers=headers
        )
    ).json()["@odata.deltaLink"]
    state.silently_delete(quiet)

    value = (await http.get(latest, headers=headers)).json()["value"]
    listed = (await http.get(f"/v1.0/drives/{drive}/root/children", headers=headers)).json()

    assert [] == value
    assert [] == listed["value"]


async def test_content_redirects_to_a_url_that_refuses_a_bearer(state, http):
    """`content` answers 302 to a pre-authenticated URL: without a token it serves the bytes,
    with one it answers 401 (a client leaking its token there is caught)."""
    drive = state.add_personal_drive(ALICE)
    file = state.add_file(drive, "a.bin", b"\x00bytes", mime_type="application/octet-stream")
    headers = _auth(state)

    redirect = await http.get(f"/v1.0/drives/{drive}/items/{file}/content", headers=headers)
    location = redirect.headers["location"]
    plain = await http.get(location)
    leaked = await http.get(location, headers=headers)

    assert 302 == redirect.status_code
    assert (200, b"\x00bytes") == (plain.status_code, plain.content)
    assert 401 == leaked.status_code


async def test_permissions_show_inheritance_and_links(state, http):
    """An item's permissions list its own (a user, a link) and those of its ancestors with
    `inheritedFrom`; a site library's root holds the site groups."""
    site = state.add_site("Eng", ALICE, members=["bob@contoso.com"])
    drive = state.sites[site].drive_ids[0]
    folder = state.add_folder(drive, "Shared")
    state.share(folder, user="carol@contoso.com")
    file = state.add_file(drive, "spec.txt", parent=folder)
    state.create_link(file, "organization")
    headers = _auth(state)

    value = (
        await http.get(f"/v1.0/drives/{drive}/items/{file}/permissions", headers=headers)
    ).json()["value"]

    own = [p for p in value if "inheritedFrom" not in p]
    inherited = [p for p in value if "inheritedFrom" in p]
    assert [("organization", "view")] == [(p["link"]["scope"], p["link"]["type"]) for p in own]
    assert "carol@contoso.com" in {
        p.get("grantedToV2", {}).get("user", {}).get("email") for p in inherited
    }
    assert {"siteGroup"} <= {k for p in inherited for k in p.get("grantedToV2", {})}


async def test_group_members_need_a_group_scope(state, http):
    """`groups/{id}/members` pages members (users and nested groups, with `@odata.type`), and
    answers 403 to a token without GroupMember.Read.All."""
    state.add_user("bob@contoso.com")
    inner = state.add_group("Inner", ["bob@contoso.com"])
    outer = state.add_group("Outer", [ALICE, inner])

    denied = await http.get(f"/v1.0/groups/{outer}/members", headers=_auth(state, "Files.Read.All"))
    allowed = await http.get(
        f"/v1.0/groups/{outer}/members",
        headers=_auth(state, "Files.Read.All", "GroupMember.Read.All"),
    )

    assert 403 == denied.status_code
    assert ["#microsoft.graph.user", "#microsoft.graph.group"] == [
        m["@odata.type"] for m in allowed.json()["value"]
    ]


async def test_refresh_tokens_rotate_and_the_old_one_dies(state, http):
    """Each refresh returns a new refresh token; the one just used answers invalid_grant with
    an AADSTS code, in Microsoft's error shape."""
    _, refresh = state.issue_tokens(ALICE)
    form = {
        "grant_type": "refresh_token",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }

    fresh = await http.post("/common/oauth2/v2.0/token", data={**form, "refresh_token": refresh})
    again = await http.post("/common/oauth2/v2.0/token", data={**form, "refresh_token": refresh})

    assert 200 == fresh.status_code
    assert fresh.json()["refresh_token"] != refresh
    assert {"token_type", "expires_in", "ext_expires_in", "access_token", "scope"} <= set(
        fresh.json()
    )
    assert (400, "invalid_grant") == (again.status_code, again.json()["error"])
    assert again.json()["error_description"].startswith("AADSTS")
    assert isinstance(again.json()["error_codes"], list)


async def test_the_code_flow_checks_pkce_and_the_redirect(state, http):
    """The authorize endpoint sends the user back with a code; the exchange needs the PKCE
    verifier and the same redirect_uri, and a code works once."""
    state.add_user(ALICE)
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    consent = await http.get(
        "/common/oauth2/v2.0/authorize",
        params={
            "client_id": SANDBOX_CLIENT_ID,
            "redirect_uri": "http://app/cb",
            "scope": "Files.Read.All offline_access",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "redirect_uri": "http://app/cb",
        "code": code,
    }

    wrong = await http.post("/common/oauth2/v2.0/token", data={**form, "code_verifier": "x" * 50})
    consent2 = await http.get(consent.request.url)
    code2 = parse_qs(urlsplit(consent2.headers["location"]).query)["code"][0]
    right = await http.post(
        "/common/oauth2/v2.0/token", data={**form, "code": code2, "code_verifier": verifier}
    )
    reused = await http.post(
        "/common/oauth2/v2.0/token", data={**form, "code": code2, "code_verifier": verifier}
    )

    assert "s1" == parse_qs(urlsplit(consent.headers["location"]).query)["state"][0]
    assert 400 == wrong.status_code
    assert 200 == right.status_code
    assert 400 == reused.status_code


async def test_faults_answer_in_graphs_throttling_form(state, http):
    """An armed 429 or 503 answers with Graph's envelope and `Retry-After`; a `401` fault
    expires the token it meets."""
    drive = state.add_personal_drive(ALICE)
    headers = _auth(state)
    state.inject("429", retry_after=7)
    state.inject("503", retry_after=3)
    state.inject("401")

    throttled = await http.get(f"/v1.0/drives/{drive}", headers=headers)
    unavailable = await http.get(f"/v1.0/drives/{drive}", headers=headers)
    expired = await http.get(f"/v1.0/drives/{drive}", headers=headers)
    after = await http.get(f"/v1.0/drives/{drive}", headers=headers)

    assert (429, "7", "TooManyRequests") == (
        throttled.status_code,
        throttled.headers["retry-after"],
        throttled.json()["error"]["code"],
    )
    assert (503, "3") == (unavailable.status_code, unavailable.headers["retry-after"])
    assert 401 == expired.status_code
    assert (401, "InvalidAuthenticationToken") == (after.status_code, after.json()["error"]["code"])
