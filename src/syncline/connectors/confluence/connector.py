"""Reads one user's Confluence Cloud site: v2 page listings, a CQL window of edits, the trash,
page renderings, and who may read each page (space permissions, groups, page restrictions)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from pydantic import BaseModel

from syncline.connectors.atlassian.resources import (
    DEFAULT_RESOURCES_URL,
    GATEWAY_URL,
    RESOURCES_URL_NAME,
)
from syncline.connectors.base import (
    Capabilities,
    ChangeStrategy,
    ConnectorContext,
    ConnectorSpec,
    Download,
    Identity,
    OAuthFlow,
    Scope,
    invalid_configuration,
)
from syncline.connectors.bodies import text
from syncline.connectors.confluence.access import AccessReader
from syncline.connectors.confluence.client import ConfluenceClient, Listed
from syncline.connectors.confluence.config import ConfluenceConfig
from syncline.connectors.confluence.normalize import (
    MEDIA_TYPE,
    html_document,
    normalize_page,
    timestamp,
)
from syncline.connectors.confluence.permissions import restricted_page
from syncline.domain.notifications import iso
from syncline.domain.permissions import Grant
from syncline.domain.records import ChangePage, ListPage, Upsert
from syncline.errors import (
    CursorInvalid,
    UpstreamNotFound,
    UpstreamPermissionDenied,
)
from syncline.types import JSON, Checkpoint, JSONObject

__all__ = ["CAPABILITIES", "ConfluenceConnector", "check", "identify", "spec"]

LIST_PAGE = 250
"""Pages per v2 listing page: its maximum (no body is asked for, so no lower cap applies)."""
SEARCH_PAGE = 100
"""Results per CQL search page (only `version` is expanded)."""
CHANGES_PER_PAGE = 100
"""Edited pages per change page: one v2 read of them (`GET /pages?id=...`)."""
TRASH_PAGES = 4
"""Listing pages of the trash read per incremental (1,000 pages): beyond them, pages trashed
leave with the full sync."""
DESCENDANTS_DEPTH = 5
"""`GET /pages/{id}/descendants` reads at most 5 levels; deeper ones are read from there."""
WINDOW_OVERLAP = timedelta(minutes=5)
"""How far before its mark each window starts again: the search index's lag behind an edit
and the clocks' skew (each edit's time is exact, so no more is needed; a page edited in the
overlap is read again and costs nothing, its hash unchanged)."""
SEARCH_SLACK = timedelta(hours=1)
"""How much earlier than the window the CQL bound reaches: the bound is Confluence's own
`now("-Nm")` (no time zone involved), and this covers a clock of ours behind Confluence's.
Results older than the window are never read: the search runs newest first and stops there."""
RESTARTS = 2
"""Times a window's search starts over when Confluence refuses its cursor mid-way."""

CAPABILITIES = Capabilities(
    changes=ChangeStrategy.WINDOW,
    deletions_in_feed=True,
    window_overlap=WINDOW_OVERLAP,
    scopes=frozenset({"everything", "space", "folder"}),
    hierarchical=False,
    lists_children=False,
    content=True,
)
"""No change feed: a CQL search of edits (`lastmodified`, newest first) from the mark minus the
overlap, and the trash (`status=trashed`) as deletions. What leaves without an edit (a page
purged, moved out of scope, or newly hidden from the user by a restriction) leaves with the
full sync. Pages are not folders: every page has content."""


