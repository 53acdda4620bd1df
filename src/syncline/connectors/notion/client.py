"""The Notion API calls the connector makes, with Notion's version header, paging and errors."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote

import httpx

from syncline.connectors.base import ConnectorContext
from syncline.connectors.bodies import json_object, objects, text
from syncline.connectors.http import map_transport_errors
from syncline.connectors.notion.blocks import CONTAINERS, BlockNode
from syncline.connectors.notion.errors import raise_for_notion
from syncline.connectors.notion.normalize import is_trashed
from syncline.errors import UpstreamNotFound, UpstreamResponseError
from syncline.types import JSONObject

__all__ = ["MAX_BLOCK_DEPTH", "NOTION_VERSION", "PAGE_SIZE", "NotionClient", "Searched"]

NOTION_VERSION = "2025-09-03"
"""The `Notion-Version` every request sends. Before it, reading or querying a database fails
once someone adds a second data source to it (developers.notion.com, upgrade guide for
2025-09-03), and this connector reads databases (a row's place, the rows below `pageIds`)."""
PAGE_SIZE = 100
"""Results per search, query or block-children page: Notion's maximum."""
MAX_BLOCK_DEPTH = 32
"""Levels of nested blocks read (deeper children are left out of the content)."""

_json_object = partial(json_object, provider="Notion")
_objects = partial(objects, provider="Notion")
_KINDS = {"page": "pages", "block": "blocks", "database": "databases"}


class Searched:
    """One page of search results and what came with it."""

    def __init__(self, body: JSONObject, served_at: datetime | None) -> None:
        self.results = [r for r in _objects(body, "results") if r.get("object") == "page"]
        self.next_cursor = text(body, "next_cursor") if body.get("has_more") is True else None
        status = body.get("request_status")
        self.complete = not (isinstance(status, dict) and status.get("type") == "incomplete")
        """False when Notion says it cut the result set short (`request_status`)."""
        self.served_at = served_at
        """Notion's clock when it answered (the `Date` header), if it said."""


def _served_at(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class NotionClient:
    def __init__(self, ctx: ConnectorContext) -> None:
        self._ctx = ctx
        self._base = f"{ctx.api_url.rstrip('/')}/v1"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
    ) -> httpx.Response:
        async with map_transport_errors():
            response = await self._ctx.http.request(
                method,
                f"{self._base}/{path}",
                params=params,
                json=body,
                headers={"Notion-Version": NOTION_VERSION},
                auth=self._ctx.auth,
            )
        raise_for_notion(response)
        return response

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSONObject:
        return _json_object(await self._send("GET", path, params=params))

    async def post(self, path: str, body: JSONObject) -> JSONObject:
        return _json_object(await self._send("POST", path, body=body))

    async def find(self, kind: str, object_id: str) -> JSONObject | None:
        """A page, block or database (`kind`) by id; None when Notion has none the integration
        may read (404 `object_not_found`)."""
        try:
            return await self.get(f"{_KINDS[kind]}/{quote(object_id, safe='')}")
        except UpstreamNotFound:
            return None

    async def search(
        self,
        *,
        direction: str,
        cursor: str | None = None,
        trash: bool = False,
        page_size: int = PAGE_SIZE,
    ) -> Searched:
        """One page of `POST /v1/search` for pages, in `last_edited_time` order; `trash`
        searches the trash instead (`filter.in_trash`), which live searches leave out."""
        page_filter: JSONObject = {"property": "object", "value": "page"}
        if trash:
            page_filter["in_trash"] = True
        body: JSONObject = {
            "filter": page_filter,
            "sort": {"timestamp": "last_edited_time", "direction": direction},
            "page_size": page_size,
        }
        if cursor is not None:
            body["start_cursor"] = cursor
        response = await self._send("POST", "search", body=body)
        return Searched(_json_object(response), _served_at(response))

    async def children(self, block_id: str) -> list[JSONObject]:
        """Every child block of a page or block, following `next_cursor`."""
        found: list[JSONObject] = []
        cursor: str | None = None
        path = f"blocks/{quote(block_id, safe='')}/children"
        while True:
            params = {"page_size": str(PAGE_SIZE)}
            if cursor is not None:
                params["start_cursor"] = cursor
            body = await self.get(path, params)
            found += _objects(body, "results")
            after = text(body, "next_cursor") if body.get("has_more") is True else None
            if after is None:
                return found
            if after == cursor:
                raise UpstreamResponseError("Notion returned the same next_cursor twice")
            cursor = after

    async def content(self, block_id: str, depth: int = 0) -> list[BlockNode]:
        """A page's (or block's) content: its blocks, each with its own children read, except
        those of sub-pages and databases, which are content of their own."""
        nodes = []
        for block in await self.children(block_id):
            if is_trashed(block):
                continue
            kind, child_id = block.get("type"), text(block, "id")
            below: tuple[BlockNode, ...] = ()
            if (
                block.get("has_children") is True
                and kind not in CONTAINERS
                and child_id is not None
                and depth < MAX_BLOCK_DEPTH
            ):
                below = tuple(await self.content(child_id, depth + 1))
            nodes.append(BlockNode(block, below))
        return nodes

    async def rows(self, database_id: str) -> list[JSONObject]:
        """The live pages of a database: each of its data sources queried
        (`POST /v1/data_sources/{id}/query`); none when the database cannot be read (a linked
        view of a database not shared with the integration, say)."""
        database = await self.find("database", database_id)
        if database is None or is_trashed(database):
            return []
        found: list[JSONObject] = []
        for source in _objects(database, "data_sources"):
            source_id = text(source, "id")
            if source_id is None:
                continue
            cursor: str | None = None
            while True:
                body: JSONObject = {"page_size": PAGE_SIZE}
                if cursor is not None:
                    body["start_cursor"] = cursor
                try:
                    answer = await self.post(
                        f"data_sources/{quote(source_id, safe='')}/query", body
                    )
                except UpstreamNotFound:
                    break
                found += [r for r in _objects(answer, "results") if r.get("object") == "page"]
                after = text(answer, "next_cursor") if answer.get("has_more") is True else None
                if after is None:
                    break
                if after == cursor:
                    raise UpstreamResponseError("Notion returned the same next_cursor twice")
                cursor = after
        return found

    async def me(self) -> JSONObject:
        return await self.get("users/me")
