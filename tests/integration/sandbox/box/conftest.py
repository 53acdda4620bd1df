"""The sandbox Box served over real HTTP, for its own integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncline.sandbox import BackgroundServer
from syncline.sandbox.box import BoxState, create_box_app

ALICE = "alice@example.com"
BOB = "bob@example.com"


@pytest.fixture
def box() -> BoxState:
    state = BoxState()
    state.add_user(ALICE, "Alice Admin", is_admin=True)
    state.add_user(BOB, "Bob Builder")
    return state


@pytest.fixture
def box_server(box: BoxState) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_box_app(box)) as running:
        yield running


def _client(box: BoxState, server: BackgroundServer, login: str) -> httpx.Client:
    access, _ = box.issue_tokens(login)
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {access}"}, timeout=5
    )


@pytest.fixture
def alice(box: BoxState, box_server: BackgroundServer) -> Iterator[httpx.Client]:
    """Alice's client (she is an admin); redirects are not followed."""
    with _client(box, box_server, ALICE) as http:
        yield http


@pytest.fixture
def bob(box: BoxState, box_server: BackgroundServer) -> Iterator[httpx.Client]:
    with _client(box, box_server, BOB) as http:
        yield http
