"""The fake Notion's world: one workspace with its people, integration bots and what each bot
was given access to, and the pages, databases (each with one data source) and blocks.

Notion's model, as its docs describe it: a page's content is its block children; a sub-page
or an inline database sits in its parent's content as a `child_page` or `child_database`
block whose id is the page's or the database's (reference/block). Database rows are pages whose
parent is the database (`database_id`, or from `2025-09-03` its data source,
`data_source_id`). An integration sees what was shared with it and everything under it
("pages shared with the integration ... and their children", the authorization guide);
unsharing takes the subtree away silently: reads answer 404 `object_not_found`, search leaves
it out. Trashing keeps a page readable with `in_trash: true` (and, before `2026-03-11`, the
same value as `archived`: reference/trash-page) and drops it from search.

Every change goes through a method here, which moves the object's `last_edited_time` (a block's
change moves its page's too). Times are kept to the microsecond and shown rounded down to the
minute, as Notion shows them ("the last_edited_time and created_time properties will be rounded
down to the closest minute for page, database, and block objects", changelog, July 2021).

Simplifications, on purpose: one workspace; one data source per database; `purge` deletes
without a trace (the API cannot delete pages for good, but users can, and unsharing looks the
same); a page in the trash takes its subtree along (GUESS: descendants read `in_trash: true`).
"""

from __future__ import annotations

import bisect
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from syncline.sandbox.kit.faults import FaultQueue
from syncline.sandbox.kit.oauth import Grants
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.sandbox.kit.traffic import Traffic
from syncline.sandbox.notion.auth import NOTION
from syncline.sandbox.notion.content import normalize_block, normalize_rich_text, plain_text
from syncline.sandbox.notion.ratelimit import RateLimit, RateLimiter
from syncline.types import JSON, JSONObject

__all__ = [
    "CONTROL_PREFIX",
    "NOTION_FAULTS",
    "NOTION_PATHS",
    "NOTION_VERSIONS",
    "OAUTH_PREFIX",
    "PROPERTY_TYPES",
    "WORKSPACE",
    "Block",
    "Bot",
    "Database",
    "NotionState",
    "Page",
    "Parent",
    "Person",
]

NOTION_VERSIONS = ("2022-06-28", "2025-09-03")
"""The `Notion-Version`s the fake emulates; other known versions are refused as not emulated."""

NOTION_FAULTS = (
    "rate_limited",
    "service_overload",
    "internal_server_error",
    "bad_gateway",
    "service_unavailable",
    "gateway_timeout",
    "conflict_error",
    "unauthorized",
    "timeout",
    "drop",
)
"""Faults the fake can inject, each answered as Notion does: 429 `rate_limited` and 529
`service_overload` with `Retry-After`, 500, 502, 503, 504, 409 `conflict_error`, 401 (the
access token really dies), a hang and a dropped connection."""

OAUTH_PREFIX = "/v1/oauth/"
CONTROL_PREFIX = "/_notion/"
"""The fake's own test controls (never faulted, slowed or rate limited)."""
NOTION_PATHS = ("/v1/", CONTROL_PREFIX)
"""Every path prefix the fake serves."""

Parent = tuple[str, str | None]
"""(`workspace` | `page_id` | `block_id` | `database_id`, the parent's id)."""
WORKSPACE: Parent = ("workspace", None)

UserInfo = Literal["none", "without_email", "with_email"]

PROPERTY_TYPES = frozenset(
    {
        "title", "rich_text", "number", "select", "multi_select", "status", "date",
        "checkbox", "people", "url", "email", "phone_number",
        "created_time", "last_edited_time", "created_by", "last_edited_by",
    }
)  # fmt: skip
"""Database property types the fake models (the computed ones are read only)."""
COMPUTED = frozenset({"created_time", "last_edited_time", "created_by", "last_edited_by"})

