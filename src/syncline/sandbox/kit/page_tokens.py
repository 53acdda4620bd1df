"""Opaque, tamper-evident page tokens that encode a position, so a page costs O(page size)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

import orjson

from syncline.types import JSONObject

__all__ = ["PageTokens"]

_PREFIX = "~!!~"  # Drive's tokens start like this; clients must not care, but some peek


class PageTokens:
    """Signs positions with a per-server key: garbled or foreign tokens are detected."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def encode(self, payload: JSONObject) -> str:
        """A token carrying `payload`."""
        body = orjson.dumps(payload)
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:8]
        return _PREFIX + base64.urlsafe_b64encode(mac + body).decode().rstrip("=")

    def decode(self, token: str) -> JSONObject | None:
        """The payload, or None when the token was not issued by this server."""
        if not token.startswith(_PREFIX):
            return None
        text = token[len(_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
        mac, body = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()[:8]):
            return None
        payload = orjson.loads(body)
        return payload if isinstance(payload, dict) else None
