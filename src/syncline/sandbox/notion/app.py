"""The fake Notion as an ASGI app: Notion's OAuth endpoints, the API under `/v1/...` and the
test controls under `/_notion/...`; faults, latency and traffic recording on every path but
OAuth's and the controls'.

Errors are Notion's body (`errors.py`), unknown routes and methods included: 400
`invalid_request_url` (GUESS: for a wrong method too).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.sandbox.kit.faults import Fault
from syncline.sandbox.kit.instrument import Answer, Instrumented, bearer
from syncline.sandbox.kit.oauth import redirect_with_code
from syncline.sandbox.notion.api import NotionApi
from syncline.sandbox.notion.control import control_routes
from syncline.sandbox.notion.errors import (
    NotionError,
    bad_gateway,
    conflict,
    gateway_timeout,
    internal_error,
    invalid_grant,
    invalid_json,
    invalid_request_url,
    json_response,
    new_request_id,
    notion_error,
    rate_limited,
    service_overload,
    service_unavailable,
    unauthorized,
    validation,
)
from syncline.sandbox.notion.render import Renderer
from syncline.sandbox.notion.state import (
    CONTROL_PREFIX,
    NOTION_VERSIONS,
    OAUTH_PREFIX,
    NotionState,
)
from syncline.types import JSONObject

__all__ = ["create_notion_app"]


def create_notion_app(state: NotionState) -> ASGIApp:
    """Routes: `POST /v1/oauth/token`, `GET /v1/oauth/authorize` (instant consent),
    `POST /v1/oauth/introspect` and `/v1/oauth/revoke`, the API under `/v1/...` (see
    `api.py`) and the controls under `/_notion/...` (see `control.py`)."""

    async def token(request: Request) -> Response:
        basic = _basic(request.headers)
        if basic is None:
            # Notion wants the client in HTTP Basic; credentials in the body get 401
            # (kentcdodds/kody#711). GUESS: the body.
            error = notion_error(401, "unauthorized", "Invalid client credentials.")
            return json_response(error.body, error.status)
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        grant_type = body.get("grant_type")
        if grant_type is None:
            error = validation(
                "body failed validation: body.grant_type should be defined, instead was "
                "`undefined`."
            )
            return json_response(error.body, error.status)
        form = {
            key: value
            for key in ("grant_type", "code", "redirect_uri", "refresh_token")
            if isinstance(value := body.get(key), str)
        }
        if grant_type == "refresh_token" and not state.issue_refresh_tokens:
            error = invalid_grant("Invalid refresh token.")
            return json_response(error.body, error.status)
        with state.lock:
            status, answer = state.grants.token_endpoint(form, basic)
            if status != 200:
                return json_response(answer, status, {"Cache-Control": "no-store"})
            return json_response(_token_body(state, answer), 200, {"Cache-Control": "no-store"})

    async def authorize(request: Request) -> Response:
        """Consent is instant: back to `redirect_uri` with a code (and `state`) for the
        fake's integration (`state.bot`), installed by the workspace's first person, as
        Notion's page picker would after "Allow access". The pages it may read are what
        `state.share` gave it."""
        params = request.query_params
        if params.get("response_type", "code") != "code":
            return json_response({"error": "unsupported_response_type"}, 400)
        if params.get("client_id") != state.grants.client_id:
            return json_response({"error": "invalid_client"}, 400)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return json_response({"error": "invalid_request"}, 400)
        with state.lock:
            bot = state.bots[state.bot]
            if bot.owner is None:
                bot.owner = state.default_person()
        code = state.grants.authorize(
            bot.id,
            redirect_uri,
            (),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        return redirect_with_code(redirect_uri, params, {"code": code})

    async def introspect(request: Request) -> Response:
        body = await _client_call(request)
        if isinstance(body, Response):
            return body
        found = state.grants.grant_for(str(body.get("token", "")))
        return json_response({"active": found is not None, "request_id": new_request_id()})

    async def revoke(request: Request) -> Response:
        body = await _client_call(request)
        if isinstance(body, Response):
            return body
        token = str(body.get("token", ""))
        state.grants.expire_access_token(token)
        state.grants.revoke(token)
        return json_response({"request_id": new_request_id()})

    async def _client_call(request: Request) -> JSONObject | Response:
        basic = _basic(request.headers)
        if basic != (state.grants.client_id, state.grants.client_secret):
            error = notion_error(401, "unauthorized", "Invalid client credentials.")  # GUESS
            return json_response(error.body, error.status)
        return await _json_body(request)

    async def render_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotionError)
        return json_response(exc.body, exc.status, exc.headers)

    async def unknown_route(_: Request, exc: Exception) -> Response:
        error = invalid_request_url()
        return json_response(error.body, error.status)

    routes = [
        Route(f"{OAUTH_PREFIX}token", token, methods=["POST"]),
        Route(f"{OAUTH_PREFIX}authorize", authorize, methods=["GET"]),
        Route(f"{OAUTH_PREFIX}introspect", introspect, methods=["POST"]),
        Route(f"{OAUTH_PREFIX}revoke", revoke, methods=["POST"]),
        *NotionApi(state).routes(),
        *control_routes(state),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={NotionError: render_error, HTTPException: unknown_route},
    )
    return Instrumented(
        app,
        state,
        caller=_caller(state),
        answer=_answer(state),
        slow=lambda path: not path.startswith((OAUTH_PREFIX, CONTROL_PREFIX)),
    )


async def _json_body(request: Request) -> JSONObject | Response:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        # GUESS: a form-encoded body (what generic OAuth clients send) is not JSON to Notion.
        error = invalid_json()
        return json_response(error.body, error.status)
    if not isinstance(body, dict):
        error = validation("body failed validation: body should be an object.")
        return json_response(error.body, error.status)
    return body


def _basic(headers: Headers) -> tuple[str, str] | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _token_body(state: NotionState, answer: JSONObject) -> JSONObject:
    access = str(answer["access_token"])
    bot = state.bot_for(access)
    assert bot is not None
    render = Renderer(state, NOTION_VERSIONS[-1], bot)
    refresh = answer.get("refresh_token") if state.issue_refresh_tokens else None
    return {
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "bot_id": bot.id,
        "workspace_name": state.workspace_name,
        "workspace_icon": state.workspace_icon,
        "workspace_id": state.workspace_id,
        "owner": render.owner(bot),
        "duplicated_template_id": None,
        "request_id": new_request_id(),
    }


def _fault_error(fault: Fault) -> NotionError:
    retry = max(1, math.ceil(fault.retry_after)) if fault.retry_after is not None else 1
    makers: dict[str, Callable[[], NotionError]] = {
        "rate_limited": lambda: rate_limited(retry),
        "service_overload": lambda: service_overload(retry),
        "bad_gateway": bad_gateway,
        "service_unavailable": service_unavailable,
        "gateway_timeout": gateway_timeout,
        "conflict_error": conflict,
        "unauthorized": unauthorized,
    }
    return makers.get(fault.kind, internal_error)()


def _answer(state: NotionState) -> Answer:
    async def answer(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        if fault.kind == "unauthorized":
            token = bearer(Headers(scope=scope))  # the token really dies: only a refresh helps
            if token is not None:
                state.expire_access_token(token)
        error = _fault_error(fault)
        await json_response(error.body, error.status, error.headers)(scope, receive, send)
        return None

    return answer


def _caller(state: NotionState) -> Callable[[Headers], str | None]:
    def caller(headers: Headers) -> str | None:
        token = bearer(headers)
        return None if token is None else state.grants.user_for(token)

    return caller
