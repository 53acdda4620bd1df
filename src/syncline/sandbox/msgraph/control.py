"""A drive of the sandbox Graph under the kit's control API: its live items, deleted for good
(as from the recycle bin, which the delta feed reports as `deleted`)."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from syncline.sandbox.kit.control import ControlledFile
from syncline.sandbox.msgraph.state import GraphState

__all__ = ["GraphControl"]


@dataclass(frozen=True)
class GraphControl:
    state: GraphState
    drive_id: str

    def files(self) -> list[ControlledFile]:
        with self.state.lock:
            root = self.state.root_id(self.drive_id)
            return [
                ControlledFile(i.id, i.name, "" if i.is_folder else i.mime_type, i.is_folder)
                for i in self.state.items.values()
                if i.drive_id == self.drive_id and not i.deleted and i.id != root
            ]

    def add(self, name: str, content: bytes) -> str:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self.state.add_file(self.drive_id, name, content, mime_type=mime)

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        self.state.update(file_id, name=name, content=content)

    def delete(self, file_id: str) -> None:
        self.state.delete(file_id)
