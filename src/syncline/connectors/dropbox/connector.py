"""Reads one Dropbox account: recursive folder listings and their cursors, the id-less deleted
entries of the change feed, content from the content host (Paper exported as Markdown), and
who may open each item (shared folder and file members, groups)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from functools import partial

import httpx
import orjson
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
from syncline.connectors.bodies import json_object, text
from syncline.connectors.dropbox.account import Account, is_team_token_refusal, resolve_account
from syncline.connectors.dropbox.config import DropboxConfig, is_id
from syncline.connectors.dropbox.errors import raise_for_dropbox
from syncline.connectors.dropbox.normalize import (
    is_paper,
    mime_type_of,
    normalize_entry,
    parent_path,
)
from syncline.connectors.dropbox.paths import PathIndex, put_index, take_index
from syncline.connectors.dropbox.permissions import member_grants, shared_folder_of, unique
from syncline.connectors.http import map_transport_errors
from syncline.domain.permissions import Access, Grant, Relation, user_subject
from syncline.domain.records import ChangePage, ListPage, Upsert
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamError,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamResponseError,
)
from syncline.types import Checkpoint, JSONObject

_str = text
_json_object = partial(json_object, provider="Dropbox")


__all__ = ["DropboxConnector", "check", "identify", "spec"]

DEFAULT_CONTENT_URL = "https://content.dropboxapi.com"
PAGE_SIZE = 2000
"""Entries per `files/list_folder` page (Dropbox's maximum)."""
MEMBERS_PAGE_SIZE = 1000
FILE_MEMBERS_PAGE_SIZE = 300
FILE_IDS_PER_PAGE = 50


def _entries(body: JSONObject) -> list[JSONObject]:
    value = body.get("entries")
    if not isinstance(value, list):
        raise UpstreamResponseError("Dropbox sent a listing whose entries are not a list")
    return [entry for entry in value if isinstance(entry, dict)]


def _cursor(body: JSONObject) -> str:
    cursor = _str(body, "cursor")
    if cursor is None:
        raise UpstreamResponseError("Dropbox sent a listing without a cursor")
    return cursor


def _arg_header(arg: JSONObject) -> str:
    """`Dropbox-API-Arg`: JSON, with every non-ASCII character escaped (`\\uXXXX`), as an
    HTTP header must be."""
    return (
        orjson.dumps(arg)
        .decode()
        .encode("ascii", "backslashreplace")
        .decode()
        .replace("\\x", "\\u00")
    )


def _in_tree(path: str | None, root: str) -> bool:
    if path is None:
        return False
    return root == "" or path == root or path.startswith(root + "/")


CAPABILITIES = Capabilities(
    changes=ChangeStrategy.FEED,
    deletions_in_feed=True,
    scopes=frozenset({"everything", "folder", "items"}),
    hierarchical=True,
    lists_children=True,
)
"""`files/list_folder/continue` reports deletions (by path); folders nest, and a folder's
entries can be listed."""


class DropboxConnector:
    """Lists, follows and downloads one user's Dropbox.

    Cursors are Dropbox's own `list_folder` cursors. Listing checkpoints: `{"cursor": str}`
    (the listing's own cursor, for `list_folder/continue`) for a folder tree or everything;
    `{"index": int}` for `fileIds`.
    """

    capabilities = CAPABILITIES

    def __init__(self, config: DropboxConfig, ctx: ConnectorContext) -> None:
        self._config = config
        self._ctx = ctx
        self._rpc_base = f"{ctx.api_url.rstrip('/')}/2"
        self._content_base = f"{ctx.urls.get('content', DEFAULT_CONTENT_URL).rstrip('/')}/2"
        self._mime_types = frozenset(config.mime_types) if config.mime_types else None
        self._file_ids = frozenset(config.file_ids or ())
        folder = config.folder_id
        self._scope = Scope(
            folder_id=folder if folder is not None and is_id(folder) else None,
            file_ids=self._file_ids,
        )
        self._root: tuple[str, str] | None = None
        """The configured folder as (id, lower-cased path), once resolved."""
        self._started: str | None = None
        self._parents: dict[str, str | None] = {}
        self._account: Account | None = None
        self._file_grants: dict[str, tuple[Grant, ...]] = {}

    @property
    def scope(self) -> Scope:
        return self._scope

    # -- requests -----------------------------------------------------------------------------

    async def _account_of(self) -> Account:
        if self._account is None:
            self._account = await resolve_account(self._ctx, team_space=self._config.org_wide_sync)
        return self._account

    async def _user_headers(self) -> Mapping[str, str]:
        """What every user route carries: the member a team token acts as and the path root
        (`account.py`). Only asked for when it can matter (`orgWideSync`, a `teamMemberId`),
        or once Dropbox says the token is a team's."""
        if self._account is None and (
            self._config.org_wide_sync or "teamMemberId" in self._ctx.provider_data
        ):
            await self._account_of()
        return self._account.headers if self._account is not None else {}

    async def _send(
        self, route: str, body: JSONObject, headers: Mapping[str, str]
    ) -> httpx.Response:
        async with map_transport_errors():
            return await self._ctx.http.post(
                f"{self._rpc_base}/{route}", json=body, headers=headers, auth=self._ctx.auth
            )

    async def _post(self, route: str, body: JSONObject) -> httpx.Response:
        response = await self._send(route, body, await self._user_headers())
        if self._account is None and is_team_token_refusal(response):
            response = await self._send(route, body, (await self._account_of()).headers)
        return response

    async def _rpc(self, route: str, body: JSONObject) -> JSONObject:
        response = await self._post(route, body)
        raise_for_dropbox(response)
        return _json_object(response)

    async def _team_rpc(self, route: str, body: JSONObject) -> JSONObject:
        """A team route: the team token itself, no member selected, no path root."""
        response = await self._send(route, body, {})
        raise_for_dropbox(response)
        return _json_object(response)

    async def _metadata(self, path: str) -> JSONObject | None:
        """`files/get_metadata` of a path or id; None when it names nothing (any more)."""
        try:
            return await self._rpc("files/get_metadata", {"path": path})
        except UpstreamNotFound:
            return None

    # -- scope --------------------------------------------------------------------------------

    async def _resolve_root(self) -> tuple[str, str] | None:
        """The configured folder as (id, path_lower); None for the whole Dropbox.

        Raises:
            UpstreamNotFound: the folder is gone, or is not a folder.
        """
        folder = self._config.folder_id
        if folder is None or self._root is not None:
            return self._root
        meta = await self._metadata(folder)
        if meta is None or meta.get(".tag") != "folder":
            raise UpstreamNotFound(f"the Dropbox folder {folder!r} does not exist (any more)")
        folder_id, path = _str(meta, "id"), _str(meta, "path_lower")
        if folder_id is None or path is None:
            raise UpstreamResponseError(f"Dropbox sent the folder {folder!r} without id or path")
        self._root = (folder_id, path)
        self._scope = replace(self._scope, folder_id=folder_id)
        return self._root

    async def _list_args(self) -> JSONObject:
        root = await self._resolve_root()
        return {
            "path": "" if root is None else root[0],
            "recursive": True,
            "include_deleted": False,
            "include_has_explicit_shared_members": True,
            "include_mounted_folders": True,
            "include_non_downloadable_files": True,
            "limit": PAGE_SIZE,
        }

    def _root_path(self) -> str:
        return "" if self._root is None else self._root[1]

    # -- listing ------------------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """`files/list_folder/get_latest_cursor` with the listing's own arguments, taken
        before the listing: the feed then replays whatever changes during it."""
        args = await self._list_args()
        if self._file_ids:
            args["path"] = ""
        self._started = _cursor(await self._rpc("files/list_folder/get_latest_cursor", args))
        return self._started

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every item in scope, page by page; see the class docstring for the checkpoints.

        Raises:
            CursorInvalid: Dropbox reset the listing's cursor, or the checkpoint does not fit.
            UpstreamNotFound: the configured folder is gone.
        """
        if self._config.file_ids is not None:
            return self._list_file_ids(self._config.file_ids, checkpoint)
        return self._list_tree(checkpoint)

    async def _list_tree(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        # A whole listing (not resumed) after `start_cursor` gives a complete index.
        whole = checkpoint is None and self._started is not None
        index = PathIndex(complete=whole)
        if checkpoint is None:
            body = await self._rpc("files/list_folder", await self._list_args())
        else:
            cursor = checkpoint.get("cursor")
            if not isinstance(cursor, str) or not cursor:
                raise CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit")
            await self._resolve_root()
            body = await self._rpc("files/list_folder/continue", {"cursor": cursor})
        while True:
            entries = _entries(body)
            for entry in entries:
                path, item_id = _str(entry, "path_lower"), _str(entry, "id")
                if path is not None and item_id is not None and entry.get(".tag") != "deleted":
                    index.put(path, item_id, entry.get(".tag") == "folder")
            items = [
                await self._upsert(entry, index)
                for entry in entries
                if entry.get(".tag") in ("file", "folder") and self._keep(entry)
            ]
            more = body.get("has_more") is True
            cursor = _cursor(body)
            yield ListPage(items=items, checkpoint={"cursor": cursor} if more else None)
            if not more:
                break
            body = await self._rpc("files/list_folder/continue", {"cursor": cursor})
        if whole and self._started is not None:
            put_index(self._started, index)

    async def _list_file_ids(
        self, file_ids: list[str], checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        start = 0
        if checkpoint is not None:
            at = checkpoint.get("index")
            if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at < len(file_ids):
                raise CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit")
            start = at
        index = PathIndex(complete=checkpoint is None and self._started is not None)
        for first in range(start, len(file_ids), FILE_IDS_PER_PAGE):
            batch = file_ids[first : first + FILE_IDS_PER_PAGE]
            items: list[Upsert] = []
            for file_id in batch:
                entry = await self._metadata(file_id)
                if entry is None or entry.get(".tag") != "file" or not self._keep(entry):
                    continue
                if (path := _str(entry, "path_lower")) is not None:
                    index.put(path, file_id, False)
                items.append(await self._upsert(entry, index))
            reached = first + len(batch)
            yield ListPage(
                items=items, checkpoint={"index": reached} if reached < len(file_ids) else None
            )
        if index.complete and self._started is not None:
            put_index(self._started, index)

    def _keep(self, entry: JSONObject) -> bool:
        """In the sync: (with `fileIds`) a chosen file; (with `mimeTypes`) a folder or a file
        of one of the types."""
        if self._file_ids and entry.get("id") not in self._file_ids:
            return False
        if self._mime_types is None or entry.get(".tag") == "folder":
            return True
        return mime_type_of(entry) in self._mime_types

    async def _parent_id(self, path: str, index: PathIndex) -> str | None:
        """The id of the folder at `path` (None for the root): from the index, else asked."""
        if path == "":
            return None
        if (known := index.id_at(path)) is not None:
            return known
        if path in self._parents:
            return self._parents[path]
        meta = await self._metadata(path)
        parent = _str(meta, "id") if meta is not None else None
        self._parents[path] = parent
        return parent

    async def _upsert(self, entry: JSONObject, index: PathIndex) -> Upsert:
        path = _str(entry, "path_lower")
        parent = await self._parent_id(parent_path(path), index) if path else None
        return normalize_entry(entry, parent, await self._access(entry))

    async def children(self, folder_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` entries directly in a folder (its first page)."""
        body = await self._rpc(
            "files/list_folder",
            {"path": folder_id, "recursive": False, "limit": max(1, min(limit, PAGE_SIZE))},
        )
        return [i for e in _entries(body) if (i := _str(e, "id")) is not None][:limit]

    # -- changes ------------------------------------------------------------------------------

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor`: `files/list_folder/continue` until `has_more` is false,
        one page per answer, each with its cursor (stored even when it brought nothing).

        Entries are applied in order (Dropbox's rules: a file or folder entry puts its id at
        its path, a deleted entry removes the path and everything below it). A deleted entry
        names only a path: the path index (`paths`) says which ids were there, and each is
        checked with `files/get_metadata` before it is reported deleted: one still in scope
        (moved or renamed: Dropbox sends a deleted entry at the old path and the same id at the
        new one) is not a deletion, so a move is an update.

        Raises:
            CursorInvalid: 409 `reset` (the cursor expired), or a deleted path this process
                cannot resolve to ids (no index of this sync's paths here): a full sync follows.
        """
        await self._resolve_root()
        index = take_index(cursor) or PathIndex(complete=False)
        position = cursor
        while True:
            body = await self._rpc("files/list_folder/continue", {"cursor": position})
            touched: dict[str, JSONObject | None] = {}
            """Id -> its entry (an upsert) or None (deleted, to be checked), the last wins."""
            for entry in _entries(body):
                tag = entry.get(".tag")
                path = _str(entry, "path_lower")
                if path is None:
                    continue
                if tag == "deleted":
                    top, below = index.remove(path)
                    if not index.complete and (top is None or top[1]):
                        # A partial index knows only what this run's feed brought: not what
                        # was at an unknown path, nor everything below a folder.
                        raise CursorInvalid(
                            f"Dropbox reported {path!r} deleted, and this process holds no "
                            "index of this sync's paths to tell which items were there"
                        )
                    for gone in ([top[0]] if top else []) + below:
                        touched[gone] = None
                    continue
                item_id = _str(entry, "id")
                if item_id is None or tag not in ("file", "folder"):
                    continue
                for gone in index.put(path, item_id, tag == "folder"):
                    touched.setdefault(gone, None)
                touched[item_id] = entry
            upserts: list[Upsert] = []
            deletions: list[str] = []
            for item_id, seen in touched.items():
                if seen is None:
                    if not await self._still_in_scope(item_id):
                        deletions.append(item_id)
                elif self._keep(seen):
                    upserts.append(await self._upsert(seen, index))
                elif not self._file_ids or item_id in self._file_ids:
                    deletions.append(item_id)  # no longer of a chosen type
            position = _cursor(body)
            yield ChangePage(upserts=upserts, deletions=deletions, cursor=position)
            if body.get("has_more") is not True:
                break
        put_index(position, index)

    async def _still_in_scope(self, item_id: str) -> bool:
        """Whether an item a deleted path named is still there, somewhere in scope."""
        meta = await self._metadata(item_id)
        if meta is None or meta.get(".tag") not in ("file", "folder"):
            return False
        if self._file_ids:
            return item_id in self._file_ids
        return _in_tree(_str(meta, "path_lower"), self._root_path())

    # -- permissions --------------------------------------------------------------------------

    async def _me(self) -> str | None:
        return (await self._account_of()).email

    async def _access(self, entry: JSONObject) -> Access:
        """A shared folder's items point to it as their container (its members reach them);
        an item in none is the account's own; a file shared by itself adds its members."""
        container = shared_folder_of(entry)
        grants: list[Grant] = []
        if container is None and (me := await self._me()) is not None:
            grants.append(Grant(Relation.OWNER, user_subject(me)))
        item_id = _str(entry, "id")
        if entry.get("has_explicit_shared_members") is True and item_id is not None:
            with contextlib.suppress(UpstreamNotFound, UpstreamPermissionDenied):
                grants += await self._file_members(item_id)
        return Access(unique(grants), container)

    async def _file_members(self, file_id: str) -> list[Grant]:
        """`sharing/list_file_members` (+ `/continue`): the file's own members (inherited ones
        come through its shared folder)."""
        body = await self._rpc(
            "sharing/list_file_members",
            {"file": file_id, "include_inherited": False, "limit": FILE_MEMBERS_PAGE_SIZE},
        )
        me = await self._me()
        grants = member_grants(body, me)
        while (cursor := _str(body, "cursor")) is not None:
            body = await self._rpc("sharing/list_file_members/continue", {"cursor": cursor})
            grants += member_grants(body, me)
        return grants

    async def container_grants(self, container_id: str) -> list[Grant]:
        """A shared folder's members (`sharing/list_folder_members` + `/continue`), each with
        its relation to everything in the folder.

        Raises:
            UpstreamNotFound: the shared folder is gone or no longer shared with this user.
        """
        try:
            body = await self._rpc(
                "sharing/list_folder_members",
                {"shared_folder_id": container_id, "limit": MEMBERS_PAGE_SIZE},
            )
            me = await self._me()
            grants = member_grants(body, me)
            while (cursor := _str(body, "cursor")) is not None:
                body = await self._rpc("sharing/list_folder_members/continue", {"cursor": cursor})
                grants += member_grants(body, me)
        except UpstreamPermissionDenied as exc:
            raise UpstreamNotFound(f"the shared folder {container_id!r} is not visible") from exc
        return grants

    async def group_members(self, group: str) -> list[str] | None:
        """A team group's members (`team/groups/members/list` + `/continue`) as `user:<email>`.

        Only with `orgWideSync` and a team-linked token (only it may read the team's groups);
        otherwise, or when Dropbox refuses the team route, None: the group stays opaque."""
        if not self._config.org_wide_sync or not (await self._account_of()).team_token:
            return None
        subjects: list[str] = []
        try:
            body = await self._team_rpc(
                "team/groups/members/list",
                {"group": {".tag": "group_id", "group_id": group}, "limit": MEMBERS_PAGE_SIZE},
            )
            while True:
                members = body.get("members")
                for member in members if isinstance(members, list) else []:
                    profile = member.get("profile") if isinstance(member, dict) else None
                    email = _str(profile, "email") if isinstance(profile, dict) else None
                    if email:
                        subjects.append(user_subject(email))
                cursor = _str(body, "cursor")
                if body.get("has_more") is not True or cursor is None:
                    return subjects
                body = await self._team_rpc("team/groups/members/list/continue", {"cursor": cursor})
        except UpstreamNotFound:
            return []
        except (UpstreamPermissionDenied, UpstreamResponseError):
            return None
        except UpstreamError as exc:
            if exc.status_code in (400, 401):
                return None  # a user credential on a team route
            raise

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """A file's bytes from the content host: `files/download`, or for a Paper document
        `files/export` as Markdown (other files that cannot be downloaded: their default
        `export_as` format). The argument travels in `Dropbox-API-Arg`.

        Raises:
            NotDownloadable: a folder.
            UpstreamNotFound: no such file.
        """
        meta = await self._metadata(external_id)
        if meta is None:
            raise UpstreamNotFound(f"the Dropbox file {external_id!r} does not exist")
        if meta.get(".tag") != "file":
            raise NotDownloadable(f"{external_id!r} is a Dropbox folder")
        name = _str(meta, "name")
        arg: JSONObject = {"path": external_id}
        route = "files/download"
        if is_paper(meta):
            route, arg["export_format"] = "files/export", "markdown"
        elif meta.get("is_downloadable") is False:
            route = "files/export"
        request = self._ctx.http.build_request(
            "POST",
            f"{self._content_base}/{route}",
            headers={**(await self._user_headers()), "Dropbox-API-Arg": _arg_header(arg)},
        )
        async with map_transport_errors():
            response = await self._ctx.http.send(request, stream=True, auth=self._ctx.auth)
        if not response.is_success:
            try:
                async with map_transport_errors():
                    await response.aread()
                raise_for_dropbox(response)
                raise UpstreamResponseError(
                    f"Dropbox's content host answered HTTP {response.status_code}",
                    status_code=response.status_code,
                )
            finally:
                await response.aclose()
        return Download(
            media_type=mime_type_of(meta),
            filename=name,
            chunks=_mapped_chunks(response),
            close=response.aclose,
        )


async def _mapped_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async with map_transport_errors():
        async for chunk in response.aiter_bytes():
            yield chunk


async def identify(ctx: ConnectorContext) -> Identity:
    """The account's email and name (`users/get_current_account`; for a team-linked token,
    the member it acts as: `account.py`).

    Raises:
        UpstreamAuthError: Dropbox refused the token, even after one refresh.
    """
    account = await resolve_account(ctx, team_space=False)
    return Identity(email=account.email, name=account.name)


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: `folderId` names a folder in this Dropbox, and every `fileIds` entry a file.

    Raises:
        InvalidInput: naming `configuration.folderId` or `configuration.fileIds`.
    """
    if not isinstance(config, DropboxConfig):
        config = DropboxConfig.model_validate(config.model_dump(by_alias=True))
    base = f"{ctx.api_url.rstrip('/')}/2"
    headers: Mapping[str, str] = {}
    if config.org_wide_sync or "teamMemberId" in ctx.provider_data:
        headers = (await resolve_account(ctx, team_space=config.org_wide_sync)).headers

    async def metadata(path: str, key: str) -> JSONObject | None:
        nonlocal headers
        async with map_transport_errors():
            response = await ctx.http.post(
                f"{base}/files/get_metadata", json={"path": path}, headers=headers, auth=ctx.auth
            )
        if not headers and is_team_token_refusal(response):
            headers = (await resolve_account(ctx, team_space=False)).headers
            return await metadata(path, key)
        try:
            raise_for_dropbox(response)
        except UpstreamNotFound:
            return None
        except (UpstreamPermissionDenied, UpstreamResponseError) as exc:
            # A malformed path, one outside the account, or one this user may not read.
            raise invalid_configuration(key, f"{path}: {exc}") from exc
        return _json_object(response)

    if config.folder_id is not None:
        folder = await metadata(config.folder_id, "folderId")
        if folder is None:
            raise invalid_configuration(
                "folderId", f"{config.folder_id} does not exist in this Dropbox"
            )
        if folder.get(".tag") != "folder":
            raise invalid_configuration(
                "folderId", f"{config.folder_id} is a file: it must be a Dropbox folder"
            )
    for file_id in config.file_ids or ():
        item = await metadata(file_id, "fileIds")
        if item is not None and item.get(".tag") == "folder":
            raise invalid_configuration(
                "fileIds", f"{file_id} is a folder: use folderId for a folder tree"
            )


def _build(config: BaseModel, ctx: ConnectorContext) -> DropboxConnector:
    if not isinstance(config, DropboxConfig):
        config = DropboxConfig.model_validate(config.model_dump(by_alias=True))
    return DropboxConnector(config, ctx)


spec = ConnectorSpec(
    integration="dropbox",
    pipelines=frozenset({"files"}),
    config_model=DropboxConfig,
    default_api_url="https://api.dropboxapi.com",
    default_token_url="https://api.dropboxapi.com/oauth2/token",  # noqa: S106 - a URL
    default_auth_url="https://www.dropbox.com/oauth2/authorize",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        scopes=(
            "account_info.read",
            "files.metadata.read",
            "files.content.read",
            "sharing.read",
        ),
        pkce=True,
        # A refresh token comes only with `token_access_type=offline`.
        authorize_params={"token_access_type": "offline"},
    ),
    extra_urls={"content": DEFAULT_CONTENT_URL},
)
