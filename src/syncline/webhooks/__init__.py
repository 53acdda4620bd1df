"""Outgoing webhooks: Standard Webhooks signing of the events Syncline sends to a project."""

from syncline.webhooks.signing import (
    SECRET_PREFIX,
    WebhookVerificationError,
    generate_secret,
    headers,
    sign,
    verify,
)

__all__ = [
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "generate_secret",
    "headers",
    "sign",
    "verify",
]
