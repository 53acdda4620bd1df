"""Failure knobs and traffic observation on the fake Drive."""

import asyncio

import httpx
import pytest

from syncline.sandbox import DriveState, create_drive_app


async def test_403_rate_limit_shape(alice, state):
    """403_rate answers Google's userRateLimitExceeded envelope, without Retry-After."""
    state.inject("403_rate")

    response = await alice.get("/drive/v3/files")

    expected = {
        "error": {
            "code": 403,
            "message": "User Rate Limit Exceeded",
            "errors": [
                {
                    "message": "User Rate Limit Exceeded",
                    "domain": "usageLimits",
                    "reason": "userRateLimitExceeded",
                }
            ],
        }
    }
    assert (403, expected) == (response.status_code, response.json())
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(("retry_after", "header"), [(None, None), (2, "2"), (0.5, "1")])
async def test_429_sends_retry_after_only_when_given(alice, state, retry_after, header):
    """429 rateLimitExceeded carries Retry-After (whole seconds) only when asked to."""
    state.inject("429", retry_after=retry_after)

    response = await alice.get("/drive/v3/files")

    reason = response.json()["error"]["errors"][0]["reason"]
    assert (429, "rateLimitExceeded", header) == (
        response.status_code,
        reason,
        response.headers.get("retry-after"),
    )


@pytest.mark.parametrize(
    ("fault", "status", "reason"),
    [
        ("403_permission", 403, "insufficientFilePermissions"),
        ("500", 500, "internalError"),
        ("503", 503, "backendError"),
        ("401", 401, "authError"),
    ],
)
async def test_error_faults_use_the_json_envelope(alice, state, fault, status, reason):
    """Each error fault answers its status with a Google JSON envelope."""
    state.inject(fault)

    response = await alice.get("/drive/v3/files")

    body = response.json()["error"]
    assert (status, status, reason) == (
        response.status_code,
        body["code"],
        body["errors"][0]["reason"],
    )


async def test_fault_applies_to_the_next_n_requests_then_clears(alice, state):
    """`times` counts requests; afterwards calls succeed again."""
    state.inject("503", times=2)

    statuses = [(await alice.get("/drive/v3/files")).status_code for _ in range(3)]

    assert [503, 503, 200] == statuses


async def test_fault_path_scopes_it(alice, state):
    """A fault with a path prefix only hits matching requests."""
    state.inject("500", path="/drive/v3/changes")

    files = await alice.get("/drive/v3/files")
    changes = await alice.get("/drive/v3/changes/startPageToken")

    assert (200, 500) == (files.status_code, changes.status_code)


async def test_token_endpoint_is_not_faulted_unless_named(http, state):
    """Unscoped faults skip /token; a fault scoped to /token hits it."""
    _, refresh = state.issue_tokens()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
    state.inject("500")

    spared = await http.post("/token", data=form)
    state.faults.clear()
    state.inject("503", path="/token")
    hit = await http.post("/token", data=form)

    assert (200, 503) == (spared.status_code, hit.status_code)


def test_unknown_fault_name_is_rejected(state):
    """inject refuses names it does not know."""
    with pytest.raises(ValueError, match="unknown fault"):
        state.inject("418")


async def test_drop_closes_without_a_response(alice, state):
    """In-process, drop surfaces as the error httpx raises when a server hangs up."""
    state.inject("drop")

    with pytest.raises(httpx.RemoteProtocolError):
        await alice.get("/drive/v3/files")

    assert 200 == (await alice.get("/drive/v3/files")).status_code


async def test_timeout_in_process_raises_read_timeout(alice, state):
    """In-process no client timeout can fire, so a timeout fault raises httpx.ReadTimeout."""
    state.inject("timeout")

    with pytest.raises(httpx.ReadTimeout):
        await alice.get("/drive/v3/files")

    assert 200 == (await alice.get("/drive/v3/files")).status_code


async def test_request_log_and_counts(alice, state):
    """Every request is recorded with method, path and query."""
    await alice.get("/drive/v3/files", params={"pageSize": "5"})
    await alice.get("/drive/v3/changes/startPageToken")

    assert ("GET", "/drive/v3/files", {"pageSize": "5"}) == state.requests[0]
    assert (2, 1, 1) == (
        state.request_count(),
        state.request_count("/drive/v3/files"),
        state.request_count("/drive/v3/changes"),
    )


async def test_latency_and_max_concurrent(state):
    """Latency delays responses, and max_concurrent records the peak in flight."""
    state.latency = 0.05
    access, _ = state.issue_tokens()
    transport = httpx.ASGITransport(app=create_drive_app(state))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {access}"},
    ) as client:
        responses = await asyncio.gather(*(client.get("/drive/v3/files") for _ in range(4)))

    assert [200] * 4 == [r.status_code for r in responses]
    assert 4 == state.max_concurrent


def test_state_is_usable_without_an_app():
    """DriveState alone scripts content (tests may inspect it directly)."""
    state = DriveState()
    fid = state.add_file("a", content=b"xyz")

    state.update_file(fid, content=b"new", name="b")

    item = state.get(fid)
    assert item is not None
    assert ("b", b"new", 2) == (item.name, item.content, item.version)
