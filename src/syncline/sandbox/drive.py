"""The fake Google Drive v3: `DriveState` to script it, `create_drive_app` to serve it."""

from syncline.sandbox.drive_app import create_drive_app
from syncline.sandbox.drive_model import DriveFile, Permission, SharedDrive
from syncline.sandbox.drive_state import CHAOS_FAULTS, DRIVE_FAULTS, ChangeView, DriveState

__all__ = [
    "CHAOS_FAULTS",
    "DRIVE_FAULTS",
    "ChangeView",
    "DriveFile",
    "DriveState",
    "Permission",
    "SharedDrive",
    "create_drive_app",
]
