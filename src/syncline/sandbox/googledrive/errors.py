"""Google's JSON error envelopes, byte for byte the shapes Drive v3 sends."""

from __future__ import annotations

import math

from syncline.types import JSONObject

__all__ = [
    "BAD_GATEWAY_PAGE",
    "DriveError",
    "auth_error",
    "bad_value",
    "insufficient_scopes",
    "invalid_field",
    "not_found",
    "rate_limited",
    "server_error",
    "stale_page_token",
]

BAD_GATEWAY_PAGE = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>502.</b> <ins>That\u2019s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please \
try again in 30 seconds.  <ins>That\u2019s all we know.</ins>
"""
"""What Google's front end sends with a 502: its HTML error page (text/html), not JSON."""


class DriveError(Exception):
    """An error response: raised anywhere in a handler, rendered by the app."""

    def __init__(self, status: int, body: JSONObject, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _envelope(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str = "parameter",
    grpc_status: str | None = None,
    item_message: str | None = None,
) -> JSONObject:
    item: JSONObject = {"message": item_message or message, "domain": domain, "reason": reason}
    if location is not None:
        item["location"] = location
        item["locationType"] = location_type
    error: JSONObject = {"code": status, "message": message, "errors": [item]}
    if grpc_status is not None:
        error["status"] = grpc_status
    return {"error": error}


def error(
    status: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    headers: dict[str, str] | None = None,
) -> DriveError:
    """Any Drive error in the standard envelope."""
    return DriveError(
        status, _envelope(status, reason, message, domain=domain, location=location), headers
    )


def auth_error() -> DriveError:
    """Missing, unknown or expired bearer token."""
    body = _envelope(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. "
        "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        location="Authorization",
        location_type="header",
        grpc_status="UNAUTHENTICATED",
        item_message="Invalid Credentials",
    )
    headers = {
        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    }
    return DriveError(401, body, headers)


def bad_value(location: str, message: str = "Invalid Value") -> DriveError:
    """400 `invalid` for a parameter Drive could not accept (q, pageToken, pageSize...)."""
    return error(400, "invalid", message, location=location)


def stale_page_token() -> DriveError:
    """Drive's 400 for a `pageToken` it no longer accepts (expired, or not one of its own):
    `invalid` at location `pageToken`; the client must start the listing over."""
    return bad_value("pageToken")


def invalid_field(name: str) -> DriveError:
    """400 for a `fields` selection naming something the resource does not have."""
    return error(400, "invalidParameter", f"Invalid field selection {name}", location="fields")


def not_found(file_id: str) -> DriveError:
    """404 for a file that does not exist or that this caller may not see."""
    return error(404, "notFound", f"File not found: {file_id}.", location="fileId")


def rate_limited(status: int, retry_after: float | None, *, project: bool = False) -> DriveError:
    """403 `userRateLimitExceeded`, or `rateLimitExceeded` as a 429 or (`project`, the
    project's quota) a 403; Retry-After only when asked."""
    if status == 429 or project:
        reason, message = "rateLimitExceeded", "Rate Limit Exceeded"
    else:
        reason, message = "userRateLimitExceeded", "User Rate Limit Exceeded"
    body = _envelope(status, reason, message, domain="usageLimits")
    headers = {} if retry_after is None else {"Retry-After": str(math.ceil(retry_after))}
    return DriveError(status, body, headers)


def server_error(status: int) -> DriveError:
    """5xx in Google's envelope (500 internalError, 503 backendError)."""
    if status == 503:
        return DriveError(
            503,
            _envelope(
                503,
                "backendError",
                "The service is currently unavailable.",
                grpc_status="UNAVAILABLE",
            ),
        )
    return DriveError(
        status, _envelope(status, "internalError", "Internal Error", grpc_status="INTERNAL")
    )


def insufficient_scopes() -> DriveError:
    """403 for a token whose grant lacks the scope the method needs."""
    body = _envelope(
        403,
        "insufficientPermissions",
        "Request had insufficient authentication scopes.",
        grpc_status="PERMISSION_DENIED",
        item_message="Insufficient Permission",
    )
    return DriveError(403, body)
