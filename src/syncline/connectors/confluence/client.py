"""The Confluence Cloud calls the connector makes, through Atlassian's 3LO gateway, with
Confluence's paging and errors.

Every path is the site's (`/wiki/api/v2/...`, `/wiki/rest/api/...`) under
`{API_URL}/ex/confluence/{cloudId}`. Lists page by the `_links.next` of each answer, which is
relative to the site, not to the gateway: v2 writes it from the site's root
(`/wiki/api/v2/pages?cursor=...`), v1 from its `/wiki` context (`/rest/api/content/search?...`).
The client puts the gateway's prefix back, and never follows a link to another host.
"""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote, urlsplit

import httpx

from syncline.connectors.atlassian.resources import cloud_id
from syncline.connectors.base import ConnectorContext
from syncline.connectors.bodies import json_object, objects, text
from syncline.connectors.confluence.errors import raise_for_confluence
from syncline.connectors.http import map_transport_errors
from syncline.errors import UpstreamResponseError
from syncline.types import JSONObject

__all__ = ["PRODUCT_PATH", "ConfluenceClient", "Listed", "Params"]

PRODUCT_PATH = "confluence"
"""The gateway's name for Confluence: `/ex/confluence/{cloudId}`."""

Params = Sequence[tuple[str, str]]
"""Query parameters in order, a name repeated for a list (`status=trashed&status=deleted`)."""

_json_object = partial(json_object, provider="Confluence")
_objects = partial(objects, provider="Confluence")


@dataclass(frozen=True, slots=True)
class Listed:
    """One page of a list: its results, the link to the next (None: the last), and the site's
    base URL (`https://<site>.atlassian.net/wiki`) when the answer gave it."""

    results: list[JSONObject]
    next: str | None
    base: str | None
    served_at: datetime | None = None
    """Confluence's clock when it answered (the `Date` header), if it said."""


def _served_at(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _listed(response: httpx.Response) -> Listed:
    body = _json_object(response)
    links = body.get("_links")
    links = links if isinstance(links, dict) else {}
    return Listed(
        _objects(body, "results"), text(links, "next"), text(links, "base"), _served_at(response)
    )


class ConfluenceClient:
    """Reads one credential's Confluence site; finds the site's cloud id on first use."""

    def __init__(self, ctx: ConnectorContext) -> None:
        self._ctx = ctx
        self._site: str | None = None

    async def site(self) -> str:
        """`{API_URL}/ex/confluence/{cloudId}`: where the site's `/wiki/...` paths go."""
        if self._site is None:
            found = await cloud_id(self._ctx, PRODUCT_PATH)
            origin = self._ctx.api_url.rstrip("/")
            self._site = f"{origin}/ex/{PRODUCT_PATH}/{quote(found, safe='')}"
        return self._site

    async def _send(self, url: str, params: Params | Mapping[str, str] | None) -> httpx.Response:
        # None, not an empty tuple, for a next link: httpx replaces a URL's query with any
        # `params` given, even empty ones.
        query = (
            None
            if params is None
            else dict(params)
            if isinstance(params, Mapping)
            else tuple(params)
        )
        async with map_transport_errors():
            response = await self._ctx.http.get(
                url,
                params=query,
                auth=self._ctx.auth,
                headers={"Accept": "application/json"},
            )
        raise_for_confluence(response)
        return response

    async def get(self, path: str, params: Params | Mapping[str, str] | None = None) -> JSONObject:
        """`GET {site}{path}`, `path` from the site's root (`/wiki/api/v2/pages/123`)."""
        return _json_object(await self._send(f"{await self.site()}{path}", params))

    async def page_of(self, path: str, params: Params | Mapping[str, str] | None) -> Listed:
        """The first page of a list."""
        return _listed(await self._send(f"{await self.site()}{path}", params))

    async def follow(self, link: str) -> Listed:
        """The list page a `_links.next` names."""
        return _listed(await self._send(await self._resolve(link), None))

    async def each_page(
        self,
        path: str,
        params: Params | Mapping[str, str] | None = None,
        *,
        link: str | None = None,
    ) -> AsyncIterator[tuple[Listed, str | None]]:
        """Every page of a list from its first (or from `link`), each with the link it was read
        from (None for the first)."""
        listed = await (self.follow(link) if link else self.page_of(path, params))
        read_from = link
        while True:
            yield listed, read_from
            if listed.next is None:
                return
            if listed.next == read_from:
                raise UpstreamResponseError("Confluence returned the same next link twice")
            read_from = listed.next
            listed = await self.follow(listed.next)

    async def _resolve(self, link: str) -> str:
        """A next link as a gateway URL: `/wiki/...` (v2) and `/...` (v1, under `/wiki`) go
        under the site's prefix; an absolute one keeps only its path from `/wiki` on."""
        site = await self.site()
        if link.startswith(("https://", "http://")):
            parts = urlsplit(link)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not path.startswith("/wiki/"):
                raise UpstreamResponseError(f"Confluence sent a next link off the site: {link!r}")
            return f"{site}{path}"
        if link.startswith("/wiki/"):
            return f"{site}{link}"
        if link.startswith("/"):
            return f"{site}/wiki{link}"
        raise UpstreamResponseError(f"Confluence sent a next link that is not a path: {link!r}")
