"""The sandbox Notion served over real HTTP, for its own integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncline.sandbox import BackgroundServer
from syncline.sandbox.notion import NotionState, create_notion_app

OLD = "2022-06-28"
NEW = "2025-09-03"
START = 1_714_557_600.0  # 2024-05-01T10:00:00Z


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def notion(clock: Clock) -> NotionState:
    state = NotionState(clock=clock)
    state.add_person("Alice Example", "alice@example.com")
    return state


@pytest.fixture
def notion_server(notion: NotionState) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_notion_app(notion)) as running:
        yield running


def client(server: BackgroundServer, token: str | None, version: str | None = NEW) -> httpx.Client:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if version is not None:
        headers["Notion-Version"] = version
    return httpx.Client(base_url=server.url, headers=headers, timeout=5)


@pytest.fixture
def api(notion: NotionState, notion_server: BackgroundServer) -> Iterator[httpx.Client]:
    """The state's integration, speaking `2025-09-03`."""
    access, _ = notion.issue_tokens()
    with client(notion_server, access, NEW) as http:
        yield http


@pytest.fixture
def old_api(notion: NotionState, notion_server: BackgroundServer) -> Iterator[httpx.Client]:
    """The state's integration, speaking `2022-06-28`."""
    access, _ = notion.issue_tokens()
    with client(notion_server, access, OLD) as http:
        yield http


def search_all(http: httpx.Client, body: dict | None = None, page_size: int = 100) -> list[dict]:
    """Every search result, following `next_cursor`."""
    results: list[dict] = []
    cursor = None
    while True:
        request = {**(body or {}), "page_size": page_size}
        if cursor is not None:
            request["start_cursor"] = cursor
        answer = http.post("/v1/search", json=request)
        assert 200 == answer.status_code, answer.text
        page = answer.json()
        results += page["results"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            return results


def children_all(http: httpx.Client, block_id: str, page_size: int = 100) -> list[dict]:
    """Every child block of `block_id`, following `next_cursor`."""
    results: list[dict] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"page_size": page_size}
        if cursor is not None:
            params["start_cursor"] = cursor
        answer = http.get(f"/v1/blocks/{block_id}/children", params=params)
        assert 200 == answer.status_code, answer.text
        page = answer.json()
        results += page["results"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return results
