"""The fake Dropbox as an ASGI app: the OAuth token and authorize endpoints, the RPC host
(`/2/...`), the content host (`/_dropbox-content/2/...`) and the test controls; faults,
latency and traffic recording on every path but OAuth's and the controls'."""

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

from syncline.sandbox.dropbox.api import DropboxApi
from syncline.sandbox.dropbox.control import control_routes
from syncline.sandbox.dropbox.errors import DropboxError, json_response, route_error, unauthorized
from syncline.sandbox.dropbox.state import CONTROL_PREFIX, OAUTH_PREFIX, DropboxState
from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code

__all__ = ["create_dropbox_app"]


def _basic(headers: Headers) -> tuple[str, str] | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def create_dropbox_app(state: DropboxState) -> ASGIApp:
    """Routes: `POST /dropbox/oauth2/token` (Dropbox's `https://api.dropboxapi.com/oauth2/token`),
    `GET /dropbox/oauth2/authorize` (`https://www.dropbox.com/oauth2/authorize`), RPC routes
    under `/2/...`, content routes under `/_dropbox-content/2/...` and the controls under
    `/_dropbox/...` (see `control.py`)."""

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = state.grants.token_endpoint(form, _basic(request.headers))
        access = body.get("access_token")
        if status == 200 and form.get("grant_type") == "refresh_token" and isinstance(access, str):
            state.refreshed(form.get("refresh_token", ""), access)  # a team link carries over
        return json_response(body, status, {"Cache-Control": "no-store"})

    async def authorize(request: Request) -> Response:
        """Consent is instant: back to `redirect_uri` with a code (and `state`) for the first
        account (or `login_hint`), as Dropbox's "Allow" button would."""
        params = request.query_params
        if params.get("response_type", "code") != "code":
            return Response("Invalid response_type", 400, media_type="text/plain")
        if params.get("client_id") != state.grants.client_id:
            return Response("Invalid client_id", 400, media_type="text/plain")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return Response("Missing redirect_uri", 400, media_type="text/plain")
        with state.lock:
            hint = params.get("login_hint")
            if hint:
                user = state.ensure_user(hint)
            elif state.users:
                user = next(iter(state.users.values()))
            else:
                user = state.ensure_user("alice@example.com")
        code = state.grants.authorize(
            user.account_id,
            redirect_uri,
            params.get("scope", "").split(),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        return redirect_with_code(redirect_uri, params, {"code": code})

    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DropboxError)
        return exc.response()

    routes = [
        Route(f"{OAUTH_PREFIX}token", token, methods=["POST"]),
        Route(f"{OAUTH_PREFIX}authorize", authorize),
        *DropboxApi(state).routes(),
        *control_routes(state),
    ]
    app = Starlette(routes=routes, exception_handlers={DropboxError: render})
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: not path.startswith((OAUTH_PREFIX, CONTROL_PREFIX)),
    )


def _fault_error(fault: Fault) -> DropboxError:
    retry = int(fault.retry_after) if fault.retry_after is not None else 1
    if fault.kind == "429":
        # auth.RateLimitError: {reason, retry_after}; "Rate limited responses always include
        # a Retry-After header".
        return route_error(
            {"reason": {".tag": "too_many_requests"}, "retry_after": retry},
            429,
            **{"Retry-After": str(retry)},
        )
    if fault.kind == "429_text":
        return DropboxError(429, "", {"Retry-After": str(retry)})
    if fault.kind == "401":
        return unauthorized("expired_access_token")
    if fault.kind == "reset":
        return route_error({".tag": "reset"})
    if fault.kind == "503":
        return DropboxError(503, "Service Unavailable", {"Retry-After": str(retry)})
    return DropboxError(500, "Internal Server Error")


def _answer(state: DropboxState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        if fault.kind == "401":
            token = bearer(Headers(scope=scope))  # the token really expires: only a refresh helps
            if token is not None:
                state.expire_access_token(token)
        await _fault_error(fault).response()(scope, receive, send)
        return None

    return answer


def _caller(state: DropboxState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        token = bearer(headers)
        return None if token is None else state.grants.user_for(token)

    return caller
