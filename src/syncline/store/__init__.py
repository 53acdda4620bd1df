"""Persistence: SQLAlchemy Core tables, the store, and Alembic migrations; the only SQL."""

from syncline.store.database import Database, database_url
from syncline.store.store import Store

__all__ = ["Database", "Store", "database_url"]
