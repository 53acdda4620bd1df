"""A faithful fake of the Dropbox API v2 (`files/list_folder` with its cursor and change
replay, `files/get_metadata`, downloads and Paper exports on the content host, sharing members
of shared folders and files, team folders and groups) and of Dropbox's OAuth 2.0 token endpoint
with short-lived access tokens and refresh tokens that do not rotate: for tests, benchmarks and
the demo.

state = DropboxState()
folder = state.add_folder("Reports", owner="alice@example.com")
state.add_file("q1.txt", b"...", folder, owner="alice@example.com")
access, refresh = state.issue_tokens("alice@example.com")
with BackgroundServer(create_dropbox_app(state)) as server:
    httpx.post(f"{server.url}/2/files/list_folder", json={"path": "", "recursive": True},
               headers={"Authorization": f"Bearer {access}"})
"""

from syncline.sandbox.dropbox.app import create_dropbox_app
from syncline.sandbox.dropbox.control import DropboxControl
from syncline.sandbox.dropbox.settings import dropbox_env
from syncline.sandbox.dropbox.state import (
    CONTENT_PREFIX,
    DROPBOX_FAULTS,
    DROPBOX_PATHS,
    DropboxState,
    Member,
    content_hash,
)

__all__ = [
    "CONTENT_PREFIX",
    "DROPBOX_FAULTS",
    "DROPBOX_PATHS",
    "DropboxControl",
    "DropboxState",
    "Member",
    "content_hash",
    "create_dropbox_app",
    "dropbox_env",
]
