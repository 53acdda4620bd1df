"""Apply and inspect Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from syncline.store.database import sync_driver_url, translate_errors

_HERE = Path(__file__).parent


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["url"] = sync_driver_url(url)
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (creates a SQLite file if needed)."""
    with translate_errors():
        command.upgrade(_config(url), "head")


def is_current(url: str) -> bool:
    """Whether the database is reachable and at the newest migration."""
    head = ScriptDirectory.from_config(_config(url)).get_current_head()
    engine = create_engine(sync_driver_url(url), poolclass=pool.NullPool)
    try:
        with translate_errors(), engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()
