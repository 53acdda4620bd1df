"""Store-level fixtures: a project with a credential and a sync, straight through the store."""

from __future__ import annotations

import uuid
from datetime import datetime

from syncline.domain.projects import Project
from syncline.domain.syncs import Sync
from syncline.store import Store
from syncline.store.store import NewCredential, NewSync


async def new_sync(store: Store, now: datetime, name: str = "default") -> Sync:
    """A new Google Drive sync of user `u` in a new project, with a credential."""
    project = Project(str(uuid.uuid4()), "p", "pem", None, None, now)
    await store.save_project(project, now)
    credential = await store.add_credential(
        NewCredential(project.id, "u", "googledrive", "a", "r", None, [], None), now
    )
    new = NewSync(
        id=str(uuid.uuid4()),
        project_id=project.id,
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
