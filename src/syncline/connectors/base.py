"""The contract between the sync engine and every connector."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from syncline.connectors.pacing import Pace
from syncline.domain.permissions import Grant
from syncline.domain.records import ChangePage, ListPage
from syncline.errors import InvalidInput
from syncline.types import Checkpoint


@dataclass(frozen=True, slots=True)
class Scope:
    """Which upstream items a sync covers, so the engine can filter change feeds.

    `folder_id`: the folder and everything below it; `file_ids`: exactly these items;
    neither: everything the credential can see (within the site, drive, space or bucket the
    configuration names, which the connector applies itself).
    """

    folder_id: str | None = None
    file_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_everything(self) -> bool:
        return self.folder_id is None and not self.file_ids


class ChangeStrategy(enum.StrEnum):
    """How a connector finds what changed since its cursor."""

    FEED = "feed"
    """A native change feed (delta link, cursor, event stream): `changes(cursor)` pages it."""
    WINDOW = "window"
    """A modified-since query: the cursor is an ISO-8601 high-water mark, and the engine reads
    from it minus `window_overlap`, which absorbs clock skew and coarse timestamps; records
    that did not change cost nothing (their hash is unchanged)."""
    RELIST = "relist"
    """No feed at all: every run lists everything and compares hashes (a full sync)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do, as data: the engine picks its strategy from this, never from an
    integration's name."""

    changes: ChangeStrategy = ChangeStrategy.FEED
    deletions_in_feed: bool = True
    """Whether `changes` reports deletions; if not, only a full listing finds them."""
    window_overlap: timedelta = timedelta(0)
    """For `WINDOW`: how far before the high-water mark each read starts."""
    scopes: frozenset[str] = frozenset({"everything"})
    """The scopes its configuration can name: `everything`, `folder`, `items`, `site`, `drive`,
    `space`, `bucket`, `query`, `view`."""
    hierarchical: bool = False
    """Items sit in folders (`Upsert.parent_ids`): a folder scope is reconciled from the feed
    (`engine.hierarchy`), and folders entering or leaving scope call for a full listing."""
    lists_children: bool = False
    """It has `children(folder_id, limit)` (see `engine.hierarchy.FolderReader`), which tells a
    folder that just became visible, with contents the feed did not bring, from a new one."""
    content: bool = True
    """`download` serves the items' bytes."""


@dataclass(frozen=True, slots=True)
class Download:
    """A file's bytes, streamed from the provider; `close` must be awaited once done."""

    media_type: str
    filename: str | None
    chunks: AsyncIterator[bytes]
    close: Callable[[], object]


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """Everything a connector may touch during one sync.

    `http` is shared by every sync; `auth` adds this credential's bearer token and refreshes it
    once on a 401. `api_url` is the provider origin (e.g. `https://www.googleapis.com`), or the
    credential's own instance for providers that have one. `provider_data` is what the
    credential carries beside its tokens (`providerData`): secret, never to be logged.
    `urls` holds the spec's other origins (`ConnectorSpec.extra_urls`) by name, as configured.
    """

    http: httpx.AsyncClient
    auth: httpx.Auth
    api_url: str
    provider_data: Mapping[str, str] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)


class Connector(Protocol):
    """Reads one account's items of one pipeline from one provider. Translates: never sleeps,
    retries, stores or logs tokens. Optional abilities are further protocols it may also meet
    (`PermissionsReader`, `MembershipFeed`, `engine.hierarchy.FolderReader`)."""

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def scope(self) -> Scope: ...

    async def start_cursor(self) -> str:
        """The change-feed position of now (for `WINDOW`, an ISO-8601 time); taken before a
        listing so no change made during it is missed."""
        ...

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every item in scope, page by page, resuming after `checkpoint` when given."""
        ...

    def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor`, page by page, oldest first. Each page's `cursor` is
        where to resume after it (for `WINDOW`: the newest modification time it held)."""
        ...

    async def download(self, external_id: str) -> Download:
        """The item's content (exported to an Office format for native documents)."""
        ...


@runtime_checkable
class PermissionsReader(Protocol):
    """A connector that also reads who may open its items (`Upsert.access` on every item)."""

    async def container_grants(self, container_id: str) -> list[Grant]:
        """The members of a shared drive (or space) and their relation to everything in it.

        Raises:
            UpstreamNotFound: the container is gone or no longer visible.
        """
        ...

    async def group_members(self, group: str) -> list[str] | None:
        """The direct members of a group (its email) as subjects (`user:…`, `group:…`).

        None when this credential cannot read the directory (no scope, not an admin): the group
        then stays an opaque principal that no user is known to be a member of.
        """
        ...


