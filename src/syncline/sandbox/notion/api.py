"""The Notion API's read routes over one `NotionState`, as developers.notion.com and the SDK's
types describe them.

Every request needs `Notion-Version` (missing: 400 `missing_version`; unknown: 400
`validation_error` listing the known versions; known but not emulated here: 400
`invalid_request`) and `Authorization: Bearer <token>` (else 401 `unauthorized`), and spends
one request of the integration's rate budget (see `ratelimit`). Content endpoints need the
"read content" capability (else 403 `restricted_resource`), user endpoints the user
information one.

- `POST /v1/search`: pages and databases (`2022-06-28`) or data sources (`2025-09-03`) shared
  with the integration, titles matching `query`, `filter: {"property": "object", "value"}`,
  `sort: {"timestamp": "last_edited_time", "direction"}`, `page_size` up to 100 (default
  100), `start_cursor` from the last page's `next_cursor`. Trashed pages are left out (GUESS,
  from community reports: these versions' search has no `in_trash` filter). The
  cursor holds a position in `last_edited_time` order, so a page costs O(page size).
- `GET /v1/pages/{id}` (`filter_properties` to keep some properties), `GET /v1/blocks/{id}`,
  `GET /v1/blocks/{id}/children` (`start_cursor`, `page_size` ≤ 100: "Returns only the first
  level of children"), `GET /v1/databases/{id}`.
- `POST /v1/databases/{id}/query` (`2022-06-28`) and `POST /v1/data_sources/{id}/query`,
  `GET /v1/data_sources/{id}` (`2025-09-03`): the other version answers 400
  `invalid_request_url` (GUESS: the version's route table simply lacks them).
- `GET /v1/users/me`, `GET /v1/users` (paged), `GET /v1/users/{id}`.

Cursors are opaque and refused once `state.expire_cursors()` ran ("The start_cursor provided is
invalid: ..."; Notion made its cursors session scoped in 2026).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.kit.instrument import bearer
from syncline.sandbox.notion.errors import (
    KNOWN_VERSIONS,
    UNDEFINED,
    database_not_page,
    invalid_json,
    invalid_request,
    invalid_request_url,
    json_response,
    missing_version,
    not_found,
    notion_error,
    rate_limited,
    restricted,
    shown,
    unauthorized,
    unknown_version,
    validation,
)
from syncline.sandbox.notion.query import compile_filter, order_rows
from syncline.sandbox.notion.render import Renderer
from syncline.sandbox.notion.state import (
    NOTION_VERSIONS,
    Bot,
    Database,
    NotionState,
    Page,
    canonical,
)
from syncline.types import JSON, JSONObject

__all__ = ["MAX_PAGE_SIZE", "NotionApi"]

MAX_PAGE_SIZE = 100
_UUID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


@dataclass(frozen=True, slots=True)
class _Call:
    bot: Bot
    version: str
    render: Renderer

    @property
    def data_sources(self) -> bool:
        return self.render.data_sources


class NotionApi:
    def __init__(self, state: NotionState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        v = "/v1"
        return [
            Route(f"{v}/search", self.search, methods=["POST"]),
            Route(f"{v}/pages/{{page_id}}", self.page, methods=["GET"]),
            Route(f"{v}/blocks/{{block_id}}", self.block, methods=["GET"]),
            Route(f"{v}/blocks/{{block_id}}/children", self.block_children, methods=["GET"]),
            Route(f"{v}/databases/{{database_id}}", self.database, methods=["GET"]),
            Route(f"{v}/databases/{{database_id}}/query", self.query_database, methods=["POST"]),
            Route(f"{v}/data_sources/{{data_source_id}}", self.data_source, methods=["GET"]),
            Route(
                f"{v}/data_sources/{{data_source_id}}/query",
                self.query_data_source,
                methods=["POST"],
            ),
            Route(f"{v}/users/me", self.me, methods=["GET"]),
            Route(f"{v}/users", self.users, methods=["GET"]),
            Route(f"{v}/users/{{user_id}}", self.user, methods=["GET"]),
        ]

    # -- the front door -----------------------------------------------------------------------

    def _begin(self, request: Request, *, content: bool = True) -> _Call:
        # GUESS: the order of the checks (version, token, rate, capability) is not documented.
        version = request.headers.get("notion-version")
        if version is None:
            raise missing_version()
        if version not in KNOWN_VERSIONS:
            raise unknown_version(version)
        if version not in NOTION_VERSIONS:
            raise invalid_request(
                f"Unsupported request: the sandbox emulates Notion-Version "
                f"{' and '.join(NOTION_VERSIONS)}, not {version}."
            )
        token = bearer(request.headers)
        bot = self.state.bot_for(token) if token else None
        if bot is None:
            raise unauthorized()
        wait = self.state.limiter.take(bot.id)
        if wait is not None:
            raise rate_limited(wait)
        if content and not bot.read_content:
            raise restricted()
        return _Call(bot, version, Renderer(self.state, version, bot))

    @staticmethod
    def _path_id(request: Request, name: str) -> str:
        raw = str(request.path_params[name])
        if not _UUID.match(raw):
            raise validation(
                f"path failed validation: path.{name} should be a valid uuid, instead was "
                f"{shown(raw)}."
            )
        return canonical(raw)

    @staticmethod
    def _query_params(request: Request, allowed: frozenset[str]) -> None:
        for key in request.query_params:
            if key not in allowed:
                raise validation(
                    f"query failed validation: query.{key} should be not present, instead was "
                    f"{shown(request.query_params[key])}."
                )

    @staticmethod
    async def _body(request: Request, allowed: frozenset[str]) -> JSONObject:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid_json() from None
        if not isinstance(body, dict):
            raise validation(
                f"body failed validation: body should be an object, instead was {shown(body)}."
            )
        for key in body:
            if key not in allowed:
                raise validation(
                    f"body failed validation: body.{key} should be not present, instead was "
                    f"{shown(body[key])}."
                )
        return body

    @staticmethod
    def _page_size(value: object, where: str) -> int:
        """`page_size` from a body (a JSON number) or a query string (digits). The messages
        follow Notion's "body.children.length should be ≤ `100`, instead was `109`";
        GUESS: that page_size above 100 is refused, not cut, and the wording for a query
        string."""
        if value is UNDEFINED or value is None:
            return MAX_PAGE_SIZE
        source = where.partition(".")[0]
        number: object = value
        if source == "query" and isinstance(value, str):
            number = int(value) if value.isdigit() else value
        if isinstance(number, bool) or not isinstance(number, int):
            raise validation(
                f"{source} failed validation: {where} should be a number or `undefined`, "
                f"instead was {shown(value)}."
            )
        if number > MAX_PAGE_SIZE:
            raise validation(
                f"{source} failed validation: {where} should be ≤ `{MAX_PAGE_SIZE}`, instead "
                f"was `{number}`."
            )
        if number < 1:
            raise validation(
                f"{source} failed validation: {where} should be ≥ `1`, instead was `{number}`."
            )
        return number

    def _cursor(self, value: object, where: str, kind: str) -> JSONObject | None:
        if value is UNDEFINED or value is None:
            return None
        if not isinstance(value, str):
            source = where.partition(".")[0]
            raise validation(
                f"{source} failed validation: {where} should be a string or `undefined`, "
                f"instead was {shown(value)}."
            )
        payload = self.state.cursors.decode(value)
        if payload is None or payload.get("k") != kind:
            raise validation(f"The start_cursor provided is invalid: {value}")
        return payload

    @staticmethod
    def _list(results: list[JSON], cursor: str | None, kind: str) -> Response:
        return json_response(
            {
                "object": "list",
                "results": results,
                "next_cursor": cursor,
                "has_more": cursor is not None,
                "type": kind,
                kind: {},
            }
        )

    # -- search -------------------------------------------------------------------------------

    async def search(self, request: Request) -> Response:
        call = self._begin(request)
        self._query_params(request, frozenset())
        body = await self._body(
            request, frozenset({"query", "sort", "filter", "start_cursor", "page_size"})
        )
        query = body.get("query", UNDEFINED)
        if query is not UNDEFINED and not isinstance(query, str):
            raise validation(
                f"body failed validation: body.query should be a string or `undefined`, "
                f"instead was {shown(query)}."
            )
        needle = query.strip().lower() if isinstance(query, str) else ""
        descending = self._search_sort(body.get("sort", UNDEFINED))
        wanted = self._search_filter(body.get("filter", UNDEFINED), call)
        size = self._page_size(body.get("page_size", UNDEFINED), "body.page_size")
        cursor = self._cursor(body.get("start_cursor", UNDEFINED), "body.start_cursor", "search")
        state = self.state
        with state.lock:
            order = state.search_order()
            after: tuple[float, str] | None = None
            if cursor is not None:
                t, i = cursor.get("t"), cursor.get("id")
                if not isinstance(t, int | float) or not isinstance(i, str):
                    raise validation(
                        f"The start_cursor provided is invalid: {body['start_cursor']}"
                    )
                after = (float(t), i)
            results: list[JSON] = []
            last: tuple[float, str] | None = None
            more = False
            for key in _walk(order, after, descending=descending):
                found = self._searchable(call, key[1], needle, wanted)
                if found is None:
                    continue
                if len(results) == size:
                    more = True
                    break
                results.append(found)
                last = key
            next_cursor = None
            if more and last is not None:
                next_cursor = state.cursors.encode({"k": "search", "t": last[0], "id": last[1]})
        kind = "page_or_data_source" if call.data_sources else "page_or_database"
        return self._list(results, next_cursor, kind)

    @staticmethod
    def _search_sort(sort: object) -> bool:
        """Whether results come newest first. GUESS: without `sort` (relevance), newest first."""
        if sort is UNDEFINED or sort is None:
            return True
        if not isinstance(sort, dict):
            raise validation(
                f"body failed validation: body.sort should be an object or `undefined`, instead "
                f"was {shown(sort)}."
            )
        if sort.get("property") == "relevance" and len(sort) == 1:
            return True
        timestamp = sort.get("timestamp", UNDEFINED)
        if timestamp != "last_edited_time":
            raise validation(
                'body failed validation: body.sort.timestamp should be `"last_edited_time"`, '
                f"instead was {shown(timestamp)}."
            )
        direction = sort.get("direction", UNDEFINED)
        if direction not in ("ascending", "descending"):
            raise validation(
                'body failed validation: body.sort.direction should be `"ascending"` or '
                f'`"descending"`, instead was {shown(direction)}.'
            )
        return bool(direction == "descending")

    @staticmethod
    def _search_filter(raw: object, call: _Call) -> str | None:
        """`page`, `database` (the object type searched for), or None for both."""
        if raw is UNDEFINED or raw is None:
            return None
        other = "data_source" if call.data_sources else "database"
        if not isinstance(raw, dict):
            raise validation(
                f"body failed validation: body.filter should be an object or `undefined`, "
                f"instead was {shown(raw)}."
            )
        for key in raw:
            if key not in ("property", "value"):
                raise validation(
                    f"body failed validation: body.filter.{key} should be not present, instead "
                    f"was {shown(raw[key])}."
                )
        if raw.get("property", UNDEFINED) != "object":
            raise validation(
                'body failed validation: body.filter.property should be `"object"`, instead was '
                f"{shown(raw.get('property', UNDEFINED))}."
            )
        value = raw.get("value", UNDEFINED)
        if value not in ("page", other):
            raise validation(
                f'body failed validation: body.filter.value should be `"page"` or `"{other}"`, '
                f"instead was {shown(value)}."
            )
        return "page" if value == "page" else "database"

    def _searchable(self, call: _Call, object_id: str, needle: str, wanted: str | None) -> JSON:
        state = self.state
        node: Page | Database | None = state.pages.get(object_id) or state.databases.get(object_id)
        if node is None:
            return None
        if wanted is not None and wanted != ("page" if isinstance(node, Page) else "database"):
            return None
        if needle and needle not in node.title.lower():
            return None
        if (
            state.search_lag > 0
            and state.clock() - node.created < state.search_lag
            and object_id not in call.bot.shared
        ):
            return None
        seen, trashed = state.access(call.bot, object_id)
        if not seen or trashed:
            return None
        return call.render.searchable(node, trashed=False)

    # -- pages and blocks ---------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        call = self._begin(request)
        self._query_params(request, frozenset({"filter_properties"}))
        page_id = self._path_id(request, "page_id")
        wanted = request.query_params.getlist("filter_properties")
        with self.state.lock:
            seen, trashed = self.state.access(call.bot, page_id)
            page = self.state.pages.get(page_id)
            if seen and page_id in self.state.databases:
                raise database_not_page(page_id)
            if not seen or page is None:
                raise not_found("page", page_id)
            only = frozenset(wanted) if wanted else None
            return json_response(call.render.page(page, trashed=trashed, only=only))

    async def block(self, request: Request) -> Response:
        call = self._begin(request)
        self._query_params(request, frozenset())
        block_id = self._path_id(request, "block_id")
        with self.state.lock:
            node = self.state.find(block_id)
            seen, trashed = self.state.access(call.bot, block_id)
            if node is None or not seen:
                raise not_found("block", block_id)
            return json_response(call.render.block(node, trashed=trashed))

    async def block_children(self, request: Request) -> Response:
        call = self._begin(request)
        self._query_params(request, frozenset({"start_cursor", "page_size"}))
        block_id = self._path_id(request, "block_id")
        params = request.query_params
        size = self._page_size(params.get("page_size", UNDEFINED), "query.page_size")
        cursor = self._cursor(
            params.get("start_cursor", UNDEFINED), "query.start_cursor", "children"
        )
        state = self.state
        with state.lock:
            node = state.find(block_id)
            seen, trashed = state.access(call.bot, block_id)
            if node is None or not seen:
                raise not_found("block", block_id)
            results: list[JSON] = []
            next_cursor = None
            # GUESS: a database's id lists nothing here; its rows come from a query.
            if not isinstance(node, Database):
                begin = 0 if cursor is None else _resume(node.children, cursor, block_id)
                chunk, end = state.children_page(node, begin, size)
                results = [call.render.block(c, trashed=trashed) for c in chunk]
                if end is not None:
                    next_cursor = state.cursors.encode(
                        {"k": "children", "p": block_id, "i": end, "id": node.children[end]}
                    )
        return self._list(results, next_cursor, "block")

    # -- databases and data sources -----------------------------------------------------------

    def _visible_database(
        self, call: _Call, database_id: str, kind: str = "database"
    ) -> tuple[Database, bool]:
        database = self.state.databases.get(database_id)
        seen, trashed = self.state.access(call.bot, database_id)
        if database is None or not seen:
            raise not_found(kind, database_id)
        return database, trashed

    async def database(self, request: Request) -> Response:
        call = self._begin(request)
        self._query_params(request, frozenset())
        database_id = self._path_id(request, "database_id")
        with self.state.lock:
            database, trashed = self._visible_database(call, database_id)
            return json_response(call.render.database(database, trashed=trashed))

    async def data_source(self, request: Request) -> Response:
        call = self._begin(request)
        if not call.data_sources:
            raise invalid_request_url()
        self._query_params(request, frozenset())
        source_id = self._path_id(request, "data_source_id")
        with self.state.lock:
            database_id = self.state.data_sources.get(source_id)
            if database_id is None:
                raise not_found("data source", source_id)
            database, trashed = self._visible_database(call, database_id, "data source")
            return json_response(call.render.data_source(database, trashed=trashed))

    async def query_database(self, request: Request) -> Response:
        call = self._begin(request)
        if call.data_sources:
            raise invalid_request_url()
        database_id = self._path_id(request, "database_id")
        return await self._query(request, call, database_id, "database")

    async def query_data_source(self, request: Request) -> Response:
        call = self._begin(request)
        if not call.data_sources:
            raise invalid_request_url()
        source_id = self._path_id(request, "data_source_id")
        database_id = self.state.data_sources.get(source_id)
        if database_id is None:
            raise not_found("data source", source_id)
        return await self._query(request, call, database_id, "data source")

    async def _query(self, request: Request, call: _Call, database_id: str, kind: str) -> Response:
        self._query_params(request, frozenset({"filter_properties"}))
        allowed = {"sorts", "filter", "start_cursor", "page_size", "archived", "in_trash"}
        if call.data_sources:
            allowed.add("result_type")
        body = await self._body(request, frozenset(allowed))
        size = self._page_size(body.get("page_size", UNDEFINED), "body.page_size")
        cursor = self._cursor(body.get("start_cursor", UNDEFINED), "body.start_cursor", "query")
        trashed_only = bool(body.get("in_trash", body.get("archived", False)))
        wanted = request.query_params.getlist("filter_properties")
        only = frozenset(wanted) if wanted else None
        state = self.state
        with state.lock:
            database, db_trashed = self._visible_database(call, database_id, kind)
            keep = compile_filter(state, database, body["filter"]) if "filter" in body else None
            rows = []
            for row_id in database.rows:
                row = state.pages.get(row_id)
                if row is None:
                    continue
                # GUESS: `in_trash: true` asks for the trashed rows only.
                if (row.in_trash or db_trashed) != trashed_only:
                    continue
                if keep is None or keep(row):
                    rows.append(row)
            ordered = order_rows(state, database, rows, body.get("sorts"))
            ids = [row.id for row in ordered]
            start = 0 if cursor is None else _resume(ids, cursor, database_id)
            chunk = ordered[start : start + size]
            results: list[JSON] = [
                call.render.page(row, trashed=row.in_trash or db_trashed, only=only)
                for row in chunk
            ]
            end = start + len(chunk)
            next_cursor = None
            if end < len(ids):
                next_cursor = state.cursors.encode(
                    {"k": "query", "p": database_id, "i": end, "id": ids[end]}
                )
        kind_name = "page_or_data_source" if call.data_sources else "page_or_database"
        return self._list(results, next_cursor, kind_name)

    # -- users --------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        call = self._begin(request, content=False)
        self._query_params(request, frozenset())
        bot = call.bot
        return json_response(
            {
                "object": "user",
                "id": bot.id,
                "name": bot.name,
                "avatar_url": bot.avatar_url,
                "type": "bot",
                "bot": call.render.bot_info(bot),
            }
        )

    def _users_call(self, request: Request) -> _Call:
        call = self._begin(request, content=False)
        if call.bot.user_info == "none":
            raise restricted()
        return call

    async def users(self, request: Request) -> Response:
        call = self._users_call(request)
        self._query_params(request, frozenset({"start_cursor", "page_size"}))
        params = request.query_params
        size = self._page_size(params.get("page_size", UNDEFINED), "query.page_size")
        cursor = self._cursor(params.get("start_cursor", UNDEFINED), "query.start_cursor", "users")
        with self.state.lock:
            ids = [*self.state.people, *self.state.bots]
            start = 0 if cursor is None else _resume(ids, cursor, "users")
            chunk = ids[start : start + size]
            results: list[JSON] = [call.render.user(i) for i in chunk]
            end = start + len(chunk)
            next_cursor = None
            if end < len(ids):
                next_cursor = self.state.cursors.encode(
                    {"k": "users", "p": "users", "i": end, "id": ids[end]}
                )
        return self._list(results, next_cursor, "user")

    async def user(self, request: Request) -> Response:
        call = self._users_call(request)
        self._query_params(request, frozenset())
        user_id = self._path_id(request, "user_id")
        with self.state.lock:
            if user_id not in self.state.people and user_id not in self.state.bots:
                raise notion_error(
                    404, "object_not_found", f"Could not find user with ID: {user_id}."
                )  # GUESS: the message
            return json_response(call.render.user(user_id))


def _walk(
    order: list[tuple[float, str]], after: tuple[float, str] | None, *, descending: bool
) -> Iterator[tuple[float, str]]:
    """Keys of `order` strictly beyond `after` in the direction asked for."""
    if descending:
        index = len(order) if after is None else bisect.bisect_left(order, after)
        while index > 0:
            index -= 1
            yield order[index]
    else:
        index = 0 if after is None else bisect.bisect_right(order, after)
        while index < len(order):
            yield order[index]
            index += 1


def _resume(ids: list[str], cursor: JSONObject, holder: str) -> int:
    """Where a page of a list resumes: at the position the cursor names if the item there is
    still the one it named, else at that item wherever it went, else at the position."""
    if cursor.get("p") != holder:
        raise validation(f"The start_cursor provided is invalid: {cursor.get('id')}")
    index, expected = cursor.get("i"), cursor.get("id")
    if not isinstance(index, int) or not isinstance(expected, str):
        raise validation("The start_cursor provided is invalid.")
    if index < len(ids) and ids[index] == expected:
        return index
    if expected in ids:
        return ids.index(expected)
    return min(index, len(ids))
