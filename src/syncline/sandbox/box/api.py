"""Box API v2.0's folder, file, web link, collaboration, group membership, event and download
routes, over one `BoxState`, as Box's OpenAPI spec and developer guides describe them.

- `GET /2.0/folders/{id}/items`: offset paging by default (`offset`, `limit`, answering
  `total_count`, `offset`, `limit`, `order`; an `offset` above 9999 is refused), marker paging
  with `usemarker=true` (`marker`, `limit`, answering `limit` and `next_marker`, which is `null`
  on the last page). `limit` defaults to 100 and a larger one than 1000 is cut to 1000. Folders
  come before files, files before web links, then by `sort` (`id` unless asked) and
  `direction`. Entries are mini unless `fields` names what to return.
- `GET /2.0/files/{id}`, `/folders/{id}`, `/web_links/{id}`: the standard representation, or
  `fields`; `If-None-Match` with the current `etag` answers 304; a trashed item answers 404
  `trashed`; one the caller cannot see (or that is gone) 404 `not_found`; an id that is not a
  number 405.
- `GET /2.0/files/{id}/content`: 302 to a download URL on another path (`/_boxcloud/...`,
  Box's `dl.boxcloud.com`) that needs no token and lives 15 minutes; it honours `Range`.
- `GET /2.0/events`: see `events`.
- `GET /2.0/{files|folders}/{id}/collaborations`: the item's own collaborations (pending
  ones too), marker paged; `GET /2.0/groups/{id}/memberships`: offset paged with
  `total_count`, for the group's members and admins only (an `offset` above 10000 is refused).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncline.sandbox.box.errors import (
    BoxError,
    bad_request,
    box_error,
    insufficient_scope,
    json_response,
    not_found,
    unauthorized,
)
from syncline.sandbox.box.render import Renderer, parse_fields
from syncline.sandbox.box.state import (
    CHANGES_EVENTS,
    READ_SCOPES,
    STREAM_BASE,
    BoxState,
    Event,
    Item,
)
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.types import JSON, JSONObject

__all__ = ["DOWNLOAD_TTL", "BoxApi"]

DEFAULT_LIMIT = 100
MAX_ITEMS = 1000
MAX_EVENTS = 500
MAX_OFFSET = 9999
MAX_MEMBERSHIP_OFFSET = 10000
DOWNLOAD_TTL = 900.0
"""Seconds a download URL works ("In most cases the download URL is valid for 15 minutes")."""

_TYPE_RANK = {"folder": 0, "file": 1, "web_link": 2}
_SORTS = ("id", "name", "date", "size")


class BoxApi:
    def __init__(self, state: BoxState) -> None:
        self.state = state
        self.tokens = PageTokens()

    def routes(self) -> list[Route]:
        v = "/2.0"
        return [
            Route(f"{v}/users/me", self.me),
            Route(f"{v}/folders/{{item_id}}", self.folder),
            Route(f"{v}/folders/{{item_id}}/items", self.folder_items),
            Route(f"{v}/folders/{{item_id}}/collaborations", self.folder_collaborations),
            Route(f"{v}/files/{{item_id}}", self.file),
            Route(f"{v}/files/{{item_id}}/content", self.content),
            Route(f"{v}/files/{{item_id}}/collaborations", self.file_collaborations),
            Route(f"{v}/web_links/{{item_id}}", self.web_link),
            Route(f"{v}/groups/{{group_id}}/memberships", self.memberships),
            Route(f"{v}/events", self.events),
            Route("/_boxcloud/d/1/{token}/download", self.download),
        ]

    # -- who is asking, and what they may see -------------------------------------------------

    def _caller(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = self.state.grants.grant_for(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None:
            raise unauthorized()
        user, scopes = grant
        if scopes and not scopes & READ_SCOPES:
            raise insufficient_scope()
        return user

    def _item(self, kind: str, item_id: str, user: str) -> Item:
        if not item_id.isdigit():
            raise box_error(405, "method_not_allowed", "Method Not Allowed")
        item = self.state.items.get(item_id)
        if item is None or item.type != kind or not self.state.can_see(user, item):
            raise not_found(kind, item_id)
        if item.status == "trashed":
            raise box_error(404, "trashed", "Item is trashed")
        return item

    # -- parameters ---------------------------------------------------------------------------

    def _limit(self, request: Request, maximum: int) -> int:
        raw = request.query_params.get("limit")
        if raw is None or raw == "":
            return min(DEFAULT_LIMIT, maximum)
        if not raw.isdigit() or int(raw) < 1:
            raise bad_request("limit", "Limit is not a valid number", code="invalid_limit")
        return min(int(raw), maximum)  # "If the value exceeds the maximum, ... the maximum"

    def _offset(self, request: Request, maximum: int) -> int:
        raw = request.query_params.get("offset") or "0"
        if not raw.isdigit():
            raise bad_request("offset", "Offset is not a valid number", code="invalid_offset")
        if int(raw) > maximum:
            raise bad_request("offset", f"Invalid value '{raw}'. Offset must not exceed {maximum}.")
        return int(raw)

    # -- routes -------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        user = self.state.users[self._caller(request)]
        return json_response(
            {
                "type": "user",
                "id": user.id,
                "name": user.name,
                "login": user.login,
                "status": "active",
                "role": "admin" if user.is_admin else "user",
            }
        )

    async def folder(self, request: Request) -> Response:
        user = self._caller(request)
        item_id = request.path_params["item_id"]
        with self.state.lock:
            renderer = Renderer(self.state, user)
            fields = parse_fields(request.query_params.get("fields"))
            if item_id == "0":
                children = self._ordered(self.state.root_children(user), "name", "ASC")
                entries: list[JSON] = [renderer.mini(i) for i in children[:100]]
                body = renderer.root(entries, len(children))
                if fields is not None:
                    body = {k: v for k, v in body.items() if k in {"type", "id", "etag", *fields}}
                return json_response(body)
            item = self._item("folder", item_id, user)
            return self._single(request, renderer, item, fields, with_collection=True)

    async def file(self, request: Request) -> Response:
        return await self._one(request, "file")

    async def web_link(self, request: Request) -> Response:
        return await self._one(request, "web_link")

    async def _one(self, request: Request, kind: str) -> Response:
        user = self._caller(request)
        with self.state.lock:
            item = self._item(kind, request.path_params["item_id"], user)
            renderer = Renderer(self.state, user)
            fields = parse_fields(request.query_params.get("fields"))
            return self._single(request, renderer, item, fields)

    def _single(
        self,
        request: Request,
        renderer: Renderer,
        item: Item,
        fields: frozenset[str] | None,
        *,
        with_collection: bool = False,
    ) -> Response:
        etag = str(item.sequence)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        if fields is not None:
            body = renderer.select(item, fields)
        else:
            body = renderer.standard(item)
            if with_collection:
                children = self._ordered(self.state.live_children(item.id), "name", "ASC")
                body["item_collection"] = {
                    "total_count": len(children),
                    "entries": [renderer.mini(i) for i in children[:100]],
                    "offset": 0,
                    "limit": 100,
                    "order": [
                        {"by": "type", "direction": "ASC"},
                        {"by": "name", "direction": "ASC"},
                    ],
                }
        return json_response(body, headers={"ETag": etag})

    async def folder_items(self, request: Request) -> Response:
        user = self._caller(request)
        params = request.query_params
        folder_id = request.path_params["item_id"]
        limit = self._limit(request, MAX_ITEMS)
        sort = params.get("sort") or "id"
        direction = (params.get("direction") or "ASC").upper()
        if sort not in _SORTS:
            raise bad_request("sort", f"Invalid value '{sort}'.")
        if direction not in ("ASC", "DESC"):
            raise bad_request("direction", f"Invalid value '{direction}'.")
        marker_mode = params.get("usemarker", "").lower() == "true"
        with self.state.lock:
            if folder_id == "0":
                found = self.state.root_children(user)
                if marker_mode:  # "not supported for marker-based pagination on the root"
                    sort, direction = "id", "ASC"
            else:
                found = self.state.live_children(self._item("folder", folder_id, user).id)
            ordered = self._ordered(found, sort, direction)
            renderer = Renderer(self.state, user)
            fields = parse_fields(params.get("fields"))

            def render(item: Item) -> JSON:
                return renderer.mini(item) if fields is None else renderer.select(item, fields)

            if marker_mode:
                start = self._after_marker(
                    params.get("marker"), folder_id, ordered, sort, direction
                )
                page = ordered[start : start + limit]
                next_marker = None
                if start + limit < len(ordered):
                    last = page[-1]
                    next_marker = self.tokens.encode(
                        {"f": folder_id, "s": sort, "d": direction, "k": _key(last, sort)}
                    )
                body: JSONObject = {
                    "limit": limit,
                    "next_marker": next_marker,
                    "entries": [render(i) for i in page],
                }
                return json_response(body)
            offset = self._offset(request, MAX_OFFSET)
            page = ordered[offset : offset + limit]
            return json_response(
                {
                    "total_count": len(ordered),
                    "entries": [render(i) for i in page],
                    "offset": offset,
                    "limit": limit,
                    "order": [
                        {"by": "type", "direction": "ASC"},
                        {"by": sort, "direction": direction},
                    ],
                }
            )

    def _ordered(self, items: list[Item], sort: str, direction: str) -> list[Item]:
        """Folders, then files, then web links; within each, by `sort` in `direction`."""
        ranked = sorted(items, key=lambda i: _key(i, sort)[1:])
        if direction == "DESC":
            ranked.reverse()
        return sorted(ranked, key=lambda i: _TYPE_RANK[i.type])  # stable: keeps the secondary

    def _after_marker(
        self, marker: str | None, folder_id: str, ordered: list[Item], sort: str, direction: str
    ) -> int:
        """The index of the first item after the one a marker names (by key, so items added
        or removed between pages move the page as they would on Box)."""
        if not marker or marker == "0":
            return 0
        payload = self.tokens.decode(marker)
        if payload is None or payload.get("f") != folder_id or payload.get("s") != sort:
            raise bad_request("marker", f"Invalid value '{marker}'.", code="invalid_marker")
        raw = payload.get("k")
        if not isinstance(raw, list) or len(raw) != 3:
            raise bad_request("marker", f"Invalid value '{marker}'.", code="invalid_marker")
        rank, key, tie = raw
        for index, item in enumerate(ordered):
            own = _key(item, sort)
            if own[0] != rank:
                if own[0] > rank:  # type: ignore[operator]
                    return index
                continue
            mine, theirs = (own[1], own[2]), (key, tie)
            if (mine > theirs) if direction == "ASC" else (mine < theirs):
                return index
        return len(ordered)

    async def folder_collaborations(self, request: Request) -> Response:
        return await self._collaborations(request, "folder")

    async def file_collaborations(self, request: Request) -> Response:
        return await self._collaborations(request, "file")

    async def _collaborations(self, request: Request, kind: str) -> Response:
        user = self._caller(request)
        limit = self._limit(request, MAX_ITEMS)
        with self.state.lock:
            item = self._item(kind, request.path_params["item_id"], user)
            found = sorted(
                (c for c in self.state.collaborations.values() if c.item == item.id),
                key=lambda c: int(c.id),
            )
            marker = request.query_params.get("marker")
            start = 0
            if marker:
                payload = self.tokens.decode(marker)
                at = payload.get("at") if payload and payload.get("c") == item.id else None
                if not isinstance(at, int):
                    raise bad_request("marker", f"Invalid value '{marker}'.", code="invalid_marker")
                start = at
            page = found[start : start + limit]
            renderer = Renderer(self.state, user)
            next_marker = None
            if start + limit < len(found):
                next_marker = self.tokens.encode({"c": item.id, "at": start + limit})
            return json_response(
                {
                    "limit": limit,
                    "next_marker": next_marker,
                    "entries": [renderer.collaboration(c) for c in page],
                }
            )

    async def memberships(self, request: Request) -> Response:
        user = self._caller(request)
        limit = self._limit(request, MAX_ITEMS)
        offset = self._offset(request, MAX_MEMBERSHIP_OFFSET)
        with self.state.lock:
            group_id = request.path_params["group_id"]
            group = self.state.groups.get(group_id)
            if group is None:
                raise box_error(404, "not_found", "Not Found")
            members = sorted(self.state.members_of(group_id), key=lambda m: int(m.id))
            caller = self.state.users[user]
            if not caller.is_admin and all(m.user != user for m in members):
                raise box_error(
                    403,
                    "access_denied_insufficient_permissions",
                    "Access denied - insufficient permission",
                )
            renderer = Renderer(self.state, user)
            page = members[offset : offset + limit]
            entries: list[JSON] = [
                {
                    "type": "group_membership",
                    "id": m.id,
                    "user": renderer.user(m.user),
                    "group": renderer.group(m.group),
                    "role": m.role,
                    "created_at": renderer.time(m.created),
                    "modified_at": renderer.time(m.modified),
                }
                for m in page
            ]
            return json_response(
                {
                    "total_count": len(members),
                    "entries": entries,
                    "offset": offset,
                    "limit": limit,
                    "order": [{"by": "id", "direction": "ASC"}],
                }
            )

    async def events(self, request: Request) -> Response:
        """The user event stream.

        `stream_position=now` answers no entries and the stream's end; none (or `0`) starts at
        the oldest event kept; a position from an earlier answer goes on from there. Each
        answer has `chunk_size`, `next_stream_position` (a JSON integer above 2**53) and
        `entries`; an empty chunk means the caller is up to date. `stream_type` is `all`
        (default) or `changes` (`sync` is served as `changes`); `limit` defaults to 100 and
        is cut to 500. `EventDelivery` makes chunks repeat, duplicate and reorder events.

        A position older than the retention window: Box's documentation says events are kept
        "between two weeks and two months" but not what `GET /events` answers for a position
        older than that. Our choice: 400 in Box's invalid-parameter shape (`code: bad_request`,
        `context_info.errors[0].name == "stream_position"`), so a client must treat it as
        "events were lost: list everything again, then start from `stream_position=now`".
        A position that is not a number gets the same answer with another message.
        """
        user = self._caller(request)
        params = request.query_params
        stream_type = params.get("stream_type") or "all"
        if stream_type not in ("all", "changes", "sync"):
            if stream_type in ("admin_logs", "admin_logs_streaming"):
                raise box_error(
                    403,
                    "access_denied_insufficient_permissions",
                    "Enterprise event streams are not emulated by the sandbox",
                )
            raise bad_request("stream_type", f"Invalid value '{stream_type}'.")
        raw_limit = params.get("limit")
        if raw_limit and (not raw_limit.isdigit() or int(raw_limit) < 1):
            raise bad_request("limit", "Limit is not a valid number", code="invalid_limit")
        limit = min(int(raw_limit), MAX_EVENTS) if raw_limit else DEFAULT_LIMIT
        raw = params.get("stream_position")
        with self.state.lock:
            state = self.state
            if raw == "now":
                return json_response(
                    {"chunk_size": 0, "next_stream_position": state.stream_end(), "entries": []}
                )
            oldest = state.oldest_kept()
            if raw in (None, "", "0"):
                index = oldest
            elif not raw.isdigit():
                raise bad_request(
                    "stream_position", f"Invalid value '{raw}'. The stream position is malformed."
                )
            else:
                index = int(raw) - STREAM_BASE
                if index < oldest:
                    raise stale_position(raw)
                index = min(index, len(state.events))
            wanted = _filter(user, stream_type)
            delivery = state.delivery
            chunk = max(1, limit // 2) if delivery.short_chunks else limit
            chosen: list[Event] = []
            cursor = index
            while cursor < len(state.events) and len(chosen) < chunk:
                event = state.events[cursor]
                cursor += 1
                if wanted(event):
                    chosen.append(event)
            served = list(chosen)
            if chosen and delivery.overlap:
                earlier = [e for e in state.events[oldest:index] if wanted(e)]
                served = earlier[max(0, len(earlier) - delivery.overlap) :] + served
            if delivery.duplicate_rate:
                for event in list(served):
                    if delivery.rng.random() < delivery.duplicate_rate:
                        served.insert(delivery.rng.randint(0, len(served)), event)
            if delivery.shuffle:
                delivery.rng.shuffle(served)
            renderer = Renderer(state, user)
            entries: list[JSON] = [_event_body(renderer, e) for e in served]
            return json_response(
                {
                    "chunk_size": len(entries),
                    "next_stream_position": STREAM_BASE + cursor,
                    "entries": entries,
                }
            )

    async def content(self, request: Request) -> Response:
        """302 to a short-lived URL on the download host, which needs no token."""
        user = self._caller(request)
        with self.state.lock:
            item = self._item("file", request.path_params["item_id"], user)
            token = secrets.token_urlsafe(24)
            self.state.download_tokens[token] = (item.id, self.state.clock() + DOWNLOAD_TTL)
        base = str(request.base_url).rstrip("/")
        return RedirectResponse(f"{base}/_boxcloud/d/1/{token}/download", status_code=302)

    async def download(self, request: Request) -> Response:
        with self.state.lock:
            entry = self.state.download_tokens.get(request.path_params["token"])
            if entry is None or entry[1] < self.state.clock():
                return Response("Download URL expired", 403, media_type="text/plain")
            item = self.state.items.get(entry[0])
            if item is None or item.status != "active":
                return Response("Not Found", 404, media_type="text/plain")
            content, name = item.content, item.name
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Accept-Ranges": "bytes",
        }
        span = _range(request.headers.get("range"), len(content))
        if span is None:
            return Response(content, 200, headers=headers, media_type="application/octet-stream")
        first, last = span
        headers["Content-Range"] = f"bytes {first}-{last}/{len(content)}"
        return Response(
            content[first : last + 1], 206, headers=headers, media_type="application/octet-stream"
        )


def stale_position(raw: str) -> BoxError:
    """The answer to a stream position older than the events kept (our choice; see
    `BoxApi.events`)."""
    return bad_request(
        "stream_position",
        f"Invalid value '{raw}'. The stream position is older than the events Box keeps; "
        "list everything again and start from stream_position=now.",
    )


def _key(item: Item, sort: str) -> list[JSON]:
    """[type rank, sort key, id]: a listing's order, and what a marker remembers."""
    secondary: JSON
    if sort == "name":
        secondary = item.name.lower()
    elif sort == "date":
        secondary = item.modified
    elif sort == "size":
        secondary = len(item.content)
    else:
        secondary = int(item.id)
    return [_TYPE_RANK[item.type], secondary, int(item.id)]


def _filter(user: str, stream_type: str) -> Callable[[Event], bool]:
    def wanted(event: Event) -> bool:
        if user not in event.recipients:
            return False
        return stream_type == "all" or event.event_type in CHANGES_EVENTS

    return wanted


def _event_body(renderer: Renderer, event: Event) -> JSONObject:
    return {
        "type": "event",
        "event_id": event.event_id,
        "created_by": renderer.user(event.actor),
        "created_at": renderer.time(event.created),
        "recorded_at": renderer.time(event.created),
        "event_type": event.event_type,
        "session_id": event.session_id,
        "source": event.source,
        "additional_details": None,
    }


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n` as (first, last), else None (the whole body)."""
    if not header or not header.startswith("bytes=") or size == 0:
        return None
    first_raw, _, last_raw = header[6:].partition("-")
    try:
        if first_raw == "":
            first, last = max(0, size - int(last_raw)), size - 1
        else:
            first = int(first_raw)
            last = min(int(last_raw), size - 1) if last_raw else size - 1
    except ValueError:
        return None
    return (first, last) if 0 <= first <= last else None
