"""Reading a provider's JSON answers defensively: one place for what every connector checks."""

from __future__ import annotations

import httpx
import orjson

from syncline.errors import UpstreamResponseError
from syncline.types import JSONObject


def text(obj: JSONObject, key: str) -> str | None:
    """`obj[key]` when it is a non-empty string, else None."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def objects(obj: JSONObject, key: str, provider: str) -> list[JSONObject]:
    """The objects of the list `obj[key]` (none when absent); a non-list is `provider`'s error."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UpstreamResponseError(f"{provider} sent {key!r} that is not a list")
    return [item for item in value if isinstance(item, dict)]


def json_object(response: httpx.Response, provider: str) -> JSONObject:
    """The response's body as a JSON object, or `provider`'s error saying what it was instead."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise UpstreamResponseError(
            f"{provider} sent a body that is not JSON (HTTP {response.status_code})",
            status_code=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise UpstreamResponseError(
            f"{provider} sent JSON that is not an object", status_code=response.status_code
        )
    return body
