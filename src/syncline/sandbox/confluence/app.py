"""The fake Confluence as an ASGI app: Atlassian's authorization server, the 3LO API gateway
with Confluence Cloud under it, accessible-resources, and the test controls; faults, latency
and traffic recording on the API paths (never on OAuth's or the controls').

One origin stands for three hosts (see `settings.py`):

    https://auth.atlassian.com/oauth/token       -> POST {origin}/oauth/token
    https://auth.atlassian.com/authorize         -> GET  {origin}/authorize
    https://api.atlassian.com/oauth/token/accessible-resources
                                                 -> GET  {origin}/oauth/token/accessible-resources
    https://api.atlassian.com/ex/confluence/{cloudId}/wiki/...
                                                 -> GET  {origin}/ex/confluence/{cloudId}/wiki/...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.confluence.api import ConfluenceApi, api_family, rate_limited
from syncline.sandbox.confluence.control import control_routes
from syncline.sandbox.confluence.errors import (
    ConfluenceError,
    bad_cursor,
    json_response,
    unauthorized,
    v1_error,
    v2_error,
)
from syncline.sandbox.confluence.state import (
    AUTHORIZE_PATH,
    CONTROL_PREFIX,
    TOKEN_PATH,
    ConfluenceState,
)
from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code

__all__ = ["create_confluence_app"]

AUDIENCE = "api.atlassian.com"


def create_confluence_app(state: ConfluenceState) -> ASGIApp:
    """Routes: `POST /oauth/token`, `GET /authorize`, `GET /oauth/token/accessible-resources`,
    the API under `/ex/confluence/{cloudId}/wiki/...`, and the controls under
    `/_confluence/...` (see `control.py`)."""

    async def token(request: Request) -> Response:
        """JSON body in (form accepted too), JSON out, never cached."""
        raw = await request.body()
        body: dict[str, str] = {}
        if "json" in request.headers.get("content-type", "") or raw.lstrip().startswith(b"{"):
            try:
                parsed = orjson.loads(raw or b"{}")
            except orjson.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                return json_response(
                    {"error": "invalid_request", "error_description": "Malformed JSON body"},
                    400,
                )
            body = {k: str(v) for k, v in parsed.items() if v is not None}
        else:
            body = dict(parse_qsl(raw.decode("utf-8", "replace")))
        status, answer = state.grants.token_endpoint(body)
        return json_response(answer, status, {"Cache-Control": "no-store"})

    async def authorize(request: Request) -> Response:
        """Consent is instant: back to `redirect_uri` with a code (and `state`) for the user
        named by `login_hint` (an email; a sandbox convenience), else the first user, as
        Atlassian's consent screen would after "Accept". `audience=api.atlassian.com` and
        `response_type=code` are required as the authorization URL documents them (the
        refusals' bodies are GUESSES)."""
        params = request.query_params
        if params.get("audience") != AUDIENCE:
            return _authorize_error("invalid_request", "audience must be api.atlassian.com")
        if params.get("response_type") != "code":
            return _authorize_error("unsupported_response_type", "response_type must be code")
        if params.get("client_id") != state.grants.client_id:
            return _authorize_error("invalid_client", "Unknown client")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return _authorize_error("invalid_request", "Missing required parameter: redirect_uri")
        login = params.get("login_hint")
        with state.lock:
            user = state.ensure_user(login) if login else state.default_user()
        code = state.grants.authorize(
            user,
            redirect_uri,
            params.get("scope", "").split(),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        return redirect_with_code(redirect_uri, params, {"code": code})

    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConfluenceError)
        return exc.response()

    routes = [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(AUTHORIZE_PATH, authorize),
        *ConfluenceApi(state).routes(),
        *control_routes(state),
    ]
    app = Starlette(routes=routes, exception_handlers={ConfluenceError: render})
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: (
            not path.startswith(("/oauth/token", AUTHORIZE_PATH, CONTROL_PREFIX))
            or path.endswith("accessible-resources")
        ),
    )


def _authorize_error(code: str, description: str) -> Response:
    return json_response({"error": code, "error_description": description}, 400)


def _fault_error(fault: Fault, path: str, now: float) -> ConfluenceError:
    family = api_family(path)
    retry = fault.retry_after if fault.retry_after is not None else 1.0
    if fault.kind == "429":
        return rate_limited(path, retry, "confluence-burst-based", 100, now)
    if fault.kind == "429_quota":
        # The hourly quota resets at the top of each UTC hour.
        top = math.floor(now / 3600.0) * 3600.0 + 3600.0
        wait = fault.retry_after if fault.retry_after is not None else top - now
        return rate_limited(path, wait, "confluence-quota-global-based", 65000, now)
    if fault.kind == "401":
        return unauthorized()
    if fault.kind == "stale_cursor":
        if family == "v1":
            return v1_error(400, "java.lang.IllegalArgumentException: Invalid cursor")
        return bad_cursor()
    status = 503 if fault.kind == "503" else 500
    headers = {"Retry-After": str(max(1, math.ceil(retry)))} if status == 503 else {}
    if family == "v2":
        return v2_error(status, headers=headers)
    if family == "v1":
        return v1_error(status, "Service Unavailable" if status == 503 else "Internal error",
                        headers=headers)  # fmt: skip
    return ConfluenceError(status, {"code": status, "message": "Service Unavailable"}, headers)


def _answer(state: ConfluenceState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        if fault.kind == "401":
            token = bearer(Headers(scope=scope))  # it really expires: only a refresh helps
            if token is not None:
                state.grants.expire_access_token(token)
        error = _fault_error(fault, scope["path"], state.clock())
        await error.response()(scope, receive, send)
        return None

    return answer


def _caller(state: ConfluenceState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        token = bearer(headers)
        return None if token is None else state.grants.user_for(token)

    return caller