_PROPERTY_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:;<=>?@[]^`{|}~"


@dataclass(slots=True)
class Person:
    id: str
    name: str
    email: str | None
    avatar_url: str | None = None


@dataclass(slots=True)
class Bot:
    """An integration installed in the workspace, and what it was given access to."""

    id: str
    name: str
    owner: str | None
    """The person who installed it (a public integration), or None (internal: the workspace)."""
    shared: set[str] = field(default_factory=set)
    read_content: bool = True
    """The "read content" capability; without it content endpoints answer 403."""
    user_info: UserInfo = "with_email"
    """The user information capability: none (users endpoints answer 403), or with or without
    email addresses."""
    avatar_url: str | None = None


@dataclass(slots=True, eq=False)
class Page:
    id: str
    parent: Parent
    title_key: str
    """The name of the page's title property (`title` outside a database)."""
    values: dict[str, JSON]
    created: float
    edited: float
    created_by: str
    edited_by: str
    icon: JSONObject | None = None
    cover: JSONObject | None = None
    in_trash: bool = False
    is_locked: bool = False
    public_url: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        value = self.values.get(self.title_key)
        return plain_text(value) if isinstance(value, list) else ""


@dataclass(slots=True, eq=False)
class Database:
    id: str
    parent: Parent
    title_rich: list[JSON]
    schema: dict[str, JSONObject]
    """Property name -> configuration as Notion shows it (`id`, `name`, `description`, `type`
    and the type's options)."""
    data_source_id: str
    created: float
    edited: float
    created_by: str
    edited_by: str
    description: list[JSON] = field(default_factory=list)
    icon: JSONObject | None = None
    cover: JSONObject | None = None
    is_inline: bool = False
    in_trash: bool = False
    is_locked: bool = False
    public_url: str | None = None
    rows: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return plain_text(self.title_rich)

    @property
    def title_key(self) -> str:
        return next(n for n, c in self.schema.items() if c["type"] == "title")


@dataclass(slots=True, eq=False)
class Block:
    id: str
    parent: Parent
    type: str
    data: JSONObject
    """The type's payload in response shape (`{"rich_text": [...], "color": "default"}`)."""
    created: float
    edited: float
    created_by: str
    edited_by: str
    in_trash: bool = False
    children: list[str] = field(default_factory=list)


Node = Page | Database | Block


class NotionState:
    """Everything the fake Notion serves, and the knobs tests turn.

    Reads that must agree hold `lock` (the API does, per request).

    Args:
        clock: wall-clock seconds, for the objects' times and the tokens' lifetimes.
        monotonic: seconds for the rate limiter.
        token_ttl: access token lifetime. Notion sends no `expires_in` and documents no
            lifetime (GUESS: tokens last until refreshed or revoked), so the default is long;
            tests expire tokens with `expire_access_tokens`.
        workspace_name: the workspace's name in token responses and `/v1/users/me`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        token_ttl: float = 365 * 86400.0,
        workspace_name: str = "Acme",
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.workspace_id = _uuid()
        self.workspace_name = workspace_name
        self.workspace_icon: str | None = None
        self.grants = Grants(NOTION, token_ttl=token_ttl, clock=clock)
        self.faults = FaultQueue(
            NOTION_FAULTS,
            default_scope=lambda path: not path.startswith((OAUTH_PREFIX, CONTROL_PREFIX)),
            rate_limited=("rate_limited", "service_overload"),
        )
        self.traffic = Traffic()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self.limiter = RateLimiter(monotonic)
        self.issue_refresh_tokens = True
        """Whether token responses carry a refresh token (the SDK types it `string | null`:
        older public integrations got none, and a refresh then fails)."""
        self.search_lag = 0.0
        """Seconds a new page stays out of search unless shared directly ("Search indexing is
        not immediate ... pages or databases that are directly shared with an integration are
        guaranteed to be returned", reference/search-optimizations-and-limitations)."""
        self.cursors = PageTokens()
        self.people: dict[str, Person] = {}
        self.bots: dict[str, Bot] = {}
        self.pages: dict[str, Page] = {}
        self.databases: dict[str, Database] = {}
        self.data_sources: dict[str, str] = {}  # data source id -> database id
        self.blocks: dict[str, Block] = {}
        self._order: list[tuple[float, str]] = []  # (edited, id) of pages and databases
        self.bot = self.add_bot("Syncline")
        """The integration whose OAuth client the fake runs (and the default for `share`)."""

    # -- people and bots ----------------------------------------------------------------------

    def add_person(self, name: str, email: str | None = None) -> str:
        with self.lock:
            person = Person(_uuid(), name, email or f"{name.split()[0].lower()}@example.com")
            self.people[person.id] = person
            return person.id

    def add_bot(
        self,
        name: str,
        *,
        owner: str | None = None,
        read_content: bool = True,
        user_info: UserInfo = "with_email",
    ) -> str:
        """An integration's bot; `owner` is the installing person (None: the workspace)."""
        with self.lock:
            bot = Bot(_uuid(), name, owner, read_content=read_content, user_info=user_info)
            self.bots[bot.id] = bot
            return bot.id

    def default_person(self) -> str:
        """The workspace's first person (created if there is none): edits' default author."""
        with self.lock:
            if not self.people:
                return self.add_person("Alice Example", "alice@example.com")
            return next(iter(self.people))

    def issue_tokens(self, bot: str | None = None) -> tuple[str, str]:
        """An access token (and refresh token) for `bot` (default: `self.bot`), as an
        internal integration's token or a finished OAuth flow would give."""
        with self.lock:
            return self.grants.issue(bot or self.bot, ())

    def bot_for(self, access_token: str) -> Bot | None:
        user = self.grants.user_for(access_token)
        return None if user is None else self.bots.get(user)

    def share(self, object_id: str, bot: str | None = None) -> None:
        """Give `bot` access to a page or database and everything under it."""
        with self.lock:
            self._node(object_id)
            self.bots[bot or self.bot].shared.add(_canonical(object_id))

    def unshare(self, object_id: str, bot: str | None = None) -> None:
        """Take the access away again: the subtree vanishes for `bot` without a trace, unless
        something above it is still shared."""
        with self.lock:
            self.bots[bot or self.bot].shared.discard(_canonical(object_id))

    # -- building content ---------------------------------------------------------------------

    def add_page(
        self,
        title: str,
        parent: str | None = None,
        *,
        content: Sequence[JSONObject] = (),
        icon: JSONObject | None = None,
        cover: JSONObject | None = None,
        by: str | None = None,
        at: float | None = None,
    ) -> str:
        """A page in the workspace's top level (`parent` None), under a page, in a block's
        children (a page nested in a toggle, say), or, given a database, a row titled `title`
        (use `add_row` for its other properties); `content` is request-shape blocks. `at`
        backdates its creation (default: now). GUESS: a new sub-page does not move its
        parent's `last_edited_time`."""
        with self.lock:
            if parent is not None and _canonical(parent) in self.databases:
                return self.add_row(
                    parent, {self.databases[_canonical(parent)].title_key: title},
                    content=content, icon=icon, by=by, at=at,
                )  # fmt: skip
            where = self._placement(parent)
            values: dict[str, JSON] = {"title": _rich(title)}
            page = self._new_page(where, "title", values, icon, cover, by, at)
            self._attach(where, page.id)
            self._append(page.id, content, page.created_by, bump=False, at=at)
            return page.id

    def add_database(
        self,
        title: str,
        parent: str,
        properties: Mapping[str, str | tuple[str, Sequence[str]] | JSONObject],
        *,
        inline: bool = False,
        icon: JSONObject | None = None,
        by: str | None = None,
    ) -> str:
        """A database in page (or block) `parent`, shown there as a `child_database` block.

        `properties` maps names to a type (`"checkbox"`), a type with its options
        (`("select", ["Todo", "Done"])`) or a full Notion configuration. Exactly one must be
        a `title`.
        """
        with self.lock:
            where = self._placement(parent)
            if where == WORKSPACE:
                raise ValueError("the API places databases in a page")
            schema = {name: _property_config(name, spec) for name, spec in properties.items()}
            if [c["type"] for c in schema.values()].count("title") != 1:
                raise ValueError("a database has exactly one title property")
            now, author = self.clock(), by or self.default_person()
            database = Database(
                _uuid(), where, _rich(title), schema, _uuid(), now, now, author, author,
                icon=icon, is_inline=inline,
            )  # fmt: skip
            self.databases[database.id] = database
            self.data_sources[database.data_source_id] = database.id
            self._index_add(database)
            self._attach(where, database.id)
            return database.id

    def add_row(
        self,
        database: str,
        properties: Mapping[str, object],
        *,
        content: Sequence[JSONObject] = (),
        icon: JSONObject | None = None,
        by: str | None = None,
        at: float | None = None,
    ) -> str:
        """A page in `database` with property values by name: strings for title and text,
        option names for select and status (new ones are added, as Notion does), lists of
        names for multi-select, `"2024-05-01"` or `{start, end, time_zone}` for dates, person
        ids for people, and plain values for the rest."""
        with self.lock:
            db = self.databases[_canonical(database)]
            values = {name: self._value(db, name, raw) for name, raw in properties.items()}
            where: Parent = ("database_id", db.id)
            page = self._new_page(where, db.title_key, values, icon, None, by, at)
            db.rows.append(page.id)
            self._append(page.id, content, page.created_by, bump=False, at=at)
            return page.id

    def _new_page(
        self,
        parent: Parent,
        title_key: str,
        values: dict[str, JSON],
        icon: JSONObject | None,
        cover: JSONObject | None,
        by: str | None,
        at: float | None = None,
    ) -> Page:
        now, author = self.clock() if at is None else at, by or self.default_person()
        page = Page(_uuid(), parent, title_key, values, now, now, author, author, icon, cover)
        self.pages[page.id] = page
        self._index_add(page)
        return page

    def append_blocks(
        self,
        parent: str,
        blocks: Sequence[JSONObject],
        *,
        after: str | None = None,
        by: str | None = None,
    ) -> list[str]:
        """Request-shape blocks (see `content`) appended to a page's or block's children (or
        placed after the child `after`); their page's `last_edited_time` moves. Returns the
        new top-level blocks' ids."""
        with self.lock:
            return self._append(_canonical(parent), blocks, by or self.default_person(), after)

    def _append(
        self,
        parent_id: str,
        specs: Sequence[JSONObject] | Sequence[JSON],
        author: str,
        after: str | None = None,
        *,
        bump: bool = True,
        at: float | None = None,
    ) -> list[str]:
        if not specs:
            return []
        holder = self._holder(parent_id)
        kind = "page_id" if isinstance(holder, Page) else "block_id"
        parent: Parent = (kind, parent_id)
        now = self.clock() if at is None else at
        made: list[str] = []
        for spec in specs:
            kind, data, children = normalize_block(spec)
            block = Block(_uuid(), parent, kind, data, now, now, author, author)
            self.blocks[block.id] = block
            made.append(block.id)
            self._append(block.id, children, author, bump=False, at=now)
        if after is None:
            holder.children.extend(made)
        else:
            at = holder.children.index(_canonical(after)) + 1
            holder.children[at:at] = made
        if bump:
            self._edited_content(parent_id, author)
        return made

    def update_block(self, block_id: str, spec: JSONObject, *, by: str | None = None) -> None:
        """Replace a block's payload (its type stays); its page's time moves too."""
        with self.lock:
            block = self.blocks[_canonical(block_id)]
            _, data, _ = normalize_block({"type": block.type, **spec})
            block.data = data
            self._edited_content(block.id, by or self.default_person())

    def delete_block(self, block_id: str, *, by: str | None = None) -> None:
        """What `DELETE /v1/blocks/{id}` does: the block goes to the trash (`in_trash: true`)
        and leaves its parent's children."""
        with self.lock:
            block = self.blocks[_canonical(block_id)]
            block.in_trash = True
            self._edited_content(block.id, by or self.default_person())

    # -- changing pages -----------------------------------------------------------------------

    def edit_page(
        self,
        page_id: str,
        *,
        title: str | None = None,
        properties: Mapping[str, object] | None = None,
        icon: JSONObject | None = None,
        cover: JSONObject | None = None,
        by: str | None = None,
    ) -> None:
        """New title, property values (as `add_row` takes them), icon or cover."""
        with self.lock:
            page = self.pages[_canonical(page_id)]
            db = self._database_of(page)
            if title is not None:
                page.values[page.title_key] = _rich(title)
            for name, raw in (properties or {}).items():
                if db is None:
                    if name != "title":
                        raise KeyError(f"a page outside a database has only a title, not {name!r}")
                    page.values["title"] = _rich(raw) if isinstance(raw, str) else _rich_list(raw)
                else:
                    page.values[name] = self._value(db, name, raw)
            if icon is not None:
                page.icon = icon
            if cover is not None:
                page.cover = cover
            self._edit(page, by)

    def touch(self, object_id: str, *, by: str | None = None) -> None:
        """An edit that changes nothing visible but `last_edited_time` (and `last_edited_by`)."""
        with self.lock:
            self._edit(self._node(object_id), by)

    def lock_page(self, page_id: str, locked: bool = True, *, by: str | None = None) -> None:
        with self.lock:
            page = self.pages[_canonical(page_id)]
            page.is_locked = locked
            self._edit(page, by)

    def trash(self, object_id: str, *, by: str | None = None) -> None:
        """A page or database to the trash, with its subtree: still readable (`in_trash:
        true`), gone from search, from its parent's children and from queries."""
        with self.lock:
            node = self._node(object_id)
            node.in_trash = True
            self._edit(node, by)

    archive = trash
    """Before `2026-03-11`, `archived` is a deprecated alias of `in_trash` (reference/trash-page),
    so archiving and trashing are one thing in the versions the fake emulates."""

    def restore(self, object_id: str, *, by: str | None = None) -> None:
        with self.lock:
            node = self._node(object_id)
            node.in_trash = False
            self._edit(node, by)

    def move(self, page_id: str, parent: str | None, *, by: str | None = None) -> None:
        """A page (or database) to another page or block (`parent`), or to the workspace's top
        level (None): it leaves the old parent's children and joins the new one's."""
        with self.lock:
            node = self._node(page_id)
            if isinstance(node, Block):
                raise ValueError("move pages or databases, not blocks")
            where = self._placement(parent)
            if where[1] is not None and node.id in self._ancestors(where[1]):
                raise ValueError("cannot move a page under itself")
            self._detach(node)
            node.parent = where
            self._attach(where, node.id)
            self._edit(node, by)

    def purge(self, object_id: str) -> None:
        """Gone for good with its subtree, as when a user empties the trash: every read answers
        404 and nothing says it ever was."""
        with self.lock:
            node = self._node(object_id)
            self._detach(node)
            for gone in self._subtree(node.id):
                self._forget(gone)

    # -- knobs --------------------------------------------------------------------------------

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        """Enforce `limit` per integration from now on (None, the default: unlimited)."""
        self.limiter.configure(limit)

    def expire_cursors(self) -> None:
        """Every `next_cursor` issued so far is refused from now on (400 `validation_error`
        "The start_cursor provided is invalid"), as Notion's session-scoped cursors expire."""
        self.cursors = PageTokens()

    def inject(
        self,
        fault: str,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.faults.inject(fault, times=times, path=path, retry_after=retry_after)

    def expire_access_token(self, token: str) -> None:
        self.grants.expire_access_token(token)

    def expire_access_tokens(self) -> None:
        self.grants.expire_access_tokens()

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.traffic.requests

    @property
    def max_concurrent(self) -> int:
        return self.traffic.max_concurrent

    def request_count(self, path_prefix: str = "") -> int:
        return self.traffic.count(path_prefix)

    # -- reading ------------------------------------------------------------------------------

    def find(self, object_id: str) -> Node | None:
        """The page, database or block with this id (dashed or not)."""
        return self._get(_canonical(object_id))

    def _get(self, object_id: str) -> Node | None:
        return (
            self.pages.get(object_id) or self.databases.get(object_id) or self.blocks.get(object_id)
        )

    def parent_id(self, node: Node) -> str | None:
        return node.parent[1]

    def access(self, bot: Bot, object_id: str) -> tuple[bool, bool]:
        """(whether `bot` sees the object, whether it is in the trash, itself or through an
        ancestor)."""
        seen = trashed = False
        current: str | None = object_id
        for _ in range(10_000):
            if current is None:
                break
            node = self._get(current)
            if node is None:
                return False, trashed
            trashed = trashed or node.in_trash
            if current in bot.shared:
                seen = True
                if trashed:
                    break
            current = node.parent[1]
        return seen, trashed

    def containing_page(self, block: Block) -> Page | None:
        node: Node | None = block
        while isinstance(node, Block):
            node = self.find(node.parent[1] or "")
        return node if isinstance(node, Page) else None

    def live_children(self, holder: Page | Block | Database) -> list[str]:
        """A page's or block's content (a database's rows), without what is in the trash."""
        ids = holder.rows if isinstance(holder, Database) else holder.children
        return [c for c in ids if (node := self._get(c)) is not None and not node.in_trash]

    def has_live_children(self, holder: Page | Block) -> bool:
        return any(
            (node := self._get(c)) is not None and not node.in_trash for c in holder.children
        )

    def children_page(
        self, holder: Page | Block, start: int, size: int
    ) -> tuple[list[Node], int | None]:
        """Up to `size` live children of `holder` from position `start` of its children list
        on, and the position the next page starts at (None: no more). O(page size)."""
        ids = holder.children
        found: list[Node] = []
        index = start
        while index < len(ids):
            node = self._get(ids[index])
            if node is not None and not node.in_trash:
                if len(found) == size:
                    return found, index
                found.append(node)
            index += 1
        return found, None

    def search_order(self) -> list[tuple[float, str]]:
        """(edited, id) of every page and database, oldest edit first."""
        return self._order

    def database_of(self, page: Page) -> Database | None:
        return self._database_of(page)

    # -- internals ----------------------------------------------------------------------------

    def _node(self, object_id: str) -> Node:
        node = self.find(object_id)
        if node is None:
            raise KeyError(f"no page, database or block {object_id}")
        return node

    def _holder(self, object_id: str) -> Page | Block:
        node = self._node(object_id)
        if isinstance(node, Database):
            raise ValueError("a database holds rows, not blocks: use add_row")
        return node

    def _placement(self, parent: str | None) -> Parent:
        if parent is None:
            return WORKSPACE
        node = self._node(parent)
        if isinstance(node, Page):
            return ("page_id", node.id)
        if isinstance(node, Block):
            return ("block_id", node.id)
        raise ValueError("rows go in databases through add_row")

    def _attach(self, where: Parent, child: str) -> None:
        if where[1] is not None:
            self._holder(where[1]).children.append(child)

    def _detach(self, node: Node) -> None:
        holder_id = node.parent[1]
        if holder_id is None:
            return
        holder = self.find(holder_id)
        if isinstance(holder, Database):
            if node.id in holder.rows:
                holder.rows.remove(node.id)
        elif holder is not None and node.id in holder.children:
            holder.children.remove(node.id)

    def _ancestors(self, object_id: str) -> list[str]:
        chain = []
        current: str | None = object_id
        while current is not None:
            chain.append(current)
            node = self._get(current)
            current = None if node is None else node.parent[1]
        return chain

    def _subtree(self, top: str) -> Iterator[str]:
        stack = [top]
        while stack:
            current = stack.pop()
            node = self._get(current)
            if node is None:
                continue
            yield current
            stack.extend(node.rows if isinstance(node, Database) else node.children)

    def _forget(self, object_id: str) -> None:
        node = self.find(object_id)
        if isinstance(node, Page | Database):
            self._index_remove(node)
        if isinstance(node, Database):
            self.data_sources.pop(node.data_source_id, None)
        self.pages.pop(object_id, None)
        self.databases.pop(object_id, None)
        self.blocks.pop(object_id, None)
        for bot in self.bots.values():
            bot.shared.discard(object_id)

    def _edit(self, node: Node, by: str | None) -> None:
        author = by or self.default_person()
        if isinstance(node, Block):
            self._edited_content(node.id, author)
            return
        self._index_remove(node)
        node.edited, node.edited_by = self.clock(), author
        self._index_add(node)

    def _edited_content(self, holder_id: str, author: str) -> None:
        """A block under `holder_id` changed: the block itself (when it is one) and its page
        show the edit."""
        now = self.clock()
        node = self.find(holder_id)
        if isinstance(node, Block):
            node.edited, node.edited_by = now, author
            page = self.containing_page(node)
        else:
            page = node if isinstance(node, Page) else None
        if page is not None:
            self._edit(page, author)

    def _index_add(self, node: Page | Database) -> None:
        bisect.insort(self._order, (node.edited, node.id))

    def _index_remove(self, node: Page | Database) -> None:
        key = (node.edited, node.id)
        at = bisect.bisect_left(self._order, key)
        if at < len(self._order) and self._order[at] == key:
            del self._order[at]

    def _database_of(self, page: Page) -> Database | None:
        kind, holder = page.parent
        return self.databases.get(holder or "") if kind == "database_id" else None

    def _value(self, db: Database, name: str, raw: object) -> JSON:
        config = db.schema.get(name)
        if config is None:
            raise KeyError(f"{db.title!r} has no property {name!r}")
        kind = str(config["type"])
        if kind in COMPUTED:
            raise ValueError(f"{name!r} is a {kind} property: Notion computes it")
        if raw is None:
            return None
        if kind in ("title", "rich_text"):
            return _rich(raw) if isinstance(raw, str) else _rich_list(raw)
        if kind in ("select", "status"):
            return self._option(db, config, str(raw))
        if kind == "multi_select":
            if isinstance(raw, str) or not isinstance(raw, Iterable):
                raise ValueError(f"{name!r} takes a list of option names")
            return [self._option(db, config, str(item)) for item in raw]
        if kind == "date":
            if isinstance(raw, str):
                return {"start": raw, "end": None, "time_zone": None}
            if isinstance(raw, dict) and isinstance(raw.get("start"), str):
                return {
                    "start": raw["start"],
                    "end": raw.get("end"),
                    "time_zone": raw.get("time_zone"),
                }
            raise ValueError(f"{name!r} takes 'YYYY-MM-DD' or {{start, end, time_zone}}")
        if kind == "checkbox":
            return bool(raw)
        if kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"{name!r} takes a number")
            return raw
        if kind == "people":
            if isinstance(raw, str) or not isinstance(raw, Iterable):
                raise ValueError(f"{name!r} takes a list of person ids")
            return [_canonical(str(p)) for p in raw]
        return str(raw)  # url, email, phone_number

    def _option(self, db: Database, config: JSONObject, name: str) -> str:
        options = config[str(config["type"])]
        assert isinstance(options, dict)
        known = options["options"]
        assert isinstance(known, list)
        if not any(isinstance(o, dict) and o.get("name") == name for o in known):
            known.append({"id": _uuid(), "name": name, "color": "default", "description": None})
        return name


# -- helpers --------------------------------------------------------------------------------------


def _uuid() -> str:
    return str(uuid.uuid4())


def _canonical(object_id: str) -> str:
    """Ids with or without dashes, any case, as the dashed lower-case form (Notion accepts
    both in requests and answers dashed)."""
    raw = object_id.replace("-", "").lower()
    if len(raw) != 32:
        return object_id
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


canonical = _canonical


def _rich(value: object) -> list[JSON]:
    """Plain text as one response-shape span (what `normalize_rich_text` would make of it)."""
    content = str(value)
    return [
        {
            "type": "text",
            "text": {"content": content, "link": None},
            "annotations": dict(_PLAIN),
            "plain_text": content,
            "href": None,
        }
    ]


_PLAIN: JSONObject = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}


def _rich_list(value: object) -> list[JSON]:
    if not isinstance(value, list):
        raise ValueError("rich text takes a string or a list of rich text items")
    return normalize_rich_text(value)


def _property_id(name: str) -> str:
    """A short id, URL-encoded as Notion's are ("Property IDs are now encoded to be URL safe",
    changes-by-version 2021-08-16), stable for a name."""
    rng = random.Random(name)
    return quote("".join(rng.choice(_PROPERTY_ID_CHARS) for _ in range(4)), safe="")


def _property_config(name: str, spec: str | tuple[str, Sequence[str]] | JSONObject) -> JSONObject:
    if isinstance(spec, dict):
        kind = str(spec.get("type"))
        body: JSONObject = dict(spec)
    else:
        kind, option_names = (spec, ()) if isinstance(spec, str) else spec
        body = {"type": kind}
        if kind in ("select", "multi_select", "status"):
            body[kind] = {
                "options": [
                    {"id": _uuid(), "name": o, "color": "default", "description": None}
                    for o in option_names
                ]
            }
        elif kind == "number":
            body[kind] = {"format": "number"}
        else:
            body[kind] = {}
    if kind not in PROPERTY_TYPES:
        raise ValueError(f"unsupported property type {kind!r}")
    body.setdefault(kind, {})
    return {
        "id": "title" if kind == "title" else _property_id(name),
        "name": name,
        "description": None,
        "type": kind,
        kind: body[kind],
    }
