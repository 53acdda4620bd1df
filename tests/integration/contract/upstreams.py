"""Each connector's sandbox, behind the one interface the contract suite drives.

An `Upstream` starts Syncline beside its provider's fake, connects a user, seeds the same small
tree (`A/a1.txt`, `A/a2.md`, `B/b1.txt`, `top.txt`) and changes it the way the provider's users
would. Everything provider-specific the suite needs is here, in the provider's own terms: its
form of rate limiting, of token expiry, of a change cursor it no longer honours, and its
configuration keys. Adding a connector to the suite is adding its `Upstream` to `UPSTREAMS`.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from syncline.connectors.confluence.normalize import html_document
from syncline.sandbox import DriveState
from syncline.sandbox.box import BoxState
from syncline.sandbox.confluence import ConfluenceState
from syncline.sandbox.dropbox import DropboxState
from syncline.sandbox.msgraph import GraphState
from syncline.sandbox.notion import NotionState
from tests.support.box import box_harness
from tests.support.confluence import ALICE as CONFLUENCE_USER
from tests.support.confluence import confluence_harness
from tests.support.dropbox import ALICE as DROPBOX_USER
from tests.support.dropbox import dropbox_harness
from tests.support.graph import ALICE, graph_harness
from tests.support.harness import Harness, harness
from tests.support.notion import blocks_of, notion_harness
from tests.support.s3 import S3Harness, s3_harness

Tree = dict[str, str]
"""Seeded item ids by name: A, a1, a2, B, b1, top."""

SEEDED = ("A", "a1", "a2", "B", "b1", "top")
CONTENT = {"a1": b"alpha one", "a2": b"# alpha two\n", "b1": b"beta one", "top": b"top level"}


@dataclass(frozen=True)
class ConfigCase:
    """A configuration key at work: what the sync then holds, by seeded name."""

    name: str
    configuration: Callable[[Upstream, Tree], dict[str, Any]]
    holds: frozenset[str]
    check: Callable[[dict[str, dict[str, Any]], Tree], None] = lambda records, tree: None


@dataclass(frozen=True)
class BadConfig:
    """A configuration enabling must refuse with 422, naming `field`."""

    name: str
    configuration: Callable[[Upstream, Tree], dict[str, Any]]
    field: str


class Upstream(ABC):
    """What the suite needs of one connector's sandbox; subclasses speak its provider."""

    integration: ClassVar[str]
    configs: ClassVar[tuple[ConfigCase, ...]]
    bad_configs: ClassVar[tuple[BadConfig, ...]]
    trash_in_changes: ClassVar[bool] = True
    """Whether the sandbox shows the connector's incremental an item moved to the trash (else
    the suite waits for the full sync to delete it)."""
    moves_in_changes: ClassVar[bool] = True
    """Whether the connector's incremental sees an item moved (else the suite waits for the
    full sync: Confluence records no version for a move)."""
    h: Harness

    @abstractmethod
    def running(self, database_url: str) -> AbstractAsyncContextManager[Upstream]:
        """Syncline on `database_url` beside a fresh sandbox of the provider."""

    @abstractmethod
    async def connect(self) -> None:
        """Give the test user a credential for the provider's account."""

    @abstractmethod
    def seed(self) -> Tree:
        """Create the tree `A/a1.txt`, `A/a2.md`, `B/b1.txt`, `top.txt` (contents `CONTENT`)."""

    def base(self) -> dict[str, Any]:
        """The configuration of a sync of everything."""
        return {}

    def folder_scope(self, folder: str) -> dict[str, Any]:
        """The configuration of a sync of one seeded folder and everything below it."""
        return {**self.base(), "folderId": folder}

    def content_of(self, name: str, tree: Tree) -> bytes | None:
        """What downloading the seeded item `name` gives (None: it has no content, 422)."""
        return CONTENT.get(name)

    folder_records: ClassVar[bool] = True
    """Whether folders are records (S3's folders are key prefixes: its records are files)."""

    def now_at(self, item: str) -> str:
        """The id `item` has now: the same, unless ids are paths (S3 keys), which a rename or
        a move changes."""
        return item

    def recorded(self, names: set[str] | frozenset[str] | tuple[str, ...]) -> set[str]:
        """Which of the seeded `names` are records (without the folders `A`, `B` where
        folders are not)."""
        return set(names) if self.folder_records else set(names) - {"A", "B"}

    @abstractmethod
    def create(self, name: str, parent: str, content: bytes) -> str: ...
    @abstractmethod
    def write(self, item: str, content: bytes) -> None: ...
    @abstractmethod
    def rename(self, item: str, name: str) -> None: ...
    @abstractmethod
    def move(self, item: str, parent: str) -> None: ...
    @abstractmethod
    def delete(self, item: str) -> None: ...
    @abstractmethod
    def silently_delete(self, item: str) -> None:
        """The item vanishes with no entry in the provider's change feed."""

    @abstractmethod
    def throttle(self) -> None:
        """The next requests are refused in the provider's own rate-limit form."""

    @abstractmethod
    def faults_fired(self) -> int:
        """How many injected faults the sandbox has served."""

    @abstractmethod
    def expire_tokens(self) -> None:
        """Every access token issued so far stops working."""

    @abstractmethod
    def token_requests(self) -> int:
        """How many requests the provider's token endpoint has answered."""

    @abstractmethod
    def reject_cursor(self) -> None:
        """The change cursor Syncline holds is no longer honoured."""


