"""The sandbox Dropbox under test control.

`DropboxControl` adapts one account's Dropbox to the kit's control API (`syncline sandbox
add|edit|delete`): adding uploads a file to the root, editing uploads a new revision and/or
renames, deleting deletes, each logged as `list_folder/continue` would show it.

`control_routes` serves the fake's own knobs, which Dropbox has no API for:

    POST /_dropbox/cursors/reset   every cursor issued so far gets 409 `reset` from
                                   `files/list_folder/continue` (Dropbox: "Folder cursors are
                                   long-lived, but may expire if unused for an extended time")
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.dropbox.errors import json_response
from syncline.sandbox.dropbox.state import DropboxState
from syncline.sandbox.kit.control import ControlledFile

__all__ = ["DropboxControl", "control_routes"]


@dataclass(frozen=True, slots=True)
class DropboxControl:
    state: DropboxState
    email: str

    def files(self) -> list[ControlledFile]:
        with self.state.lock:
            user = self.state.ensure_user(self.email)
            return [
                ControlledFile(
                    item.id,
                    path.rsplit("/", 1)[-1],
                    "" if item.tag == "folder" else _mime(path),
                    item.tag == "folder",
                )
                for path, item in self.state.view(user)
            ]

    def add(self, name: str, content: bytes) -> str:
        return self.state.add_file(name, content, owner=self.email)

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        if content is not None:
            self.state.edit(file_id, content, by=self.email)
        if name is not None:
            self.state.move(file_id, name=name)

    def delete(self, file_id: str) -> None:
        self.state.delete(file_id)


def _mime(name: str) -> str:
    if name.endswith(".paper"):
        return "application/vnd.dropbox.paper"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def control_routes(state: DropboxState) -> list[Route]:
    async def reset(_: Request) -> Response:
        state.reset_cursors()
        return json_response({"cursor_epoch": state.cursor_epoch})

    return [Route("/_dropbox/cursors/reset", reset, methods=["POST"])]
