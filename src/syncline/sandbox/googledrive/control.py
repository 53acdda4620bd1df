"""A control API beside a sandbox Drive, so a person can change it while Syncline syncs it.

`syncline demo` serves it at `/_sandbox/...` on the sandbox's port and `syncline sandbox
add|edit|delete` calls it: the files change the way a user's edits change a real Drive, so the
next incremental sync sends `record_created`, `record_updated` and `record_deleted`.

    GET    /_sandbox/files              the user's files: [{id, name, mimeType}]
    POST   /_sandbox/files              {name, content?} -> 201 {id, name}
    PATCH  /_sandbox/files/{name or id} {content?, name?} -> {id, name}
    DELETE /_sandbox/files/{name or id} moves it to the trash -> {id, name}
"""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.googledrive.model import FOLDER, DriveFile
from syncline.sandbox.googledrive.state import DriveState

__all__ = ["PREFIX", "with_control"]

PREFIX = "/_sandbox"


def with_control(drive: ASGIApp, state: DriveState, user: str) -> ASGIApp:
    """`drive`, with the control API for `user`'s files under `/_sandbox`."""
    control = _Control(state, user).app()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        target = control if path == PREFIX or path.startswith(PREFIX + "/") else drive
        await target(scope, receive, send)

    return app


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _problem(message: str, status: int) -> Response:
    return _json({"error": message}, status)


class _Control:
    def __init__(self, state: DriveState, user: str) -> None:
        self.state = state
        self.user = user

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{PREFIX}/files", self.list_files, methods=["GET"]),
                Route(f"{PREFIX}/files", self.add, methods=["POST"]),
                Route(f"{PREFIX}/files/{{ref:path}}", self.edit, methods=["PATCH"]),
                Route(f"{PREFIX}/files/{{ref:path}}", self.delete, methods=["DELETE"]),
            ]
        )

    def _find(self, ref: str) -> DriveFile | Response:
        files = [f for f in self.state.visible_files(self.user) if f.mime_type != FOLDER]
        by_id = [f for f in files if f.id == ref]
        named = by_id or [f for f in files if f.name == ref]
        if not named:
            return _problem(f"no file named {ref!r}; `syncline sandbox list` shows them", 404)
        if len(named) > 1:
            return _problem(f"{len(named)} files are named {ref!r}; give one's id instead", 409)
        return named[0]

    async def _body(self, request: Request) -> dict[str, object] | Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return _problem("the body must be JSON", 400)
        if not isinstance(body, dict):
            return _problem("the body must be a JSON object", 400)
        return body

    async def list_files(self, _request: Request) -> Response:
        files = self.state.visible_files(self.user)
        return _json([{"id": f.id, "name": f.name, "mimeType": f.mime_type} for f in files])

    async def add(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        name = body.get("name")
        content = body.get("content", "")
        if not isinstance(name, str) or not name.strip() or not isinstance(content, str):
            return _problem("give a name (and optionally content), both strings", 400)
        file_id = self.state.add_file(name, content=content.encode(), owner=self.user)
        return _json({"id": file_id, "name": name}, 201)

    async def edit(self, request: Request) -> Response:
        found = self._find(request.path_params["ref"])
        if isinstance(found, Response):
            return found
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        name, content = body.get("name"), body.get("content")
        if not isinstance(name, str | None) or not isinstance(content, str | None):
            return _problem("name and content must be strings", 400)
        if name is None and content is None:
            return _problem("give a new name, new content, or both", 400)
        self.state.update_file(
            found.id, name=name, content=None if content is None else content.encode()
        )
        return _json({"id": found.id, "name": name or found.name})

    async def delete(self, request: Request) -> Response:
        found = self._find(request.path_params["ref"])
        if isinstance(found, Response):
            return found
        self.state.trash(found.id)
        return _json({"id": found.id, "name": found.name})
