"""Settings, read from `SYNCLINE_*` environment variables (built in wiring, never at import)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from syncline.domain.durations import parse_duration
from syncline.domain.syncs import FREQUENCIES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYNCLINE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///./syncline.db"
    project_id: str | None = None
    signing_public_key: str | None = None
    signing_public_key_file: Path | None = None
    audience_hosts: str = "useparagon.com,dashboard.useparagon.com,localhost"
    public_hostname: str | None = None
    public_url: str | None = None
    """How browsers and providers reach this server (`https://sync.example.com`): the base of
    OAuth callback URLs. Unset: the URL each request came in on."""
    webhook_url: str | None = None
    webhook_secret: str | None = None
    secret_key: str | None = None
    full_sync_interval: str = "24h"
    max_delete_fraction: float = Field(default=0.5, gt=0, le=1)
    worker_concurrency: int = Field(default=8, ge=1, le=1000)
    parse_processes: int | None = Field(default=None, ge=0, le=64)
    """Processes that parse and prepare listing pages beside the event loop; 0: none (all in
    the event loop's process); unset: one per core beyond the first, at most 8."""
    webhook_concurrency: int = Field(default=16, ge=1, le=1000)
    scheduler_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_seconds: float = Field(default=60.0, ge=2, le=3600)
    max_running_syncs: int = Field(default=0, ge=0)
    """Sync runs at once across every worker process (0: no cap beyond each worker's own)."""
    project_concurrency: int = Field(default=0, ge=0)
    """Sync runs at once for one project across every worker (0: no cap)."""
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    """After SIGTERM, how long runs may take to finish their current page before being cut."""
    max_inflight_requests: int = Field(default=32, ge=1, le=100_000)
    """API requests served at once per process; more are answered 429 with Retry-After."""
    admin_token: str | None = None
    """Bearer token of the operator's admin API (`/admin/...`); unset: the admin API is off."""
    group_membership_max_age: str = "10m"
    """Group (and shared-drive) memberships older than this are read again by any run; 0: by
    every incremental."""
    webhook_block_after: str = "1h"
    """How long one event of a sync may fail before it is parked and the events behind it flow."""
    allow_private_upstreams: bool = False
    """Accept a credential's instance URL (`providerData`) on any host, http included."""
    allow_private_webhooks: bool = False
    """Accept webhook URLs on private, loopback or link-local addresses through the admin API."""
    log_level: str = "info"

    @field_validator("full_sync_interval")
    @classmethod
    def _full_interval(cls, value: str) -> str:
        allowed = {k: v for k, v in FREQUENCIES.items() if v >= timedelta(hours=3)}
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)} (at least 3h)")
        return value

    @field_validator("webhook_block_after", "group_membership_max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def membership_max_age(self) -> timedelta:
        return parse_duration(self.group_membership_max_age)

    @property
    def block_after(self) -> timedelta:
        return parse_duration(self.webhook_block_after)

    @property
    def full_interval(self) -> timedelta:
        return FREQUENCIES[self.full_sync_interval]

    def audiences(self) -> list[str]:
        hosts = [h.strip() for h in self.audience_hosts.split(",") if h.strip()]
        if self.public_hostname and self.public_hostname not in hosts:
            hosts.append(self.public_hostname)
        return hosts

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None

    def data_dir(self) -> Path:
        """Where embedded mode keeps its generated secret key and project private keys."""
        path = self.sqlite_path()
        base = path.parent if path is not None else Path.cwd()
        return base / ".syncline"
