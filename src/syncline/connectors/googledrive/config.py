"""The `configuration` a Google Drive sync accepts: everything, one folder tree, or chosen items."""

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

__all__ = ["MAX_FILE_IDS", "GoogleDriveConfig"]

MAX_FILE_IDS = 1000

DriveId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]


class GoogleDriveConfig(BaseModel):
    """What a Google Drive `files` sync covers.

    `folderId`: the folder and everything below it (recursive). `fileIds`: exactly these items.
    Neither: everything the account can see, in My Drive and in shared drives. Giving both is an
    error. The camelCase keys are canonical; `folder_id` / `file_ids` are accepted too.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    folder_id: DriveId | None = Field(default=None, alias="folderId")
    file_ids: list[DriveId] | None = Field(
        default=None, alias="fileIds", min_length=1, max_length=MAX_FILE_IDS
    )

    @field_validator("file_ids")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        # Repeats would only sync the same item twice; keep the first occurrence's order.
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_scope_only(self) -> Self:
        if self.folder_id is not None and self.file_ids is not None:
            raise ValueError(
                "give either folderId (a folder tree) or fileIds (chosen items), not both"
            )
        return self
