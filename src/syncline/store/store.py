"""The store: every read and write Syncline makes, as use-case verbs over SQLAlchemy Core.

The verbs live in one module per concept (projects, credentials, syncs and leases, records and
their feed, the outbox and its deliveries, the event log, permissions); `Store` is all of them
over one `Database`, so callers keep one object and one set of verbs.
"""

from __future__ import annotations

from syncline.store.credentials import CredentialStore
from syncline.store.database import Database
from syncline.store.eventlog import EventLog
from syncline.store.outbox import OutboxStore
from syncline.store.permissions import PermissionStore
from syncline.store.projects import ProjectStore
from syncline.store.records import RecordStore
from syncline.store.releases import ReleaseQueue
from syncline.store.shapes import (
    Delivery,
    LiveRecord,
    NewCredential,
    NewSync,
    Progress,
    RecordPage,
    RunWrite,
    StoredTokens,
)
from syncline.store.syncs import SyncStore

__all__ = [
    "Delivery",
    "LiveRecord",
    "NewCredential",
    "NewSync",
    "Progress",
    "RecordPage",
    "RunWrite",
    "Store",
    "StoredTokens",
]


class Store(ProjectStore, CredentialStore, SyncStore, RecordStore, OutboxStore, EventLog):
    """All persistence, over one `Database` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.releases = ReleaseQueue(db)
        self.permissions = PermissionStore(db)
