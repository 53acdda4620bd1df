"""Graph's error envelope: `{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`, raised by routes and rendered by the app."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson
from starlette.responses import Response

from syncline.types import JSON

__all__ = ["GraphError", "graph_error", "json_response"]


class GraphError(Exception):
    def __init__(self, status: int, body: JSON, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def graph_error(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> GraphError:
    request_id = str(uuid.uuid4())
    body: JSON = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": request_id,
            },
        }
    }
    return GraphError(status, body, headers)


def json_response(
    body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status, headers=dict(headers or {}), media_type="application/json"
    )
