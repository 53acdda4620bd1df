"""A control API beside sandbox fakes, so a person can change them while Syncline syncs them.

`syncline demo` serves it at `/_sandbox/...` on the sandbox's port and `syncline sandbox
add|edit|delete` calls it. Each provider adapts its fake to `FileControl`, so the files change
the way a user's edits change the real service, and the next incremental sync sends
`record_created`, `record_updated` and `record_deleted`.

    GET    /_sandbox/{provider}/files              the files: [{id, name, mimeType}]
    POST   /_sandbox/{provider}/files              {name, content?} -> 201 {id, name}
    PATCH  /_sandbox/{provider}/files/{name or id} {content?, name?} -> {id, name}
    DELETE /_sandbox/{provider}/files/{name or id} deletes it (or moves it to the trash)

`/_sandbox/files/...` is the first provider's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["PREFIX", "ControlledFile", "FileControl", "with_control"]

PREFIX = "/_sandbox"


@dataclass(frozen=True, slots=True)
class ControlledFile:
    id: str
    name: str
    mime_type: str
    is_folder: bool = False


class FileControl(Protocol):
    """One provider's files, as the control API changes them."""

    def files(self) -> list[ControlledFile]: ...
    def add(self, name: str, content: bytes) -> str: ...
    def edit(self, file_id: str, *, name: str | None, content: bytes | None) -> None: ...
    def delete(self, file_id: str) -> None: ...


def with_control(app: ASGIApp, providers: Mapping[str, FileControl]) -> ASGIApp:
    """`app`, with the control API for `providers` (by name) under `/_sandbox`."""
    control = _Control(providers).app()

    async def both(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        target = control if path == PREFIX or path.startswith(PREFIX + "/") else app
        await target(scope, receive, send)

    return both


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _problem(message: str, status: int) -> Response:
    return _json({"error": message}, status)


class _Control:
    def __init__(self, providers: Mapping[str, FileControl]) -> None:
        self.providers = providers
        self.default = next(iter(providers))

    def app(self) -> Starlette:
        routes = []
        for prefix in (f"{PREFIX}/{{provider}}/files", f"{PREFIX}/files"):
            routes += [
                Route(prefix, self.list_files, methods=["GET"]),
                Route(prefix, self.add, methods=["POST"]),
                Route(prefix + "/{ref:path}", self.edit, methods=["PATCH"]),
                Route(prefix + "/{ref:path}", self.delete, methods=["DELETE"]),
            ]
        return Starlette(routes=routes)

    def _provider(self, request: Request) -> FileControl | Response:
        name = request.path_params.get("provider", self.default)
        if name not in self.providers:
            known = ", ".join(self.providers)
            return _problem(f"no sandbox {name!r}; there are: {known}", 404)
        return self.providers[name]

    def _target(self, request: Request) -> tuple[FileControl, ControlledFile] | Response:
        """The provider and the file (by id, else by name) a request names."""
        provider = self._provider(request)
        if isinstance(provider, Response):
            return provider
        ref = request.path_params["ref"]
        files = [f for f in provider.files() if not f.is_folder]
        named = [f for f in files if f.id == ref] or [f for f in files if f.name == ref]
        if not named:
            return _problem(f"no file named {ref!r}; `syncline sandbox list` shows them", 404)
        if len(named) > 1:
            return _problem(f"{len(named)} files are named {ref!r}; give one's id instead", 409)
        return provider, named[0]

    async def _body(self, request: Request) -> dict[str, object] | Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return _problem("the body must be JSON", 400)
        if not isinstance(body, dict):
            return _problem("the body must be a JSON object", 400)
        return body

    async def list_files(self, request: Request) -> Response:
        provider = self._provider(request)
        if isinstance(provider, Response):
            return provider
        return _json(
            [{"id": f.id, "name": f.name, "mimeType": f.mime_type} for f in provider.files()]
        )

    async def add(self, request: Request) -> Response:
        provider = self._provider(request)
        if isinstance(provider, Response):
            return provider
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        name = body.get("name")
        content = body.get("content", "")
        if not isinstance(name, str) or not name.strip() or not isinstance(content, str):
            return _problem("give a name (and optionally content), both strings", 400)
        return _json({"id": provider.add(name, content.encode()), "name": name}, 201)

    async def edit(self, request: Request) -> Response:
        target = self._target(request)
        if isinstance(target, Response):
            return target
        provider, found = target
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        name, content = body.get("name"), body.get("content")
        if not isinstance(name, str | None) or not isinstance(content, str | None):
            return _problem("name and content must be strings", 400)
        if name is None and content is None:
            return _problem("give a new name, new content, or both", 400)
        provider.edit(found.id, name=name, content=None if content is None else content.encode())
        return _json({"id": found.id, "name": name or found.name})

    async def delete(self, request: Request) -> Response:
        target = self._target(request)
        if isinstance(target, Response):
            return target
        provider, found = target
        provider.delete(found.id)
        return _json({"id": found.id, "name": found.name})
