"""Connected accounts: import, token refresh (single-flight), revocation."""

from syncline.credentials.oauth import OAuthApp, refresh_tokens
from syncline.credentials.service import CredentialService

__all__ = ["CredentialService", "OAuthApp", "refresh_tokens"]
