"""Encryption of secrets at rest (OAuth tokens, webhook secrets) with `SYNCLINE_SECRET_KEY`."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from syncline.errors import ConfigError

__all__ = ["SecretBox", "generate_key"]


def generate_key() -> str:
    """A new `SYNCLINE_SECRET_KEY`: 32 random bytes, URL-safe base64 (the Fernet key format)."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts and decrypts text with one Fernet key (AES-128-CBC + HMAC-SHA256, timestamped)."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str) -> None:
        """Build a box around `key`.

        Raises:
            ConfigError: the key is not 32 bytes of URL-safe base64.
        """
        try:
            # A key read from a file usually ends with a newline.
            self._fernet = Fernet(key.strip())
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "SYNCLINE_SECRET_KEY must be 32 random bytes in URL-safe base64 "
                "(44 characters); `syncline keys generate` prints one"
            ) from exc

    def __repr__(self) -> str:
        return "SecretBox(key=<hidden>)"

    def encrypt(self, text: str) -> str:
        """Encrypt `text`; the result is URL-safe ASCII and differs on every call."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt what `encrypt` produced.

        Raises:
            ConfigError: the token was encrypted with another key or is corrupted.
        """
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        # Fernet raises InvalidToken for most damage, but ValueError for non-ASCII text and
        # UnicodeDecodeError (a ValueError) if the plaintext was not ours.
        except (InvalidToken, ValueError, TypeError) as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with SYNCLINE_SECRET_KEY: the key changed "
                "since it was written, or the value is corrupted"
            ) from exc
