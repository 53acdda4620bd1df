"""The one place a failed run attempt is judged: retry, back off, or give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from syncline.errors import (
    ConfigError,
    CredentialRevoked,
    StoreError,
    SyncError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamRateLimited,
)

if TYPE_CHECKING:
    from syncline.engine.runner import EngineSettings


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Literal["retry", "rate_limited", "errored", "bug"]
    wait: timedelta | None = None
    """How long to wait; None lets the retry policy decide."""
    revoke_credential: bool = False

    @property
    def retry(self) -> bool:
        return self.kind in ("retry", "rate_limited")


def classify(exc: BaseException, *, failures: int, settings: EngineSettings) -> Decision:
    """Judge one failed attempt. Unknown exceptions are bugs: retried slowly, then ERRORED."""
    if isinstance(exc, UpstreamRateLimited):
        return Decision("rate_limited", wait=exc.retry_after)
    if isinstance(exc, CredentialRevoked):
        return Decision("errored", revoke_credential=True)
    if isinstance(exc, UpstreamPermissionDenied | UpstreamNotFound | ConfigError):
        return Decision("errored")
    # Any other auth error is a 401 on a token refreshed a moment ago (the token endpoint
    # accepted the grant, or CredentialRevoked would say so): Drive sometimes rejects a fresh
    # token, so retry it like other upstream errors, up to `max_failures` runs.
    if isinstance(exc, SyncError) and exc.retryable:
        return Decision("retry")
    if failures + 1 >= settings.max_failures:
        return Decision("errored")
    if isinstance(exc, UpstreamError | StoreError):
        return Decision("retry")
    return Decision("bug")