def _mark(cursor: str) -> datetime:
    try:
        moment = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        raise CursorInvalid(
            f"the Confluence window mark {cursor!r} is not an ISO-8601 time"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit this Confluence sync")


def _edited(content: JSONObject) -> datetime | None:
    """A v1 search result's last edit (`version.when`)."""
    version = content.get("version")
    stamp = timestamp(text(version, "when")) if isinstance(version, dict) else None
    return None if stamp is None else datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def window_cql(scope: str, start: datetime, now: datetime) -> str:
    """The CQL of a window's search: pages in `scope` (a CQL clause) edited since Confluence's
    `now` minus as many minutes as `start` is behind our `now`, and `SEARCH_SLACK` more, newest
    first."""
    minutes = max(1, math.ceil((now - start + SEARCH_SLACK).total_seconds() / 60))
    return f'{scope} AND lastmodified >= now("-{minutes}m") ORDER BY lastmodified DESC'


def scope_cql(space_key: str | None, roots: Sequence[str] | None) -> str:
    """The CQL clause of a sync's pages: every page, those of a space (by key: CQL's `space`
    field), and/or those of page trees (the roots and their descendants, `ancestor`)."""
    clauses = ["type = page"]
    if space_key is not None:
        escaped = space_key.replace("\\", "\\\\").replace('"', '\\"')
        clauses.append(f'space = "{escaped}"')
    if roots:
        listed = ", ".join(roots)
        clauses.append(f"(id in ({listed}) OR ancestor in ({listed}))")
    return " AND ".join(clauses)


class ConfluenceConnector:
    """Lists, follows and renders one user's Confluence pages.

    Checkpoints: `{"next": link}` (the next v2 listing page) for everything or a space;
    `{"index": i, "queue": [page id, ...], "next": link | None}` for `pageIds` (the tree being
    read, and the pages whose descendants are still to read, the first from `next`).
    """

    capabilities = CAPABILITIES

    def __init__(self, config: ConfluenceConfig, ctx: ConnectorContext) -> None:
        self._client = ConfluenceClient(ctx)
        self._access = AccessReader(self._client)
        self._space = config.space_id
        self._roots = tuple(config.page_ids) if config.page_ids else None
        self._space_key: str | None = None

    @property
    def scope(self) -> Scope:
        # A space and page trees are the connector's own business (listings and searches
        # are scoped upstream): the engine sees pages as flat items.
        return Scope()

    def _in_space(self, page: JSONObject) -> bool:
        return self._space is None or text(page, "spaceId") == self._space

    async def _records(self, pages: Sequence[JSONObject], base: str | None) -> list[Upsert]:
        kept = [
            p
            for p in pages
            if p.get("status") in ("current", "archived", None) and self._in_space(p)
        ]
        access = await self._access.access_of(kept)
        return [normalize_page(p, base, access.get(text(p, "id") or "")) for p in kept]

    async def _pages_by_id(self, ids: Sequence[str]) -> tuple[list[JSONObject], str | None]:
        """The live pages (current or archived) among these ids, and the site's base."""
        found: list[JSONObject] = []
        base: str | None = None
        for first in range(0, len(ids), LIST_PAGE):
            chunk = ids[first : first + LIST_PAGE]
            params = [("id", ",".join(chunk)), ("limit", str(LIST_PAGE))]
            async for listed, _ in self._client.each_page("/wiki/api/v2/pages", params):
                found += listed.results
                base = base or listed.base
        return found, base

    # -- listing ------------------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """Now, by our clock (the overlap absorbs a skew with Confluence's)."""
        return iso(datetime.now(UTC))

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every page in scope, page by page; see the class docstring for the checkpoints.

        Raises:
            CursorInvalid: Confluence refused a listing cursor, or the checkpoint does not fit.
            UpstreamNotFound: the configured space is gone or hidden from the user.
        """
        if self._roots is not None:
            return self._list_trees(checkpoint)
        return self._list_pages(checkpoint)

    async def _list_pages(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """`GET /wiki/api/v2/pages` (or a space's `/spaces/{id}/pages`), in id order: the
        cursor names the last id, so pages added or removed meanwhile shift nothing."""
        link: str | None = None
        if checkpoint is not None:
            given = checkpoint.get("next")
            if not isinstance(given, str) or not given:
                raise _invalid_checkpoint(checkpoint)
            link = given
        path = "/wiki/api/v2/pages"
        if self._space is not None:
            path = f"/wiki/api/v2/spaces/{quote(self._space, safe='')}/pages"
        params = {"limit": str(LIST_PAGE), "sort": "id"}
        async for listed, _ in self._client.each_page(path, params, link=link):
            yield ListPage(
                items=await self._records(listed.results, listed.base),
                checkpoint={"next": listed.next} if listed.next else None,
            )

    async def _list_trees(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Each configured page, then its descendants, five levels a read."""
        assert self._roots is not None
        index, queue, link = 0, None, None
        if checkpoint is not None:
            index, queue, link = _tree_state(checkpoint, len(self._roots))
        while index < len(self._roots):
            if queue is None:
                root = self._roots[index]
                try:
                    page = await self._client.get(f"/wiki/api/v2/pages/{quote(root, safe='')}")
                except UpstreamNotFound:
                    page = None  # gone, trashed or hidden: its records leave with this listing
                if page is None or not self._in_space(page):
                    index, queue = index + 1, None
                    continue
                queue, link = [root], None
                yield ListPage(
                    items=await self._records([page], text(_links(page), "base")),
                    checkpoint=_tree_checkpoint(index, queue, None),
                )
            while queue:
                node = queue[0]
                path = f"/wiki/api/v2/pages/{quote(node, safe='')}/descendants"
                params = {"depth": str(DESCENDANTS_DEPTH), "limit": str(LIST_PAGE)}
                try:
                    listed = await (
                        self._client.follow(link) if link else self._client.page_of(path, params)
                    )
                except UpstreamNotFound:
                    listed = Listed([], None, None)  # the subtree left meanwhile
                link = listed.next
                if link is None:
                    queue.pop(0)
                queue += [
                    i
                    for d in listed.results
                    if d.get("depth") == DESCENDANTS_DEPTH and (i := text(d, "id")) is not None
                ]
                ids = [
                    i
                    for d in listed.results
                    if d.get("type") in ("page", None) and (i := text(d, "id")) is not None
                ]
                pages, base = await self._pages_by_id(ids) if ids else ([], None)
                done = not queue and index + 1 >= len(self._roots)
                yield ListPage(
                    items=await self._records(pages, base),
                    checkpoint=None if done else _tree_checkpoint(index, queue, link),
                )
            index, queue, link = index + 1, None, None

    # -- changes ------------------------------------------------------------------------------

    async def _scope_clause(self) -> str:
        if self._space is not None and self._space_key is None:
            space = await self._client.get(f"/wiki/api/v2/spaces/{quote(self._space, safe='')}")
            self._space_key = text(space, "key")
            if self._space_key is None:
                raise UpstreamNotFound(f"Confluence sent space {self._space} without a key")
        return scope_cql(self._space_key, self._roots)

    async def _edited_since(self, start: datetime) -> tuple[dict[str, datetime], datetime]:
        """Pages edited at or after `start` (by id, with their edit's time), and Confluence's
        clock when the search began. Newest first, so the scan stops at the first older one:
        a position cursor lets pages edited meanwhile move to the front (read again: harmless)
        and never past the page being read."""
        now = datetime.now(UTC)
        params = {
            "cql": window_cql(await self._scope_clause(), start, now),
            "limit": str(SEARCH_PAGE),
            "expand": "version",
        }
        for attempt in range(RESTARTS + 1):
            found: dict[str, datetime] = {}
            began: datetime | None = None
            try:
                async for listed, _ in self._client.each_page(
                    "/wiki/rest/api/content/search", params
                ):
                    began = began or listed.served_at or now
                    for content in listed.results:
                        page_id, edited = text(content, "id"), _edited(content)
                        if page_id is None or edited is None:
                            continue
                        if edited < start:
                            return found, began
                        found.setdefault(page_id, edited)
                return found, began or now
            except CursorInvalid:
                if attempt == RESTARTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _trashed(self) -> list[str]:
        """Ids of pages in the trash (in the space, when the sync names one), most recently
        edited first, up to `TRASH_PAGES` listing pages."""
        params: list[tuple[str, str]] = [
            ("status", "trashed"),
            ("limit", str(LIST_PAGE)),
            ("sort", "-modified-date"),
        ]
        if self._space is not None:
            params.append(("space-id", self._space))
        found: list[str] = []
        read = 0
        async for listed, _ in self._client.each_page("/wiki/api/v2/pages", params):
            found += [i for p in listed.results if (i := text(p, "id")) is not None]
            read += 1
            if read >= TRASH_PAGES:
                break
        return found

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor` (an ISO time: the engine passes the mark minus the
        overlap), oldest first, `CHANGES_PER_PAGE` pages at a time.

        Pages edited since then (every edit, of the body or the title, makes a new version and
        moves `lastmodified`) are read again and recorded as they are now; one no longer
        readable by then, and every page in the trash, is a deletion (a deletion of a record
        the sync does not hold costs nothing). Each page's cursor is the newest edit it holds;
        the last one's is at least Confluence's clock when the search began, so what the
        overlap read falls out of the next window.
        """
        start = _mark(cursor)
        edited, began = await self._edited_since(start)
        trashed = await self._trashed()
        ordered = sorted(edited.items(), key=lambda item: (item[1], item[0]))
        if not ordered:
            if trashed:
                yield ChangePage(upserts=[], deletions=trashed, cursor=cursor)
            return
        for first in range(0, len(ordered), CHANGES_PER_PAGE):
            chunk = ordered[first : first + CHANGES_PER_PAGE]
            ids = [page_id for page_id, _ in chunk]
            pages, base = await self._pages_by_id(ids)
            upserts = await self._records(pages, base)
            held = {u.external_id for u in upserts}
            deletions = [i for i in ids if i not in held]
            last = first + CHANGES_PER_PAGE >= len(ordered)
            newest = chunk[-1][1]
            if last:
                deletions += [t for t in trashed if t not in held]
            yield ChangePage(
                upserts=upserts,
                deletions=deletions,
                cursor=iso(max(newest, began) if last else newest),
            )

    # -- permissions --------------------------------------------------------------------------

    async def container_grants(self, container_id: str) -> list[Grant]:
        """The readers of a space (`read` on `space`), users by email and groups by id.

        Raises:
            UpstreamNotFound: the space is gone or hidden from the user.
        """
        return await self._access.container_grants(container_id)

    async def group_members(self, group: str) -> list[str] | None:
        """A Confluence group's members (`user:<email>`; None when this credential may not
        read them); or, for the readers of a restricted page (`page-readers:<id>`), who may
        read it now (see `permissions`)."""
        page = restricted_page(group)
        if page is not None:
            return await self._access.page_readers(page)
        return await self._access.group_members(group)

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """The page as an HTML document of its `view` rendering (the HTML Confluence shows:
        macros expanded, unlike the storage format's XML).

        Raises:
            UpstreamNotFound: no such page for the user, or it is in the trash.
        """
        page = await self._client.get(
            f"/wiki/api/v2/pages/{quote(external_id, safe='')}", {"body-format": "view"}
        )
        body = page.get("body")
        view = body.get("view") if isinstance(body, dict) else None
        markup = text(view, "value") if isinstance(view, dict) else None
        title = text(page, "title") or external_id
        document = html_document(title, markup or "", text(_links(page), "base"))
        name = title.replace("/", "-").strip() or external_id
        return Download(
            media_type=MEDIA_TYPE, filename=f"{name}.html", chunks=_once(document), close=_nothing
        )


def _links(obj: JSONObject) -> JSONObject:
    links = obj.get("_links")
    return links if isinstance(links, dict) else {}


def _tree_checkpoint(index: int, queue: list[str], link: str | None) -> Checkpoint:
    pending: list[JSON] = list(queue)
    return {"index": index, "queue": pending, "next": link}


def _tree_state(checkpoint: Checkpoint, roots: int) -> tuple[int, list[str], str | None]:
    index, queue, link = checkpoint.get("index"), checkpoint.get("queue"), checkpoint.get("next")
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 0 <= index < roots
        or not isinstance(queue, list)
        or not all(isinstance(q, str) for q in queue)
        or not (link is None or isinstance(link, str))
    ):
        raise _invalid_checkpoint(checkpoint)
    return index, [str(q) for q in queue], link or None


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _nothing() -> None:
    return None


async def identify(ctx: ConnectorContext) -> Identity:
    """The user (`GET /wiki/rest/api/user/current`): their email where their profile shows it,
    and their name.

    Raises:
        UpstreamAuthError: Atlassian refused the token, even after one refresh.
    """
    me = await ConfluenceClient(ctx).get("/wiki/rest/api/user/current")
    email = text(me, "email")
    return Identity(email=email if email and "@" in email else None, name=text(me, "displayName"))


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: `spaceId` names a space the user sees, and each `pageIds` entry a live page
    the user sees (in that space, when both are given).

    Raises:
        InvalidInput: naming `configuration.spaceId` or `configuration.pageIds`.
    """
    if not isinstance(config, ConfluenceConfig):
        config = ConfluenceConfig.model_validate(config.model_dump(by_alias=True))
    client = ConfluenceClient(ctx)
    if config.space_id is not None:
        try:
            await client.get(f"/wiki/api/v2/spaces/{quote(config.space_id, safe='')}")
        except (UpstreamNotFound, UpstreamPermissionDenied) as exc:
            raise invalid_configuration(
                "spaceId", f"{config.space_id} is not a space this user can see ({exc})"
            ) from exc
    for page_id in config.page_ids or ():
        try:
            page = await client.get(f"/wiki/api/v2/pages/{quote(page_id, safe='')}")
        except (UpstreamNotFound, UpstreamPermissionDenied) as exc:
            raise invalid_configuration(
                "pageIds", f"{page_id} is not a page this user can see ({exc})"
            ) from exc
        if config.space_id is not None and text(page, "spaceId") != config.space_id:
            raise invalid_configuration(
                "pageIds",
                f"{page_id} is in space {text(page, 'spaceId')}, not in spaceId {config.space_id}",
            )


def _build(config: BaseModel, ctx: ConnectorContext) -> ConfluenceConnector:
    if not isinstance(config, ConfluenceConfig):
        config = ConfluenceConfig.model_validate(config.model_dump(by_alias=True))
    return ConfluenceConnector(config, ctx)


SCOPES = (
    "read:page:confluence",
    "read:space:confluence",
    "read:hierarchical-content:confluence",
    "read:content.metadata:confluence",
    "read:content-details:confluence",
    "read:group:confluence",
    "read:user:confluence",
    "offline_access",
)
"""Granular scopes, one per call the connector makes (the docs' table); `offline_access` for a
refresh token."""

spec = ConnectorSpec(
    integration="confluence",
    pipelines=frozenset({"files"}),
    config_model=ConfluenceConfig,
    default_api_url=GATEWAY_URL,
    default_token_url="https://auth.atlassian.com/oauth/token",  # noqa: S106 - a URL
    default_auth_url="https://auth.atlassian.com/authorize",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        scopes=SCOPES,
        # Atlassian's 3LO documents no PKCE.
        pkce=False,
        # `audience` is required; `prompt=consent` asks again, so a refresh token comes back.
        authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
        # "The body of the request must be JSON" (Atlassian's 3LO token exchange and refresh).
        body_format="json",
    ),
    extra_urls={RESOURCES_URL_NAME: DEFAULT_RESOURCES_URL},
)
