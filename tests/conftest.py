"""Shared fixtures: a clean environment, and databases (SQLite always, PostgreSQL when asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from syncline.store.migrate import upgrade

PG_URL = os.environ.get("SYNCLINE_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the SYNCLINE_* settings of the shell that runs it."""
    for name in list(os.environ):
        if name.startswith("SYNCLINE_") and name != "SYNCLINE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


def _pg_url(database: str) -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    assert PG_URL is not None
    url = make_url(PG_URL).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session, copied for each test."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set SYNCLINE_TEST_POSTGRES_URL")
        pytest.skip("SYNCLINE_TEST_POSTGRES_URL is not set")
    name = f"syncline_tpl_{os.getpid()}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    yield name
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty, migrated database: a SQLite file, or a PostgreSQL copy of the template."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "syncline.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, copied from the template."""
    name = f"syncline_t_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
