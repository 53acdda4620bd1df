"""Fixtures for the fake Drive: a state, its app, and an authenticated in-process client."""

from collections.abc import AsyncIterator

import httpx
import pytest

from syncline.sandbox import DriveState, create_drive_app


class Clock:
    """A hand-driven clock, so token expiry and timestamps are deterministic."""

    def __init__(self, now: float = 1_714_644_672.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> DriveState:
    return DriveState(clock=clock)


@pytest.fixture
async def http(state: DriveState) -> AsyncIterator[httpx.AsyncClient]:
    """Unauthenticated client talking to the app in-process."""
    transport = httpx.ASGITransport(app=create_drive_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


@pytest.fixture
async def alice(state: DriveState, http: httpx.AsyncClient) -> httpx.AsyncClient:
    """`http` with Alice's bearer token."""
    access, _ = state.issue_tokens("alice@example.com")
    http.headers["Authorization"] = f"Bearer {access}"
    return http


@pytest.fixture
def bob_headers(state: DriveState) -> dict[str, str]:
    access, _ = state.issue_tokens("bob@example.com")
    return {"Authorization": f"Bearer {access}"}
