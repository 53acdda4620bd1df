"""Opaque, tamper-evident cursors: a position signed with the server's key and bound to a sync."""

from __future__ import annotations

import base64
import hashlib
import hmac

from syncline.errors import InvalidInput


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"syncline-cursor:" + key).digest()

    def encode(self, kind: str, scope: str, position: int) -> str:
        payload = f"{kind}:{position}"
        return _b64(f"{payload}:{self._tag(kind, scope, position)}".encode())

    def decode(self, kind: str, scope: str, token: str, *, field: str = "cursor") -> int:
        """The position in `token`; InvalidInput if it was altered or belongs elsewhere."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            found_kind, position_text, tag = raw.split(":")
            position = int(position_text)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(
                "The cursor is not one this server issued.", field=field, code="INVALID_CURSOR"
            ) from None
        expected = self._tag(kind, scope, position)
        if found_kind != kind or position < 0 or not hmac.compare_digest(tag, expected):
            raise InvalidInput(
                "The cursor was altered or belongs to another sync.",
                field=field,
                code="INVALID_CURSOR",
            )
        return position

    def encode_key(self, kind: str, scope: str, key: str) -> str:
        """A cursor that resumes after a string key (an object id) rather than a number."""
        if ":" in key:
            raise ValueError("cursor keys may not contain ':'")
        return _b64(f"{kind}:{key}:{self._tag(kind, scope, key)}".encode())

    def decode_key(self, kind: str, scope: str, token: str, *, field: str = "cursor") -> str:
        """The key in a cursor from `encode_key`; InvalidInput if altered or from elsewhere."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            found_kind, key, tag = raw.split(":")
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(
                "The cursor is not one this server issued.", field=field, code="INVALID_CURSOR"
            ) from None
        if found_kind != kind or not hmac.compare_digest(tag, self._tag(kind, scope, key)):
            raise InvalidInput(
                "The cursor was altered or belongs to another query.",
                field=field,
                code="INVALID_CURSOR",
            )
        return key

    def _tag(self, kind: str, scope: str, position: int | str) -> str:
        mac = hmac.new(self._key, f"{kind}:{scope}:{position}".encode(), hashlib.sha256)
        return mac.hexdigest()[:24]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