# --- Google Drive ------------------------------------------------------------------------------


class GoogleDrive(Upstream):
    integration: ClassVar[str] = "googledrive"
    drive: DriveState

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with harness(database_url) as h:
            self.h, self.drive = h, h.drive
            yield self

    async def connect(self) -> None:
        await self.h.connect()

    def seed(self) -> Tree:
        d = self.drive
        tree = {"A": d.add_folder("A"), "B": d.add_folder("B")}
        tree["a1"] = d.add_file("a1.txt", content=CONTENT["a1"], parent=tree["A"])
        tree["a2"] = d.add_file(
            "a2.md", content=CONTENT["a2"], parent=tree["A"], mime_type="text/markdown"
        )
        tree["b1"] = d.add_file("b1.txt", content=CONTENT["b1"], parent=tree["B"])
        tree["top"] = d.add_file("top.txt", content=CONTENT["top"])
        return tree

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.drive.add_file(name, content=content, parent=parent)

    def write(self, item: str, content: bytes) -> None:
        self.drive.update_file(item, content=content)

    def rename(self, item: str, name: str) -> None:
        self.drive.update_file(item, name=name)

    def move(self, item: str, parent: str) -> None:
        self.drive.update_file(item, parent=parent)

    def delete(self, item: str) -> None:
        self.drive.trash(item)

    def silently_delete(self, item: str) -> None:
        self.drive.silently_delete(item)

    def throttle(self) -> None:
        self.drive.inject("403_rate", path="/drive/v3/changes", retry_after=1)
        self.drive.inject("429", path="/drive/v3/changes", retry_after=1)

    def expire_tokens(self) -> None:
        self.drive.expire_access_tokens()

    def token_requests(self) -> int:
        return self.drive.request_count("/token")

    def reject_cursor(self) -> None:
        self.drive.inject("stale_change_token")

    def faults_fired(self) -> int:
        return sum(self.drive.faults_fired.values())

    configs = (
        ConfigCase("everything", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("folderId", lambda u, t: {"folderId": t["A"]}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "fileIds", lambda u, t: {"fileIds": [t["a1"], t["top"]]}, frozenset({"a1", "top"})
        ),
    )
    bad_configs = (
        BadConfig("unknown key", lambda u, t: {"folder": t["A"]}, "configuration.folder"),
        BadConfig(
            "two scopes", lambda u, t: {"folderId": t["A"], "fileIds": [t["a1"]]}, "configuration"
        ),
        BadConfig("no file ids", lambda u, t: {"fileIds": []}, "configuration.fileIds"),
    )


# --- Microsoft Graph ---------------------------------------------------------------------------


class _Graph(Upstream):
    graph: GraphState
    drive_id: str

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with graph_harness(database_url) as g:
            self.h, self.graph = g.h, g.graph
            self._connect = g.connect
            self.drive_id = self.make_drive()
            yield self

    @abstractmethod
    def make_drive(self) -> str:
        """The drive the tree is seeded in."""

    async def connect(self) -> None:
        await self._connect(self.integration)

    def seed(self) -> Tree:
        g, d = self.graph, self.drive_id
        tree = {"A": g.add_folder(d, "A"), "B": g.add_folder(d, "B")}
        a, status = tree["A"], dict[str, object](Status="Draft")
        tree["a1"] = g.add_file(d, "a1.txt", CONTENT["a1"], parent=a, fields=status)
        tree["a2"] = g.add_file(d, "a2.md", CONTENT["a2"], parent=a, mime_type="text/markdown")
        tree["b1"] = g.add_file(d, "b1.txt", CONTENT["b1"], parent=tree["B"])
        tree["top"] = g.add_file(d, "top.txt", CONTENT["top"])
        return tree

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.graph.add_file(self.drive_id, name, content, parent=parent)

    def write(self, item: str, content: bytes) -> None:
        self.graph.update(item, content=content)

    def rename(self, item: str, name: str) -> None:
        self.graph.update(item, name=name)

    def move(self, item: str, parent: str) -> None:
        self.graph.update(item, parent=parent)

    def delete(self, item: str) -> None:
        self.graph.delete(item)

    def silently_delete(self, item: str) -> None:
        self.graph.silently_delete(item)

    def throttle(self) -> None:
        self.graph.inject("429", path="/v1.0/drives", retry_after=1)
        self.graph.inject("503", path="/v1.0/drives", retry_after=1)

    def expire_tokens(self) -> None:
        self.graph.grants.expire_access_tokens()

    def token_requests(self) -> int:
        return self.graph.request_count("/common/oauth2/v2.0/token")

    def reject_cursor(self) -> None:
        self.graph.expire_delta_tokens(self.drive_id)

    def faults_fired(self) -> int:
        return sum(self.graph.faults.fired.values())


def _has_list_fields(records: dict[str, dict[str, Any]], tree: Tree) -> None:
    assert "Draft" == records[tree["a1"]]["customFields"]["metadata"]["Status"]


def _has_full_paths(records: dict[str, dict[str, Any]], tree: Tree) -> None:
    assert records[tree["a1"]]["customFields"]["fullPath"].endswith("/root:/A/a1.txt")


_NOT_FOUND_DRIVE = "b!doesNotExist0000000000000000000000000000000000000000000000000"


class SharePoint(_Graph):
    integration: ClassVar[str] = "sharepoint"
    site: str

    def make_drive(self) -> str:
        self.site = self.graph.add_site("Engineering", ALICE, members=["bob@contoso.com"])
        return self.graph.sites[self.site].drive_ids[0]

    def base(self) -> dict[str, Any]:
        return {"siteId": self.site}

    configs = (
        ConfigCase("siteId", lambda u, t: u.base(), frozenset(SEEDED), _has_full_paths),
        ConfigCase("driveId", lambda u, t: {**u.base(), "driveId": u.drive_id}, frozenset(SEEDED)),  # type: ignore[attr-defined]
        ConfigCase(
            "folderId", lambda u, t: {**u.base(), "folderId": t["A"]}, frozenset({"A", "a1", "a2"})
        ),
        ConfigCase(
            "fileIds",
            lambda u, t: {**u.base(), "fileIds": [t["a1"], t["top"]]},
            frozenset({"a1", "top"}),
        ),
        ConfigCase(
            "mimeTypes",
            lambda u, t: {**u.base(), "mimeTypes": ["text/markdown"]},
            frozenset({"A", "B", "a2"}),
        ),
        ConfigCase(
            "includeListItemFields",
            lambda u, t: {**u.base(), "includeListItemFields": True},
            frozenset(SEEDED),
            _has_list_fields,
        ),
    )
    bad_configs = (
        BadConfig("no siteId", lambda u, t: {}, "configuration.siteId"),
        BadConfig(
            "unknown site",
            lambda u, t: {"siteId": "contoso.sharepoint.com,no,no"},
            "configuration.siteId",
        ),
        BadConfig(
            "unknown drive",
            lambda u, t: {**u.base(), "driveId": _NOT_FOUND_DRIVE},
            "configuration.driveId",
        ),
        BadConfig(
            "unknown key", lambda u, t: {**u.base(), "folder": t["A"]}, "configuration.folder"
        ),
        BadConfig(
            "two scopes",
            lambda u, t: {**u.base(), "folderId": t["A"], "fileIds": [t["a1"]]},
            "configuration",
        ),
    )


class OneDrive(_Graph):
    integration: ClassVar[str] = "onedrive"

    def make_drive(self) -> str:
        return self.graph.add_personal_drive(ALICE)

    configs = (
        ConfigCase("the user's drive", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("driveId", lambda u, t: {"driveId": u.drive_id}, frozenset(SEEDED)),  # type: ignore[attr-defined]
        ConfigCase("folderId", lambda u, t: {"folderId": t["A"]}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "fileIds", lambda u, t: {"fileIds": [t["a1"], t["top"]]}, frozenset({"a1", "top"})
        ),
        ConfigCase(
            "mimeTypes", lambda u, t: {"mimeTypes": ["text/markdown"]}, frozenset({"A", "B", "a2"})
        ),
    )
    bad_configs = (
        BadConfig(
            "unknown drive", lambda u, t: {"driveId": _NOT_FOUND_DRIVE}, "configuration.driveId"
        ),
        BadConfig("unknown key", lambda u, t: {"folder": t["A"]}, "configuration.folder"),
        BadConfig(
            "a SharePoint key",
            lambda u, t: {"includeListItemFields": True},
            "configuration.includeListItemFields",
        ),
        BadConfig(
            "two scopes", lambda u, t: {"folderId": t["A"], "fileIds": [t["a1"]]}, "configuration"
        ),
    )


# --- Box ---------------------------------------------------------------------------------------


class Box(Upstream):
    integration: ClassVar[str] = "box"
    box: BoxState

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with box_harness(database_url) as b:
            self.h, self.box = b.h, b.box
            self._connect = b.connect
            yield self

    async def connect(self) -> None:
        await self._connect()

    def seed(self) -> Tree:
        b = self.box
        tree = {"A": b.add_folder("A"), "B": b.add_folder("B")}
        tree["a1"] = b.add_file("a1.txt", CONTENT["a1"], tree["A"])
        tree["a2"] = b.add_file("a2.md", CONTENT["a2"], tree["A"])
        tree["b1"] = b.add_file("b1.txt", CONTENT["b1"], tree["B"])
        tree["top"] = b.add_file("top.txt", CONTENT["top"])
        return tree

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.box.add_file(name, content, parent)

    def write(self, item: str, content: bytes) -> None:
        self.box.upload_version(item, content)

    def rename(self, item: str, name: str) -> None:
        self.box.rename(item, name)

    def move(self, item: str, parent: str) -> None:
        self.box.move(item, parent)

    def delete(self, item: str) -> None:
        self.box.trash(item)

    def silently_delete(self, item: str) -> None:
        self.box.purge(item)

    def throttle(self) -> None:
        self.box.inject("429", path="/2.0/events", times=2, retry_after=1)

    def expire_tokens(self) -> None:
        self.box.grants.expire_access_tokens()

    def token_requests(self) -> int:
        return self.box.request_count("/oauth2/token")

    def reject_cursor(self) -> None:
        self.box.expire_stream_positions()

    def faults_fired(self) -> int:
        return sum(self.box.faults.fired.values())

    configs = (
        ConfigCase("everything", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("folderId", lambda u, t: {"folderId": t["A"]}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "fileIds", lambda u, t: {"fileIds": [t["a1"], t["top"]]}, frozenset({"a1", "top"})
        ),
        ConfigCase(
            "mimeTypes", lambda u, t: {"mimeTypes": ["text/markdown"]}, frozenset({"A", "B", "a2"})
        ),
    )
    bad_configs = (
        BadConfig("unknown key", lambda u, t: {"folder": t["A"]}, "configuration.folder"),
        BadConfig(
            "two scopes", lambda u, t: {"folderId": t["A"], "fileIds": [t["a1"]]}, "configuration"
        ),
        BadConfig("no file ids", lambda u, t: {"fileIds": []}, "configuration.fileIds"),
        BadConfig(
            "unknown folder", lambda u, t: {"folderId": "987654321"}, "configuration.folderId"
        ),
        BadConfig(
            "a file as folderId", lambda u, t: {"folderId": t["a1"]}, "configuration.folderId"
        ),
        BadConfig(
            "a folder in fileIds", lambda u, t: {"fileIds": [t["B"]]}, "configuration.fileIds"
        ),
    )


# --- Dropbox -----------------------------------------------------------------------------------


class Dropbox(Upstream):
    integration: ClassVar[str] = "dropbox"
    dropbox: DropboxState

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with dropbox_harness(database_url) as d:
            self.h, self.dropbox = d.h, d.dropbox
            self._connect = d.connect
            self._silently_delete = d.silently_delete
            yield self

    async def connect(self) -> None:
        await self._connect()

    def seed(self) -> Tree:
        d, me = self.dropbox, DROPBOX_USER
        tree = {"A": d.add_folder("A", owner=me), "B": d.add_folder("B", owner=me)}
        tree["a1"] = d.add_file("a1.txt", CONTENT["a1"], tree["A"], owner=me)
        tree["a2"] = d.add_file("a2.md", CONTENT["a2"], tree["A"], owner=me)
        tree["b1"] = d.add_file("b1.txt", CONTENT["b1"], tree["B"], owner=me)
        tree["top"] = d.add_file("top.txt", CONTENT["top"], owner=me)
        return tree

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.dropbox.add_file(name, content, parent, owner=DROPBOX_USER)

    def write(self, item: str, content: bytes) -> None:
        self.dropbox.edit(item, content)

    def rename(self, item: str, name: str) -> None:
        self.dropbox.move(item, name=name)

    def move(self, item: str, parent: str) -> None:
        self.dropbox.move(item, parent=parent)

    def delete(self, item: str) -> None:
        self.dropbox.delete(item)

    def silently_delete(self, item: str) -> None:
        self._silently_delete(item)

    def throttle(self) -> None:
        self.dropbox.faults.inject(
            "429", path="/2/files/list_folder/continue", times=2, retry_after=1
        )

    def expire_tokens(self) -> None:
        self.dropbox.grants.expire_access_tokens()

    def token_requests(self) -> int:
        return self.dropbox.traffic.count("/dropbox/oauth2/token")

    def reject_cursor(self) -> None:
        self.dropbox.reset_cursors()

    def faults_fired(self) -> int:
        return sum(self.dropbox.faults.fired.values())

    configs = (
        ConfigCase("everything", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("folderId", lambda u, t: {"folderId": t["A"]}, frozenset({"A", "a1", "a2"})),
        ConfigCase("folderId path", lambda u, t: {"folderId": "/a"}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "fileIds", lambda u, t: {"fileIds": [t["a1"], t["top"]]}, frozenset({"a1", "top"})
        ),
        ConfigCase(
            "mimeTypes", lambda u, t: {"mimeTypes": ["text/markdown"]}, frozenset({"A", "B", "a2"})
        ),
    )
    bad_configs = (
        BadConfig("unknown key", lambda u, t: {"folder": t["A"]}, "configuration.folder"),
        BadConfig(
            "two scopes", lambda u, t: {"folderId": t["A"], "fileIds": [t["a1"]]}, "configuration"
        ),
        BadConfig("no file ids", lambda u, t: {"fileIds": []}, "configuration.fileIds"),
        BadConfig(
            "unknown folder", lambda u, t: {"folderId": "id:nosuchfolder"}, "configuration.folderId"
        ),
        BadConfig("unknown path", lambda u, t: {"folderId": "/nowhere"}, "configuration.folderId"),
        BadConfig(
            "a path outside the account",
            lambda u, t: {"folderId": "ns:999999/elsewhere"},
            "configuration.folderId",
        ),
        BadConfig(
            "a malformed path",
            lambda u, t: {"folderId": "no/leading/slash"},
            "configuration.folderId",
        ),
        BadConfig(
            "a file as folderId", lambda u, t: {"folderId": t["a1"]}, "configuration.folderId"
        ),
        BadConfig(
            "a folder in fileIds", lambda u, t: {"fileIds": [t["B"]]}, "configuration.fileIds"
        ),
    )


# --- Notion ------------------------------------------------------------------------------------


def _page(title: str, body: str = "") -> bytes:
    """A seeded Notion page as the connector renders it: its title property as YAML front
    matter, then its blocks."""
    return f'---\ntitle: "{title}"\n---\n'.encode() + (f"\n{body}".encode() if body else b"")


class Notion(Upstream):
    """Folders and files are pages: `A`, `B` and `top.txt` shared with the integration, the
    others sub-pages, each file's content a block a line."""

    integration: ClassVar[str] = "notion"
    notion: NotionState
    # The sandbox's search refuses `filter.in_trash`, which Notion documents for searching
    # the trash: trashed pages then leave with the full sync.
    trash_in_changes: ClassVar[bool] = False

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with notion_harness(database_url) as n:
            self.h, self.notion, self._n = n.h, n.notion, n
            yield self

    async def connect(self) -> None:
        await self._n.connect()

    def seed(self) -> Tree:
        n = self.notion
        tree = {"A": n.add_page("A"), "B": n.add_page("B")}
        tree["a1"] = n.add_page("a1.txt", tree["A"], content=blocks_of(CONTENT["a1"]))
        tree["a2"] = n.add_page("a2.md", tree["A"], content=blocks_of(CONTENT["a2"]))
        tree["b1"] = n.add_page("b1.txt", tree["B"], content=blocks_of(CONTENT["b1"]))
        tree["top"] = n.add_page("top.txt", content=blocks_of(CONTENT["top"]))
        for shared in ("A", "B", "top"):
            n.share(tree[shared])
        return tree

    def folder_scope(self, folder: str) -> dict[str, Any]:
        return {"pageIds": [folder]}

    def content_of(self, name: str, tree: Tree) -> bytes | None:
        titles = {"A": "A", "B": "B", "a1": "a1.txt", "a2": "a2.md", "b1": "b1.txt"}
        titles["top"] = "top.txt"
        below = {"A": ("a1", "a2"), "B": ("b1",)}
        if name in below:
            links = [
                f"[{titles[c]}](https://www.notion.so/{tree[c].replace('-', '')})"
                for c in below[name]
            ]
            return _page(titles[name], "\n\n".join(links) + "\n")
        return _page(titles[name], CONTENT[name].decode().strip() + "\n")

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.notion.add_page(name, parent, content=blocks_of(content))

    def write(self, item: str, content: bytes) -> None:
        self._n.replace_content(item, blocks_of(content))

    def rename(self, item: str, name: str) -> None:
        self.notion.edit_page(item, title=name)

    def move(self, item: str, parent: str) -> None:
        self.notion.move(item, parent)

    def delete(self, item: str) -> None:
        self.notion.trash(item)

    def silently_delete(self, item: str) -> None:
        self.notion.purge(item)

    def throttle(self) -> None:
        self.notion.inject("rate_limited", path="/v1/search", times=2, retry_after=1)

    def expire_tokens(self) -> None:
        self.notion.expire_access_tokens()

    def token_requests(self) -> int:
        return self.notion.request_count("/v1/oauth/token")

    def reject_cursor(self) -> None:
        self.notion.expire_cursors()  # a window has no position to refuse: see the suite

    def faults_fired(self) -> int:
        return sum(self.notion.faults.fired.values())

    configs = (
        ConfigCase("everything", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("pageIds", lambda u, t: {"pageIds": [t["A"]]}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "pageIds of two trees",
            lambda u, t: {"pageIds": [t["a1"], t["B"]]},
            frozenset({"a1", "B", "b1"}),
        ),
        ConfigCase(
            "pageIds as page URLs",
            lambda u, t: {"pageIds": [f"https://www.notion.so/B-{t['B'].replace('-', '')}"]},
            frozenset({"B", "b1"}),
        ),
    )
    bad_configs = (
        BadConfig("unknown key", lambda u, t: {"folderId": t["A"]}, "configuration.folderId"),
        BadConfig("no page ids", lambda u, t: {"pageIds": []}, "configuration.pageIds"),
        BadConfig("not an id", lambda u, t: {"pageIds": ["Q3 plan"]}, "configuration.pageIds"),
        BadConfig(
            "a page not shared with the integration",
            lambda u, t: {"pageIds": [u.notion.add_page("Private")]},  # type: ignore[attr-defined]
            "configuration.pageIds",
        ),
        BadConfig(
            "a page that does not exist",
            lambda u, t: {"pageIds": ["00000000-0000-4000-8000-000000000000"]},
            "configuration.pageIds",
        ),
        BadConfig(
            "a page in the trash",
            lambda u, t: {"pageIds": [_trashed(u, t["b1"])]},
            "configuration.pageIds",
        ),
    )


def _trashed(up: Upstream, page: str) -> str:
    assert isinstance(up, Notion)
    up.notion.trash(page)
    return page


# --- Amazon S3 ---------------------------------------------------------------------------------


class AmazonS3(Upstream):
    """Keys are the ids (`A/a1.txt`); the folders `A/` and `B/` are prefixes, not records. A
    rename or a move is a copy and a delete, which gives the item a new id (`now_at`). Every
    run lists the bucket again (S3 has no change feed), and the credential is keys, which
    nothing refreshes."""

    integration: ClassVar[str] = "amazons3"
    folder_records: ClassVar[bool] = False
    s3: S3Harness

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with s3_harness(database_url) as s:
            self.h, self.s3 = s.h, s
            self._where: dict[str, str] = {}
            yield self

    async def connect(self) -> None:
        await self.s3.connect()

    def base(self) -> dict[str, Any]:
        return {"bucket": self.s3.bucket}

    def seed(self) -> Tree:
        tree = {"A": "A/", "B": "B/", "a1": "A/a1.txt", "a2": "A/a2.md", "b1": "B/b1.txt"}
        tree["top"] = "top.txt"
        for name, content in CONTENT.items():
            self.s3.put(tree[name], content)
        self._where = {key: key for key in tree.values()}
        return tree

    def now_at(self, item: str) -> str:
        return self._where.get(item, item)

    def create(self, name: str, parent: str, content: bytes) -> str:
        key = self.now_at(parent) + name
        self.s3.put(key, content)
        self._where[key] = key
        return key

    def write(self, item: str, content: bytes) -> None:
        self.s3.put(self.now_at(item), content)

    def rename(self, item: str, name: str) -> None:
        current = self.now_at(item)
        self._relocate(current, current[: current.rfind("/") + 1] + name)

    def move(self, item: str, parent: str) -> None:
        current = self.now_at(item)
        name = current.rstrip("/").rpartition("/")[2] + ("/" if current.endswith("/") else "")
        self._relocate(current, self.now_at(parent) + name)

    def _relocate(self, current: str, target: str) -> None:
        """S3 renames nothing: each key is copied to its new name, then deleted."""
        admin, bucket = self.s3.admin, self.s3.bucket
        keys = admin.list_keys(bucket, prefix=current) if current.endswith("/") else [current]
        for key in keys:
            admin.copy(bucket, key, target + key[len(current) :])
            admin.delete(bucket, key)
        for item, where in self._where.items():
            if where == current or (current.endswith("/") and where.startswith(current)):
                self._where[item] = target + where[len(current) :]

    def delete(self, item: str) -> None:
        self.s3.admin.delete(self.s3.bucket, self.now_at(item))

    def silently_delete(self, item: str) -> None:
        self.delete(item)  # every deletion is silent: S3 has no change feed

    def throttle(self) -> None:
        self.s3.proxy.faults.inject("slowdown", path=f"/{self.s3.bucket}", times=2)

    def expire_tokens(self) -> None:
        """S3 keys carry no access token (the suite skips the refresh case)."""

    def token_requests(self) -> int:
        return 0

    def reject_cursor(self) -> None:
        """S3 has no change cursor to refuse (the suite skips that case)."""

    def faults_fired(self) -> int:
        return self.s3.proxy.fired()

    configs = (
        ConfigCase("bucket", lambda u, t: u.base(), frozenset({"a1", "a2", "b1", "top"})),
        ConfigCase(
            "folderId", lambda u, t: {**u.base(), "folderId": t["A"]}, frozenset({"a1", "a2"})
        ),
        ConfigCase(
            "folderId as a bare prefix",
            lambda u, t: {**u.base(), "folderId": "B"},
            frozenset({"b1"}),
        ),
        ConfigCase(
            "fileIds",
            lambda u, t: {**u.base(), "fileIds": [t["a1"], t["top"]]},
            frozenset({"a1", "top"}),
        ),
        ConfigCase(
            "mimeTypes",
            lambda u, t: {**u.base(), "mimeTypes": ["text/markdown"]},
            frozenset({"a2"}),
        ),
    )
    bad_configs = (
        BadConfig("no bucket", lambda u, t: {}, "configuration.bucket"),
        BadConfig(
            "unknown bucket", lambda u, t: {"bucket": "no-such-bucket"}, "configuration.bucket"
        ),
        BadConfig(
            "a malformed bucket", lambda u, t: {"bucket": "not/a/bucket"}, "configuration.bucket"
        ),
        BadConfig(
            "unknown key", lambda u, t: {**u.base(), "folder": t["A"]}, "configuration.folder"
        ),
        BadConfig(
            "two scopes",
            lambda u, t: {**u.base(), "folderId": t["A"], "fileIds": [t["a1"]]},
            "configuration",
        ),
        BadConfig("no file ids", lambda u, t: {**u.base(), "fileIds": []}, "configuration.fileIds"),
        BadConfig(
            "a folder in fileIds",
            lambda u, t: {**u.base(), "fileIds": [t["B"]]},
            "configuration.fileIds",
        ),
    )


# --- Confluence --------------------------------------------------------------------------------


def _storage(content: bytes) -> str:
    """Text as Confluence storage format: one paragraph."""
    return f"<p>{html.escape(content.decode().strip())}</p>"


class Confluence(Upstream):
    """Folders and files are pages of one space (`A`, `B` and `top.txt` at its root), seeded an
    hour before the test (outside the incremental's overlap). Confluence records no version for
    a move, so moves reach the sync with the full sync."""

    integration: ClassVar[str] = "confluence"
    confluence: ConfluenceState
    moves_in_changes: ClassVar[bool] = False
    space: str

    @asynccontextmanager
    async def running(self, database_url: str) -> AsyncIterator[Upstream]:
        async with confluence_harness(database_url) as c:
            self.h, self.confluence, self._c = c.h, c.confluence, c
            self.confluence.add_user(CONFLUENCE_USER, "Alice Admin")
            self.space = self.confluence.add_space(
                "DOCS", "Docs", author=CONFLUENCE_USER, homepage=False
            )
            yield self

    async def connect(self) -> None:
        await self._c.connect()

    def seed(self) -> Tree:
        add, space = self.confluence.add_page, self.space
        with self._c.clock.earlier():
            tree = {"A": add(space, "A"), "B": add(space, "B")}
            tree["a1"] = add(space, "a1.txt", _storage(CONTENT["a1"]), parent=tree["A"])
            tree["a2"] = add(space, "a2.md", _storage(CONTENT["a2"]), parent=tree["A"])
            tree["b1"] = add(space, "b1.txt", _storage(CONTENT["b1"]), parent=tree["B"])
            tree["top"] = add(space, "top.txt", _storage(CONTENT["top"]))
        return tree

    def base(self) -> dict[str, Any]:
        return {"spaceId": self.space}

    def folder_scope(self, folder: str) -> dict[str, Any]:
        return {"pageIds": [folder]}

    def content_of(self, name: str, tree: Tree) -> bytes | None:
        page = self.confluence.pages[tree[name]]
        return html_document(page.title, page.body, f"{self.confluence.site_url}/wiki")

    def create(self, name: str, parent: str, content: bytes) -> str:
        return self.confluence.add_page(self.space, name, _storage(content), parent=parent)

    def write(self, item: str, content: bytes) -> None:
        self.confluence.edit_page(item, body=_storage(content))

    def rename(self, item: str, name: str) -> None:
        self.confluence.edit_page(item, title=name)

    def move(self, item: str, parent: str) -> None:
        self.confluence.move_page(item, parent)

    def delete(self, item: str) -> None:
        self.confluence.trash_page(item)

    def silently_delete(self, item: str) -> None:
        self.confluence.purge_page(item)  # gone for good: in no search, not in the trash

    def throttle(self) -> None:
        self.confluence.inject("429", path="/ex/confluence/", times=2, retry_after=1)

    def expire_tokens(self) -> None:
        self.confluence.expire_access_tokens()

    def token_requests(self) -> int:
        return self.confluence.grants.refreshes

    def reject_cursor(self) -> None:
        self.confluence.inject("stale_cursor")  # a window has no position to refuse: see the suite

    def faults_fired(self) -> int:
        return sum(self.confluence.faults.fired.values())

    configs = (
        ConfigCase("everything", lambda u, t: {}, frozenset(SEEDED)),
        ConfigCase("spaceId", lambda u, t: u.base(), frozenset(SEEDED)),
        ConfigCase("pageIds", lambda u, t: {"pageIds": [t["A"]]}, frozenset({"A", "a1", "a2"})),
        ConfigCase(
            "pageIds of two trees",
            lambda u, t: {"pageIds": [t["a1"], t["B"]]},
            frozenset({"a1", "B", "b1"}),
        ),
        ConfigCase(
            "spaceId and pageIds",
            lambda u, t: {**u.base(), "pageIds": [t["B"], t["top"]]},
            frozenset({"B", "b1", "top"}),
        ),
    )
    bad_configs = (
        BadConfig("unknown key", lambda u, t: {"folderId": t["A"]}, "configuration.folderId"),
        BadConfig("no page ids", lambda u, t: {"pageIds": []}, "configuration.pageIds"),
        BadConfig("not an id", lambda u, t: {"pageIds": ["Runbook"]}, "configuration.pageIds"),
        BadConfig("a space key", lambda u, t: {"spaceId": "DOCS"}, "configuration.spaceId"),
        BadConfig("unknown space", lambda u, t: {"spaceId": "424242"}, "configuration.spaceId"),
        BadConfig(
            "a page that does not exist",
            lambda u, t: {"pageIds": ["4242424242"]},
            "configuration.pageIds",
        ),
        BadConfig(
            "a page in the trash",
            lambda u, t: {"pageIds": [_trashed_page(u, t["b1"])]},
            "configuration.pageIds",
        ),
    )


def _trashed_page(up: Upstream, page: str) -> str:
    assert isinstance(up, Confluence)
    up.confluence.trash_page(page)
    return page


UPSTREAMS: tuple[type[Upstream], ...] = (
    GoogleDrive,
    SharePoint,
    OneDrive,
    Box,
    Dropbox,
    Notion,
    AmazonS3,
    Confluence,
)
"""Every connector the contract suite runs; a new connector adds its `Upstream` here."""
