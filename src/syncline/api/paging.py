"""Query-string parsing shared by paginated routes: page size aliases and signed cursors."""

from __future__ import annotations

from fastapi import Request

from syncline.domain.cursors import CursorCodec
from syncline.errors import InvalidInput

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

_SIZE = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}
PAGING_PARAMETERS: list[dict[str, object]] = [
    {"name": name, "in": "query", "required": False, "schema": schema}
    for name, schema in [
        ("pageSize", _SIZE),
        ("page_size", _SIZE),
        ("limit", _SIZE),
        ("cursor", {"type": "string"}),
    ]
]
"""The query parameters above, for `openapi_extra`: the routes read them from the request."""


def page_size(request: Request) -> int:
    """`pageSize` (or Paragon clients' `page_size` / `limit`), 1 to 1000, default 100."""
    for name in ("pageSize", "page_size", "limit"):
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(
                f"{name} must be an integer from 1 to {MAX_PAGE_SIZE}.",
                field=name,
                code="INVALID_PAGE_SIZE",
            ) from None
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"{name} must be from 1 to {MAX_PAGE_SIZE}, not {value}.",
                field=name,
                code="INVALID_PAGE_SIZE",
            )
        return value
    return DEFAULT_PAGE_SIZE


def parse_cursor(request: Request, codec: CursorCodec, kind: str, scope: str) -> int:
    """The position of the `cursor` query parameter, 0 when absent."""
    raw = request.query_params.get("cursor")
    if raw is None or raw == "":
        return 0
    if len(raw) > 200:
        raise InvalidInput(
            "The cursor is not one this server issued.", field="cursor", code="INVALID_CURSOR"
        )
    return codec.decode(kind, scope, raw)
