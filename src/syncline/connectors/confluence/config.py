"""The `configuration` a Confluence sync accepts (API.md section 8): every page the user can
read, one space, or chosen pages each with its descendants; a space and pages together keep
the pages that are in the space."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = ["MAX_PAGE_IDS", "ConfluenceConfig"]

MAX_PAGE_IDS = 100
"""Page trees a sync may name: each is a clause of the incremental's CQL query, whose URL must
stay short."""

ContentId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^\d+$")
]
"""Confluence's page and space ids are integers, sent as strings."""


class ConfluenceConfig(BaseModel):
    """What a Confluence `files` sync covers.

    `spaceId`: the pages of that space (its numeric id, as v2 names it: `GET
    /wiki/api/v2/spaces?keys=ENG` tells a key's id). `pageIds`: these pages and every page
    below them. Both: the named trees, each of which must be in the space. Neither: every page
    of every space the user can read.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    space_id: ContentId | None = Field(default=None, alias="spaceId")
    page_ids: list[ContentId] | None = Field(
        default=None, alias="pageIds", min_length=1, max_length=MAX_PAGE_IDS
    )

    @field_validator("page_ids")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))
