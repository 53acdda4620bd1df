"""Notion's error body, as every endpoint sends it:
`{"object": "error", "status", "code", "message", "request_id"}` (the SDK's `errors.ts` reads
`code`, `message`, `additional_data` and `request_id`; developers.notion.com/reference/status-codes
lists the codes with their statuses and example messages, which are used here word for word).

Routes raise `NotionError`; the app renders it. Every answer, error or not, carries an
`x-notion-request-id` header (the SDK falls back to it when a body has no `request_id`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from syncline.types import JSON, JSONObject

__all__ = [
    "KNOWN_VERSIONS",
    "UNDEFINED",
    "NotionError",
    "bad_gateway",
    "conflict",
    "database_not_page",
    "gateway_timeout",
    "internal_error",
    "invalid_grant",
    "invalid_json",
    "invalid_request",
    "invalid_request_url",
    "json_response",
    "missing_version",
    "new_request_id",
    "not_found",
    "notion_error",
    "rate_limited",
    "restricted",
    "service_overload",
    "service_unavailable",
    "shown",
    "unauthorized",
    "unknown_version",
    "validation",
]

KNOWN_VERSIONS = (
    "2021-05-11",
    "2021-05-13",
    "2021-08-16",
    "2022-02-22",
    "2022-06-28",
    "2025-09-03",
    "2026-03-11",
)
"""Every `Notion-Version` the live API accepts, as its own refusal of an unknown one lists them
(quoted from a live call, 26 Jul 2026, recorded in a public repository's ADR)."""


class NotionError(Exception):
    def __init__(self, status: int, body: JSONObject, headers: Mapping[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def new_request_id() -> str:
    return str(uuid.uuid4())


def notion_error(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> NotionError:
    body: JSONObject = {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": new_request_id(),
    }
    return NotionError(status, body, headers)


def shown(value: object) -> str:
    """A value as Notion's validation messages quote it: JSON in backticks, `undefined` for
    an absent one (`instead was \\`undefined\\``, `instead was \\`"12345"\\``)."""
    if value is _UNDEFINED:
        return "`undefined`"
    return "`" + json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "`"


_UNDEFINED = object()
UNDEFINED = _UNDEFINED
"""Marks a field that was not sent, for `shown`."""


def validation(message: str) -> NotionError:
    """400 `validation_error`: "The request body does not match the schema for the expected
    parameters." Messages take Notion's form, e.g. "body failed validation: body.page_size
    should be ≤ `100`, instead was `101`." (seen in many public reports)."""
    return notion_error(400, "validation_error", message)


def invalid_json() -> NotionError:
    return notion_error(400, "invalid_json", "Error parsing JSON body.")


def invalid_request_url() -> NotionError:
    return notion_error(400, "invalid_request_url", "Invalid request URL.")


def invalid_request(message: str) -> NotionError:
    return notion_error(400, "invalid_request", message)


def missing_version() -> NotionError:
    """400 `missing_version`, the message as Notion sends it (reported verbatim in
    mgmarlow/notion-sdk-ruby#4 and in the status-codes page)."""
    return notion_error(
        400,
        "missing_version",
        "Notion-Version header failed validation: Notion-Version header should be defined, "
        "instead was `undefined`.",
    )


def unknown_version(value: str) -> NotionError:
    """An unknown `Notion-Version`. The message lists the accepted versions as the live API
    does; GUESS: the code (`validation_error`) and the `instead was` tail, by analogy with the
    missing-header message."""
    accepted = ", ".join(f'"{v}"' for v in KNOWN_VERSIONS[:-1]) + f', or "{KNOWN_VERSIONS[-1]}"'
    return validation(
        "Notion-Version header failed validation: Notion-Version header should be "
        f"{accepted}, instead was {shown(value)}."
    )


def unauthorized() -> NotionError:
    """401: no bearer token, an unknown one, a revoked or expired one."""
    return notion_error(401, "unauthorized", "API token is invalid.")


def restricted() -> NotionError:
    """403: the integration lacks the capability the endpoint needs."""
    return notion_error(
        403, "restricted_resource", "API token does not have access to this resource."
    )


def not_found(kind: str, object_id: str) -> NotionError:
    """404 `object_not_found` for something absent or not shared with the integration: Notion
    does not tell them apart ("This error can also indicate that the resource has not been
    shared with owner of the bearer token"). The page, block and database wordings are
    Notion's; GUESS: "data source"."""
    return notion_error(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
        "databases are shared with your integration.",
    )


def database_not_page(object_id: str) -> NotionError:
    """`GET /v1/pages/{id}` with a database's id (the message as public reports quote it)."""
    return validation(
        f"Provided ID {object_id} is a database, not a page. Use the retrieve database API "
        "instead, `GET /v1/databases/:database_id`."
    )


def conflict() -> NotionError:
    return notion_error(409, "conflict_error", "Conflict occurred while saving. Please try again.")


def rate_limited(retry_after: int) -> NotionError:
    """429 with `Retry-After` in whole seconds ("an integer number of seconds (in decimal)",
    reference/request-limits)."""
    return notion_error(
        429,
        "rate_limited",
        "You have been rate limited. Please try again in a few minutes.",
        headers={"Retry-After": str(retry_after)},
    )


def internal_error() -> NotionError:
    return notion_error(500, "internal_server_error", "Unexpected error occurred.")


def bad_gateway() -> NotionError:
    return notion_error(502, "bad_gateway", "Bad Gateway")


def service_unavailable() -> NotionError:
    return notion_error(
        503, "service_unavailable", "Notion is unavailable, please try again later."
    )


def gateway_timeout() -> NotionError:
    return notion_error(504, "gateway_timeout", "Gateway Timeout")


def service_overload(retry_after: int) -> NotionError:
    """529 `service_overload` with `Retry-After` (request-limits: "Connections should handle
    HTTP 429 and 529 responses and respect the Retry-After response header"). GUESS: the
    message."""
    return notion_error(
        529,
        "service_overload",
        "Notion is overloaded, please try again later.",
        headers={"Retry-After": str(retry_after)},
    )


def invalid_grant(message: str) -> NotionError:
    """400 `invalid_grant` from the token endpoint (listed on the status-codes page, with the
    example "Invalid code: this code has been revoked.")."""
    return notion_error(400, "invalid_grant", message)


def json_response(
    body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    merged = {"x-notion-request-id": new_request_id(), **(headers or {})}
    return Response(orjson.dumps(body), status, headers=merged, media_type="application/json")
