"""Reads one Google Drive account: full listings, the change feed, file content and who may
open each item (permissions, shared-drive members, group members)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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
    MembershipChanges,
    OAuthFlow,
    Scope,
)
from syncline.connectors.bodies import json_object, objects, text
from syncline.connectors.googledrive.config import GoogleDriveConfig
from syncline.connectors.googledrive.errors import error_reasons, raise_for_drive
from syncline.connectors.googledrive.normalize import (
    FILE_FIELDS,
    FOLDER_MIME_TYPE,
    GOOGLE_APPS_PREFIX,
    SHORTCUT_MIME_TYPE,
    is_trashed,
    normalize_file,
)
from syncline.connectors.googledrive.permissions import (
    PERMISSION_FIELDS,
    direct_grants,
    grants_of,
    member_subject,
)
from syncline.connectors.http import map_transport_errors
from syncline.domain.permissions import Access, Grant
from syncline.domain.records import ChangePage, ListPage, Unparsed, Upsert
from syncline.errors import (
    CursorInvalid,
    NotDownloadable,
    UpstreamNotFound,
    UpstreamResponseError,
)
from syncline.types import JSON, Checkpoint, JSONObject

_str = text
_objects = partial(objects, provider="Google Drive")
_json_object = partial(json_object, provider="Google Drive")


__all__ = ["GoogleDriveConnector", "parse_listing", "spec"]

PAGE_SIZE = 1000
FILE_IDS_PER_PAGE = 50
"""How many `fileIds` one listing page fetches (one `files.get` each) before checkpointing."""

# Drive returns only what `fields` names: without the page tokens a listing silently stops
# after its first page, so keep them here next to the file fields.
LIST_FIELDS = f"nextPageToken,incompleteSearch,files({FILE_FIELDS})"
CHANGES_FIELDS = (
    "nextPageToken,newStartPageToken,"
    f"changes(changeType,removed,fileId,driveId,file({FILE_FIELDS}))"
)
PERMISSION_LIST_FIELDS = f"nextPageToken,permissions({PERMISSION_FIELDS})"
PERMISSIONS_PAGE_SIZE = 100
REPORTS_PAGE_SIZE = 1000
DIRECTORY_PAGE_SIZE = 200
# A 403 with one of these means this credential may not read the directory (no scope, not an
# admin): the group stays opaque. Other 403s (rate limits) go through `raise_for_drive`.
NO_DIRECTORY_REASONS = frozenset({"insufficientPermissions", "forbidden", "notAuthorized"})
DOWNLOAD_FIELDS = "id,name,mimeType,shortcutDetails(targetId,targetMimeType)"
ROOT_ALIAS = "root"
"""What Drive accepts for My Drive's folder id."""

# Native Google files have no bytes of their own; Paragon exports them to these formats.
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "application/vnd.google-apps.document": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    "application/vnd.google-apps.spreadsheet": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
    ),
    "application/vnd.google-apps.presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
    "application/vnd.google-apps.drawing": ("application/pdf", ".pdf"),
}

_ALL_DRIVES = {"supportsAllDrives": "true"}
_LIST_ALL_DRIVES = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}


class _ListingHead(msgspec.Struct):
    """What the connector itself reads of a listing page; the files are left to `parse_listing`."""

    nextPageToken: str | None = None  # noqa: N815 - Drive's field names
    incompleteSearch: bool | None = None  # noqa: N815


_HEAD = msgspec.json.Decoder(_ListingHead)
_SHARED_DRIVE_ITEM = b'"driveId"'
"""In a listing page's bytes: some item is in a shared drive (a false positive, such as a file
named so, only costs the page being parsed in the event loop's process)."""


def _listing_head(response: httpx.Response) -> JSONObject:
    """A `files.list` page's token and completeness, read without building its files (the
    decoder still checks that the whole body is JSON)."""
    try:
        head = _HEAD.decode(response.content)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise UpstreamResponseError(
            f"Google Drive sent a listing page that does not parse: {exc}",
            status_code=response.status_code,
        ) from exc
    return {"nextPageToken": head.nextPageToken, "incompleteSearch": head.incompleteSearch}


