"""Query-parameter parsing with Drive's 400s, and JSON responses in Google's style."""

from __future__ import annotations

import orjson
from starlette.datastructures import QueryParams
from starlette.responses import Response

from syncline.sandbox.googledrive.errors import bad_value, error, invalid_field
from syncline.sandbox.googledrive.fields import FieldsError, Mask, Schema, parse_fields, validate
from syncline.types import JSON

__all__ = ["flag", "json_response", "mask", "page_size", "required"]

JSON_TYPE = "application/json; charset=UTF-8"


def json_response(body: JSON, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize with orjson: listing a million files spends its time here otherwise."""
    return Response(orjson.dumps(body), status, headers, media_type=JSON_TYPE)


def flag(params: QueryParams, *names: str) -> bool:
    """A boolean parameter (any of its aliases); Drive refuses values other than true/false."""
    result = False
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        if raw.lower() not in ("true", "false"):
            raise bad_value(name, f"Invalid boolean value: '{raw}'.")
        result = result or raw.lower() == "true"
    return result


def page_size(params: QueryParams, *, maximum: int, default: int | None) -> int | None:
    """`pageSize` in [1, maximum]."""
    raw = params.get("pageSize")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise bad_value(
            "pageSize", f"Invalid value '{raw}'. Values must be within the range: [1, {maximum}]"
        )
    return value


def required(params: QueryParams, name: str) -> str:
    """A parameter the method cannot run without."""
    value = params.get(name)
    if not value:
        raise error(400, "required", f"Required parameter: {name}", location=name)
    return value


def mask(params: QueryParams, default: Mask, schema: Schema) -> Mask:
    """The `fields` selection, or the method's default set when absent."""
    text = params.get("fields")
    if not text or not text.strip():
        return default
    try:
        selected = parse_fields(text)
        validate(selected, schema)
    except FieldsError as exc:
        raise invalid_field(exc.name) from exc
    return selected
