"""The `configuration` a Box sync accepts (API.md section 8): everything, one folder tree, or
chosen files; optionally only files of some MIME types."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = ["MAX_FILE_IDS", "ROOT_FOLDER", "BoxConfig"]

MAX_FILE_IDS = 1000
ROOT_FOLDER = "0"
"""Box's id for a user's "All Files"."""

BoxId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^\d+$")
]
MimeType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class BoxConfig(BaseModel):
    """What a Box `files` sync covers.

    `folderId`: the folder and everything below it (`"0"`, "All Files", is the same as giving
    nothing). `fileIds`: exactly these files (or web links). Neither: everything the account
    sees, its own items and those shared with it. `mimeTypes`: only files of these types
    (Box sends no MIME type: it is derived from the file name's extension); folders are always
    kept, they carry the tree. Giving `folderId` and `fileIds` together is an error.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    folder_id: BoxId | None = Field(default=None, alias="folderId")
    file_ids: list[BoxId] | None = Field(
        default=None, alias="fileIds", min_length=1, max_length=MAX_FILE_IDS
    )
    mime_types: list[MimeType] | None = Field(
        default=None, alias="mimeTypes", min_length=1, max_length=100
    )

    @field_validator("file_ids", "mime_types")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_scope_only(self) -> Self:
        if self.folder_id is not None and self.file_ids is not None:
            raise ValueError(
                "give either folderId (a folder tree) or fileIds (chosen items), not both"
            )
        return self
