"""The sandbox Drive served over real HTTP, for the sandbox's own integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncline.sandbox import BackgroundServer, DriveState, create_drive_app


@pytest.fixture
def state() -> DriveState:
    return DriveState()


@pytest.fixture
def server(state: DriveState) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_drive_app(state)) as running:
        yield running
