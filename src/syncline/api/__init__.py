"""The HTTP API: Paragon-compatible paths, JSON errors, user-token authentication."""

from syncline.api.app import Services, create_app

__all__ = ["Services", "create_app"]
