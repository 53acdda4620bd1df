"""Authentication of API callers: the project-signed user tokens (JWT) of the Sync API."""

from syncline.auth.tokens import (
    MAX_TOKEN_LENGTH,
    SUPPORTED_ALGORITHMS,
    Principal,
    SigningKey,
    TokenVerifier,
    generate_signing_key,
    load_public_key_pem,
    mint_user_token,
)

__all__ = [
    "MAX_TOKEN_LENGTH",
    "SUPPORTED_ALGORITHMS",
    "Principal",
    "SigningKey",
    "TokenVerifier",
    "generate_signing_key",
    "load_public_key_pem",
    "mint_user_token",
]
