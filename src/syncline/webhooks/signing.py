"""Standard Webhooks signatures (https://www.standardwebhooks.com): pure sign and verify."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from syncline.errors import ConfigError

__all__ = [
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "generate_secret",
    "headers",
    "sign",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a format prefix, not a secret
"""Prefix of a Standard Webhooks secret; the rest is the base64 of the HMAC key."""

_SECRET_BYTES: Final = 32
# The spec recommends keys of 24 to 64 bytes; shorter ones are too weak to accept.
_MIN_SECRET_BYTES: Final = 24
_MAX_SECRET_BYTES: Final = 64
_VERSION: Final = "v1"


class WebhookVerificationError(ValueError):
    """A webhook delivery's signature or timestamp is missing or does not verify."""


def generate_secret() -> str:
    """A new random secret, `whsec_` followed by the base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The signature header value of one message: `v1,<base64 HMAC-SHA256>`.

    Args:
        secret: the endpoint secret, with or without the `whsec_` prefix.
        msg_id: the message id (`webhook-id`), stable across retries.
        timestamp: seconds since the epoch (`webhook-timestamp`).
        body: the exact bytes sent as the request body.

    Raises:
        ConfigError: the secret is malformed.
    """
    if timestamp < 0:
        raise ValueError("timestamp must not be negative")
    return _signature(_key(secret), msg_id, str(timestamp), body)


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one message (see `sign`)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
) -> None:
    """Check that a received message was signed with `secret` recently enough.

    Args:
        secret: the endpoint secret, with or without the `whsec_` prefix.
        headers: the request headers; names are matched case-insensitively.
        body: the raw request body, exactly as received.
        tolerance: how far `webhook-timestamp` may be from `now`, either way (replay guard).
        now: the current timezone-aware time; defaults to the system clock.

    Raises:
        WebhookVerificationError: a header is missing, the timestamp is out of tolerance, or
            no `v1` signature in `webhook-signature` matches.
        ConfigError: the secret is malformed.
    """
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )

    # ASCII digits only: int() would also take "+1", " 1" or other scripts' digits, which the
    # sender never produces and which would be signed as different text.
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if abs(int(timestamp) - now.timestamp()) > tolerance.total_seconds():
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance window")

    # The signed text uses the timestamp exactly as received, so no two header values share a
    # signature.
    expected = _signature(key, msg_id, timestamp, body).encode("ascii")
    for candidate in signatures.split(" "):
        version, _, _ = candidate.partition(",")
        # Compare every v1 entry in constant time; other versions (v1a...) are not ours to judge.
        if version == _VERSION and hmac.compare_digest(expected, candidate.encode()):
            return
    raise WebhookVerificationError("no webhook-signature matches the message")


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode('ascii')}"


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(
            "the webhook secret (SYNCLINE_WEBHOOK_SECRET) must be whsec_ followed by base64"
        ) from exc
    if not _MIN_SECRET_BYTES <= len(key) <= _MAX_SECRET_BYTES:
        raise ConfigError(
            "the webhook secret (SYNCLINE_WEBHOOK_SECRET) must encode "
            f"{_MIN_SECRET_BYTES} to {_MAX_SECRET_BYTES} bytes; "
            "generate one with syncline.webhooks.generate_secret()"
        )
    return key
