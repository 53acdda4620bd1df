"""Reads one Box account: folder listings, the user event stream, file content, and who may
open each item (owners, collaborations, shared links, group members)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from functools import partial
from urllib.parse import quote

import httpx
import msgspec
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
from syncline.connectors.bodies import json_object, objects, text
from syncline.connectors.box.config import ROOT_FOLDER, BoxConfig
from syncline.connectors.box.errors import raise_for_box
from syncline.connectors.box.normalize import (
    ITEM_FIELDS,
    ITEM_TYPES,
    is_active,
    mime_type_of,
    normalize_item,
)
from syncline.connectors.box.permissions import item_grants, member_subject
from syncline.connectors.http import map_transport_errors
from syncline.domain.permissions import Access, Grant
from syncline.domain.records import ChangePage, ListPage, Unparsed, Upsert
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamNotFound,
    UpstreamPermissionDenied,
    UpstreamResponseError,
    UpstreamUnavailable,
)
from syncline.types import JSON, Checkpoint, JSONObject

_str = text
_objects = partial(objects, provider="Box")
_json_object = partial(json_object, provider="Box")


__all__ = ["BoxConnector", "check", "identify", "parse_listing", "spec"]

PAGE_SIZE = 1000
"""Items per folder page (Box's maximum for marker paging)."""
EVENTS_PAGE_SIZE = 500
"""Events per `GET /events` (Box's maximum)."""
COLLABORATIONS_PAGE_SIZE = 1000
MEMBERSHIPS_PAGE_SIZE = 1000
FILE_IDS_PER_PAGE = 50

_PATHS = {"file": "files", "folder": "folders", "web_link": "web_links"}


class _Entry(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    has_collaborations: bool | None = None


class _ListingHead(msgspec.Struct):
    """What the connector itself reads of a folder page: the marker, and which entries are
    folders (to list next) or have collaborations (to read); the rest is `parse_listing`'s."""

    entries: list[_Entry] = []
    next_marker: str | None = None


_HEAD = msgspec.json.Decoder(_ListingHead)


def _listing_head(response: httpx.Response) -> _ListingHead:
    try:
        return _HEAD.decode(response.content)
    except msgspec.DecodeError as exc:
        raise UpstreamResponseError(
            f"Box sent a folder page that does not parse: {exc}",
            status_code=response.status_code,
        ) from exc


def _keep(item: JSONObject, mime_types: frozenset[str] | None) -> bool:
    """In the sync: active, and (with `mimeTypes`) a folder or a file of one of the types."""
    if not is_active(item) or item.get("type") not in ITEM_TYPES:
        return False
    if mime_types is None or item.get("type") == "folder":
        return True
    return mime_type_of(item) in mime_types


def parse_listing(raw: bytes, mime_types: frozenset[str] | None = None) -> list[Upsert]:
    """The items of a folder page none of whose items has collaborations (run by the engine
    in a worker process: it needs nothing but the bytes, and `mimeTypes`).

    Raises:
        UpstreamResponseError: the body is not a JSON object, or its `entries` not a list.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamResponseError("Box sent a folder page that is not JSON") from exc
    if not isinstance(body, dict):
        raise UpstreamResponseError("Box sent JSON that is not an object")
    return [
        normalize_item(item, Access(item_grants(item), None))
        for item in _objects(body, "entries")
        if _keep(item, mime_types)
    ]


def _next_marker(marker: str | None, used: str | None) -> str | None:
    if not marker:
        return None  # the last page has no `next_marker` (or an empty or null one)
    if marker == used:
        raise UpstreamResponseError("Box returned the same next_marker twice")
    return marker


def _stream_position(body: JSONObject) -> str:
    """`next_stream_position`, an integer above 2**53 (kept exact: orjson reads it as an int)
    or a string; `now` is never stored."""
    value = body.get("next_stream_position")
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    raise UpstreamResponseError(f"Box sent an unusable next_stream_position {value!r}")


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(f"the listing checkpoint {checkpoint!r} does not fit this Box sync")


def _event_items(event: JSONObject) -> list[tuple[str, str]]:
    """The items (type, id) an event is about: its `source` when that is a file, folder or
    web link, or a collaboration's `item`. Others (groups, users) name none."""
    source = event.get("source")
    if not isinstance(source, dict):
        return []
    if source.get("type") == "collaboration":
        source = source.get("item")
        if not isinstance(source, dict):
            return []
    kind, item_id = source.get("type"), _str(source, "id")
    if kind not in ITEM_TYPES or item_id is None or item_id == ROOT_FOLDER:
        return []
    return [(str(kind), item_id)]


CAPABILITIES = Capabilities(
    changes=ChangeStrategy.FEED,
    deletions_in_feed=True,
    scopes=frozenset({"everything", "folder", "items"}),
    hierarchical=True,
    lists_children=True,
)
"""The user event stream (`stream_type=changes`) reports trashing; folders nest, and a
folder's items can be listed."""


class BoxConnector:
    """Lists, follows and downloads one user's Box items.

    Checkpoints: `{"folders": [id, ...], "marker": str | None}` for a folder tree or
    everything (the folders still to list, the first at `marker`); `{"index": int}` for
    `fileIds`.
    """

    def __init__(self, config: BoxConfig, ctx: ConnectorContext) -> None:
        self._config = config
        self._ctx = ctx
        self._base = f"{ctx.api_url.rstrip('/')}/2.0"
        folder = config.folder_id if config.folder_id != ROOT_FOLDER else None
        self._folder_id = folder
        self._scope = Scope(folder_id=folder, file_ids=frozenset(config.file_ids or ()))
        self._mime_types = frozenset(config.mime_types) if config.mime_types else None

    capabilities = CAPABILITIES

    @property
    def scope(self) -> Scope:
        return self._scope

    def _url(self, *segments: str) -> str:
        return "/".join([self._base, *(quote(segment, safe="") for segment in segments)])

    async def _send(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        async with map_transport_errors():
            return await self._ctx.http.get(url, params=params, auth=self._ctx.auth)

    async def _get(self, segments: Sequence[str], params: Mapping[str, str]) -> JSONObject:
        response = await self._send(self._url(*segments), params)
        raise_for_box(response)
        return _json_object(response)

    async def _item(self, kind: str, item_id: str) -> JSONObject:
        return await self._get([_PATHS[kind], item_id], {"fields": ITEM_FIELDS})

    # -- listing ------------------------------------------------------------------------------

    async def start_cursor(self) -> str:
        """The event stream's position of now (`stream_position=now`), taken before a listing."""
        body = await self._get(
            ["events"], {"stream_position": "now", "stream_type": "changes", "limit": "1"}
        )
        return _stream_position(body)

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every item in scope, page by page; see the class docstring for the checkpoints.

        Raises:
            CursorInvalid: Box refused the marker, or the checkpoint does not fit.
            UpstreamNotFound: the configured folder is gone or in the trash.
        """
        if self._config.file_ids is not None:
            return self._list_file_ids(self._config.file_ids, checkpoint)
        return self._list_tree(checkpoint)

    async def _list_tree(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Breadth first from the configured folder (itself the first record) or from "All
        Files" (not a record)."""
        marker: str | None = None
        if checkpoint is not None:
            pending, marker = _parse_checkpoint(checkpoint)
        elif self._folder_id is None:
            pending = [ROOT_FOLDER]
        else:
            root = await self._item("folder", self._folder_id)
            if not is_active(root):
                raise UpstreamNotFound(f"the Box folder {self._folder_id!r} is in the trash")
            pending = [self._folder_id]
            record = await self._upsert(root)
            yield ListPage(items=[record], checkpoint=_checkpoint(pending, None))

        queued = set(pending)
        while pending:
            params = {
                "usemarker": "true",
                "limit": str(PAGE_SIZE),
                "fields": ITEM_FIELDS,
            }
            if marker is not None:
                params["marker"] = marker
            response = await self._send(self._url("folders", pending[0], "items"), params)
            raise_for_box(response)
            head = _listing_head(response)
            marker = _next_marker(head.next_marker, marker)
            for entry in head.entries:
                if entry.type == "folder" and entry.id and entry.id not in queued:
                    queued.add(entry.id)
                    pending.append(entry.id)
            if marker is None:
                pending.pop(0)
            page_checkpoint = _checkpoint(pending, marker)
            if any(entry.has_collaborations for entry in head.entries):
                # Collaborations need a request per item: read them here.
                body = _json_object(response)
                items = [
                    await self._upsert(item)
                    for item in _objects(body, "entries")
                    if _keep(item, self._mime_types)
                ]
                yield ListPage(items=items, checkpoint=page_checkpoint)
            else:
                parse = partial(parse_listing, mime_types=self._mime_types)
                yield ListPage(
                    items=[],
                    checkpoint=page_checkpoint,
                    unparsed=Unparsed(parse, response.content),
                )

    async def _list_file_ids(
        self, file_ids: list[str], checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        start = 0
        if checkpoint is not None:
            index = checkpoint.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                raise _invalid_checkpoint(checkpoint)
            if not 0 <= index < len(file_ids):
                raise _invalid_checkpoint(checkpoint)
            start = index
        for first in range(start, len(file_ids), FILE_IDS_PER_PAGE):
            batch = file_ids[first : first + FILE_IDS_PER_PAGE]
            items: list[Upsert] = []
            for file_id in batch:
                item = await self._file_or_web_link(file_id)
                if item is not None and _keep(item, self._mime_types):
                    items.append(await self._upsert(item))
            reached = first + len(batch)
            yield ListPage(
                items=items,
                checkpoint={"index": reached} if reached < len(file_ids) else None,
            )

    async def _file_or_web_link(self, item_id: str) -> JSONObject | None:
        """A `fileIds` entry: a file, else a web link; None when neither exists (any more)."""
        for kind in ("file", "web_link"):
            try:
                return await self._item(kind, item_id)
            except UpstreamNotFound:
                continue
        return None

    async def children(self, folder_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` items in a folder (the first page of them): tells a folder the
        event stream shows bare (restored, copied, moved in) from an empty one."""
        body = await self._get(
            ["folders", folder_id, "items"],
            {"usemarker": "true", "limit": str(max(1, min(limit, PAGE_SIZE))), "fields": "id"},
        )
        return [i for e in _objects(body, "entries") if (i := _str(e, "id")) is not None][:limit]

    # -- changes ------------------------------------------------------------------------------

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor`, one page per chunk of the user event stream
        (`stream_type=changes`), until a chunk comes back empty.

        Box delivers events more than once, out of order and duplicated, so an event is only
        a hint: each item an event names is read again (once per chunk, events deduplicated
        by `event_id`) and recorded as it is now. An item that is trashed, deleted, or no
        longer visible (404) is a deletion; anything else an upsert, so an old event arriving
        late can neither resurrect nor invent a deletion. Each page's cursor is the chunk's
        `next_stream_position`.

        Raises:
            CursorInvalid: Box no longer keeps events that old; a full resync is needed.
        """
        position = cursor
        seen: set[str] = set()
        while True:
            body = await self._get(
                ["events"],
                {
                    "stream_type": "changes",
                    "stream_position": position,
                    "limit": str(EVENTS_PAGE_SIZE),
                },
            )
            next_position = _stream_position(body)
            touched: dict[str, str] = {}
            entries = _objects(body, "entries")
            for event in entries:
                event_id = _str(event, "event_id")
                if event_id is not None:
                    if event_id in seen:
                        continue
                    seen.add(event_id)
                for kind, item_id in _event_items(event):
                    touched.setdefault(item_id, kind)
            upserts, deletions = await self._current(touched)
            yield ChangePage(upserts=upserts, deletions=deletions, cursor=next_position)
            if not entries or next_position == position:
                return
            position = next_position

    async def _current(self, touched: Mapping[str, str]) -> tuple[list[Upsert], list[str]]:
        upserts: list[Upsert] = []
        deletions: list[str] = []
        for item_id, kind in touched.items():
            try:
                item = await self._item(kind, item_id)
            except UpstreamNotFound:
                deletions.append(item_id)  # deleted for good, trashed, or unshared
                continue
            if _keep(item, self._mime_types):
                upserts.append(await self._upsert(item))
            else:
                deletions.append(item_id)  # in the trash, or no longer of a chosen type
        return upserts, deletions

    # -- permissions --------------------------------------------------------------------------

    async def _upsert(self, item: JSONObject) -> Upsert:
        collaborations: list[JSONObject] = []
        kind = item.get("type")
        item_id = _str(item, "id")
        if item.get("has_collaborations") is True and kind in ("file", "folder") and item_id:
            # Deleted a moment ago (404): the event stream reports it.
            with contextlib.suppress(UpstreamNotFound):
                collaborations = await self._collaborations(str(kind), item_id)
        return normalize_item(item, Access(item_grants(item, collaborations), None))

    async def _collaborations(self, kind: str, item_id: str) -> list[JSONObject]:
        """Every collaboration on a file or folder, following `next_marker` when Box pages."""
        entries: list[JSONObject] = []
        marker: str | None = None
        while True:
            params = {"limit": str(COLLABORATIONS_PAGE_SIZE)}
            if marker is not None:
                params["marker"] = marker
            body = await self._get([_PATHS[kind], item_id, "collaborations"], params)
            entries += _objects(body, "entries")
            next_marker = body.get("next_marker")
            marker = _next_marker(next_marker if isinstance(next_marker, str) else None, marker)
            if marker is None:
                return entries

    async def container_grants(self, container_id: str) -> list[Grant]:
        """Box has no containers above folders (items say `container` None): nothing to read.

        Raises:
            UpstreamNotFound: always; no Box item names a container.
        """
        raise UpstreamNotFound(f"Box has no container {container_id!r}")

    async def group_members(self, group: str) -> list[str] | None:
        """A Box group's members (`GET /groups/{id}/memberships`, offset paging) as
        `user:<login>`; None when this user may not read them (Box lets only the group's
        members and admins), `[]` for a group that is gone."""
        subjects: list[str] = []
        offset = 0
        while True:
            response = await self._send(
                self._url("groups", group, "memberships"),
                {"limit": str(MEMBERSHIPS_PAGE_SIZE), "offset": str(offset)},
            )
            if response.status_code == 404:
                return []
            if response.status_code == 403:
                return None
            raise_for_box(response)
            body = _json_object(response)
            entries = _objects(body, "entries")
            subjects += [s for m in entries if (s := member_subject(m)) is not None]
            total = body.get("total_count")
            offset += len(entries)
            if not entries or not isinstance(total, int) or offset >= total:
                return subjects

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """A file's bytes: `GET /files/{id}/content` answers 302 to Box's download host, which
        is fetched without the bearer token (it is a signed URL).

        Raises:
            NotDownloadable: a folder or a web link (no bytes of their own).
            UpstreamNotFound: no such file.
            UpstreamUnavailable: 202, Box is still preparing the file.
        """
        try:
            meta = await self._get(["files", external_id], {"fields": "id,name,type"})
        except UpstreamNotFound:
            for kind in ("folder", "web_link"):
                try:
                    await self._get([_PATHS[kind], external_id], {"fields": "id"})
                except UpstreamNotFound:
                    continue
                raise NotDownloadable(f"{external_id!r} is a Box {kind}") from None
            raise
        name = _str(meta, "name")
        media_type = mime_type_of({"type": "file", "name": name or ""})
        request = self._ctx.http.build_request("GET", self._url("files", external_id, "content"))
        async with map_transport_errors():
            answer = await self._ctx.http.send(
                request, stream=True, auth=self._ctx.auth, follow_redirects=False
            )
        if answer.is_redirect and "location" in answer.headers:
            await answer.aclose()
            # A signed URL on Box's download host: no bearer token goes there.
            request = self._ctx.http.build_request("GET", answer.headers["location"])
            async with map_transport_errors():
                answer = await self._ctx.http.send(request, stream=True, follow_redirects=True)
        elif answer.status_code == 202:
            await answer.aclose()
            raise UpstreamUnavailable(
                f"Box is still preparing the file {external_id!r} for download", status_code=202
            )
        return await self._download(answer, media_type, name)

    async def _download(
        self, response: httpx.Response, media_type: str, name: str | None
    ) -> Download:
        if not response.is_success:
            try:
                async with map_transport_errors():
                    await response.aread()
                raise_for_box(response)
                raise UpstreamResponseError(
                    f"Box's download host answered HTTP {response.status_code}",
                    status_code=response.status_code,
                )
            finally:
                await response.aclose()
        return Download(
            media_type=media_type,
            filename=name,
            chunks=_mapped_chunks(response),
            close=response.aclose,
        )


async def _mapped_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async with map_transport_errors():
        async for chunk in response.aiter_bytes():
            yield chunk


def _checkpoint(pending: list[str], marker: str | None) -> Checkpoint | None:
    if not pending:
        return None
    folders: list[JSON] = list(pending)
    return {"folders": folders, "marker": marker}


def _parse_checkpoint(checkpoint: Checkpoint) -> tuple[list[str], str | None]:
    folders = checkpoint.get("folders")
    marker = checkpoint.get("marker")
    if (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(folder, str) and folder for folder in folders)
        or not (marker is None or isinstance(marker, str))
    ):
        raise _invalid_checkpoint(checkpoint)
    return [str(folder) for folder in folders], marker or None


async def identify(ctx: ConnectorContext) -> Identity:
    """The user's login and name (`GET /users/me`).

    Raises:
        UpstreamAuthError: Box refused the token, even after one refresh.
    """
    url = f"{ctx.api_url.rstrip('/')}/2.0/users/me"
    async with map_transport_errors():
        response = await ctx.http.get(url, params={"fields": "id,name,login"}, auth=ctx.auth)
    raise_for_box(response)
    body = _json_object(response)
    return Identity(email=_str(body, "login"), name=_str(body, "name"))


async def check(config: BaseModel, ctx: ConnectorContext) -> None:
    """At enable: `folderId` names a folder this user sees, and no `fileIds` entry names one.

    Raises:
        InvalidInput: naming `configuration.folderId` or `configuration.fileIds`.
    """
    if not isinstance(config, BoxConfig):
        config = BoxConfig.model_validate(config.model_dump(by_alias=True))
    base = f"{ctx.api_url.rstrip('/')}/2.0"

    async def exists(kind: str, item_id: str) -> JSONObject | None:
        async with map_transport_errors():
            response = await ctx.http.get(
                f"{base}/{_PATHS[kind]}/{quote(item_id, safe='')}",
                params={"fields": "id,type,item_status"},
                auth=ctx.auth,
            )
        if response.status_code == 404:
            return None
        try:
            raise_for_box(response)
        except UpstreamPermissionDenied as exc:
            raise invalid_configuration(
                "folderId" if kind == "folder" else "fileIds", str(exc)
            ) from exc
        return _json_object(response)

    if config.folder_id is not None and config.folder_id != ROOT_FOLDER:
        folder = await exists("folder", config.folder_id)
        if folder is None or not is_active(folder):
            why = "is a file" if await exists("file", config.folder_id) else "does not exist"
            raise invalid_configuration(
                "folderId", f"{config.folder_id} {why}: it must be a Box folder"
            )
    for file_id in config.file_ids or ():
        if (
            await exists("file", file_id) is None
            and await exists("web_link", file_id) is None
            and await exists("folder", file_id) is not None
        ):
            raise invalid_configuration(
                "fileIds", f"{file_id} is a folder: use folderId for a folder tree"
            )


def _build(config: BaseModel, ctx: ConnectorContext) -> BoxConnector:
    if not isinstance(config, BoxConfig):
        config = BoxConfig.model_validate(config.model_dump(by_alias=True))
    return BoxConnector(config, ctx)


spec = ConnectorSpec(
    integration="box",
    pipelines=frozenset({"files"}),
    config_model=BoxConfig,
    default_api_url="https://api.box.com",
    default_token_url="https://api.box.com/oauth2/token",  # noqa: S106 - a URL, not a secret
    default_auth_url="https://account.box.com/api/oauth2/authorize",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    check=check,
    oauth=OAuthFlow(
        # Box's scopes are the app's; `root_readonly` reads every file and folder.
        scopes=("root_readonly",),
        # Box's authorization-code flow documents no PKCE: nothing to send.
        pkce=False,
    ),
)
