"""The fake Google Drive v3: `DriveState` to script it, `create_drive_app` to serve it."""

from syncline.sandbox.googledrive.app import create_drive_app
from syncline.sandbox.googledrive.model import DriveFile, Permission, SharedDrive
from syncline.sandbox.googledrive.state import CHAOS_FAULTS, DRIVE_FAULTS, ChangeView, DriveState

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
