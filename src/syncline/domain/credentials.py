"""Connected accounts (credentials) and their OAuth tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CredentialStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """OAuth tokens in clear; exists only in memory, encrypted at rest."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at!r})"  # never print the tokens themselves


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    project_id: str
    user_id: str
    integration: str
    status: CredentialStatus
    account_email: str | None
    scopes: list[str]
    created_at: datetime
    updated_at: datetime
