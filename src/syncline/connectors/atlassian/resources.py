"""Which Atlassian site a 3LO grant is for: its cloud id, which every gateway path names
(`https://api.atlassian.com/ex/{product}/{cloudId}/...`).

The credential's `providerData.cloudId` when the application gave one; else the grant's sites
from `GET https://api.atlassian.com/oauth/token/accessible-resources` (`[{id, url, name,
scopes, avatarUrl}]`, developer.atlassian.com "OAuth 2.0 (3LO) apps", step 3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson

from syncline.connectors.atlassian.errors import raise_for_atlassian
from syncline.connectors.base import ConnectorContext
from syncline.connectors.http import map_transport_errors
from syncline.errors import ConfigError, UpstreamPermissionDenied, UpstreamResponseError
from syncline.types import JSON

__all__ = [
    "CLOUD_ID_KEY",
    "DEFAULT_RESOURCES_URL",
    "GATEWAY_URL",
    "RESOURCES_URL_NAME",
    "cloud_id",
    "pick_site",
]

GATEWAY_URL = "https://api.atlassian.com"
"""The 3LO gateway: the API origin of every Atlassian cloud product."""
DEFAULT_RESOURCES_URL = "https://api.atlassian.com/oauth/token/accessible-resources"
RESOURCES_URL_NAME = "resources"
"""The `ConnectorSpec.extra_urls` name of the accessible-resources URL
(`SYNCLINE_<X>_RESOURCES_URL`)."""
CLOUD_ID_KEY = "cloudId"
"""The `providerData` key that names the site."""

_CLOUD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
"""Cloud ids are UUIDs; anything else that could sit in a path segment is left to the gateway
(which answers 404), anything that could not is refused here."""


def pick_site(resources: Sequence[JSON], product: str) -> str | None:
    """The id of the first site whose granted scopes name `product` (`read:page:confluence`),
    else of the first site: one consent may cover a Jira site and a Confluence site."""
    sites = [r for r in resources if isinstance(r, dict) and isinstance(r.get("id"), str)]
    for site in sites:
        scopes = site.get("scopes")
        if isinstance(scopes, list) and any(
            isinstance(s, str) and product in s.split(":") for s in scopes
        ):
            return str(site["id"])
    return str(sites[0]["id"]) if sites else None


async def cloud_id(ctx: ConnectorContext, product: str) -> str:
    """The cloud id of the site this credential reads (`product`: `confluence`, `jira`).

    Raises:
        ConfigError: `providerData.cloudId` cannot be a cloud id.
        UpstreamPermissionDenied: the grant reaches no site.
        UpstreamAuthError: the token was refused, even after one refresh.
    """
    given = ctx.provider_data.get(CLOUD_ID_KEY)
    if given:
        if not _CLOUD_ID.match(given):
            raise ConfigError(f"providerData.{CLOUD_ID_KEY} {given!r} is not an Atlassian cloud id")
        return given
    url = ctx.urls.get(RESOURCES_URL_NAME, DEFAULT_RESOURCES_URL)
    async with map_transport_errors():
        response = await ctx.http.get(url, auth=ctx.auth, headers={"Accept": "application/json"})
    raise_for_atlassian(response, "Atlassian")
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise UpstreamResponseError(
            "accessible-resources answered with a body that is not JSON"
        ) from exc
    if not isinstance(body, list):
        raise UpstreamResponseError("accessible-resources answered with JSON that is not a list")
    found = pick_site(body, product)
    if found is None:
        raise UpstreamPermissionDenied(
            f"This Atlassian grant reaches no {product} site (accessible-resources is empty): "
            f"the user must consent again, or the application must give providerData."
            f"{CLOUD_ID_KEY}."
        )
    return found
