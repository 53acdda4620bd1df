"""The error bodies the fake Confluence sends, in the three shapes Atlassian uses.

- **v2** (`/wiki/api/v2/...`): `{"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not
  Found", "detail": null}]}`, `status` an integer. The 404 body byte for byte as a real site
  sent it (hunyadi/md2conf#113); the invalid-cursor 400 likewise (PipedreamHQ/pipedream#15776);
  the id-type 400 as quoted from real responses in public client tests ("Provided value {x} for
  'id' is not the correct type. Expected type is ContentId").
- **v1** (`/wiki/rest/api/...`): `{"statusCode": 404, "data": {"authorized": false, "valid":
  true, "allowedInReadOnlyMode": true, "errors": [], "successful": false}, "message": "...",
  "reason": "Not Found"}`, the envelope a real site sent for "No space with key : x" (quoted in
  public client code) and for "Could not parse cql : ..." (atlassian-python-api#104).
- **gateway** (`api.atlassian.com` before the request reaches the site): `{"code": 401,
  "message": "Unauthorized; scope does not match"}` with `X-Failure-Category:
  FAILURE_CLIENT_SCOPE_CHECK` (kovetskiy/mark#917 quotes both); a token that is unknown or
  expired gets `{"code": 401, "message": "Unauthorized"}` (GUESS: the same envelope without the
  scope clause; not confirmed from a captured response).

Routes raise `ConfluenceError`; the app renders it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from syncline.types import JSON, JSONObject

__all__ = [
    "ConfluenceError",
    "bad_cursor",
    "cql_error",
    "gateway_error",
    "json_response",
    "scope_mismatch",
    "unauthorized",
    "v1_error",
    "v2_error",
    "v2_invalid_parameter",
]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

_V2_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",  # GUESS: no captured v2 429 body; clients must go by status
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class ConfluenceError(Exception):
    """An answer other than 2xx: its status, JSON body (None: no body at all) and headers."""

    def __init__(
        self, status: int, body: JSON | None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def response(self) -> Response:
        if self.body is None:
            return Response(b"", self.status, headers=self.headers)
        return json_response(self.body, self.status, self.headers)


def v2_error(
    status: int,
    title: str | None = None,
    *,
    detail: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ConfluenceError:
    """`{"errors": [{status, code, title, detail}]}`."""
    error: JSONObject = {
        "status": status,
        "code": code or _V2_CODES.get(status, "ERROR"),
        "title": title or _REASONS.get(status, "Error"),
        "detail": detail,
    }
    return ConfluenceError(status, {"errors": [error]}, headers)


def v2_invalid_parameter(name: str, value: str, expected: str) -> ConfluenceError:
    """400 for a query or path parameter of the wrong type or out of range.

    The title's form is Atlassian's ("Provided value {abc} for 'id' is not the correct type.
    Expected type is ContentId"); the expected-type names other than `ContentId` and `Cursor`
    are GUESSES, as is answering (rather than clamping) an out-of-range `limit`.
    """
    return v2_error(
        400,
        f"Provided value {{{value}}} for '{name}' is not the correct type. "
        f"Expected type is {expected}",
        detail="",
    )


def bad_cursor() -> ConfluenceError:
    """400 for a v2 cursor this server never issued, or issued for another request."""
    return v2_error(
        400,
        "Provided value for 'cursor' is not the correct type. Expected type is Cursor.",
        detail=(
            "The provided cursor was not valid. You can get a new valid cursor by making the "
            "original pagination request again."
        ),
    )


def v1_error(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> ConfluenceError:
    """The v1 envelope: `{statusCode, data: {...}, message, reason}`."""
    body: JSONObject = {
        "statusCode": status,
        "data": {
            "authorized": False,
            "valid": True,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": _REASONS.get(status, "Error"),
    }
    return ConfluenceError(status, body, headers)


def cql_error(cql: str) -> ConfluenceError:
    """400 for CQL the parser refuses: Confluence names nothing more precise than the query
    ("BadRequestException: Could not parse cql : ..."), whatever the fault (an ISO date, an
    unquoted list of keys, a stray parenthesis)."""
    return v1_error(
        400,
        "com.atlassian.confluence.api.service.exceptions.BadRequestException: "
        f"Could not parse cql : {cql}",
    )


def gateway_error(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> ConfluenceError:
    """`{"code", "message"}`, as `api.atlassian.com` answers before the site sees a request."""
    return ConfluenceError(status, {"code": status, "message": message}, headers)


def unauthorized() -> ConfluenceError:
    """No bearer token, an unknown one, a revoked one, or one past its hour."""
    return gateway_error(401, "Unauthorized")


def scope_mismatch() -> ConfluenceError:
    """The token is live but its grant lacks every scope set the endpoint accepts."""
    return gateway_error(
        401,
        "Unauthorized; scope does not match",
        headers={"X-Failure-Category": "FAILURE_CLIENT_SCOPE_CHECK"},
    )


def json_response(
    body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer carrying the trace headers Atlassian's edge adds to every response."""
    merged = {"atl-traceid": secrets.token_hex(16), **dict(headers or {})}
    return Response(orjson.dumps(body), status, headers=merged, media_type="application/json")
