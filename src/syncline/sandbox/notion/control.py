"""The sandbox Notion under test control.

`NotionControl` adapts one integration's view of Notion to the kit's control API (`syncline
sandbox add|edit|delete`): files are the pages it can see; adding writes a page (one paragraph
per line) under `parent`, editing renames it and/or replaces its content, deleting moves it to
the trash, each moving `last_edited_time` as the user's edit would.

`control_routes` serves the same changes (and the fake's own knobs) over HTTP beside the API,
for the demo and for tests that drive a running server:

    PATCH  /_notion/pages/{id}            {title?, properties?}: an edit
    POST   /_notion/pages/{id}/trash      to the trash (and /restore out of it)
    POST   /_notion/pages/{id}/touch      an edit that changes nothing but the time
    POST   /_notion/pages/{id}/move       {parent: id | null}
    POST   /_notion/pages/{id}/share      {bot?}: shared with the integration (and /unshare)
    POST   /_notion/pages/{id}/purge      deleted for good, without a trace
    POST   /_notion/blocks/{id}/children  {children: [request-shape blocks]}: appended
    GET    /_notion/rate_limit            {rate, burst} or null
    PUT    /_notion/rate_limit            {rate, burst} or null: enforce from now on
    POST   /_notion/cursors/expire        every cursor issued so far is refused
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.kit.control import ControlledFile
from syncline.sandbox.notion.content import paragraph
from syncline.sandbox.notion.errors import json_response
from syncline.sandbox.notion.ratelimit import RateLimit
from syncline.sandbox.notion.state import NotionState
from syncline.types import JSON, JSONObject

__all__ = ["NotionControl", "control_routes"]

_MIME = "text/markdown"  # how a page's text reads once synced; Notion has no MIME type


@dataclass(frozen=True)
class NotionControl:
    state: NotionState
    parent: str | None = None
    """Where `add` puts pages (None: the workspace's top level, shared with `bot`)."""
    bot: str | None = None
    """Whose view `files` lists (None: the state's integration)."""

    def files(self) -> list[ControlledFile]:
        state = self.state
        with state.lock:
            bot = state.bots[self.bot or state.bot]
            out = []
            for page in state.pages.values():
                seen, trashed = state.access(bot, page.id)
                if seen and not trashed:
                    out.append(ControlledFile(page.id, page.title, _MIME))
            return out

    def add(self, name: str, content: bytes) -> str:
        state = self.state
        with state.lock:
            page = state.add_page(name, self.parent, content=_paragraphs(content))
            if self.parent is None:
                state.share(page, self.bot)
            return page

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        state = self.state
        with state.lock:
            if content is not None:
                page = state.pages[file_id]
                for child in state.live_children(page):
                    if child in state.blocks:
                        state.delete_block(child)
                state.append_blocks(file_id, _paragraphs(content))
            if name is not None:
                state.edit_page(file_id, title=name)

    def delete(self, file_id: str) -> None:
        self.state.trash(file_id)


def _paragraphs(content: bytes) -> list[JSONObject]:
    lines = content.decode("utf-8", "replace").splitlines()
    return [paragraph(line) for line in lines if line.strip()]


def control_routes(state: NotionState) -> list[Route]:
    def changing(
        change: Callable[[str, JSONObject], object],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            body = await _body(request)
            if isinstance(body, Response):
                return body
            object_id = str(request.path_params["object_id"])
            try:
                with state.lock:
                    result = change(object_id, body)
            except KeyError as exc:
                return json_response({"error": str(exc)}, 404)
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)
            answer: JSONObject = {"id": object_id}
            if isinstance(result, list):
                answer["children"] = list(result)
            return json_response(answer)

        return handler

    def edit(object_id: str, body: JSONObject) -> None:
        title = body.get("title")
        properties = body.get("properties")
        state.edit_page(
            object_id,
            title=title if isinstance(title, str) else None,
            properties=properties if isinstance(properties, dict) else None,
        )

    def share(object_id: str, body: JSONObject) -> None:
        bot = body.get("bot")
        state.share(object_id, bot if isinstance(bot, str) else None)

    def unshare(object_id: str, body: JSONObject) -> None:
        bot = body.get("bot")
        state.unshare(object_id, bot if isinstance(bot, str) else None)

    def move(object_id: str, body: JSONObject) -> None:
        parent = body.get("parent")
        state.move(object_id, parent if isinstance(parent, str) else None)

    def append(object_id: str, body: JSONObject) -> list[str]:
        children = body.get("children")
        if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
            raise ValueError("give children: an array of blocks")
        return state.append_blocks(object_id, [c for c in children if isinstance(c, dict)])

    async def get_rate_limit(_: Request) -> Response:
        limit = state.limiter.limit
        body: JSON = None if limit is None else {"rate": limit.rate, "burst": limit.burst}
        return json_response(body)

    async def put_rate_limit(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw or b"null")
        except orjson.JSONDecodeError:
            return json_response({"error": "the body must be JSON"}, 400)
        if body is None:
            state.set_rate_limit(None)
            return json_response(None)
        if not isinstance(body, dict):
            return json_response({"error": "give {rate, burst} or null"}, 400)
        try:
            limit = RateLimit(float(body.get("rate", 3.0)), float(body.get("burst", 3.0)))
        except (TypeError, ValueError) as exc:
            return json_response({"error": str(exc)}, 400)
        state.set_rate_limit(limit)
        return json_response({"rate": limit.rate, "burst": limit.burst})

    async def expire_cursors(_: Request) -> Response:
        state.expire_cursors()
        return json_response({"expired": True})

    prefix = "/_notion"
    page = f"{prefix}/pages/{{object_id}}"
    return [
        Route(page, changing(edit), methods=["PATCH"]),
        Route(f"{page}/trash", changing(lambda i, _: state.trash(i)), methods=["POST"]),
        Route(f"{page}/restore", changing(lambda i, _: state.restore(i)), methods=["POST"]),
        Route(f"{page}/touch", changing(lambda i, _: state.touch(i)), methods=["POST"]),
        Route(f"{page}/move", changing(move), methods=["POST"]),
        Route(f"{page}/share", changing(share), methods=["POST"]),
        Route(f"{page}/unshare", changing(unshare), methods=["POST"]),
        Route(f"{page}/purge", changing(lambda i, _: state.purge(i)), methods=["POST"]),
        Route(f"{prefix}/blocks/{{object_id}}/children", changing(append), methods=["POST"]),
        Route(f"{prefix}/rate_limit", get_rate_limit, methods=["GET"]),
        Route(f"{prefix}/rate_limit", put_rate_limit, methods=["PUT"]),
        Route(f"{prefix}/cursors/expire", expire_cursors, methods=["POST"]),
    ]


async def _body(request: Request) -> JSONObject | Response:
    raw = await request.body()
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        return json_response({"error": "the body must be JSON"}, 400)
    if not isinstance(body, dict):
        return json_response({"error": "the body must be a JSON object"}, 400)
    return body
