"""Confluence Cloud's REST API v2 and the v1 routes a sync client needs, under
`/ex/confluence/{cloudId}/wiki/...` (the 3LO gateway's path), and
`/oauth/token/accessible-resources`.

Every route first passes the gateway: a live bearer token (else 401 `Unauthorized`), the site's
cloud id (else 404, GUESS: `{"code": 404, "message": "Not Found"}`), a token whose scopes
include one of the sets the Cloud OpenAPI specs list for the operation (else 401 "scope does
not match"), and the burst rate limit when one is set.

**v2** (spec: `openapi-v2.v3.json`, 2026): `GET /api/v2/spaces` (`ids`, `keys`, `type`,
`status`, `sort`, `description-format`), `/spaces/{id}`, `/spaces/{id}/pages` (`depth`),
`/spaces/{id}/permissions`, `/pages` (`id`, `space-id`, `status` default current+archived,
`title`, `sort`, `body-format` storage|atlas_doc_format), `/pages/{id}` (`body-format`,
`status`, `version`, `include-version`), `/pages/{id}/children` (deprecated),
`/direct-children`, `/descendants` (`depth` 1-5, default 2), `/ancestors`. Lists page by
`cursor` and `limit` (default 25, 1..250): the next page's URL is in `_links.next` and in the
`Link` header (`</wiki/api/v2/pages?cursor=...>; rel="next", <https://site/wiki>; rel="base"`)
and is **relative to the site**, not to the gateway: a client must prefix it with
`/ex/confluence/{cloudId}` itself. `_links.next` is absent on the last page. Cursors name the
last item's sort key, so items added or removed between pages neither repeat nor skip others.

**v1** (spec: `swagger.v3.json`): `GET /rest/api/search` and `/rest/api/content/search` (CQL;
see `cql.py`), content restrictions (`/content/{id}/restriction`, `/byOperation`,
`/byOperation/{read|update}`), groups (`/group`, `/group/by-id`,
`/group/{groupId}/membersByGroupId`), users (`/user`, `/user/bulk`, `/user/current`,
`/user/memberof`). v1 lists page by `start`/`limit` with `_links.next` carrying `next=true`
ahead of the rest (measured against a real site: brekkylab/backlot#270); the CQL searches page
by the `cursor` in their `_links.next` (`content/search` takes no `start` at all, after
Atlassian deprecated it there).

GUESSES, besides those marked where they are made: the messages of v1 refusals not quoted
from a real response (unknown group or user, a `limit` above 200, an unknown restriction
operation, an invalid search cursor); a search without `ORDER BY` answering in id order
(Confluence orders by relevance, which a client must not rely on either); CQL finding only
`current` pages (archived ones left out); the sandbox never producing the `deleted` status.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.confluence.cql import parse_cql
from syncline.sandbox.confluence.errors import (
    ConfluenceError,
    bad_cursor,
    gateway_error,
    json_response,
    scope_mismatch,
    unauthorized,
    v1_error,
    v2_error,
    v2_invalid_parameter,
)
from syncline.sandbox.confluence.render import Renderer
from syncline.sandbox.confluence.state import (
    RESOURCES_PATH,
    ConfluenceState,
    Page,
    Viewer,
)
from syncline.sandbox.kit.instrument import bearer
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.types import JSON, JSONObject

__all__ = ["ConfluenceApi", "api_family", "rate_limited"]

_T = TypeVar("_T")

Scopes = tuple[tuple[str, ...], ...]
"""Sets of scopes, any one of which admits a token (the specs' "Current" and "Beta" sets)."""

PAGE_SCOPES: Scopes = (("read:page:confluence",),)
SPACE_SCOPES: Scopes = (("read:space:confluence",),)
TREE_SCOPES: Scopes = (("read:hierarchical-content:confluence",),)
METADATA_SCOPES: Scopes = (("read:content.metadata:confluence",),)
SEARCH_SCOPES: Scopes = (("search:confluence",), ("read:content-details:confluence",))
RESTRICTION_SCOPES: Scopes = (
    ("read:confluence-content.all",),
    ("read:content-details:confluence",),
)
MEMBER_SCOPES: Scopes = (
    ("read:confluence-groups",),
    ("read:group:confluence", "read:user:confluence"),
)
GROUP_SCOPES: Scopes = (("read:confluence-groups",), ("read:group:confluence",))
USER_SCOPES: Scopes = (("read:confluence-user",), ("read:content-details:confluence",))
MEMBER_OF_SCOPES: Scopes = (
    ("read:confluence-user",),
    ("read:user:confluence", "read:group:confluence"),
)

V2_DEFAULT_LIMIT = 25
V2_MAX_LIMIT = 250
PAGE_STATUSES = ("current", "archived", "deleted", "trashed")
PAGE_SORTS = ("id", "-id", "created-date", "-created-date", "modified-date", "-modified-date",
              "title", "-title")  # fmt: skip
SPACE_SORTS = ("id", "-id", "key", "-key", "name", "-name")
CHILD_SORTS = ("created-date", "-created-date", "id", "-id", "child-position", "-child-position",
               "modified-date", "-modified-date", "title", "-title")  # fmt: skip
BULK_BODY_FORMATS = ("storage", "atlas_doc_format")
SINGLE_BODY_FORMATS = ("storage", "atlas_doc_format", "view", "export_view",
                       "anonymous_export_view", "styled_view", "editor")  # fmt: skip
SPACE_TYPES = ("global", "collaboration", "knowledge_base", "personal", "system", "onboarding",
               "xflow_sample_space")  # fmt: skip
V1_GROUP_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 25
INT_MAX = 2**31 - 1
AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"


def api_family(path: str) -> str:
    """`v2`, `v1` or `gateway`: which error envelope a path answers in."""
    if "/wiki/api/v2/" in path:
        return "v2"
    if "/wiki/rest/api/" in path:
        return "v1"
    return "gateway"


def rate_limited(
    path: str, retry_after: float, reason: str, limit: int, now: float
) -> ConfluenceError:
    """429 with the headers Atlassian's rate-limiting page lists: `Retry-After` (seconds),
    `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`), `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
    `X-RateLimit-NearLimit` and `RateLimit-Reason`. The body is a GUESS (no 429 body is
    documented): the path's ordinary error envelope."""
    seconds = max(1, math.ceil(retry_after))
    reset = datetime.fromtimestamp(now + seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
    headers = {
        "Retry-After": str(seconds),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
        "X-RateLimit-NearLimit": "true",
        "RateLimit-Reason": reason,
    }
    family = api_family(path)
    if family == "v2":
        return v2_error(429, "Too Many Requests", headers=headers)
    if family == "v1":
        return v1_error(429, "Rate limit exceeded", headers=headers)
    return gateway_error(429, "Too Many Requests", headers=headers)


class ConfluenceApi:
    def __init__(self, state: ConfluenceState) -> None:
        self.state = state
        self.tokens = _Cursors()
        self.render = Renderer(state)
        self._searches: OrderedDict[tuple[str, str, int], list[Page]] = OrderedDict()

    def routes(self) -> list[Route]:
        wiki = "/ex/confluence/{cloud_id}/wiki"
        v2, v1 = f"{wiki}/api/v2", f"{wiki}/rest/api"
        return [
            Route(RESOURCES_PATH, self.accessible_resources),
            Route(f"{v2}/spaces", self.spaces),
            Route(f"{v2}/spaces/{{space_id}}", self.space),
            Route(f"{v2}/spaces/{{space_id}}/pages", self.space_pages),
            Route(f"{v2}/spaces/{{space_id}}/permissions", self.space_permissions),
            Route(f"{v2}/pages", self.pages),
            Route(f"{v2}/pages/{{page_id}}", self.page),
            Route(f"{v2}/pages/{{page_id}}/children", self.child_pages),
            Route(f"{v2}/pages/{{page_id}}/direct-children", self.direct_children),
            Route(f"{v2}/pages/{{page_id}}/descendants", self.descendants),
            Route(f"{v2}/pages/{{page_id}}/ancestors", self.ancestors),
            Route(f"{v1}/search", self.search),
            Route(f"{v1}/content/search", self.content_search),
            Route(f"{v1}/content/{{content_id}}/restriction", self.restrictions),
            Route(
                f"{v1}/content/{{content_id}}/restriction/byOperation",
                self.restrictions_by_operation,
            ),
            Route(
                f"{v1}/content/{{content_id}}/restriction/byOperation/{{operation}}",
                self.restriction,
            ),
            Route(f"{v1}/group", self.groups),
            Route(f"{v1}/group/by-id", self.group_by_id),
            Route(f"{v1}/group/{{group_id}}/membersByGroupId", self.group_members),
            Route(f"{v1}/user", self.user),
            Route(f"{v1}/user/bulk", self.users_bulk),
            Route(f"{v1}/user/current", self.current_user),
            Route(f"{v1}/user/memberof", self.member_of),
            Route(f"{wiki}/{{rest:path}}", self.unknown),
        ]

    # -- the gateway --------------------------------------------------------------------------

    def _grant(self, request: Request) -> tuple[str, frozenset[str]]:
        token = bearer(request.headers)
        grant = self.state.grants.grant_for(token) if token else None
        if grant is None:
            raise unauthorized()
        return grant

    def _caller(self, request: Request, scopes: Scopes) -> str:
        user, granted = self._grant(request)
        if request.path_params.get("cloud_id") != self.state.cloud_id:
            raise gateway_error(404, "Not Found")
        if not any(set(needed) <= granted for needed in scopes):
            raise scope_mismatch()
        limiter = self.state.limiter
        if limiter is not None:
            wait = limiter.take(user)
            if wait is not None:
                raise rate_limited(
                    request.url.path,
                    wait,
                    "confluence-burst-based",
                    limiter.capacity,
                    self.state.clock(),
                )
        return user

    async def accessible_resources(self, request: Request) -> Response:
        """The sites the grant reaches: `[{id, url, name, scopes, avatarUrl}]`. The scopes
        listed leave out `offline_access` (GUESS)."""
        _, granted = self._grant(request)
        state = self.state
        scopes: list[JSON] = [s for s in sorted(granted) if s != "offline_access"]
        return json_response(
            [
                {
                    "id": state.cloud_id,
                    "url": state.site_url,
                    "name": state.site_name,
                    "scopes": scopes,
                    "avatarUrl": AVATAR,
                }
            ]
        )

    async def unknown(self, request: Request) -> Response:
        self._caller(request, ((),))
        if api_family(request.url.path) == "v2":
            raise v2_error(404)
        if api_family(request.url.path) == "v1":
            raise v1_error(404, f"null for uri: {request.url}")
        return Response("Not Found", 404, media_type="text/plain")

    # -- v2 parameters ------------------------------------------------------------------------

    def _v2_limit(self, request: Request, default: int = V2_DEFAULT_LIMIT) -> int:
        raw = request.query_params.get("limit")
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= V2_MAX_LIMIT:
            raise v2_invalid_parameter("limit", raw, "LimitParam")
        return int(raw)

    def _v2_list(self, request: Request, name: str, expected: str, maximum: int) -> list[str]:
        values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
        for value in values:
            if not value.isdigit():
                raise v2_invalid_parameter(name, value, expected)
        if len(values) > maximum:
            raise v2_invalid_parameter(name, ",".join(values), expected)
        return values

    def _v2_enum(
        self, request: Request, name: str, allowed: Sequence[str], expected: str
    ) -> str | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        if raw not in allowed:
            raise v2_invalid_parameter(name, raw, expected)
        return raw

    def _v2_statuses(self, request: Request, default: Sequence[str]) -> tuple[str, ...]:
        values = [v for raw in request.query_params.getlist("status") for v in raw.split(",") if v]
        for value in values:
            if value not in PAGE_STATUSES:
                raise v2_invalid_parameter("status", value, "ContentStatus")
        return tuple(values) or tuple(default)

    def _path_id(self, request: Request, name: str, expected: str = "ContentId") -> str:
        raw: str = request.path_params[name]
        if not raw.isdigit():
            raise v2_invalid_parameter("id", raw, expected)
        return str(int(raw))

    def _v2_cursor(self, request: Request, route: str, sort: str) -> list[JSON] | None:
        raw = request.query_params.get("cursor")
        if not raw:
            return None
        payload = self.tokens.decode(raw)
        key = payload.get("k") if payload else None
        if payload is None or payload.get("r") != route or payload.get("s") != sort:
            raise bad_cursor()
        if not isinstance(key, list):
            raise bad_cursor()
        return key

    def _v2_page(
        self,
        request: Request,
        route: str,
        sort: str,
        results: list[JSON],
        next_key: Sequence[float | int | str] | None,
    ) -> Response:
        links: JSONObject = {}
        headers: dict[str, str] = {}
        wiki = self.render.wiki
        if next_key is not None:
            key: list[JSON] = list(next_key)
            cursor = self.tokens.encode({"r": route, "s": sort, "k": key})
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            relative = request.url.path.split("/wiki", 1)[1]
            link = f"/wiki{relative}?{urlencode([('cursor', cursor), *kept])}"
            links["next"] = link
            headers["Link"] = f'<{link}>; rel="next", <{wiki}>; rel="base"'
        links["base"] = wiki
        return json_response({"results": results, "_links": links}, headers=headers)

    # -- v2: spaces ---------------------------------------------------------------------------

    async def spaces(self, request: Request) -> Response:
        """Spaces the caller may view, by `id` ascending unless `sort` says otherwise."""
        user = self._caller(request, SPACE_SCOPES)
        ids = set(self._v2_list(request, "ids", "SpaceId", 250))
        keys = {k for raw in request.query_params.getlist("keys") for k in raw.split(",") if k}
        space_type = self._v2_enum(request, "type", SPACE_TYPES, "SpaceType")
        status = self._v2_enum(request, "status", ("current", "archived"), "SpaceStatus")
        labels = request.query_params.get("labels")
        sort = self._v2_enum(request, "sort", SPACE_SORTS, "SpaceSortOrder") or "id"
        description = self._v2_enum(request, "description-format", ("plain", "view"), "Format")
        limit = self._v2_limit(request)
        after = self._v2_cursor(request, "spaces", sort)
        with self.state.lock:
            viewer = self.state.viewer(user)
            field, descending = sort.lstrip("-"), sort.startswith("-")

            def key(space_id: str) -> tuple[int | str, int]:
                space = self.state.spaces[space_id]
                value: dict[str, int | str] = {
                    "id": int(space.id),
                    "key": space.key,
                    "name": space.name.casefold(),
                }
                return (value[field], int(space.id))

            ordered = sorted(self.state.spaces, key=key)
            keys_sorted = [key(s) for s in ordered]

            def accept(space_id: str) -> bool:
                space = self.state.spaces[space_id]
                return (
                    viewer.sees_space(space_id)
                    and (not ids or space_id in ids)
                    and (not keys or space.key in keys)
                    and (space_type is None or space.type == space_type)
                    and (status is None or space.status == status)
                    and not labels  # the sandbox's spaces carry no labels
                )

            found, more = _keyset(ordered, keys_sorted, descending, after, accept, limit)
            results: list[JSON] = [
                self.render.space_v2(self.state.spaces[s], description) for s in found
            ]
            next_key = list(key(found[-1])) if more and found else None
        return self._v2_page(request, "spaces", sort, results, next_key)

    async def space(self, request: Request) -> Response:
        user = self._caller(request, SPACE_SCOPES)
        space_id = self._path_id(request, "space_id", "SpaceId")
        description = self._v2_enum(request, "description-format", ("plain", "view"), "Format")
        with self.state.lock:
            space = self.state.spaces.get(space_id)
            if space is None or not self.state.viewer(user).sees_space(space_id):
                raise v2_error(404)
            return json_response(self.render.space_v2(space, description, single=True))

    async def space_permissions(self, request: Request) -> Response:
        """The space's permission assignments (`principal`, `operation`), by id."""
        user = self._caller(request, SPACE_SCOPES)
        space_id = self._path_id(request, "space_id", "SpaceId")
        limit = self._v2_limit(request)
        after = self._v2_cursor(request, f"perm:{space_id}", "id")
        with self.state.lock:
            if space_id not in self.state.spaces or not self.state.viewer(user).sees_space(
                space_id
            ):
                raise v2_error(404)
            assignments = sorted(self.state.permissions[space_id], key=lambda p: int(p.id))
            keys = [(int(p.id), int(p.id)) for p in assignments]
            found, more = _keyset(assignments, keys, False, after, lambda _p: True, limit)
            results: list[JSON] = [self.render.permission_v2(p) for p in found]
            next_key = [int(found[-1].id), int(found[-1].id)] if more and found else None
        return self._v2_page(request, f"perm:{space_id}", "id", results, next_key)

    # -- v2: pages ----------------------------------------------------------------------------

    async def pages(self, request: Request) -> Response:
        user = self._caller(request, PAGE_SCOPES)
        ids = set(self._v2_list(request, "id", "ContentId", 250))
        space_ids = set(self._v2_list(request, "space-id", "SpaceId", 100))
        return self._list_pages(request, user, "pages", ids=ids, space_ids=space_ids)

    async def space_pages(self, request: Request) -> Response:
        user = self._caller(request, PAGE_SCOPES)
        space_id = self._path_id(request, "space_id", "SpaceId")
        depth = self._v2_enum(request, "depth", ("all", "root"), "Depth") or "all"
        with self.state.lock:
            if space_id not in self.state.spaces or not self.state.viewer(user).sees_space(
                space_id
            ):
                raise v2_error(404)
        return self._list_pages(
            request,
            user,
            f"space-pages:{space_id}:{depth}",
            space_ids={space_id},
            root_only=depth == "root",
        )

    def _list_pages(
        self,
        request: Request,
        user: str,
        route: str,
        *,
        ids: set[str] | None = None,
        space_ids: set[str] | None = None,
        root_only: bool = False,
    ) -> Response:
        statuses = self._v2_statuses(request, ("current", "archived"))
        sort = self._v2_enum(request, "sort", PAGE_SORTS, "PageSortOrder") or "id"
        body_format = self._v2_enum(request, "body-format", BULK_BODY_FORMATS, "BodyFormat")
        title = request.query_params.get("title")
        subtype = self._v2_enum(request, "subtype", ("live", "page"), "Subtype")
        limit = self._v2_limit(request)
        after = self._v2_cursor(request, route, sort)
        with self.state.lock:
            viewer = self.state.viewer(user)
            ordered, keys = self.state.sorted_pages(sort.lstrip("-"))

            def accept(page: Page) -> bool:
                return (
                    page.status in statuses
                    and (not ids or page.id in ids)
                    and (not space_ids or page.space_id in space_ids)
                    and (title is None or page.title == title)
                    and (not root_only or page.parent_id is None)
                    and subtype != "live"  # the sandbox has no live docs
                    and viewer.sees(page)
                )

            found, more = _keyset(ordered, keys, sort.startswith("-"), after, accept, limit)
            results: list[JSON] = [self.render.page_v2(p, body_format) for p in found]
            next_key = _page_key(found[-1], sort.lstrip("-")) if more and found else None
        return self._v2_page(request, route, sort, results, next_key)

    def _visible_page(
        self, user: str, page_id: str, statuses: Sequence[str] = ("current", "archived")
    ) -> tuple[Page, Viewer]:
        page = self.state.pages.get(page_id)
        viewer = self.state.viewer(user)
        if page is None or page.status not in statuses or not viewer.sees(page):
            raise v2_error(404)
        return page, viewer

    async def page(self, request: Request) -> Response:
        """One page. Without `status`, a trashed page answers 404 as a purged one does
        (GUESS, by analogy with v1's default of `current`); `status=trashed` finds it."""
        user = self._caller(request, PAGE_SCOPES)
        page_id = self._path_id(request, "page_id")
        body_format = self._v2_enum(request, "body-format", SINGLE_BODY_FORMATS, "BodyFormat")
        statuses = self._v2_statuses(request, ("current", "archived"))
        include_version = request.query_params.get("include-version", "true") != "false"
        raw_version = request.query_params.get("version")
        if raw_version is not None and not raw_version.isdigit():
            raise v2_invalid_parameter("version", raw_version, "Integer")
        with self.state.lock:
            page, _ = self._visible_page(user, page_id, statuses)
            version = None
            if raw_version is not None:
                number = int(raw_version)
                if not 1 <= number <= page.version.number:
                    raise v2_error(404)
                version = page.versions[number - 1]
            return json_response(
                self.render.page_v2(
                    page,
                    body_format,
                    single=True,
                    version=version,
                    include_version=include_version,
                )
            )

    def _children(
        self, request: Request, route: str, render: Callable[[Page], JSONObject], *, hide: bool
    ) -> Response:
        user = self._caller(request, PAGE_SCOPES if route == "children" else TREE_SCOPES)
        page_id = self._path_id(request, "page_id")
        sort = self._v2_enum(request, "sort", CHILD_SORTS, "ContentSortOrder") or "child-position"
        limit = self._v2_limit(request)
        after = self._v2_cursor(request, f"{route}:{page_id}", sort)
        with self.state.lock:
            page = self.state.pages.get(page_id)
            viewer = self.state.viewer(user)
            if page is None or page.status == "trashed" or not viewer.sees(page):
                if hide:
                    return self._v2_page(request, f"{route}:{page_id}", sort, [], None)
                raise v2_error(404)
            children = list(self.state.children(page_id, statuses=("current", "archived")))
            field = sort.lstrip("-")
            children.sort(key=lambda c: _child_key(c, field))
            keys = [_child_key(c, field) for c in children]
            found, more = _keyset(children, keys, sort.startswith("-"), after, viewer.sees, limit)
            results: list[JSON] = [render(c) for c in found]
            next_key = list(_child_key(found[-1], field)) if more and found else None
        return self._v2_page(request, f"{route}:{page_id}", sort, results, next_key)

    async def child_pages(self, request: Request) -> Response:
        """Deprecated in the spec, which lists no 404 for it: an unseen parent answers an
        empty list."""
        return self._children(request, "children", self.render.child_page_v2, hide=True)

    async def direct_children(self, request: Request) -> Response:
        return self._children(request, "direct-children", self.render.child_v2, hide=False)

    async def descendants(self, request: Request) -> Response:
        """Top to bottom (every depth-1 page, then depth 2, ...), down to `depth` levels."""
        user = self._caller(request, TREE_SCOPES)
        page_id = self._path_id(request, "page_id")
        raw_depth = request.query_params.get("depth") or "2"
        if not raw_depth.isdigit() or not 1 <= int(raw_depth) <= 5:
            raise v2_invalid_parameter("depth", raw_depth, "DepthParam")
        depth = int(raw_depth)
        limit = self._v2_limit(request)
        route = f"descendants:{page_id}:{depth}"
        after = self._v2_cursor(request, route, "tree")
        with self.state.lock:
            page, viewer = self._visible_page(user, page_id)
            levels: list[tuple[Page, int]] = []
            frontier = [page]
            for level in range(1, depth + 1):
                following = [
                    child
                    for node in frontier
                    for child in self.state.children(node.id, statuses=("current", "archived"))
                    if viewer.sees(child)
                ]
                levels += [(child, level) for child in following]
                frontier = following
            start = int(after[0]) if after and isinstance(after[0], int) else 0
            chunk = levels[start : start + limit]
            results: list[JSON] = [self.render.descendant_v2(p, d) for p, d in chunk]
            next_key = (start + limit, 0) if start + limit < len(levels) else None
        return self._v2_page(request, route, "tree", results, next_key)

    async def ancestors(self, request: Request) -> Response:
        """Top to bottom; past `limit`, the nearest ones (call again with the first)."""
        user = self._caller(request, METADATA_SCOPES)
        page_id = self._path_id(request, "page_id")
        limit = self._v2_limit(request)
        with self.state.lock:
            page, _ = self._visible_page(user, page_id)
            chain = self.state.ancestor_ids(page)[-limit:]
            results: list[JSON] = [{"id": a, "type": "page"} for a in chain]
        return json_response({"results": results, "_links": {"base": self.render.wiki}})

    # -- v1 parameters ------------------------------------------------------------------------

    def _v1_int(self, request: Request, name: str, default: int, *, search: bool) -> int:
        """How v1 binds an integer: empty or blank is the default; a negative value is
        `IllegalArgumentException` 400 (both measured, brekkylab/backlot#216); a value that does
        not convert is a bodiless 404 on the CQL search (measured) and a 400 elsewhere (the
        message is a GUESS)."""
        raw = request.query_params.get(name)
        if raw is None or not raw.strip():
            return default
        text = raw.strip()
        digits = text[1:] if text.startswith("-") else text
        if not digits.isdigit() or int(digits) > INT_MAX:
            if search:
                raise ConfluenceError(404, None)
            raise v1_error(
                400,
                "Failed to convert value of type 'java.lang.String' to required type 'int'; "
                f'For input string: "{raw}"',
            )
        value = int(text)
        if value < 0:
            raise v1_error(
                400, f"java.lang.IllegalArgumentException: {name} cannot be less than zero"
            )
        return value

    def _v1_page_links(self, request: Request, start: int, limit: int, more: bool) -> JSONObject:
        wiki = self.render.wiki
        relative = request.url.path.split("/wiki", 1)[1]
        kept = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("start", "limit")
        ]
        links: JSONObject = {
            "base": wiki,
            "context": "/wiki",
            "self": f"{wiki}{relative}" + (f"?{urlencode(kept)}" if kept else ""),
        }
        if more:
            params = [("next", "true"), ("limit", str(limit)), ("start", str(start + limit))]
            links["next"] = f"{relative}?{urlencode([*params, *kept])}"
        if start > 0:
            params = [
                ("prev", "true"),
                ("limit", str(limit)),
                ("start", str(max(0, start - limit))),
            ]
            links["prev"] = f"{relative}?{urlencode([*params, *kept])}"
        return links

    # -- v1: CQL search -----------------------------------------------------------------------

    def _matches(self, cql: str, user: str) -> list[Page]:
        """The pages a query finds for a user, in its order; cached until the next change."""
        key = (cql, user, self.state.revision)
        cached = self._searches.get(key)
        if cached is not None:
            self._searches.move_to_end(key)
            return cached
        query = parse_cql(cql, self.state)
        viewer = self.state.viewer(user)
        if query.types is not None and "page" not in query.types:
            found: list[Page] = []
        else:
            found = [
                page
                for page in self.state.page_order
                if page.status == "current" and query.matches(page) and viewer.sees(page)
            ]
        for field, descending in reversed(query.order):
            found.sort(key=_order_key(field), reverse=descending)
        self._searches[key] = found
        if len(self._searches) > 32:
            self._searches.popitem(last=False)
        return found

    def _search(
        self, request: Request, user: str, route: str
    ) -> tuple[JSONObject, list[Page], int, int, set[str], int]:
        """What both searches share: (links, the page of results, start, limit, expansions,
        total matches)."""
        params = request.query_params
        cql = params.get("cql")
        if cql is None:
            raise v1_error(400, "CQL query parameter is required")
        limit = self._v1_int(request, "limit", SEARCH_DEFAULT_LIMIT, search=True)
        start = self._v1_int(request, "start", 0, search=True) if route == "search" else 0
        expand = _expand(params.getlist("expand"), strip_content=route == "search")
        cursor = params.get("cursor")
        fingerprint = hashlib.sha256(cql.encode()).hexdigest()[:16]
        offset = start
        if cursor:
            payload = self.tokens.decode(cursor)
            at = payload.get("o") if payload else None
            if payload is None or payload.get("q") != fingerprint or not isinstance(at, int):
                raise v1_error(400, "java.lang.IllegalArgumentException: Invalid cursor")
            offset = at
        with self.state.lock:
            matches = self._matches(cql, user)
            cap = _expansion_cap(expand)
            chunk = matches[offset : offset + min(limit, cap)]
        wiki = self.render.wiki
        relative = request.url.path.split("/wiki", 1)[1]
        kept = [(k, v) for k, v in params.multi_items() if k not in ("cursor", "start", "limit",
                                                                      "next", "prev")]  # fmt: skip
        links: JSONObject = {
            "base": wiki,
            "context": "/wiki",
            "self": f"{wiki}{relative}?{urlencode(kept)}",
        }
        following = offset + len(chunk)
        if following < len(matches):
            token = self.tokens.encode({"q": fingerprint, "o": following})
            params_next = [("next", "true"), ("cursor", token), ("limit", str(limit))]
            if route == "search":
                params_next.append(("start", str(following)))
            links["next"] = f"{relative}?{urlencode([*params_next, *kept])}"
        if offset > 0:
            token = self.tokens.encode({"q": fingerprint, "o": max(0, offset - limit)})
            params_prev = [("prev", "true"), ("cursor", token), ("limit", str(limit))]
            links["prev"] = f"{relative}?{urlencode([*params_prev, *kept])}"
        return links, chunk, offset, limit, expand, len(matches)

    async def search(self, request: Request) -> Response:
        """`/rest/api/search`: `SearchResult`s (`content`, `title`, `excerpt`, `url`,
        `lastModified`, ...), with `start`, `limit`, `size`, `totalSize`, `cqlQuery`,
        `searchDuration`."""
        user = self._caller(request, SEARCH_SCOPES)
        links, chunk, offset, limit, expand, total = self._search(request, user, "search")
        with self.state.lock:
            results: list[JSON] = [self.render.search_result_v1(p, expand) for p in chunk]
        return json_response(
            {
                "results": results,
                "start": offset,
                "limit": limit,
                "size": len(results),
                "totalSize": total,
                "cqlQuery": request.query_params["cql"],
                "searchDuration": 17,
                "_links": links,
            }
        )

    async def content_search(self, request: Request) -> Response:
        """`/rest/api/content/search`: `Content` items, with `start`, `limit`, `size`."""
        user = self._caller(request, SEARCH_SCOPES)
        links, chunk, offset, limit, expand, _ = self._search(request, user, "content")
        with self.state.lock:
            results: list[JSON] = [self.render.content_v1(p, expand) for p in chunk]
        return json_response(
            {"results": results, "start": offset, "limit": limit, "size": len(results),
             "_links": links}
        )  # fmt: skip

    # -- v1: restrictions ---------------------------------------------------------------------

    def _v1_page(self, user: str, content_id: str) -> Page:
        page = self.state.pages.get(content_id)
        if page is None or not self.state.viewer(user).sees(page):
            raise v1_error(404, f"No content found with id: ContentId{{id={content_id}}}")
        return page

    async def restrictions(self, request: Request) -> Response:
        """The page's own `read` and `update` restrictions (not inherited ones)."""
        user = self._caller(request, RESTRICTION_SCOPES)
        start = self._v1_int(request, "start", 0, search=False)
        limit = self._v1_int(request, "limit", 100, search=False)
        with self.state.lock:
            page = self._v1_page(user, request.path_params["content_id"])
            results: list[JSON] = [
                self.render.restriction_v1(page, op, start, limit) for op in ("read", "update")
            ]
            digest = hashlib.sha256(repr(sorted(
                (op, tuple(r.users), tuple(r.groups)) for op, r in page.restrictions.items()
            )).encode()).hexdigest()  # fmt: skip
            wiki = self.render.wiki
            return json_response(
                {
                    "results": results,
                    "start": start,
                    "limit": limit,
                    "size": len(results),
                    "restrictionsHash": digest,
                    "_links": {
                        "base": wiki,
                        "context": "/wiki",
                        "self": f"{wiki}/rest/api/content/{page.id}/restriction",
                    },
                }
            )

    async def restrictions_by_operation(self, request: Request) -> Response:
        user = self._caller(request, RESTRICTION_SCOPES)
        with self.state.lock:
            page = self._v1_page(user, request.path_params["content_id"])
            wiki = self.render.wiki
            body: JSONObject = {
                op: self.render.restriction_v1(page, op, 0, 100) for op in ("read", "update")
            }
            body["_links"] = {
                "base": wiki,
                "context": "/wiki",
                "self": f"{wiki}/rest/api/content/{page.id}/restriction/byOperation",
            }
            return json_response(body)

    async def restriction(self, request: Request) -> Response:
        user = self._caller(request, RESTRICTION_SCOPES)
        operation = request.path_params["operation"]
        if operation not in ("read", "update"):
            raise v1_error(400, f"No enum constant for operation key: {operation}")
        start = self._v1_int(request, "start", 0, search=False)
        limit = self._v1_int(request, "limit", 100, search=False)
        with self.state.lock:
            page = self._v1_page(user, request.path_params["content_id"])
            return json_response(self.render.restriction_v1(page, operation, start, limit))

    # -- v1: groups and users -----------------------------------------------------------------

    def _group_limit(self, request: Request) -> int:
        limit = self._v1_int(request, "limit", V1_GROUP_LIMIT, search=False)
        if limit > V1_GROUP_LIMIT:  # "Returned if given limit is greater than 200"
            raise v1_error(400, f"Limit of {limit} exceeds the maximum of {V1_GROUP_LIMIT}")
        return limit

    async def groups(self, request: Request) -> Response:
        """Every group, by name."""
        self._caller(request, GROUP_SCOPES)
        start = self._v1_int(request, "start", 0, search=False)
        limit = self._group_limit(request)
        with self.state.lock:
            ordered = sorted(self.state.groups.values(), key=lambda g: g.name.casefold())
            chunk = ordered[start : start + limit]
            results: list[JSON] = [self.render.group_v1(g) for g in chunk]
            more = start + limit < len(ordered)
        return json_response(
            {"results": results, "start": start, "limit": limit, "size": len(results),
             "_links": self._v1_page_links(request, start, limit, more)}
        )  # fmt: skip

    async def group_by_id(self, request: Request) -> Response:
        self._caller(request, GROUP_SCOPES)
        group_id = request.query_params.get("id", "")
        with self.state.lock:
            group = self.state.groups.get(group_id)
            if group is None:
                raise v1_error(404, f"No group found with id : {group_id}")
            return json_response(self.render.group_v1(group))

    async def group_members(self, request: Request) -> Response:
        """A group's members in the order they joined, `start`/`limit` paged (`limit` at most
        200), `totalSize` only with `shouldReturnTotalSize=true`."""
        self._caller(request, MEMBER_SCOPES)
        start = self._v1_int(request, "start", 0, search=False)
        limit = self._group_limit(request)
        with self.state.lock:
            group_id = request.path_params["group_id"]
            if group_id not in self.state.groups:
                raise v1_error(404, f"No group found with id : {group_id}")
            members = list(self.state.members[group_id])
            chunk = members[start : start + limit]
            body: JSONObject = {
                "results": [self.render.user_v1(a) for a in chunk],
                "start": start,
                "limit": limit,
                "size": len(chunk),
            }
            if request.query_params.get("shouldReturnTotalSize") == "true":
                body["totalSize"] = len(members)
            body["_links"] = self._v1_page_links(
                request, start, limit, start + limit < len(members)
            )
            return json_response(body)

    def _account(self, request: Request) -> str:
        account = request.query_params.get("accountId")
        if not account:
            raise v1_error(400, "accountId is required")
        return account

    async def user(self, request: Request) -> Response:
        self._caller(request, USER_SCOPES)
        account = self._account(request)
        with self.state.lock:
            if account not in self.state.users:
                raise v1_error(404, f"No user found with accountId: {account}")
            return json_response(self.render.user_v1(account))

    async def users_bulk(self, request: Request) -> Response:
        """At most 100 users ("If more than 100 account ids are passed in, then the first 100
        will be returned"); unknown ids are left out. `accountId` may repeat or be
        comma-separated."""
        self._caller(request, USER_SCOPES)
        wanted = [
            a for raw in request.query_params.getlist("accountId") for a in raw.split(",") if a
        ][:100]
        with self.state.lock:
            results: list[JSON] = [self.render.user_v1(a) for a in wanted if a in self.state.users]
        return json_response(
            {"results": results, "start": 0, "limit": 100, "size": len(results),
             "_links": {"base": self.render.wiki, "context": "/wiki"}}
        )  # fmt: skip

    async def current_user(self, request: Request) -> Response:
        user = self._caller(request, USER_SCOPES)
        with self.state.lock:
            return json_response(self.render.user_v1(user))

    async def member_of(self, request: Request) -> Response:
        self._caller(request, MEMBER_OF_SCOPES)
        account = self._account(request)
        start = self._v1_int(request, "start", 0, search=False)
        limit = self._group_limit(request)
        with self.state.lock:
            if account not in self.state.users:
                raise v1_error(404, f"No user found with accountId: {account}")
            groups = sorted(
                (self.state.groups[g] for g in self.state.groups_of(account)),
                key=lambda g: g.name.casefold(),
            )
            chunk = groups[start : start + limit]
            results: list[JSON] = [self.render.group_v1(g) for g in chunk]
            more = start + limit < len(groups)
        return json_response(
            {"results": results, "start": start, "limit": limit, "size": len(results),
             "_links": self._v1_page_links(request, start, limit, more)}
        )  # fmt: skip


class _Cursors:
    """The kit's tamper-evident tokens without its Drive-style prefix: Atlassian's cursors are
    opaque base64url strings."""

    _PREFIX = "~!!~"

    def __init__(self) -> None:
        self._tokens = PageTokens()

    def encode(self, payload: JSONObject) -> str:
        return self._tokens.encode(payload).removeprefix(self._PREFIX)

    def decode(self, token: str) -> JSONObject | None:
        return self._tokens.decode(self._PREFIX + token)


def _keyset(
    ordered: Sequence[_T],
    keys: Sequence[tuple[float | int | str, int]],
    descending: bool,
    after: list[JSON] | None,
    accept: Callable[[_T], bool],
    limit: int,
) -> tuple[list[_T], bool]:
    """Up to `limit` accepted items after the key `after` (in the direction asked), and
    whether another accepted item follows. Costs the items scanned, not the collection."""
    mark: tuple[float | int | str, int] | None = None
    if after is not None:
        if len(after) != 2 or not isinstance(after[1], int):
            raise bad_cursor()
        first = after[0]
        if not isinstance(first, int | float | str) or isinstance(first, bool):
            raise bad_cursor()
        mark = (first, after[1])
    try:
        if descending:
            index = (bisect_left(keys, mark) - 1) if mark is not None else len(keys) - 1
        else:
            index = bisect_right(keys, mark) if mark is not None else 0
    except TypeError:  # a key of another type than the sort's
        raise bad_cursor() from None
    step = -1 if descending else 1
    found: list[_T] = []
    while 0 <= index < len(ordered):
        item = ordered[index]
        index += step
        if accept(item):
            if len(found) == limit:
                return found, True
            found.append(item)
    return found, False


def _page_key(page: Page, field: str) -> tuple[float | int | str, int]:
    if field == "created-date":
        return (page.created, page.number)
    if field == "modified-date":
        return (page.modified, page.number)
    if field == "title":
        return (page.title.casefold(), page.number)
    return (page.number, page.number)


def _child_key(page: Page, field: str) -> tuple[float | int | str, int]:
    if field == "child-position":
        return (page.position, page.number)
    return _page_key(page, field)


def _order_key(field: str) -> Callable[[Page], float | int | str]:
    if field == "lastmodified":
        return lambda p: p.modified
    if field == "created":
        return lambda p: p.created
    if field == "title":
        return lambda p: p.title.casefold()
    return lambda p: p.number


def _expand(values: Sequence[str], *, strip_content: bool) -> set[str]:
    found: set[str] = set()
    for raw in values:
        for piece in raw.split(","):
            item = piece.strip()
            if strip_content and item.startswith("content."):
                item = item[len("content.") :]
            if item:
                found.add(item)
    return found


def _expansion_cap(expand: set[str]) -> int:
    """Results per search page, whatever `limit` says: 25 with `body.export_view` or
    `body.styled_view` (the spec), 50 with another body (Atlassian KB "searching ... always
    limits results to 50"), 200 with other expansions and 1000 without (a third-party summary
    of the same KB; GUESS for those two). `limit` is still echoed as asked."""
    if "body.export_view" in expand or "body.styled_view" in expand:
        return 25
    if any(e.startswith("body") for e in expand):
        return 50
    if expand:
        return 200
    return 1000