@dataclass(frozen=True, slots=True)
class MembershipChanges:
    """What a membership activity feed reported after a point in time."""

    groups: frozenset[str]
    """Groups (their email) whose members changed."""
    newest: datetime | None
    """The time of the newest activity read (None: none), where the next read starts after."""


@runtime_checkable
class MembershipFeed(Protocol):
    """A connector that can read the provider's feed of group membership changes (Google: the
    Admin Reports API's groups activities), so a removed member loses access at once rather
    than when the group is next re-read."""

    async def membership_changes(self, after: datetime | None) -> MembershipChanges | None:
        """Groups changed strictly after `after`; with None, only where the feed stands now.
        None when this credential may not read the feed."""
        ...


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a credential is, as the provider's cheapest identity endpoint tells it."""

    email: str | None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthFlow:
    """What a provider's authorization-code flow needs beyond its URLs (`/connect/...`)."""

    scopes: tuple[str, ...]
    """Asked for on the consent screen (the connector's docs say what each is for)."""
    pkce: bool = True
    """Send an S256 `code_challenge` (RFC 7636) and its verifier with the exchange."""
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    """Extra query parameters of the authorize URL (Google: `access_type=offline`)."""
    provider_data: Callable[[Mapping[str, object]], dict[str, str]] | None = None
    """What of the token response becomes `providerData` (Salesforce: `instance_url`)."""
    scope_on_refresh: tuple[str, ...] | None = None
    """Name the credential's granted scopes in each refresh (Microsoft documents `scope` as
    part of the refresh request), with these beside them (Microsoft's `offline_access`, which
    its token responses never echo); nothing is named when the granted scopes are unknown."""
    client_auth: Literal["body", "basic"] = "body"
    """How the client authenticates at the token endpoint: `client_id` and `client_secret` in
    the request body, or HTTP Basic (RFC 6749 section 2.3.1; Notion accepts only that)."""
    body_format: Literal["form", "json"] = "form"
    """The token request's body: form-encoded (RFC 6749), or a JSON object (Notion)."""


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """How to validate an integration's configuration and build its connector.

    `identify` asks the provider who the credential in the context is (Drive: `about.get`); it
    raises as the connector does (`UpstreamAuthError` for tokens the provider refuses).
    """

    integration: str
    pipelines: frozenset[str]
    config_model: type[BaseModel]
    default_api_url: str
    default_token_url: str
    default_auth_url: str
    build: Callable[[BaseModel, ConnectorContext], Connector]
    capabilities: Capabilities = field(default_factory=Capabilities)
    """What its connectors can do; the same object as their `capabilities`."""
    identify: Callable[[ConnectorContext], Awaitable[Identity]] | None = None
    check: Callable[[BaseModel, ConnectorContext], Awaitable[None]] | None = None
    """At enable: that what the configuration names exists for the credential (a SharePoint
    `siteId`); raises `InvalidInput` naming the key."""
    instance_key: str | None = None
    """The `providerData` key that holds a credential's own origin (`instanceUrl`, ...)."""
    instance_hosts: tuple[str, ...] = ()
    """The hosts that origin may name (shell patterns: `*.my.salesforce.com`)."""
    oauth: OAuthFlow | None = None
    """How end users connect an account through `/connect/{integration}/authorize`."""
    auth: Literal["oauth", "keys"] = "oauth"
    """`keys`: a credential is its `providerData` alone (S3's access key), imported without an
    access token; the connector signs its own requests from `ConnectorContext.provider_data`
    and leaves `ConnectorContext.auth` unused."""
    provider_data: type[BaseModel] | None = None
    """The shape a credential's `providerData` must have (S3: its keys and region), checked
    when it is imported; a missing or malformed key is a 422 naming `providerData.<key>`."""
    extra_urls: Mapping[str, str] = field(default_factory=dict)
    """Origins besides the API's, by name, with their defaults (Dropbox: `content`, its
    content host); each is overridable with `SYNCLINE_<X>_<NAME>_URL` and reaches the
    connector in `ConnectorContext.urls`."""
    pace: Pace | None = None
    """The provider's documented request rate per credential (Notion: 3 a second): every
    request of one credential in the process waits for its place (`connectors.pacing`);
    overridable with `SYNCLINE_<X>_REQUESTS_PER_SECOND` and `SYNCLINE_<X>_REQUEST_BURST`."""


def invalid_configuration(key: str, why: str) -> InvalidInput:
    """The 422 a connector's `check` raises for a `configuration` key the provider refuses."""
    return InvalidInput(
        f"Invalid configuration.{key}: {why}",
        field=f"configuration.{key}",
        code="INVALID_CONFIGURATION",
    )
