"""Store-level fixtures: a project with a credential and a sync, straight through the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from syncline.domain.projects import Project
from syncline.domain.syncs import Sync
from syncline.store import Store
from syncline.store.store import NewCredential, NewSync

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
"""A fixed "now" for store tests."""
LEASE = timedelta(seconds=60)
"""The lease store tests claim runs with."""


async def new_sync(
    store: Store, now: datetime, name: str = "default", *, project_id: str | None = None
) -> Sync:
    """A new Google Drive sync of user `u`, with a credential, in `project_id` or a new project."""
    if project_id is None:
        project = Project(str(uuid.uuid4()), "p", "pem", None, None, now)
        await store.create_project(project, now)
        project_id = project.id
    credential = await store.add_credential(
        NewCredential(project_id, "u", "googledrive", "a", "r", None, [], None), now
    )
    new = NewSync(
        id=str(uuid.uuid4()),
        project_id=project_id,
        user_id="u",
        integration="googledrive",
        pipeline="files",
        configuration_name=name,
        configuration={},
        credential_id=credential.id,
        frequency=None,
    )
    sync, created = await store.create_sync(new, now)
    assert created
    return sync
