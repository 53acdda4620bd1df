"""Dropbox's error responses (the stone spec's route errors and the Python SDK's
`raise_dropbox_error_for_resp`):

- 409, a route's own error: `{"error_summary": "path/not_found/...", "error": {".tag": "path",
  "path": {".tag": "not_found"}}}`; `error_summary` is the chain of tags, then a `/` and dots
  that clients must not parse.
- 400, malformed input: **plain text** (`Error in call to API function "files/list_folder":
  ...`), not JSON.
- 401 `AuthError` (`expired_access_token`, `invalid_access_token`, ...), 429 `RateLimitError`
  (`{"reason": {".tag": "too_many_requests"}, "retry_after": N}` and a `Retry-After` header),
  422 `PathRootError`, all JSON with the same two keys.

Routes raise `DropboxError`; the app renders it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from syncline.types import JSON, JSONObject

__all__ = [
    "DropboxError",
    "bad_input",
    "json_response",
    "route_error",
    "summary",
    "unauthorized",
]


class DropboxError(Exception):
    def __init__(
        self,
        status: int,
        body: JSONObject | str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def response(self) -> Response:
        headers = {"X-Dropbox-Request-Id": secrets.token_hex(16), **self.headers}
        if isinstance(self.body, str):
            return Response(
                self.body, self.status, headers=headers, media_type="text/plain; charset=utf-8"
            )
        return json_response(self.body, self.status, headers)


def summary(error: JSONObject) -> str:
    """`path/not_found/...`: the union tags from the outside in."""
    tags: list[str] = []
    node: JSON = error
    while isinstance(node, dict) and isinstance(node.get(".tag"), str):
        tag = str(node[".tag"])
        tags.append(tag)
        node = node.get(tag)
    reason = error.get("reason")
    if isinstance(reason, dict):  # RateLimitError is a struct around a union
        tags.append(str(reason.get(".tag")))
    return "/".join(tags) + "/..."


def route_error(error: JSONObject, status: int = 409, **headers: str) -> DropboxError:
    return DropboxError(status, {"error_summary": summary(error), "error": error}, headers or None)


def unauthorized(tag: str = "expired_access_token") -> DropboxError:
    return route_error({".tag": tag}, 401)


def bad_input(route: str, message: str) -> DropboxError:
    """400 in plain text, as Dropbox answers a body that does not fit the route's argument."""
    return DropboxError(400, f'Error in call to API function "{route}": {message}')


def json_response(
    body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status, headers=dict(headers or {}), media_type="application/json"
    )
