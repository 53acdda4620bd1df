"""The sandbox Dropbox served over real HTTP, for its own integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncline.sandbox import BackgroundServer
from syncline.sandbox.dropbox import DropboxState, create_dropbox_app

ALICE = "alice@example.com"
BOB = "bob@example.com"


@pytest.fixture
def dropbox() -> DropboxState:
    state = DropboxState()
    state.add_user(ALICE, "Alice Admin", is_admin=True)
    state.add_user(BOB, "Bob Builder")
    return state


@pytest.fixture
def dropbox_server(dropbox: DropboxState) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_dropbox_app(dropbox)) as running:
        yield running


def client(server: BackgroundServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


@pytest.fixture
def alice(dropbox: DropboxState, dropbox_server: BackgroundServer) -> Iterator[httpx.Client]:
    with client(dropbox_server, dropbox.issue_tokens(ALICE)[0]) as http:
        yield http


@pytest.fixture
def bob(dropbox: DropboxState, dropbox_server: BackgroundServer) -> Iterator[httpx.Client]:
    with client(dropbox_server, dropbox.issue_tokens(BOB)[0]) as http:
        yield http
