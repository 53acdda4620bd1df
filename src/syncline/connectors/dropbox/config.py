"""The `configuration` a Dropbox sync accepts (API.md section 8): everything, one folder tree
(named by its `id:` or its path), or chosen files; optionally only files of some MIME types;
and, for a team admin's credential, the team's folders too (`orgWideSync`)."""

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

__all__ = ["MAX_FILE_IDS", "DropboxConfig", "is_id"]

MAX_FILE_IDS = 1000

FileId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=4, max_length=256, pattern=r"^id:[A-Za-z0-9_\-]+$"
    ),
]
FolderRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4096)]
MimeType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def is_id(value: str) -> bool:
    """A Dropbox file or folder id (`id:...`), as opposed to a path."""
    return value.startswith("id:")


class DropboxConfig(BaseModel):
    """What a Dropbox `files` sync covers.

    `folderId`: the folder and everything below it, given as its id (`id:a4ayc_80_OEAAAAAAAAAXz`)
    or its path (`/Projects/Acme`, case-insensitive; `""` and `/` are the whole Dropbox, the
    same as giving nothing). `fileIds`: exactly these files (ids). Neither: everything in the
    account's Dropbox. `mimeTypes`: only files of these types (Dropbox sends no MIME type: it
    is derived from the name; Paper documents are `text/markdown`); folders are always kept,
    they carry the tree. `orgWideSync`: a team admin's credential also reads the team space
    (team folders) and the team's groups. `folderId` and `fileIds` together are an error.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    folder_id: FolderRef | None = Field(default=None, alias="folderId")
    file_ids: list[FileId] | None = Field(
        default=None, alias="fileIds", min_length=1, max_length=MAX_FILE_IDS
    )
    mime_types: list[MimeType] | None = Field(
        default=None, alias="mimeTypes", min_length=1, max_length=100
    )
    org_wide_sync: bool = Field(default=False, alias="orgWideSync")

    @field_validator("folder_id")
    @classmethod
    def _folder_ref(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if is_id(value):
            if len(value) < 4 or not value[3:].replace("_", "").replace("-", "").isalnum():
                raise ValueError("an id folderId looks like id:a4ayc_80_OEAAAAAAAAAXz")
            return value
        if value in ("", "/"):
            return None  # the whole Dropbox
        if not value.startswith("/"):
            raise ValueError("a path folderId starts with / (or give the folder's id:...)")
        return value.rstrip("/")

    @field_validator("file_ids", "mime_types")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_scope_only(self) -> Self:
        if self.folder_id is not None and self.file_ids is not None:
            raise ValueError(
                "give either folderId (a folder tree) or fileIds (chosen files), not both"
            )
        return self
