"""The store under test, on each database of `database_url`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncline.store import Database, Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    db = Database(database_url)
    yield Store(db)
    await db.dispose()
