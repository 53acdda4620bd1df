"""The sandbox Confluence under test control.

`ConfluenceControl` adapts one user's Confluence to the kit's control API (`syncline sandbox
add|edit|delete`): adding creates a page under the homepage of a space the user can see,
editing adds a version (new body and/or title), deleting moves the page to the trash.

`control_routes` serves the fake's own knobs, which Confluence has no API for (or none the
fake emulates), beside it. Bodies are JSON; users are account ids or emails, groups ids or
names, spaces ids or keys:

    POST   /_confluence/pages                      {space, title, body?, parentId?, author?}
                                                   -> 201 {id}
    PATCH  /_confluence/pages/{id}                 {title?, body?, author?, message?,
                                                    minorEdit?} -> {id, version}
    POST   /_confluence/pages/{id}/move            {parentId?, space?}
    POST   /_confluence/pages/{id}/trash           {withDescendants?}
    POST   /_confluence/pages/{id}/restore
    POST   /_confluence/pages/{id}/archive
    DELETE /_confluence/pages/{id}                 purge: gone for good (404 from then on)
    PUT    /_confluence/pages/{id}/restrictions/{read|update}   {users: [], groups: []}
    POST   /_confluence/spaces/{space}/permissions {user? | group?, key?, targetType?}
                                                   -> 201 {id}
    DELETE /_confluence/spaces/{space}/permissions {user? | group?, key?, targetType?}
    PUT    /_confluence/groups/{group}/members/{user}
    DELETE /_confluence/groups/{group}/members/{user}
    PUT    /_confluence/rate-limit                 {rate: number | null, capacity?}
    POST   /_confluence/tokens/expire              every access token is refused from now on
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.confluence.errors import json_response
from syncline.sandbox.confluence.state import CONTROL_PREFIX, ConfluenceState
from syncline.sandbox.kit.control import ControlledFile

__all__ = ["ConfluenceControl", "control_routes"]


@dataclass(frozen=True)
class ConfluenceControl:
    """One user's current pages as the kit's control API changes them."""

    state: ConfluenceState
    email: str

    def files(self) -> list[ControlledFile]:
        with self.state.lock:
            viewer = self.state.viewer(self.state.ensure_user(self.email))
            return [
                ControlledFile(page.id, page.title, "text/html")
                for page in self.state.page_order
                if page.status == "current" and viewer.sees(page)
            ]

    def add(self, name: str, content: bytes) -> str:
        with self.state.lock:
            account = self.state.ensure_user(self.email)
            viewer = self.state.viewer(account)
            space = next((s for s in self.state.spaces.values() if viewer.sees_space(s.id)), None)
            if space is None:
                raise LookupError(f"{self.email} can see no space to add a page to")
            return self.state.add_page(
                space.id, name, _storage(content), parent=space.homepage_id, author=account
            )

    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None:
        self.state.edit_page(
            file_id,
            title=name,
            body=None if content is None else _storage(content),
            author=self.email,
        )

    def delete(self, file_id: str) -> None:
        self.state.trash_page(file_id)


def _storage(content: bytes) -> str:
    """Content as storage format: markup as is, plain text as a paragraph."""
    text = content.decode("utf-8", "replace")
    if text.lstrip().startswith("<"):
        return text
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<p>{escaped}</p>"


Handler = Callable[[Request], Awaitable[Response]]


def control_routes(state: ConfluenceState) -> list[Route]:
    async def body_of(request: Request) -> dict[str, object]:
        raw = await request.body()
        try:
            parsed = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError("the body must be JSON") from exc
        if not isinstance(parsed, dict):
            raise ValueError("the body must be a JSON object")
        return parsed

    def guarded(handler: Callable[[Request, dict[str, object]], Response]) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return handler(request, await body_of(request))
            except KeyError as exc:
                return json_response({"error": f"not found: {exc.args[0]}"}, 404)
            except (TypeError, ValueError, LookupError) as exc:
                return json_response({"error": str(exc)}, 400)

        return run

    def text(body: dict[str, object], name: str) -> str | None:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        return value

    def names(body: dict[str, object], name: str) -> list[str]:
        value = body.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
        return [str(v) for v in value]

    def page_id(request: Request) -> str:
        found: str = request.path_params["page_id"]
        if found not in state.pages:
            raise KeyError(f"page {found}")
        return found

    def add_page(_: Request, body: dict[str, object]) -> Response:
        space, title = text(body, "space"), text(body, "title")
        if not space or not title:
            raise ValueError("give a space and a title")
        created = state.add_page(
            space,
            title,
            text(body, "body") or "<p></p>",
            parent=text(body, "parentId"),
            author=text(body, "author"),
        )
        return json_response({"id": created}, 201)

    def edit_page(request: Request, body: dict[str, object]) -> Response:
        target = page_id(request)
        number = state.edit_page(
            target,
            title=text(body, "title"),
            body=text(body, "body"),
            author=text(body, "author"),
            message=text(body, "message") or "",
            minor_edit=bool(body.get("minorEdit", False)),
        )
        return json_response({"id": target, "version": number})

    def move_page(request: Request, body: dict[str, object]) -> Response:
        target = page_id(request)
        state.move_page(target, text(body, "parentId"), space=text(body, "space"))
        return json_response({"id": target})

    def trash_page(request: Request, body: dict[str, object]) -> Response:
        target = page_id(request)
        state.trash_page(target, with_descendants=bool(body.get("withDescendants", False)))
        return json_response({"id": target, "status": "trashed"})

    def restore_page(request: Request, _: dict[str, object]) -> Response:
        target = page_id(request)
        state.restore_page(target)
        return json_response({"id": target, "status": "current"})

    def archive_page(request: Request, _: dict[str, object]) -> Response:
        target = page_id(request)
        state.archive_page(target)
        return json_response({"id": target, "status": "archived"})

    def purge_page(request: Request, _: dict[str, object]) -> Response:
        target = page_id(request)
        state.purge_page(target)
        return json_response({"id": target, "status": "purged"})

    def restrict(request: Request, body: dict[str, object]) -> Response:
        target = page_id(request)
        state.restrict(
            target,
            request.path_params["operation"],
            users=names(body, "users"),
            groups=names(body, "groups"),
        )
        return json_response({"id": target})

    def permission_args(body: dict[str, object]) -> dict[str, str | None]:
        return {
            "user": text(body, "user"),
            "group": text(body, "group"),
            "key": text(body, "key") or "read",
            "target": text(body, "targetType") or "space",
        }

    def grant(request: Request, body: dict[str, object]) -> Response:
        args = permission_args(body)
        created = state.grant_space(
            request.path_params["space"],
            user=args["user"],
            group=args["group"],
            key=args["key"] or "read",
            target=args["target"] or "space",
        )
        return json_response({"id": created}, 201)

    def revoke(request: Request, body: dict[str, object]) -> Response:
        args = permission_args(body)
        if (args["user"] is None) == (args["group"] is None):
            raise ValueError("give a user or a group")
        removed = state.revoke_space(
            request.path_params["space"],
            user=args["user"],
            group=args["group"],
            key=args["key"] or "read",
            target=args["target"] or "space",
        )
        return json_response({"removed": removed})

    def add_member(request: Request, _: dict[str, object]) -> Response:
        state.add_member(request.path_params["group"], request.path_params["user"])
        return json_response({"group": state.group(request.path_params["group"]).id})

    def remove_member(request: Request, _: dict[str, object]) -> Response:
        state.remove_member(request.path_params["group"], request.path_params["user"])
        return json_response({"group": state.group(request.path_params["group"]).id})

    def rate_limit(_: Request, body: dict[str, object]) -> Response:
        rate = body.get("rate")
        capacity = body.get("capacity", 10)
        if rate is not None and not isinstance(rate, int | float):
            raise ValueError("rate must be a number or null")
        if not isinstance(capacity, int):
            raise ValueError("capacity must be an integer")
        state.set_rate_limit(None if rate is None else float(rate), capacity)
        return json_response({"rate": rate, "capacity": capacity})

    def expire(_: Request, __: dict[str, object]) -> Response:
        state.expire_access_tokens()
        return json_response({"expired": True})

    base = CONTROL_PREFIX.rstrip("/")
    page = f"{base}/pages/{{page_id}}"
    return [
        Route(f"{base}/pages", guarded(add_page), methods=["POST"]),
        Route(page, guarded(edit_page), methods=["PATCH"]),
        Route(page, guarded(purge_page), methods=["DELETE"]),
        Route(f"{page}/move", guarded(move_page), methods=["POST"]),
        Route(f"{page}/trash", guarded(trash_page), methods=["POST"]),
        Route(f"{page}/restore", guarded(restore_page), methods=["POST"]),
        Route(f"{page}/archive", guarded(archive_page), methods=["POST"]),
        Route(f"{page}/restrictions/{{operation}}", guarded(restrict), methods=["PUT"]),
        Route(f"{base}/spaces/{{space}}/permissions", guarded(grant), methods=["POST"]),
        Route(f"{base}/spaces/{{space}}/permissions", guarded(revoke), methods=["DELETE"]),
        Route(f"{base}/groups/{{group}}/members/{{user}}", guarded(add_member), methods=["PUT"]),
        Route(
            f"{base}/groups/{{group}}/members/{{user}}", guarded(remove_member), methods=["DELETE"]
        ),
        Route(f"{base}/rate-limit", guarded(rate_limit), methods=["PUT"]),
        Route(f"{base}/tokens/expire", guarded(expire), methods=["POST"]),
    ]
