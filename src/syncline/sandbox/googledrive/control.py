"""The sandbox Drive under the kit's control API: one user's files, deleted to the trash."""

from __future__ import annotations

from dataclasses import dataclass

from syncline.sandbox.googledrive.model import FOLDER
from syncline.sandbox.googledrive.state import DriveState
from syncline.sandbox.kit.control import ControlledFile

__all__ = ["DriveControl"]


@dataclass(frozen=True)
class DriveControl:
    state: DriveState
    user: str

    def files(self) -> list[ControlledFile]:
        return [
            ControlledFile(f.id, f.name, f.mime_type, f.mime_type == FOLDER)
            for f in self.state.visible_files(self.user)
        ]

    def add(self, name: str, content: bytes) -> str:
        return self.state.add_file(name, content=content, owner=self.user)

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        self.state.update_file(file_id, name=name, content=content)

    def delete(self, file_id: str) -> None:
        self.state.trash(file_id)
