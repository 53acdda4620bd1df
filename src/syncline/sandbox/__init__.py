"""Faithful fake upstream servers for tests, benchmarks and the demo: one package per provider
(`googledrive`, `msgraph`) on the shared `kit`.

state = DriveState()
access, refresh = state.issue_tokens("alice@example.com")
state.add_file("notes.txt", content=b"hello")
with BackgroundServer(create_drive_app(state)) as server:
    httpx.get(f"{server.url}/drive/v3/files", headers={"Authorization": f"Bearer {access}"})
"""

from syncline.sandbox.googledrive import (
    CHAOS_FAULTS,
    DRIVE_FAULTS,
    ChangeView,
    DriveFile,
    DriveState,
    Permission,
    SharedDrive,
    create_drive_app,
)
from syncline.sandbox.googledrive.samples import Generated, Sharing, generate, populate
from syncline.sandbox.kit.server import ABORT_EXTENSION, BackgroundServer

__all__ = [
    "ABORT_EXTENSION",
    "CHAOS_FAULTS",
    "DRIVE_FAULTS",
    "BackgroundServer",
    "ChangeView",
    "DriveFile",
    "DriveState",
    "Generated",
    "Permission",
    "SharedDrive",
    "Sharing",
    "create_drive_app",
    "generate",
    "populate",
]
