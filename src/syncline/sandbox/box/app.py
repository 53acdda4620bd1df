"""The fake Box as an ASGI app: Box's OAuth token and authorize endpoints, API v2.0, the
download host and the test controls; faults, latency and traffic recording on every path but
OAuth's."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.box.api import BoxApi, stale_position
from syncline.sandbox.box.control import control_routes
from syncline.sandbox.box.errors import BoxError, box_error, json_response, unauthorized
from syncline.sandbox.box.state import CONTROL_PREFIX, OAUTH_PATHS, BoxState
from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code

__all__ = ["create_box_app"]


def create_box_app(state: BoxState) -> ASGIApp:
    """Routes: `POST /oauth2/token` (Box's `https://api.box.com/oauth2/token`),
    `GET /api/oauth2/authorize` (`https://account.box.com/api/oauth2/authorize`), API v2.0
    under `/2.0/...`, the download host under `/_boxcloud/...` (`dl.boxcloud.com`), and the
    event-delivery controls under `/_box/...` (see `control.py`)."""

    async def token(request: Request) -> Response:
        """Form body in, JSON out, never cached."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = state.grants.token_endpoint(form)
        return json_response(body, status, {"Cache-Control": "no-store"})

    async def authorize(request: Request) -> Response:
        """Consent is instant: back to `redirect_uri` with a code (and `state`) for
        `box_login` (or the first user), as Box's consent screen would after "Grant access"."""
        params = request.query_params
        if params.get("response_type", "code") != "code":
            return json_response({"error": "unsupported_response_type"}, 400)
        if params.get("client_id") != state.grants.client_id:
            return json_response({"error": "invalid_client"}, 400)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return json_response({"error": "invalid_request"}, 400)
        login = params.get("box_login")
        with state.lock:
            if login:
                user = state.ensure_user(login)
            elif state.users:
                user = next(iter(state.users))
            else:
                user = state.add_user("alice@example.com")
        code = state.grants.authorize(
            user,
            redirect_uri,
            params.get("scope", "").split(),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        return redirect_with_code(redirect_uri, params, {"code": code})

    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, BoxError)
        return json_response(exc.body, exc.status, exc.headers)

    routes = [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/api/oauth2/authorize", authorize),
        *BoxApi(state).routes(),
        *control_routes(state),
    ]
    app = Starlette(routes=routes, exception_handlers={BoxError: render})
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: not path.startswith((*OAUTH_PATHS, CONTROL_PREFIX)),
    )


def _fault_error(fault: Fault) -> BoxError:
    retry = str(int(fault.retry_after)) if fault.retry_after is not None else "1"
    if fault.kind == "429":
        # guides/api-calls/permissions-and-errors/rate-limits, byte for byte.
        return box_error(
            429,
            "rate_limit_exceeded",
            "Request rate limit exceeded, please try again later",
            headers={"retry-after": retry},
            help_url="http://developers.box.com/docs/#errors",
        )
    if fault.kind == "503":
        return box_error(503, "unavailable", "Unavailable", headers={"retry-after": retry})
    if fault.kind == "401":
        return unauthorized()
    if fault.kind == "stale_stream_position":
        return stale_position("(expired)")
    return box_error(500, "internal_server_error", "Internal Server Error")


def _answer(state: BoxState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        if fault.kind == "content_not_ready":
            # "If the file is not ready to be downloaded yet `Retry-After` header will be
            # returned indicating the time in seconds after which the file will be available"
            seconds = str(int(fault.retry_after)) if fault.retry_after is not None else "1"
            await Response(b"", 202, headers={"Retry-After": seconds})(scope, receive, send)
            return None
        if fault.kind == "401":
            token = bearer(Headers(scope=scope))  # the token really expires: only a refresh helps
            if token is not None:
                state.expire_access_token(token)
        error = _fault_error(fault)
        await json_response(error.body, error.status, error.headers)(scope, receive, send)
        return None

    return answer


def _caller(state: BoxState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        token = bearer(headers)
        return None if token is None else state.grants.user_for(token)

    return caller
