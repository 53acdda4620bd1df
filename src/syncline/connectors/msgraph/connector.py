"""Reads one drive through Microsoft Graph v1.0: a SharePoint document library or a OneDrive.
Listings walk folders (`children`, which carry each item's path), the change feed is `delta`,
content comes through Graph's pre-authenticated download URL, and permissions from each
item's `permissions`, its library's, and Entra group members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel

from syncline.connectors.base import (
    Capabilities,
    ChangeStrategy,
    ConnectorContext,
    Download,
    Identity,
    Scope,
    invalid_configuration,
)
from syncline.connectors.http import map_transport_errors
from syncline.connectors.msgraph.config import OneDriveConfig, SharePointConfig
from syncline.connectors.msgraph.errors import error_code, raise_for_graph
from syncline.connectors.msgraph.normalize import (
    ITEM_SELECT,
    full_path,
    is_deleted,
    is_root,
    list_fields,
    normalize_item,
)
from syncline.connectors.msgraph.permissions import grants_of, group_key, is_inherited
from syncline.domain.permissions import Access, Grant, user_subject
from syncline.domain.records import ChangePage, ListPage, Upsert
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamResponseError,
)
from syncline.types import JSON, Checkpoint, JSONObject

__all__ = ["CAPABILITIES", "GraphConnector", "check", "identify"]

PAGE_SIZE = 200
"""`$top` of `children` pages (Graph's documented maximum for driveItems is 999)."""
FILE_IDS_PER_PAGE = 50
GROUP_SELECT = "id,mail,userPrincipalName"

CAPABILITIES = Capabilities(
    changes=ChangeStrategy.FEED,
    deletions_in_feed=True,
    scopes=frozenset({"everything", "site", "drive", "folder", "items"}),
    hierarchical=True,
    lists_children=True,
)
"""`delta` is a native feed with a `deleted` facet; folders nest, and `children` lists one."""

GraphConfig = SharePointConfig | OneDriveConfig


def _str(obj: Mapping[str, JSON] | None, key: str) -> str | None:
    value = obj.get(key) if obj is not None else None
    return value if isinstance(value, str) and value else None


def _obj(obj: Mapping[str, JSON], key: str) -> JSONObject | None:
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _items(body: JSONObject) -> list[JSONObject]:
    value = body.get("value")
    if value is None:
        return []
    if not isinstance(value, list):
        raise UpstreamResponseError("Microsoft Graph sent `value` that is not a list")
    return [item for item in value if isinstance(item, dict)]


def _json_object(response: httpx.Response) -> JSONObject:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise UpstreamResponseError(
            f"Microsoft Graph sent a body that is not JSON (HTTP {response.status_code})",
            status_code=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise UpstreamResponseError("Microsoft Graph sent JSON that is not an object")
    return body


def _next_link(body: JSONObject, used: str | None) -> str | None:
    link = _str(body, "@odata.nextLink")
    if link is not None and link == used:
        raise UpstreamResponseError("Microsoft Graph returned the same @odata.nextLink twice")
    return link


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit this drive")


@dataclass(frozen=True, slots=True)
class _Drive:
    id: str
    organization: str | None
    """The domain of the drive owner's email: who an `organization` sharing link reaches."""


class GraphConnector:
    """One drive of one account, through Graph.

    Checkpoints: everything and `folderId` listings keep `{"folders": [id, ...], "next": url}`:
    the folders still to list, a stack whose last one is in progress at the `@odata.nextLink`
    `next`. The walk is depth first, so the stack holds the unlisted siblings along one path,
    not every folder found so far; `fileIds` listings keep `{"index": int}`.
    """

    capabilities = CAPABILITIES

    def __init__(self, config: GraphConfig, ctx: ConnectorContext) -> None:
        self._config = config
        self._ctx = ctx
        self._base = f"{ctx.api_url.rstrip('/')}/v1.0"
        self._scope = Scope(folder_id=config.folder_id, file_ids=frozenset(config.file_ids or ()))
        self._sharepoint = isinstance(config, SharePointConfig)
        self._with_fields = isinstance(config, SharePointConfig) and config.include_list_item_fields
        self._mime_types = frozenset(config.mime_types or ())
        self._drive: _Drive | None = None
        self._folder_paths: dict[str, str] = {}
        """Full paths of folders looked up in this run, for items delta sends without one."""

    @property
    def scope(self) -> Scope:
        return self._scope

    # -- requests -----------------------------------------------------------------------------

    async def _send(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        target = url if url.startswith(("http://", "https://")) else self._base + url
        async with map_transport_errors():
            return await self._ctx.http.get(target, params=params, auth=self._ctx.auth)

    async def _get(self, url: str, params: Mapping[str, str] | None = None) -> JSONObject:
        response = await self._send(url, params)
        raise_for_graph(response)
        return _json_object(response)

    async def _resolve(self) -> _Drive:
        """The drive the configuration names: `driveId`, else the site's default library
        (SharePoint) or the user's own OneDrive."""
        if self._drive is None:
            params = {"$select": "id,owner"}
            if self._config.drive_id is not None:
                body = await self._get(f"/drives/{quote(self._config.drive_id, safe='')}", params)
            elif isinstance(self._config, SharePointConfig):
                body = await self._get(
                    f"/sites/{quote(self._config.site_id, safe='')}/drive", params
                )
            else:
                body = await self._get("/me/drive", params)
            drive_id = _str(body, "id")
            if drive_id is None:
                raise UpstreamResponseError("Microsoft Graph sent a drive without an id")
            owner = body.get("owner")
            user = owner.get("user") if isinstance(owner, dict) else None
            email = _str(user, "email") if isinstance(user, dict) else None
            self._drive = _Drive(drive_id, email.rpartition("@")[2].lower() if email else None)
        return self._drive

    def _item_params(self) -> dict[str, str]:
        params = {"$select": ITEM_SELECT}
        if self._with_fields:
            params["$expand"] = "listItem($expand=fields)"
        return params

    async def _drive_path(self) -> str:
        return f"/drives/{quote((await self._resolve()).id, safe='')}"

    # -- the change feed ----------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """The delta link of now (`root/delta?token=latest`): no items, just the position."""
        # The delta link keeps the query it was asked with: `$select` (and `$expand`) travel
        # with every link that follows, which are called verbatim.
        body = await self._get(
            f"{await self._drive_path()}/root/delta", {"token": "latest", **self._item_params()}
        )
        link = _str(body, "@odata.deltaLink")
        if link is None:
            raise UpstreamResponseError("Microsoft Graph sent no @odata.deltaLink for token=latest")
        return link

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since the delta link `cursor`, one page per Graph page. Each page's
        cursor is its `@odata.nextLink`, or on the last page the `@odata.deltaLink`.

        Delta lists each item's latest state (an item may repeat: the last one wins), parents
        may come after their children, and a moved folder comes without its descendants
        (`engine.hierarchy` reconciles those).

        Raises:
            CursorInvalid: 410 `resyncRequired`: a full resync is needed.
        """
        link: str | None = cursor
        while link is not None:
            body = await self._get(link)
            link = _next_link(body, link)
            page_cursor = link or _str(body, "@odata.deltaLink")
            if page_cursor is None:
                raise UpstreamResponseError(
                    "Microsoft Graph sent a delta page without a nextLink or a deltaLink"
                )
            yield await self._change_page(body, page_cursor)

    async def _change_page(self, body: JSONObject, cursor: str) -> ChangePage:
        latest: dict[str, JSONObject | None] = {}  # None: deleted
        for item in _items(body):
            item_id = _str(item, "id")
            if item_id is None or is_root(item):
                continue
            latest[item_id] = None if is_deleted(item) else item
        upserts: list[Upsert] = []
        deletions: list[str] = []
        for item_id, found in latest.items():
            if found is None:
                deletions.append(item_id)
                continue
            record = await self._upsert(found, need_path=True)
            if record is None:
                deletions.append(item_id)  # out of the MIME types asked for: leaves the sync
            else:
                upserts.append(record)
        return ChangePage(upserts=upserts, deletions=deletions, cursor=cursor)

    # -- listings -----------------------------------------------------------------------------

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every item in scope, page by page; see the class docstring for the checkpoints."""
        if self._config.file_ids is not None:
            return self._list_file_ids(self._config.file_ids, checkpoint)
        return self._list_tree(self._config.folder_id, checkpoint)

    async def _list_tree(
        self, folder_id: str | None, checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        """Depth first through `children`, from the root or from `folder_id` (itself the first
        record)."""
        drive = await self._drive_path()
        if checkpoint is None:
            if folder_id is None:
                pending, link = ["root"], None
            else:
                root = await self._get(
                    f"{drive}/items/{quote(folder_id, safe='')}", self._item_params()
                )
                if not isinstance(root.get("folder"), dict):
                    record = await self._upsert(root, need_path=False)
                    yield ListPage(items=[record] if record else [], checkpoint=None)
                    return
                record = await self._upsert(root, need_path=False)
                pending, link = [folder_id], None
                yield ListPage(items=[record] if record else [], checkpoint=_tree(pending, None))
        else:
            pending, link = _parse_tree(checkpoint)
        queued = set(pending)
        top = folder_id or "root"
        while pending:
            try:
                if link is None:
                    url = f"{drive}/items/{quote(pending[-1], safe='')}/children"
                    body = await self._get(url, {**self._item_params(), "$top": str(PAGE_SIZE)})
                else:
                    body = await self._get(link)
            except UpstreamNotFound:
                if pending[-1] == top:
                    raise  # the folder the sync covers is gone
                # Deleted while the listing walked the tree: the feed reports it, and a full
                # listing that skips it tombstones what it held.
                pending.pop()
                link = None
                yield ListPage(items=[], checkpoint=_tree(pending, None))
                continue
            link = _next_link(body, link)
            items: list[Upsert] = []
            for item in _items(body):
                if is_deleted(item):
                    continue
                record = await self._upsert(item, need_path=False)
                item_id = _str(item, "id")
                if isinstance(item.get("folder"), dict) and item_id and item_id not in queued:
                    queued.add(item_id)
                    pending.insert(len(pending) - 1, item_id)  # under the one in progress
                if record is not None:
                    items.append(record)
            if link is None:
                pending.pop()
            yield ListPage(items=items, checkpoint=_tree(pending, link))

    async def _list_file_ids(
        self, file_ids: list[str], checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        start = 0
        if checkpoint is not None:
            index = checkpoint.get("index")
            if (
                not isinstance(index, int)
                or isinstance(index, bool)
                or not 0 <= index < len(file_ids)
            ):
                raise _invalid_checkpoint(checkpoint)
            start = index
        drive = await self._drive_path()
        for first in range(start, len(file_ids), FILE_IDS_PER_PAGE):
            batch = file_ids[first : first + FILE_IDS_PER_PAGE]
            items: list[Upsert] = []
            for file_id in batch:
                try:
                    item = await self._get(
                        f"{drive}/items/{quote(file_id, safe='')}", self._item_params()
                    )
                except UpstreamNotFound:
                    continue  # deleted, or no longer shared with this account
                if not is_deleted(item) and (record := await self._upsert(item, need_path=False)):
                    items.append(record)
            reached = first + len(batch)
            yield ListPage(
                items=items, checkpoint={"index": reached} if reached < len(file_ids) else None
            )

    async def children(self, folder_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` items in a folder (the first page of them): the engine asks
        this of a folder the feed shows bare, to tell a moved-in folder from a new empty one."""
        drive = await self._drive_path()
        body = await self._get(
            f"{drive}/items/{quote(folder_id, safe='')}/children",
            {"$select": "id", "$top": str(limit)},
        )
        return [i for item in _items(body) if (i := _str(item, "id")) is not None][:limit]

    # -- records and permissions -------------------------------------------------------------

    async def _upsert(self, item: JSONObject, *, need_path: bool) -> Upsert | None:
        """The item's record, or None when it is a file outside the MIME types asked for."""
        file = item.get("file")
        if (
            self._mime_types
            and isinstance(file, dict)
            and file.get("mimeType") not in self._mime_types
        ):
            return None
        path = full_path(item) if self._sharepoint else None
        if self._sharepoint and path is None and need_path:
            # Delta leaves `parentReference.path` out: the parent folder's path, looked up
            # once per folder and run, gives it.
            parent_id, name = _str(_obj(item, "parentReference"), "id"), _str(item, "name")
            folder = None if parent_id is None else await self._folder_path(parent_id)
            if folder is not None and name is not None:
                path = f"{folder}/{name}"
        grants: tuple[Grant, ...] = ()
        if isinstance(item.get("shared"), dict) and (item_id := _str(item, "id")):
            grants = await self._own_grants(item_id)
        access = Access(grants, (await self._resolve()).id)
        return normalize_item(
            item,
            full_path=path,
            fields=list_fields(item) if self._with_fields else None,
            access=access,
        )

    async def _folder_path(self, folder_id: str) -> str | None:
        """`/drives/{id}/root:/a/b` of a folder (`/drives/{id}/root:` for the root); None when
        the folder was deleted a moment ago (the feed reports that)."""
        if folder_id not in self._folder_paths:
            drive = await self._drive_path()
            try:
                folder = await self._get(
                    f"{drive}/items/{quote(folder_id, safe='')}",
                    {"$select": "id,name,parentReference,root"},
                )
            except UpstreamNotFound:
                return None
            own = full_path(folder)
            if is_root(folder) or own is None:
                own = f"/drives/{(await self._resolve()).id}/root:"
            self._folder_paths[folder_id] = own
        return self._folder_paths[folder_id]

    async def _permissions(self, item_path: str) -> list[JSONObject]:
        entries: list[JSONObject] = []
        link: str | None = None
        while True:
            body = await self._get(link or f"{item_path}/permissions")
            entries += _items(body)
            link = _next_link(body, link)
            if link is None:
                return entries

    async def _own_grants(self, item_id: str) -> tuple[Grant, ...]:
        """What the item grants itself: its permissions without `inheritedFrom`; none when it
        was deleted a moment ago (the feed reports that)."""
        drive = await self._resolve()
        try:
            entries = await self._permissions(
                f"{await self._drive_path()}/items/{quote(item_id, safe='')}"
            )
        except UpstreamNotFound:
            return ()
        own = [p for p in entries if not is_inherited(p)]
        return grants_of(own, organization=drive.organization)

    async def container_grants(self, container_id: str) -> list[Grant]:
        """Who reaches everything in the drive: the permissions of its root folder (for a
        SharePoint library, the site's owners, members and visitors groups).

        Raises:
            UpstreamNotFound: the drive is gone or no longer visible.
        """
        drive = await self._resolve()
        entries = await self._permissions(f"/drives/{quote(container_id, safe='')}/root")
        return list(grants_of(entries, organization=drive.organization))

    async def group_members(self, group: str) -> list[str] | None:
        """An Entra group's direct members (`user:…`, `group:…`); None when the credential may
        not read them (no `GroupMember.Read.All`), or for a SharePoint site group, whose members
        Graph does not list; `[]` for a group that is gone."""
        if not _looks_like_guid(group):
            return None  # a SharePoint site group: its members live in SharePoint, not Entra
        subjects: list[str] = []
        link: str | None = None
        while True:
            response = await self._send(
                link or f"/groups/{quote(group, safe='')}/members",
                None if link else {"$select": GROUP_SELECT},
            )
            if response.status_code == 404:
                return []
            if response.status_code == 403 or error_code(response) == "Authorization_RequestDenied":
                return None
            raise_for_graph(response)
            body = _json_object(response)
            for member in _items(body):
                kind = _str(member, "@odata.type") or ""
                member_id = _str(member, "id")
                if kind.endswith("group") and member_id is not None:
                    subjects.append(group_key(member_id))
                elif (
                    email := _str(member, "mail") or _str(member, "userPrincipalName")
                ) is not None:
                    subjects.append(user_subject(email))
            link = _next_link(body, link)
            if link is None:
                return subjects

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """The file's bytes: `content` answers 302 with a short-lived, pre-authenticated URL,
        which is fetched without the bearer token (it must not leave Graph).

        Raises:
            NotDownloadable: a folder.
            UpstreamNotFound: the item is gone.
        """
        drive = await self._drive_path()
        item_path = f"{drive}/items/{quote(external_id, safe='')}"
        meta = await self._get(item_path, {"$select": "id,name,file,folder,package"})
        if not isinstance(meta.get("file"), dict):
            raise NotDownloadable(f"{external_id!r} is a folder, not a file")
        file = meta["file"]
        media_type = (_str(file, "mimeType") if isinstance(file, dict) else None) or (
            "application/octet-stream"
        )
        async with map_transport_errors():
            answer = await self._ctx.http.get(
                self._base + item_path + "/content", auth=self._ctx.auth, follow_redirects=False
            )
        if answer.is_redirect and "location" in answer.headers:
            request = self._ctx.http.build_request("GET", answer.headers["location"])
            async with map_transport_errors():
                response = await self._ctx.http.send(request, stream=True, follow_redirects=True)
        else:
            raise_for_graph(answer)
            request = self._ctx.http.build_request("GET", self._base + item_path + "/content")
            async with map_transport_errors():
                response = await self._ctx.http.send(request, stream=True, auth=self._ctx.auth)
        if not response.is_success:
            try:
                async with map_transport_errors():
                    await response.aread()
                raise_for_graph(response)
            finally:
                await response.aclose()
        return Download(
            media_type=media_type,
            filename=_str(meta, "name"),
            chunks=_chunks(response),
            close=response.aclose,
        )


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async with map_transport_errors():
        async for chunk in response.aiter_bytes():
            yield chunk


def _looks_like_guid(value: str) -> bool:
    parts = value.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdef" for c in value.lower().replace("-", "")
    )


def _tree(pending: list[str], link: str | None) -> Checkpoint | None:
    if not pending:
        return None
    folders: list[JSON] = list(pending)
    return {"folders": folders, "next": link}


def _parse_tree(checkpoint: Checkpoint) -> tuple[list[str], str | None]:
    folders, link = checkpoint.get("folders"), checkpoint.get("next")
    if (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(f, str) and f for f in folders)
        or not (link is None or isinstance(link, str))
    ):
        raise _invalid_checkpoint(checkpoint)
    return [str(f) for f in folders], link or None


async def identify(ctx: ConnectorContext) -> Identity:
    """The signed-in account (`GET /me`): its email, or its user principal name."""
    url = f"{ctx.api_url.rstrip('/')}/v1.0/me"
    async with map_transport_errors():
        response = await ctx.http.get(
            url, params={"$select": "mail,userPrincipalName,displayName"}, auth=ctx.auth
        )
    raise_for_graph(response)
    body = _json_object(response)
    return Identity(
        email=_str(body, "mail") or _str(body, "userPrincipalName"),
        name=_str(body, "displayName"),
    )


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: the site and drive the configuration names exist for this account.

    Raises:
        InvalidInput: `siteId` or `driveId` is unknown to Graph, or the account may not read it.
    """
    base = f"{ctx.api_url.rstrip('/')}/v1.0"

    async def read(key: str, url: str, params: Mapping[str, str] | None = None) -> JSONObject:
        async with map_transport_errors():
            response = await ctx.http.get(url, params=params, auth=ctx.auth)
        try:
            raise_for_graph(response)
        except (UpstreamNotFound, UpstreamPermissionDenied) as exc:
            raise invalid_configuration(key, str(exc)) from exc
        except UpstreamResponseError as exc:
            if exc.status_code == 400:  # a malformed id
                raise invalid_configuration(key, str(exc)) from exc
            raise
        return _json_object(response)

    if isinstance(config, SharePointConfig):
        site = f"{base}/sites/{quote(config.site_id, safe='')}"
        await read("siteId", site, {"$select": "id"})
        if config.drive_id is not None:
            # The drive must be one of this site's libraries, not any drive the account reads.
            url: str | None = f"{site}/drives"
            params: Mapping[str, str] | None = {"$select": "id"}
            drive_ids: set[str] = set()
            while url is not None:
                body = await read("driveId", url, params)
                params = None  # a nextLink carries its query
                drive_ids |= {i for d in _items(body) if (i := _str(d, "id")) is not None}
                url = _str(body, "@odata.nextLink")
            if config.drive_id not in drive_ids:
                raise invalid_configuration(
                    "driveId", f"the site {config.site_id} has no drive {config.drive_id}"
                )
    elif isinstance(config, OneDriveConfig) and config.drive_id is not None:
        await read("driveId", f"{base}/drives/{quote(config.drive_id, safe='')}", {"$select": "id"})
