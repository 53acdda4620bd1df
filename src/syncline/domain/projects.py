"""Projects: the tenant a user token's `aud` names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    public_key_pem: str
    webhook_url: str | None
    webhook_secret_enc: str | None
    created_at: datetime
