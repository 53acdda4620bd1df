"""
Every exception Syncline raises on purpose.

* SyncError                      base; `.retryable` says whether trying again can help
  x ConfigError                  bad settings or configuration                  (API: 422)
  x InvalidInput                 a request the API cannot accept; `.field`      (API: 400/422)
  x NotFound                     unknown sync, record, credential, or not yours (API: 404)
  x Conflict                     the request contradicts current state          (API: 409)
  x Unauthorized                 missing or invalid user token                  (API: 401)
  x UpstreamError                the third-party API failed
    + UpstreamAuthError          401 after a refresh, revoked grant             (terminal)
      - CredentialRevoked        the refresh token is dead or the credential is gone
    + UpstreamPermissionDenied   403 that no retry can fix                      (terminal)
    + UpstreamRateLimited        429 / 403 rate limit; `.retry_after`           (retryable)
    + UpstreamUnavailable        5xx, timeouts, connection errors               (retryable)
    + UpstreamNotFound           the item is gone upstream                      (terminal)
    + UpstreamResponseError      other 4xx, unparseable body                    (terminal)
    + CursorInvalid              the stored change cursor was rejected          (full resync)
    + NotDownloadable            the item has no content to download            (API: 422)
  x StoreError                   database failure; `__cause__` is the driver error
  x LeaseLost                    another worker owns this sync now; stop at once
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar


class SyncError(Exception):
    """Base class for every error Syncline raises on purpose."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(SyncError):
    """The settings or the sync configuration are invalid."""

    code = "INVALID_CONFIGURATION"


class InvalidInput(SyncError):
    """The request cannot be accepted as it is."""

    code = "INVALID_REQUEST"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        if code is not None:
            self.code = code  # type: ignore[misc]  # a per-instance code refines the class default


class CredentialInvalid(InvalidInput):
    """The provider refused the tokens given on import; the message carries its reason."""

    code = "CREDENTIAL_INVALID"


class NotFound(SyncError):
    """The resource does not exist or does not belong to you."""

    code = "NOT_FOUND"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code  # type: ignore[misc]  # a per-instance code refines the class default


class Conflict(SyncError):
    """The request contradicts the resource's current state."""

    code = "CONFLICT"


class Unauthorized(SyncError):
    """The user token is missing or invalid."""

    code = "UNAUTHORIZED"


class UpstreamError(SyncError):
    """The third-party API failed."""

    code = "UPSTREAM_ERROR"

    def __init__(self, message: str | None = None, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class UpstreamAuthError(UpstreamError):
    """The third-party API refused our credentials even after a refresh."""

    code = "UPSTREAM_AUTH_ERROR"


class CredentialRevoked(UpstreamAuthError):
    """The credential is no longer valid or has been deleted; the user must reconnect."""

    code = "CREDENTIAL_REVOKED"


class UpstreamPermissionDenied(UpstreamError):
    """The third-party API denied access, and retrying will not change that."""

    code = "UPSTREAM_PERMISSION_DENIED"


class UpstreamRateLimited(UpstreamError):
    """The third-party API asked us to slow down."""

    retryable = True
    code = "UPSTREAM_RATE_LIMITED"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: timedelta | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """The third-party API is unavailable (5xx, timeout or connection failure)."""

    retryable = True
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamNotFound(UpstreamError):
    """The item no longer exists upstream, or the credential lost access to it."""

    code = "UPSTREAM_NOT_FOUND"


class UpstreamResponseError(UpstreamError):
    """The third-party API answered with something we cannot use."""

    code = "UPSTREAM_RESPONSE_ERROR"


class CursorInvalid(UpstreamError):
    """The upstream rejected the stored change cursor; a full resync is needed."""

    code = "CURSOR_INVALID"


class NotDownloadable(UpstreamError):
    """This item has no downloadable content."""

    code = "NOT_DOWNLOADABLE"


class StoreError(SyncError):
    """The database failed."""

    retryable = True
    code = "STORE_ERROR"


class LeaseLost(SyncError):
    """Another worker holds this sync's lease now; the current run must stop without writing."""

    code = "LEASE_LOST"
