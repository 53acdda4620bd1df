"""Box's client error body, as `GET /2.0/...` sends it with most 4xx and some 5xx statuses:
`{"type": "error", "status", "code", "help_url", "message", "request_id", "context_info"?}`
(developer.box.com guides/api-calls/permissions-and-errors/common-errors and the ClientError
resource of Box's OpenAPI spec). Routes raise `BoxError`; the app renders it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from syncline.types import JSON, JSONObject

__all__ = [
    "HELP_URL",
    "BoxError",
    "bad_request",
    "box_error",
    "insufficient_scope",
    "json_response",
    "not_found",
    "unauthorized",
]

HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/"

AUTHENTICATE_HEADER = (
    'Bearer realm="Service", error="invalid_token", '
    'error_description="The access token provided is invalid."'
)
"""The `WWW-Authenticate` of a 401 (the common-errors guide's `invalid_token` message)."""


class BoxError(Exception):
    def __init__(self, status: int, body: JSONObject, headers: Mapping[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def box_error(
    status: int,
    code: str,
    message: str,
    *,
    context_info: JSONObject | None = None,
    headers: Mapping[str, str] | None = None,
    help_url: str = HELP_URL,
) -> BoxError:
    body: JSONObject = {"type": "error", "status": status, "code": code}
    if context_info is not None:
        body["context_info"] = context_info
    body["help_url"] = help_url
    body["message"] = message
    body["request_id"] = secrets.token_hex(8)
    return BoxError(status, body, headers)


def _invalid_parameter(name: str, message: str) -> JSONObject:
    return {"errors": [{"reason": "invalid_parameter", "name": name, "message": message}]}


def bad_request(name: str, message: str, *, code: str = "bad_request") -> BoxError:
    """400 naming the query parameter at fault in `context_info.errors`."""
    return box_error(400, code, "Bad Request", context_info=_invalid_parameter(name, message))


def not_found(kind: str, item_id: str) -> BoxError:
    """404 for an item the caller cannot see (Box does not tell absent from forbidden)."""
    prefix = {"file": "f", "folder": "d", "web_link": "w"}.get(kind, kind)
    return box_error(
        404,
        "not_found",
        "Not Found",
        context_info=_invalid_parameter(
            "item",
            f"Invalid value '{prefix}_{item_id}'. 'item' with value '{prefix}_{item_id}' not found",
        ),
    )


def unauthorized() -> BoxError:
    """401: no bearer token, an unknown one, or one past its 60 minutes."""
    return box_error(
        401, "unauthorized", "Unauthorized", headers={"WWW-Authenticate": AUTHENTICATE_HEADER}
    )


SCOPE_MESSAGE = "The request requires higher privileges than provided by the access token."


def insufficient_scope() -> BoxError:
    """403: the token's scopes do not cover the call (RFC 6750's `insufficient_scope`, which
    Box also names in `WWW-Authenticate`)."""
    return box_error(
        403,
        "insufficient_scope",
        SCOPE_MESSAGE,
        headers={
            "WWW-Authenticate": 'Bearer realm="Service", error="insufficient_scope", '
            f'error_description="{SCOPE_MESSAGE}"'
        },
    )


def json_response(
    body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status, headers=dict(headers or {}), media_type="application/json"
    )
