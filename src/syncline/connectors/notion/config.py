"""The `configuration` a Notion sync accepts (API.md section 8): everything shared with the
integration, or chosen pages, each with its descendants."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = ["MAX_PAGE_IDS", "NotionConfig", "notion_id"]

MAX_PAGE_IDS = 100

_ID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def notion_id(value: str) -> str:
    """A Notion id as its API writes it (dashed, lower case), from that form, the undashed one
    of page URLs, or a page URL ending in one (`https://www.notion.so/Q3-plan-5983...a5`).

    Raises:
        ValueError: no id can be read from `value`.
    """
    text = value.strip()
    tail = text.rsplit("?", 1)[0].rsplit("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    found = _ID.fullmatch(tail) or _ID.fullmatch(tail[-32:]) or _ID.fullmatch(tail[-36:])
    if found is None:
        raise ValueError(f"{value!r} is not a Notion page id (32 hex digits, dashed or not)")
    return str(uuid.UUID(found.group(0)))


PageId = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(notion_id)]


class NotionConfig(BaseModel):
    """What a Notion `files` sync covers.

    `pageIds`: these pages and every page below them (sub-pages, pages inside blocks, the rows
    of databases placed in them); each must be shared with the integration. Without it:
    every page the integration can read (what Notion's search returns to it).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    page_ids: list[PageId] | None = Field(
        default=None, alias="pageIds", min_length=1, max_length=MAX_PAGE_IDS
    )

    @field_validator("page_ids")
    @classmethod
    def _drop_repeats(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))
