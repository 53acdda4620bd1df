"""The fake Drive and other ASGI apps served over real HTTP on 127.0.0.1."""

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from syncline.sandbox import BackgroundServer, DriveState, generate


@pytest.fixture
def client(state: DriveState, server: BackgroundServer) -> Iterator[httpx.Client]:
    access, _ = state.issue_tokens()
    headers = {"Authorization": f"Bearer {access}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=5) as http:
        yield http


def test_background_server_serves_any_asgi_app():
    """BackgroundServer binds a free port on 127.0.0.1 and serves the given app."""
    app = Starlette(routes=[Route("/ping", lambda request: PlainTextResponse("pong"))])

    with BackgroundServer(app) as running:
        response = httpx.get(f"{running.url}/ping")

    assert running.url.startswith("http://127.0.0.1:")
    assert running.port != 0
    assert "pong" == response.text


def test_served_connections_send_small_writes_at_once():
    """Accepted connections have TCP_NODELAY (inherited from the listening socket), so an answer
    written in two small parts does not wait ~40 ms for the client's delayed ACK."""
    app = Starlette(routes=[Route("/ping", lambda request: PlainTextResponse("pong"))])

    with BackgroundServer(app) as running, httpx.Client(base_url=running.url) as http:
        http.get("/ping")
        sockets = [t.get_extra_info("socket") for t in running._transports.values()]
        nodelay = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets]

    assert nodelay
    assert all(nodelay)


def test_full_listing_and_changes_over_http(state, client):
    """A sync-shaped client (start token, full listing, then changes) sees everything."""
    generate(state, 2_500, n_folders=5)
    start = client.get("/drive/v3/changes/startPageToken").json()["startPageToken"]
    seen, token = [], None
    while True:
        params = {"pageSize": 1000, "fields": "nextPageToken,files(id,name,md5Checksum)"}
        body = client.get(
            "/drive/v3/files", params={**params, **({"pageToken": token} if token else {})}
        ).json()
        seen += body["files"]
        token = body.get("nextPageToken")
        if token is None:
            break
    renamed = seen[0]["id"]
    state.update_file(renamed, name="renamed.txt")

    changes = client.get("/drive/v3/changes", params={"pageToken": start}).json()

    assert 2_505 == len({f["id"] for f in seen})
    assert [(renamed, "renamed.txt")] == [
        (c["fileId"], c["file"]["name"]) for c in changes["changes"]
    ]


def test_drop_closes_the_socket_without_a_response(state, client):
    """A drop fault hangs up with no status line at all; the next request works."""
    state.inject("drop")

    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/drive/v3/files")

    assert 200 == client.get("/drive/v3/files").status_code


def test_timeout_fault_makes_the_client_time_out(state, server, client):
    """A timeout fault never answers before the client gives up; the server stays healthy."""
    state.inject("timeout")

    with pytest.raises(httpx.ReadTimeout):
        client.get("/drive/v3/files", timeout=0.2)

    assert 200 == client.get("/drive/v3/files").status_code


def test_rate_limit_over_http_keeps_headers(state, client):
    """Retry-After and the JSON envelope survive the real HTTP stack."""
    state.inject("429", retry_after=3)

    response = client.get("/drive/v3/files")

    assert (429, "3") == (response.status_code, response.headers["retry-after"])
    assert response.headers["content-type"].startswith("application/json")


def test_concurrent_requests_are_measured(state, server):
    """With latency, parallel requests overlap and max_concurrent shows it."""
    state.latency = 0.1
    access, _ = state.issue_tokens()

    async def burst() -> list[int]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {access}"}
        ) as http:
            responses = await asyncio.gather(*(http.get("/drive/v3/files") for _ in range(5)))
        return [r.status_code for r in responses]

    assert [200] * 5 == asyncio.run(burst())
    assert 5 == state.max_concurrent


def test_timeout_fault_serves_after_hang_seconds_if_the_client_waits(state, client):
    """A client more patient than hang_seconds eventually gets the normal answer."""
    state.hang_seconds = 0.1
    state.inject("timeout")

    response = client.get("/drive/v3/files", timeout=5)

    assert 200 == response.status_code
