"""The `configuration` of SharePoint and OneDrive syncs (API.md section 8)."""

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

__all__ = ["MAX_FILE_IDS", "OneDriveConfig", "SharePointConfig"]

MAX_FILE_IDS = 1000

GraphId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
MimeType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class _DriveScope(BaseModel):
    """Within a drive: everything, one folder tree, or chosen items; optionally only files of
    some MIME types (folders are always kept: they carry the tree)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    drive_id: GraphId | None = Field(default=None, alias="driveId")
    folder_id: GraphId | None = Field(default=None, alias="folderId")
    file_ids: list[GraphId] | None = Field(
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


class OneDriveConfig(_DriveScope):
    """A OneDrive: `driveId`, or the signed-in user's own drive."""


class SharePointConfig(_DriveScope):
    """A SharePoint site's document library: `siteId` (required), `driveId` for a library other
    than the site's default one; `includeListItemFields` puts the list item's columns in
    `customFields.metadata`."""

    site_id: GraphId = Field(alias="siteId")
    include_list_item_fields: bool = Field(default=False, alias="includeListItemFields")