def parse_listing(raw: bytes) -> list[Upsert]:
    """The items of a `files.list` page of My Drive items, which carry their `permissions`
    (run by the engine in a worker process: it needs nothing but the bytes).

    Raises:
        UpstreamResponseError: the body is not a JSON object, or its `files` not a list.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamResponseError("Google Drive sent a listing page that is not JSON") from exc
    if not isinstance(body, dict):
        raise UpstreamResponseError("Google Drive sent JSON that is not an object")
    return [
        normalize_file(file, Access(direct_grants(_objects(file, "permissions")), None))
        for file in _objects(body, "files")
        if not is_trashed(file)
    ]


def _query_literal(value: str) -> str:
    """A string literal for Drive's `q` language."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _with_extension(name: str | None, extension: str) -> str | None:
    if name is None:
        return None
    return name if name.lower().endswith(extension) else f"{name}{extension}"


def _next_token(body: JSONObject, used: str | None) -> str | None:
    token = _str(body, "nextPageToken")
    if token is not None and token == used:
        # Following it would loop forever; fail loudly instead.
        raise UpstreamResponseError("Google Drive returned the same nextPageToken twice")
    return token


def _invalid_checkpoint(checkpoint: Checkpoint) -> CursorInvalid:
    return CursorInvalid(
        f"the listing checkpoint {checkpoint!r} does not fit this Google Drive configuration"
    )


CAPABILITIES = Capabilities(
    changes=ChangeStrategy.FEED,
    deletions_in_feed=True,
    scopes=frozenset({"everything", "folder", "items"}),
    hierarchical=True,
    lists_children=True,
)
"""`changes.list` is a native feed that reports removals and trashing; folders nest, and a
folder's children can be listed."""


