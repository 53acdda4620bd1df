"""Reads the Notion pages one integration can see: search for the listing and for what changed
since a time, block children for content (rendered to Markdown), and the tree of sub-pages for
a sync of chosen pages."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

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
from syncline.connectors.notion.ancestry import Ancestry
from syncline.connectors.notion.blocks import BlockNode, sub_pages, walk
from syncline.connectors.notion.client import NotionClient
from syncline.connectors.notion.config import NotionConfig
from syncline.connectors.notion.markdown import document
from syncline.connectors.notion.normalize import (
    Ref,
    edited_at,
    is_trashed,
    moment,
    normalize_page,
    properties_of,
    title_of,
)
from syncline.connectors.pacing import Pace
from syncline.domain.notifications import iso
from syncline.domain.records import ChangePage, ListPage, Upsert
from syncline.errors import (
    CursorInvalid,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamResponseError,
)
from syncline.types import JSON, Checkpoint, JSONObject

__all__ = ["CAPABILITIES", "NOTION_PACE", "WINDOW_OVERLAP", "NotionConnector", "spec"]

WINDOW_OVERLAP = timedelta(minutes=2)
"""How far before its mark an incremental reads. Notion rounds `last_edited_time` down to the
minute, so an edit made after the mark may carry a time up to a minute before it; the second
minute absorbs search indexing lag and clock skew. What the overlap reads again unchanged has
the same hash and costs no write."""
NOTION_PACE = Pace(rate=3.0, burst=2.0)
"""Notion: "an average of three requests per second" per connection, "some bursts beyond the
average rate are allowed" (reference/request-limits). The burst is kept below the server's so
requests bunched by the network still fit."""
CHANGES_PER_PAGE = 25
"""Changed pages per change page (each costs its content's requests)."""
MEDIA_TYPE = "text/markdown; charset=utf-8"

CAPABILITIES = Capabilities(
    changes=ChangeStrategy.WINDOW,
    deletions_in_feed=True,
    window_overlap=WINDOW_OVERLAP,
    scopes=frozenset({"everything", "folder"}),
    hierarchical=False,
    lists_children=False,
)
"""No change feed: search sorted by `last_edited_time` from the mark minus the overlap. Pages
moved to the trash (where Notion's search of the trash answers) and pages that leave a
`pageIds` tree are deletions in it; pages unshared or deleted for good leave with the full
sync. Pages are not folders: every one has content."""


def _parse_mark(mark: str) -> datetime:
    try:
        moment = datetime.fromisoformat(mark.replace("Z", "+00:00"))
    except ValueError:
        raise CursorInvalid(f"the Notion window mark {mark!r} is not an ISO-8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit this Notion sync")


def _digest(markdown: str) -> str:
    return hashlib.sha256(markdown.encode()).hexdigest()


def _unseen_below(nodes: Sequence[BlockNode], window: set[str], start: datetime) -> bool:
    """Whether the content holds a sub-page the window did not bring, or a database placed
    before the window (its rows, old, are not in it; a database made since has new rows)."""
    for node in walk(nodes):
        if node.type == "child_page" and node.id not in window:
            return True
        if node.type == "child_database":
            placed = moment(node.block.get("created_time"))
            if placed is None or placed < start:
                return True
    return False


class NotionConnector:
    """Lists, follows and renders one integration's Notion pages.

    Checkpoints: `{"cursor": str}` (the next search page) for everything;
    `{"pending": [page id, ...]}` (the pages still to read, breadth first) for `pageIds`.
    """

    capabilities = CAPABILITIES

    def __init__(self, config: NotionConfig, ctx: ConnectorContext) -> None:
        self._client = NotionClient(ctx)
        self._roots = tuple(config.page_ids) if config.page_ids else None
        self._ancestry = Ancestry(self._fetch)
        self._rows: dict[str, JSONObject] = {}
        """Database rows queried during a walk, kept until their turn (no second read)."""

    @property
    def scope(self) -> Scope:
        # `pageIds` trees are the connector's own business (`Ancestry.within`): the engine
        # sees pages as flat items.
        return Scope()

    async def _fetch(self, ref: Ref) -> JSONObject | None:
        return await self._client.find(*ref)

    async def _record(self, page: JSONObject) -> tuple[Upsert, list[BlockNode]]:
        """The page's record, from its content (whose stable Markdown is its hash), and the
        content read."""
        page_id = text(page, "id")
        if page_id is None:
            raise UpstreamResponseError("Notion returned a page without an id")
        nodes = await self._client.content(page_id)
        self._ancestry.learn(("page", page_id), page)
        self._ancestry.learn_content(nodes)
        digest = _digest(document(properties_of(page), nodes, stable=True))
        folder = await self._ancestry.folder(page)
        return normalize_page(page, content_hash=digest, folder_id=folder), nodes

    # -- listing ------------------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """Notion's clock now (the `Date` of a one-result search; ours if it sends none)."""
        found = await self._client.search(direction="descending", page_size=1)
        return iso(found.served_at or datetime.now(UTC))

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every page in scope, page by page; see the class docstring for the checkpoints.

        Raises:
            CursorInvalid: Notion refused a search cursor (they expire), or the checkpoint
                does not fit this sync.
        """
        if self._roots is not None:
            return self._walk(checkpoint)
        return self._search_all(checkpoint)

    async def _search_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Everything search returns, oldest edit first: an edit made during the listing moves
        its page to the end, where the listing still finds it."""
        cursor: str | None = None
        if checkpoint is not None:
            given = checkpoint.get("cursor")
            if not isinstance(given, str) or not given:
                raise _invalid_checkpoint(checkpoint)
            cursor = given
        while True:
            found = await self._client.search(direction="ascending", cursor=cursor)
            items = [(await self._record(p))[0] for p in found.results if not is_trashed(p)]
            after = found.next_cursor
            if after is not None and after == cursor:
                raise UpstreamResponseError("Notion returned the same next_cursor twice")
            yield ListPage(
                items=items,
                checkpoint=None if after is None else {"cursor": after},
                complete=found.complete,
            )
            if after is None:
                return
            cursor = after

    async def _walk(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """The configured pages and everything below them, breadth first: sub-pages wherever
        they sit in a page's content, and the rows of databases placed in it."""
        assert self._roots is not None
        if checkpoint is None:
            pending = list(self._roots)
        else:
            given = checkpoint.get("pending")
            if not isinstance(given, list) or not all(isinstance(p, str) for p in given):
                raise _invalid_checkpoint(checkpoint)
            pending = [str(p) for p in given]
        seen: set[str] = set()
        while pending:
            page_id = pending.pop(0)
            if page_id in seen:
                continue
            seen.add(page_id)
            page = self._rows.pop(page_id, None) or await self._client.find("page", page_id)
            items: list[Upsert] = []
            if page is not None and not is_trashed(page):
                record, nodes = await self._record(page)
                items.append(record)
                for kind, child in sub_pages(nodes):
                    if kind == "page":
                        pending.append(child)
                        continue
                    for row in await self._client.rows(child):
                        row_id = text(row, "id")
                        if row_id is not None and not is_trashed(row):
                            self._rows[row_id] = row
                            pending.append(row_id)
            left: list[JSON] = [p for p in pending if p not in seen]
            yield ListPage(items=items, checkpoint={"pending": left} if left else None)

    # -- changes ------------------------------------------------------------------------------

    async def _since(self, start: datetime, *, trash: bool) -> tuple[list[JSONObject], datetime]:
        """Pages edited at or after `start` (newest first, stopping at the first older one),
        and Notion's time when the search began. The trash search answers nothing where
        Notion refuses its filter (older API deployments): those trashed pages then leave
        with the full sync."""
        found: list[JSONObject] = []
        cursor: str | None = None
        began: datetime | None = None
        while True:
            try:
                page = await self._client.search(direction="descending", cursor=cursor, trash=trash)
            except UpstreamResponseError as exc:
                if trash and cursor is None and exc.status_code == 400:
                    return [], began or datetime.now(UTC)
                raise
            began = began or page.served_at or datetime.now(UTC)
            for result in page.results:
                edited = edited_at(result)
                if edited is None:
                    continue
                if edited < start:
                    return found, began
                found.append(result)
            if page.next_cursor is None:
                return found, began
            if page.next_cursor == cursor:
                raise UpstreamResponseError("Notion returned the same next_cursor twice")
            cursor = page.next_cursor

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor` (an ISO time: the engine passes the mark minus the
        overlap), oldest first, a few pages at a time.

        Live pages edited since then are read again and recorded as they are now (their hash
        says whether anything changed); those in the trash (the trash search, or a page that
        reads `in_trash`) and, with `pageIds`, those no longer below a configured page are
        deletions. A page with sub-pages the window did not bring is named in `subtrees`:
        if the sync does not hold it yet, only a full listing finds what is below it. The
        last page's cursor is Notion's time when the search began, so what the overlap read
        falls out of the next window.
        """
        start = _parse_mark(cursor)
        live, began = await self._since(start, trash=False)
        trashed, _ = await self._since(start, trash=True)
        events: dict[str, tuple[datetime, JSONObject, bool]] = {}
        for page, deleted in [*((p, is_trashed(p)) for p in live), *((p, True) for p in trashed)]:
            page_id, edited = text(page, "id"), edited_at(page)
            if page_id is not None and edited is not None:
                events[page_id] = (edited, page, deleted)  # the trash search ran last: it wins
        if not events:
            return
        window = {pid for pid, (_, _, deleted) in events.items() if not deleted}
        for pid in window:
            self._ancestry.learn(("page", pid), events[pid][1])
        ordered = sorted(events.items(), key=lambda item: item[1][0])
        for first in range(0, len(ordered), CHANGES_PER_PAGE):
            chunk = ordered[first : first + CHANGES_PER_PAGE]
            upserts, deletions, subtrees = await self._changed(chunk, window, start)
            newest = chunk[-1][1][0]
            last = first + CHANGES_PER_PAGE >= len(ordered)
            mark = max(newest, began) if last else newest
            yield ChangePage(
                upserts=upserts,
                deletions=deletions,
                cursor=iso(mark),
                subtrees=tuple(subtrees),
            )

    async def _changed(
        self,
        chunk: Sequence[tuple[str, tuple[datetime, JSONObject, bool]]],
        window: set[str],
        start: datetime,
    ) -> tuple[list[Upsert], list[str], list[str]]:
        upserts: list[Upsert] = []
        deletions: list[str] = []
        subtrees: list[str] = []
        for page_id, (_, page, deleted) in chunk:
            if deleted:
                deletions.append(page_id)
                continue
            if self._roots is not None and not await self._ancestry.within(
                page_id, page, self._roots
            ):
                deletions.append(page_id)  # moved out of the configured trees
                continue
            record, nodes = await self._record(page)
            upserts.append(record)
            if _unseen_below(nodes, window, start):
                subtrees.append(page_id)
        return upserts, deletions, subtrees

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """The page as Markdown: its properties as YAML front matter, then its blocks.

        Raises:
            UpstreamNotFound: no such page for the integration, or it is in the trash.
        """
        page = await self._client.find("page", external_id)
        if page is None:
            raise UpstreamNotFound(f"Notion has no page {external_id!r} for this integration")
        if is_trashed(page):
            raise UpstreamNotFound(f"the Notion page {external_id!r} is in the trash")
        nodes = await self._client.content(external_id)
        body = document(properties_of(page), nodes).encode()
        name = title_of(page).replace("/", "-").strip() or external_id
        return Download(
            media_type=MEDIA_TYPE, filename=f"{name}.md", chunks=_once(body), close=_nothing
        )


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _nothing() -> None:
    return None


async def identify(ctx: ConnectorContext) -> Identity:
    """The integration's bot (`GET /v1/users/me`): the email of the person who installed it,
    when Notion shares it, and the workspace's name.

    Raises:
        UpstreamAuthError: Notion refused the token, even after one refresh.
    """
    bot = (await NotionClient(ctx).me()).get("bot")
    bot = bot if isinstance(bot, dict) else {}
    owner = bot.get("owner")
    user = owner.get("user") if isinstance(owner, dict) else None
    person = user.get("person") if isinstance(user, dict) else None
    email = text(person, "email") if isinstance(person, dict) else None
    name = text(bot, "workspace_name") or (text(user, "name") if isinstance(user, dict) else None)
    return Identity(email=email, name=name)


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: every `pageIds` entry names a page the integration can read, not in the
    trash.

    Raises:
        InvalidInput: naming `configuration.pageIds`.
    """
    if not isinstance(config, NotionConfig):
        config = NotionConfig.model_validate(config.model_dump(by_alias=True))
    client = NotionClient(ctx)
    for page_id in config.page_ids or ():
        try:
            page = await client.find("page", page_id)
        except UpstreamPermissionDenied as exc:
            raise invalid_configuration("pageIds", f"{page_id} cannot be read: {exc}") from exc
        except UpstreamResponseError as exc:
            if exc.status_code != 400:
                raise
            raise invalid_configuration(
                "pageIds", f"{page_id} is not a page Notion can read as one: {exc}"
            ) from exc
        if page is None:
            raise invalid_configuration(
                "pageIds",
                f"{page_id} does not exist or is not shared with the integration (in Notion: "
                "the page's ... menu, Connections)",
            )
        if is_trashed(page):
            raise invalid_configuration("pageIds", f"{page_id} is in the trash")


def _build(config: BaseModel, ctx: ConnectorContext) -> NotionConnector:
    if not isinstance(config, NotionConfig):
        config = NotionConfig.model_validate(config.model_dump(by_alias=True))
    return NotionConnector(config, ctx)


spec = ConnectorSpec(
    integration="notion",
    pipelines=frozenset({"files"}),
    config_model=NotionConfig,
    default_api_url="https://api.notion.com",
    default_token_url="https://api.notion.com/v1/oauth/token",  # noqa: S106 - a URL, not a secret
    default_auth_url="https://api.notion.com/v1/oauth/authorize",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        # Notion has no scopes: the user picks pages on the consent screen, and an integration's
        # capabilities (read content, ...) are set where it is registered.
        scopes=(),
        # Notion documents no PKCE; `owner=user` is required on its authorize URL.
        pkce=False,
        authorize_params={"owner": "user"},
        client_auth="basic",
        body_format="json",
    ),
    pace=NOTION_PACE,
)
