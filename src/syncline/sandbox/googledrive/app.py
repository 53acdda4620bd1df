"""The fake Drive as an ASGI app: OAuth endpoints, Drive v3 routes, faults, latency, metering."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.googledrive.api import LISTING_FAULT_STATE, LISTING_FAULTS, DriveApi
from syncline.sandbox.googledrive.auth import DRIVE_SCOPE
from syncline.sandbox.googledrive.directory_api import DirectoryApi
from syncline.sandbox.googledrive.errors import (
    BAD_GATEWAY_PAGE,
    DriveError,
    auth_error,
    error,
    rate_limited,
    server_error,
    stale_page_token,
)
from syncline.sandbox.googledrive.params import json_response
from syncline.sandbox.googledrive.reports_api import ReportsApi
from syncline.sandbox.googledrive.state import OAUTH_PATHS, DriveState
from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code

__all__ = ["create_drive_app"]


def create_drive_app(state: DriveState) -> ASGIApp:
    """An ASGI app serving `state` as Google's token endpoint plus Drive v3.

    Routes: `POST /token`, `GET /authorize`, and `/drive/v3/...` (files, files/{id},
    files/{id}/export, files/{id}/permissions, changes, changes/startPageToken, drives,
    about), plus `/feeds/download/{kind}/Export` behind `exportLinks`, and the Admin SDK
    Directory API's `/admin/directory/v1/groups/{groupKey}/members`. Faults and latency apply
    to every path but the OAuth ones.
    """
    oauth = _OAuth(state)
    routes = [
        Route("/token", oauth.token, methods=["POST"]),
        Route("/authorize", oauth.authorize),
        *DriveApi(state).routes(),
        *DirectoryApi(state).routes(),
        *ReportsApi(state).routes(),
    ]
    app = Starlette(routes=routes, exception_handlers={DriveError: _render_error})
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: not path.startswith(OAUTH_PATHS),
    )


async def _render_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DriveError)
    return json_response(exc.body, exc.status, exc.headers)


class _OAuth:
    def __init__(self, state: DriveState) -> None:
        self.state = state

    async def token(self, request: Request) -> Response:
        """Google's token endpoint: form-encoded in, JSON out, never cached."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = self.state.grants.token_endpoint(form, _basic_auth(request))
        headers = {
            "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
            "Pragma": "no-cache",
        }
        return json_response(body, status, headers)

    async def authorize(self, request: Request) -> Response:
        """Consent is instant: redirect back with a code for `login_hint` (default alice)."""
        params = request.query_params
        if params.get("client_id") != self.state.grants.client_id:
            return json_response({"error": "invalid_client"}, 401)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return json_response({"error": "invalid_request"}, 400)
        user = params.get("login_hint") or "alice@example.com"
        # Consent grants what was asked (Google's `scope` is space separated), else Drive read-only.
        scopes = params.get("scope", "").split() or [DRIVE_SCOPE]
        method = params.get("code_challenge_method")
        if "code_challenge" in params and method not in (None, "S256", "plain"):
            return json_response({"error": "invalid_request"}, 400)
        code = self.state.grants.authorize(
            user,
            redirect_uri,
            scopes,
            code_challenge=params.get("code_challenge"),
            code_challenge_method=method or ("plain" if "code_challenge" in params else None),
        )
        return redirect_with_code(redirect_uri, params, {"code": code, "scope": " ".join(scopes)})


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _answer(state: DriveState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Drive's form of each fault; a listing fault only shapes the page served."""
        if fault.kind in LISTING_FAULTS:
            # The handler serves the page, shaped by the fault (see `DriveApi.files_list`).
            scope.setdefault("state", {})[LISTING_FAULT_STATE] = fault.kind
            return receive
        if fault.kind == "502":
            page = Response(BAD_GATEWAY_PAGE, 502, media_type="text/html; charset=UTF-8")
            await page(scope, receive, send)
            return None
        if fault.kind == "401":
            # The token really expires: retrying with it fails again; only a refresh helps.
            token = bearer(Headers(scope=scope))
            if token is not None:
                state.expire_access_token(token)
        exc = _FAULT_ERRORS[fault.kind](fault)
        await json_response(exc.body, exc.status, exc.headers)(scope, receive, send)
        return None

    return answer


def _caller(state: DriveState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        """The user a request's bearer token belongs to (None without a live one)."""
        token = bearer(headers)
        grant = None if token is None else state.grants.grant_for(token)
        return None if grant is None else grant[0]

    return caller


_FAULT_ERRORS: dict[str, Callable[[Fault], DriveError]] = {
    "429": lambda f: rate_limited(429, f.retry_after),
    "403_rate": lambda f: rate_limited(403, f.retry_after),
    "403_rate_project": lambda f: rate_limited(403, f.retry_after, project=True),
    "403_permission": lambda f: error(
        403,
        "insufficientFilePermissions",
        "The user does not have sufficient permissions for this file.",
    ),
    "500": lambda f: server_error(500),
    "503": lambda f: server_error(503),
    "401": lambda f: auth_error(),
    "stale_list_token": lambda f: stale_page_token(),
    "stale_change_token": lambda f: stale_page_token(),
}