class GoogleDriveConnector:
    """Lists, follows and downloads one account's Drive files (My Drive and shared drives).

    Checkpoints, by configuration:
    - everything: `{"pageToken": str}`, the `files.list` page to resume at;
    - `folderId`: `{"folders": [id, ...], "pageToken": str | None, "driveId": str | None}`, the
      folders still to list (the first one is in progress, at `pageToken`);
    - `fileIds`: `{"index": int}`, the position in `fileIds` to resume at.
    """

    def __init__(self, config: GoogleDriveConfig, ctx: ConnectorContext) -> None:
        self._config = config
        self._ctx = ctx
        self._origin = ctx.api_url.rstrip("/")
        self._base = f"{self._origin}/drive/v3"
        self._scope = Scope(folder_id=config.folder_id, file_ids=frozenset(config.file_ids or ()))
        self._member_ids: dict[str, frozenset[str]] = {}
        """Permission ids of each shared drive's members, as `container_grants` last read them."""

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
        raise_for_drive(response)
        return _json_object(response)

    async def _get_file(self, file_id: str, fields: str = FILE_FIELDS) -> JSONObject:
        return await self._get(["files", file_id], {**_ALL_DRIVES, "fields": fields})

    async def start_cursor(self) -> str:
        """The change-feed position of now (`changes.getStartPageToken`)."""
        body = await self._get(
            ["changes", "startPageToken"], {**_ALL_DRIVES, "fields": "startPageToken"}
        )
        token = _str(body, "startPageToken")
        if token is None:
            raise UpstreamResponseError("Google Drive sent no startPageToken")
        return token

    def list_all(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        """Every item in scope, page by page; see the class docstring for the checkpoints.

        Raises:
            CursorInvalid: Drive rejected the page token, or the checkpoint does not fit the
                configuration; the listing must start over.
        """
        if self._config.file_ids is not None:
            return self._list_file_ids(self._config.file_ids, checkpoint)
        if self._config.folder_id is not None:
            return self._list_folder_tree(self._config.folder_id, checkpoint)
        return self._list_everything(checkpoint)

    async def _list_everything(self, checkpoint: Checkpoint | None) -> AsyncIterator[ListPage]:
        token: str | None = None
        if checkpoint is not None:
            token = _str(checkpoint, "pageToken")
            if token is None:
                raise _invalid_checkpoint(checkpoint)
        while True:
            params = {
                **_LIST_ALL_DRIVES,
                "corpora": "allDrives",
                "q": "trashed = false",
                "pageSize": str(PAGE_SIZE),
                "fields": LIST_FIELDS,
            }
            if token is not None:
                params["pageToken"] = token
            response = await self._send(self._url("files"), params)
            raise_for_drive(response)
            raw = response.content
            if _SHARED_DRIVE_ITEM in raw:
                # Shared-drive items may need `permissions.list` calls: read them here.
                body = _json_object(response)
                items, unparsed = await self._page_items(body), None
            else:
                # My Drive items carry all they need: a worker parses them (`parse_listing`).
                body, items, unparsed = _listing_head(response), [], Unparsed(parse_listing, raw)
            # An empty page with a token is not the end: Drive may return those mid-listing.
            token = _next_token(body, token)
            yield ListPage(
                items=items,
                checkpoint={"pageToken": token} if token is not None else None,
                complete=body.get("incompleteSearch") is not True,
                unparsed=unparsed,
            )
            if token is None:
                return

    async def _list_folder_tree(
        self, folder_id: str, checkpoint: Checkpoint | None
    ) -> AsyncIterator[ListPage]:
        """Breadth first from `folder_id`, which is itself the first record."""
        pending: list[str]
        token: str | None
        drive_id: str | None
        if checkpoint is None:
            root = await self._get_file(folder_id)
            if is_trashed(root):
                raise UpstreamNotFound(f"the Google Drive folder {folder_id!r} is in the trash")
            record = await self._upsert(root)
            # Items of a shared drive are listed in that drive's corpus; My Drive in the user's.
            drive_id = _str(root, "driveId")
            pending = [record.external_id] if record.is_folder else []
            token = None
            yield ListPage(items=[record], checkpoint=_folder_checkpoint(pending, None, drive_id))
        else:
            pending, token, drive_id = _parse_folder_checkpoint(checkpoint)

        # Drive forbids cycles, but a folder may have several parents; list each one once per run.
        queued = set(pending)
        while pending:
            params = {
                **_LIST_ALL_DRIVES,
                "q": f"{_query_literal(pending[0])} in parents and trashed = false",
                "pageSize": str(PAGE_SIZE),
                "fields": LIST_FIELDS,
            }
            if drive_id is not None:
                params |= {"corpora": "drive", "driveId": drive_id}
            if token is not None:
                params["pageToken"] = token
            body = await self._get(["files"], params)
            token = _next_token(body, token)
            items = await self._page_items(body)
            for item in items:
                if item.is_folder and item.external_id not in queued:
                    queued.add(item.external_id)
                    pending.append(item.external_id)
            if token is None:
                pending.pop(0)
            yield ListPage(
                items=items,
                checkpoint=_folder_checkpoint(pending, token, drive_id),
                complete=body.get("incompleteSearch") is not True,
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
                try:
                    file = await self._get_file(file_id)
                except UpstreamNotFound:
                    continue  # deleted, or no longer shared with this account: simply absent
                if not is_trashed(file):
                    items.append(await self._upsert(file))
            reached = first + len(batch)
            yield ListPage(
                items=items,
                checkpoint={"index": reached} if reached < len(file_ids) else None,
            )

    async def children(self, folder_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` untrashed items in a folder (the first page of them).

        The change feed lists a folder that becomes visible (shared, moved in) without its
        contents; the engine asks this to tell such a folder from an empty new one.
        """
        ids: list[str] = []
        token: str | None = None
        while len(ids) < limit:
            params = {
                **_LIST_ALL_DRIVES,
                "q": f"{_query_literal(folder_id)} in parents and trashed = false",
                "pageSize": str(limit),
                "fields": "nextPageToken,files(id)",
            }
            if token is not None:
                params["pageToken"] = token
            body = await self._get(["files"], params)
            ids += [i for f in _objects(body, "files") if (i := _str(f, "id")) is not None]
            # Drive may send an empty page with a token mid-listing: follow it.
            token = _next_token(body, token)
            if token is None:
                break
        return ids[:limit]

    async def changes(self, cursor: str) -> AsyncIterator[ChangePage]:
        """What changed since `cursor` (`changes.list`), one page per Drive page.

        Removed and trashed files are deletions; shared-drive entries (`changeType: drive`) name
        their drive in `changed_containers` (its members may have changed). Each page's `cursor`
        is where to resume after it: the next page's token, or on the last page
        `newStartPageToken`.

        Raises:
            CursorInvalid: Drive rejected the cursor; a full resync is needed.
        """
        if self._scope.folder_id == ROOT_ALIAS:
            # The feed names My Drive by its real id: with the alias, the folder itself would
            # look out of scope (deleted, then brought back by the next full sync).
            root = _str(await self._get_file(ROOT_ALIAS, "id"), "id")
            if root is not None:
                self._scope = replace(self._scope, folder_id=root)
        token = cursor
        while True:
            body = await self._get(
                ["changes"],
                {
                    **_LIST_ALL_DRIVES,
                    "pageToken": token,
                    "pageSize": str(PAGE_SIZE),
                    "includeRemoved": "true",
                    "fields": CHANGES_FIELDS,
                },
            )
            next_token = _next_token(body, token)
            page_cursor = next_token or _str(body, "newStartPageToken")
            if page_cursor is None:
                raise UpstreamResponseError(
                    "Google Drive sent a change page without nextPageToken or newStartPageToken"
                )
            yield await self._change_page(body, page_cursor)
            if next_token is None:
                return
            token = next_token

    async def _change_page(self, body: JSONObject, cursor: str) -> ChangePage:
        """One `changes.list` page; repeats of a file collapse to the last one."""
        latest: dict[str, JSONObject | None] = {}  # None: deleted
        containers: dict[str, None] = {}  # ordered set
        for change in _objects(body, "changes"):
            if change.get("changeType") == "drive":
                # About a shared drive itself: no record, but its members may have changed.
                drive_id = _str(change, "driveId")
                if drive_id is not None:
                    containers[drive_id] = None
                    self._member_ids.pop(drive_id, None)
                continue
            file = change.get("file")
            file = file if isinstance(file, dict) else None
            file_id = _str(change, "fileId") or (_str(file, "id") if file is not None else None)
            if file_id is None:
                continue
            if change.get("removed") is True or (file is not None and is_trashed(file)):
                latest[file_id] = None
            elif file is not None:
                latest[file_id] = file  # the last change to a file in the page wins
        return ChangePage(
            upserts=[await self._upsert(file) for file in latest.values() if file is not None],
            deletions=[file_id for file_id, file in latest.items() if file is None],
            cursor=cursor,
            changed_containers=tuple(containers),
        )

    # -- permissions --------------------------------------------------------------------------

    async def _page_items(self, body: JSONObject) -> list[Upsert]:
        # `trashed = false` is in every query; the check guards against a stale index.
        return [
            await self._upsert(file) for file in _objects(body, "files") if not is_trashed(file)
        ]

    async def _upsert(self, file: JSONObject) -> Upsert:
        drive_id = _str(file, "driveId")
        if drive_id is None:
            # My Drive items carry their permissions: no extra request on the hot path.
            access = Access(direct_grants(_objects(file, "permissions")), None)
        else:
            access = Access(await self._shared_drive_item_grants(file, drive_id), drive_id)
        return normalize_file(file, access)

    async def _shared_drive_item_grants(self, file: JSONObject, drive_id: str) -> tuple[Grant, ...]:
        """Drive leaves `permissions` out of shared-drive items: ask `permissions.list` only
        when `permissionIds` names someone who is not a member of the drive."""
        file_id = _str(file, "id")
        ids = file.get("permissionIds")
        if file_id is None or not isinstance(ids, list):
            return ()
        members = await self._drive_member_ids(drive_id)
        if all(not isinstance(pid, str) or pid in members for pid in ids):
            return ()
        try:
            return direct_grants(await self._permission_list(file_id))
        except UpstreamNotFound:
            return ()  # deleted a moment ago: the change feed reports it

    async def _drive_member_ids(self, drive_id: str) -> frozenset[str]:
        if drive_id not in self._member_ids:
            try:
                await self.container_grants(drive_id)
            except UpstreamNotFound:
                # Not a member (the item was shared directly): every permission id is extra.
                self._member_ids[drive_id] = frozenset()
        return self._member_ids[drive_id]

    async def _permission_list(self, file_id: str) -> list[JSONObject]:
        """Every entry of `permissions.list` on an item or a shared drive, following pages."""
        entries: list[JSONObject] = []
        token: str | None = None
        while True:
            params = {
                **_ALL_DRIVES,
                "pageSize": str(PERMISSIONS_PAGE_SIZE),
                "fields": PERMISSION_LIST_FIELDS,
            }
            if token is not None:
                params["pageToken"] = token
            body = await self._get(["files", file_id, "permissions"], params)
            entries += _objects(body, "permissions")
            token = _next_token(body, token)
            if token is None:
                return entries

    async def container_grants(self, container_id: str) -> list[Grant]:
        """A shared drive's members as grants (`permissions.list` on the drive's id).

        Raises:
            UpstreamNotFound: the drive is gone, or this account is no longer a member.
        """
        entries = await self._permission_list(container_id)
        self._member_ids[container_id] = frozenset(
            pid for entry in entries if (pid := _str(entry, "id")) is not None
        )
        return list(grants_of(entries))

    async def group_members(self, group: str) -> list[str] | None:
        """A Google Group's direct members (`user:…`, `group:…`) from the Admin SDK Directory
        API; None when this credential may not read the directory, `[]` for an unknown group.

        Raises:
            UpstreamRateLimited, UpstreamUnavailable, ...: as `errors.raise_for_drive`.
        """
        url = f"{self._origin}/admin/directory/v1/groups/{quote(group, safe='@')}/members"
        subjects: list[str] = []
        token: str | None = None
        while True:
            params = {"maxResults": str(DIRECTORY_PAGE_SIZE)}
            if token is not None:
                params["pageToken"] = token
            response = await self._send(url, params)
            if response.status_code == 404:
                return []
            if response.status_code == 403 and NO_DIRECTORY_REASONS.intersection(
                error_reasons(response)
            ):
                return None
            raise_for_drive(response)
            body = _json_object(response)
            subjects += [s for m in _objects(body, "members") if (s := member_subject(m))]
            token = _next_token(body, token)
            if token is None:
                return subjects

    async def membership_changes(self, after: datetime | None) -> MembershipChanges | None:
        """Groups whose members changed after `after`, from the Admin Reports API's groups
        activities (`admin.reports.audit.readonly`); None without that scope. The feed comes
        newest first; with `after` None one activity is read, to learn where it stands.

        The Reports API can list an activity minutes late: one that arrives with a time before
        the position already passed is not seen here, and the group's age bound re-reads it.
        """
        url = f"{self._origin}/admin/reports/v1/activity/users/all/applications/groups"
        params = {"maxResults": "1" if after is None else str(REPORTS_PAGE_SIZE)}
        if after is not None:
            params["startTime"] = _rfc3339(after + timedelta(milliseconds=1))
        groups: set[str] = set()
        newest: datetime | None = None
        token: str | None = None
        while True:
            if token is not None:
                params["pageToken"] = token
            response = await self._send(url, params)
            if response.status_code == 403 and NO_DIRECTORY_REASONS.intersection(
                error_reasons(response)
            ):
                return None
            raise_for_drive(response)
            body = _json_object(response)
            for item in _objects(body, "items"):
                when = _activity_time(item)
                if when is None or (after is not None and when <= after):
                    continue
                newest = when if newest is None else max(newest, when)
                groups.update(_group_emails(item))
            token = _next_token(body, token)
            if token is None or after is None:
                return MembershipChanges(frozenset(groups), newest)

    # -- content ------------------------------------------------------------------------------

    async def download(self, external_id: str) -> Download:
        """The file's bytes; native Google files exported (Docs DOCX, Sheets XLSX, Slides PPTX,
        Drawings PDF), shortcuts followed to their target.

        Raises:
            NotDownloadable: a folder, or a native type with no export (Forms, Sites, Maps).
            UpstreamNotFound: the file, or a shortcut's target, is gone.
        """
        meta = await self._get_file(external_id, DOWNLOAD_FIELDS)
        if _str(meta, "mimeType") == SHORTCUT_MIME_TYPE:
            details = meta.get("shortcutDetails")
            target_id = _str(details, "targetId") if isinstance(details, dict) else None
            if target_id is None:
                raise NotDownloadable(f"the Google Drive shortcut {external_id!r} has no target")
            meta = await self._get_file(target_id, DOWNLOAD_FIELDS)
        file_id = _str(meta, "id") or external_id
        name = _str(meta, "name")
        mime_type = _str(meta, "mimeType") or "application/octet-stream"

        if mime_type == FOLDER_MIME_TYPE:
            raise NotDownloadable(f"{external_id!r} is a Google Drive folder")
        if mime_type in EXPORT_FORMATS:
            export_type, extension = EXPORT_FORMATS[mime_type]
            # files.export takes no supportsAllDrives (not in the discovery document); it
            # works on shared-drive files without it.
            return await self._stream(
                ["files", file_id, "export"],
                {"mimeType": export_type},
                media_type=export_type,
                filename=_with_extension(name, extension),
            )
        if mime_type.startswith(GOOGLE_APPS_PREFIX):
            raise NotDownloadable(f"Google Drive cannot export {mime_type} ({external_id!r})")
        return await self._stream(
            ["files", file_id],
            {**_ALL_DRIVES, "alt": "media"},
            media_type=mime_type,
            filename=name,
        )

    async def _stream(
        self,
        segments: Sequence[str],
        params: Mapping[str, str],
        *,
        media_type: str,
        filename: str | None,
    ) -> Download:
        request = self._ctx.http.build_request("GET", self._url(*segments), params=params)
        async with map_transport_errors():
            response = await self._ctx.http.send(
                request, stream=True, auth=self._ctx.auth, follow_redirects=True
            )
        if not response.is_success:
            try:
                async with map_transport_errors():
                    await response.aread()
                raise_for_drive(response)
            finally:
                await response.aclose()
        return Download(
            media_type=media_type,
            filename=filename,
            chunks=_mapped_chunks(response),
            close=response.aclose,
        )


async def _mapped_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body, with a connection dropped mid-stream reported as `UpstreamUnavailable`."""
    async with map_transport_errors():
        async for chunk in response.aiter_bytes():
            yield chunk


def _rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _activity_time(item: JSONObject) -> datetime | None:
    ident = item.get("id")
    raw = ident.get("time") if isinstance(ident, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _group_emails(item: JSONObject) -> set[str]:
    """The `group_email` parameters of an activity's events (lower-cased, as groups are kept)."""
    found: set[str] = set()
    for event in _objects(item, "events"):
        for parameter in _objects(event, "parameters"):
            value = parameter.get("value")
            if parameter.get("name") == "group_email" and isinstance(value, str) and value:
                found.add(value.lower())
    return found


def _folder_checkpoint(
    pending: list[str], token: str | None, drive_id: str | None
) -> Checkpoint | None:
    if not pending:
        return None
    folders: list[JSON] = list(pending)
    return {"folders": folders, "pageToken": token, "driveId": drive_id}


def _parse_folder_checkpoint(checkpoint: Checkpoint) -> tuple[list[str], str | None, str | None]:
    folders = checkpoint.get("folders")
    token = checkpoint.get("pageToken")
    drive_id = checkpoint.get("driveId")
    if (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(folder, str) and folder for folder in folders)
        or not (token is None or isinstance(token, str))
        or not (drive_id is None or isinstance(drive_id, str))
    ):
        raise _invalid_checkpoint(checkpoint)
    return [str(folder) for folder in folders], token or None, drive_id or None


async def identify(ctx: ConnectorContext) -> Identity:
    """The account's email and name (`about.get` with `fields=user`, Drive's cheapest call).

    Raises:
        UpstreamAuthError: Drive refused the token, even after one refresh.
        UpstreamPermissionDenied: the token lacks a Drive scope.
    """
    url = f"{ctx.api_url.rstrip('/')}/drive/v3/about"
    async with map_transport_errors():
        response = await ctx.http.get(url, params={"fields": "user"}, auth=ctx.auth)
    raise_for_drive(response)
    user = _json_object(response).get("user")
    user = user if isinstance(user, dict) else {}
    return Identity(email=_str(user, "emailAddress"), name=_str(user, "displayName"))


def _build(config: BaseModel, ctx: ConnectorContext) -> GoogleDriveConnector:
    if not isinstance(config, GoogleDriveConfig):
        config = GoogleDriveConfig.model_validate(config.model_dump(by_alias=True))
    return GoogleDriveConnector(config, ctx)


spec = ConnectorSpec(
    integration="googledrive",
    pipelines=frozenset({"files"}),
    config_model=GoogleDriveConfig,
    default_api_url="https://www.googleapis.com",
    default_token_url="https://oauth2.googleapis.com/token",  # noqa: S106 - a URL, not a secret
    default_auth_url="https://accounts.google.com/o/oauth2/v2/auth",
    build=_build,
    capabilities=CAPABILITIES,
    identify=identify,
    oauth=OAuthFlow(
        scopes=("https://www.googleapis.com/auth/drive.readonly",),
        pkce=True,
        # A refresh token comes only with offline access, and again only with a fresh consent.
        authorize_params={"access_type": "offline", "prompt": "consent"},
    ),
)
