"""The only place errors become HTTP statuses: one table, plus JSON for framework errors."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncline.errors import (
    ConfigError,
    Conflict,
    InvalidInput,
    NotDownloadable,
    NotFound,
    StoreError,
    SyncError,
    Unauthorized,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
    UpstreamUnavailable,
)

log = structlog.get_logger("syncline.api")

STATUS: list[tuple[type[SyncError], int]] = [
    (InvalidInput, 422),
    (ConfigError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (NotDownloadable, 422),
    (UpstreamNotFound, 404),
    (UpstreamRateLimited, 429),
    (UpstreamAuthError, 502),
    (UpstreamPermissionDenied, 502),
    (UpstreamUnavailable, 502),
    (StoreError, 503),
]


class ErrorBody(BaseModel):
    """The body of every error response."""

    message: str
    code: str
    field: str | None = None


_MEANING = {
    400: "The request body is not a JSON object (MALFORMED_JSON).",
    401: "The user token is missing or invalid (UNAUTHORIZED).",
    404: "No such object, or it is not the caller's.",
    422: "A parameter or body field is invalid; `field` names it.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    502: "The upstream provider failed.",
    503: "The database is unavailable; retry later.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for error statuses a route can answer, with `ErrorBody`."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": ErrorBody, "description": _MEANING[status]}
        if status == 429:
            out[status]["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
    return out


def status_of(exc: SyncError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 502 if exc.code.startswith("UPSTREAM") else 500


def error_body(message: str, code: str, **extra: object) -> dict[str, object]:
    return {"message": message, "code": code, **{k: v for k, v in extra.items() if v is not None}}


def install(app: FastAPI) -> None:
    @app.exception_handler(SyncError)
    async def _ours(_request: Request, exc: SyncError) -> JSONResponse:
        status = status_of(exc)
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, UpstreamRateLimited) and exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(exc.retry_after.total_seconds())))
        if isinstance(exc, StoreError):
            # The database is down or every pooled connection is busy: both pass.
            headers["Retry-After"] = "1"
        if status >= 500:
            log.warning("api.error", code=exc.code, error=str(exc))
        field = getattr(exc, "field", None)
        return JSONResponse(
            error_body(str(exc), exc.code, field=field), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            return JSONResponse(
                error_body("The request body is not valid JSON.", "MALFORMED_JSON"), status_code=400
            )
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        if first.get("type") == "model_attributes_type" or (
            not loc and "body" in first.get("loc", ())
        ):
            return JSONResponse(
                error_body("The request body must be a JSON object.", "MALFORMED_JSON"),
                status_code=400,
            )
        return JSONResponse(
            error_body(f"Invalid {where}: {first.get('msg')}", "VALIDATION_ERROR", field=where),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(
            error_body(str(exc.detail), code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.error("api.unhandled", exc_info=exc)
        return JSONResponse(error_body("Internal server error.", "INTERNAL_ERROR"), status_code=500)
