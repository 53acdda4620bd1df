"""The fake Graph as an ASGI app: the identity platform's token and authorize endpoints, Graph
v1.0, and the download host; faults, latency and traffic recording on every path but OAuth's."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code
from syncline.sandbox.msgraph.api import GraphApi
from syncline.sandbox.msgraph.errors import GraphError, graph_error, json_response
from syncline.sandbox.msgraph.state import GraphState

__all__ = ["create_graph_app"]


def create_graph_app(state: GraphState) -> ASGIApp:
    """Routes: `POST /{tenant}/oauth2/v2.0/token`, `GET /{tenant}/oauth2/v2.0/authorize`,
    Graph v1.0 (`/v1.0/...`) and the pre-authenticated download URLs (`/_download/...`)."""

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = state.grants.token_endpoint(form)
        return json_response(body, status, {"Cache-Control": "no-store"})

    async def authorize(request: Request) -> Response:
        """Consent is instant: back to `redirect_uri` with a code for `login_hint` (or the first
        user), as the identity platform's consent page would after the user agreed."""
        params = request.query_params
        if params.get("client_id") != state.grants.client_id:
            return json_response({"error": "unauthorized_client"}, 400)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return json_response({"error": "invalid_request"}, 400)
        hint = params.get("login_hint")
        with state.lock:
            user = state.user_by_mail(hint) if hint else next(iter(state.users.values()))
        code = state.grants.authorize(
            user.id,
            redirect_uri,
            params.get("scope", "").split(),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        return redirect_with_code(redirect_uri, params, {"code": code})

    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, GraphError)
        return json_response(exc.body, exc.status, exc.headers)

    routes = [
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/authorize", authorize),
        *GraphApi(state).routes(),
    ]
    app = Starlette(routes=routes, exception_handlers={GraphError: render})
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: "/oauth2/" not in path,
    )


def _fault_error(fault: Fault) -> GraphError:
    retry = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
    if fault.kind == "429":
        return graph_error(
            429, "TooManyRequests", "Too many requests.", headers=retry or {"Retry-After": "1"}
        )
    if fault.kind == "503":
        return graph_error(
            503,
            "serviceNotAvailable",
            "Service unavailable.",
            headers=retry or {"Retry-After": "1"},
        )
    if fault.kind == "stale_delta":
        return graph_error(410, "resyncRequired", "Resync required.")
    if fault.kind == "401":
        return graph_error(
            401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
        )
    return graph_error(500, "generalException", "An unspecified error has occurred.")


def _answer(state: GraphState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        if fault.kind == "401":
            # The token really expires: only a refresh helps.
            token = bearer(Headers(scope=scope))
            if token is not None:
                state.grants.expire_access_token(token)
        error = _fault_error(fault)
        await json_response(error.body, error.status, error.headers)(scope, receive, send)
        return None

    return answer


def _caller(state: GraphState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        token = bearer(headers)
        grant = None if token is None else state.grants.grant_for(token)
        return None if grant is None else grant[0]

    return caller
