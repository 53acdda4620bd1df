"""What Paragon's clients send that our routes would otherwise refuse, mended at the door.

- Older clients of Paragon's Managed Sync call `/api/sync` and `/api/sync/{id}/...` (singular).
  `LegacyPaths` routes them to `/api/syncs...`; the OpenAPI schema lists only the plural paths.
- Clients that send a JSON body without `Content-Type: application/json` (curl's `-d` says
  `application/x-www-form-urlencoded`) get it parsed when it is valid JSON, and otherwise a 415
  that names the header, instead of a validation error about a body "that is not an object".
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncline.api.errors import error_body

__all__ = ["JsonBodies", "LegacyPaths"]

_LEGACY = "/api/sync"


class LegacyPaths:
    """Pure ASGI middleware: `/api/sync[/...]` is served as `/api/syncs[/...]`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == _LEGACY or path.startswith(_LEGACY + "/")):
            scope = dict(scope, path="/api/syncs" + path[len(_LEGACY) :], raw_path=None)
        await self.app(scope, receive, send)


_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


class JsonBodies:
    """Pure ASGI middleware: a request body without a JSON media type is read once; valid JSON
    is passed on as `application/json`, anything else is answered 415."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        if _is_json(content_type):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body.strip():
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                await _refuse(send, content_type)
                return
            headers.append((b"content-type", b"application/json"))
        await self.app(dict(scope, headers=headers), _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, upstream: Receive) -> Receive:
    """The body already read, then the client's own messages (its disconnect, when it comes:
    a streamed response listens for it)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await upstream()

    return receive


async def _refuse(send: Send, content_type: bytes) -> None:
    given = content_type.decode("latin-1") or "no Content-Type"
    body = orjson.dumps(
        error_body(
            f"The request body is not JSON (sent with {given}). Send a JSON body with the "
            "header Content-Type: application/json.",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 415,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
