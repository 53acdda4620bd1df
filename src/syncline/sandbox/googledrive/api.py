"""Drive v3 endpoints: files.list/get/export, permissions.list, changes, drives.list, about."""

from __future__ import annotations

import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.googledrive.auth import DRIVE_SCOPES
from syncline.sandbox.googledrive.errors import (
    DriveError,
    auth_error,
    bad_value,
    error,
    insufficient_scopes,
    not_found,
)
from syncline.sandbox.googledrive.export import EXPORT_FORMATS, export_bytes
from syncline.sandbox.googledrive.fields import Mask, parse_fields
from syncline.sandbox.googledrive.model import DriveFile
from syncline.sandbox.googledrive.params import flag, json_response, mask, page_size, required
from syncline.sandbox.googledrive.query import QueryError, parse_query
from syncline.sandbox.googledrive.render import (
    ABOUT,
    CHANGE_LIST,
    DRIVE_LIST,
    FILE,
    FILE_LIST,
    PERMISSION_LIST,
    START_TOKEN,
    Getter,
    RenderContext,
    project,
    render_change,
    render_drive,
    render_file,
    render_permissions,
    user_json,
)
from syncline.sandbox.googledrive.state import ChangeView, DriveState
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.types import JSON

__all__ = ["LISTING_FAULTS", "LISTING_FAULT_STATE", "DriveApi", "authenticate"]

LISTING_FAULTS = frozenset({"incomplete", "truncated"})
"""Faults that shape a `files.list` page rather than replace the response."""
LISTING_FAULT_STATE = "sandbox_listing_fault"
"""Key of `scope["state"]` where the fault layer leaves a listing fault for the handler."""

# What Drive v3 returns when the caller names no `fields`.
_DEFAULT_FILE = parse_fields("kind,id,name,mimeType")
_DEFAULT_FILE_LIST = parse_fields(
    "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)"
)
_DEFAULT_CHANGE_LIST = parse_fields(
    "kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,fileId,"
    "file(kind,id,name,mimeType),driveId,drive(kind,id,name))"
)
_DEFAULT_PERMISSION_LIST = parse_fields(
    "kind,nextPageToken,permissions(kind,id,type,emailAddress,domain,role,allowFileDiscovery)"
)
_DEFAULT_DRIVE_LIST = parse_fields("kind,nextPageToken,drives(kind,id,name)")
_ALL: Mask = {"*": None}

_BEARER = re.compile(r"Bearer\s+(\S+)", re.IGNORECASE)


def authenticate(state: DriveState, request: Request) -> tuple[str, frozenset[str]]:
    """(user, scopes) of the request's bearer token (or `access_token` parameter), else 401."""
    header = request.headers.get("authorization", "")
    match = _BEARER.fullmatch(header.strip())
    token = match.group(1) if match else request.query_params.get("access_token")
    grant = state.grants.grant_for(token) if token else None
    if grant is None:
        raise auth_error()
    return grant


def _scan_budget(want: int) -> int:
    """Index entries one list call may walk: bounds a page's cost when few items match.

    Stopping early yields a short or empty page with a next token, which Drive also does.
    """
    return max(10_000, 20 * want)


class DriveApi:
    """Request handlers bound to one `DriveState`."""

    def __init__(self, state: DriveState) -> None:
        self.state = state
        self.tokens = PageTokens()

    def routes(self) -> list[Route]:
        """Starlette routes for every endpoint."""
        return [
            Route("/drive/v3/about", self.about),
            Route("/drive/v3/files", self.files_list),
            Route("/drive/v3/files/{file_id}", self.files_get),
            Route("/drive/v3/files/{file_id}/export", self.files_export),
            Route("/drive/v3/files/{file_id}/permissions", self.permissions_list),
            Route("/drive/v3/changes/startPageToken", self.start_page_token),
            Route("/drive/v3/changes", self.changes_list),
            Route("/drive/v3/drives", self.drives_list),
            Route("/feeds/download/{kind}/Export", self.export_link),
        ]

    # -- helpers -------------------------------------------------------------------------

    def _context(self, request: Request) -> RenderContext:
        user, scopes = authenticate(self.state, request)
        if not DRIVE_SCOPES.intersection(scopes):
            raise insufficient_scopes()
        return RenderContext(self.state, user, str(request.base_url).rstrip("/"))

    def _file(self, request: Request, ctx: RenderContext, *, all_drives: bool) -> DriveFile:
        file_id = request.path_params["file_id"]
        f = self.state.lookup(file_id, ctx.user, all_drives=all_drives)
        if f is None:
            raise not_found(file_id)
        return f

    def _position(self, token: str | None, scope: str) -> JSON:
        """Decode a pageToken minted for the same query, else Drive's 400."""
        if token is None:
            return None
        payload = self.tokens.decode(token)
        if payload is None or payload.get("scope") != scope:
            raise bad_value("pageToken")
        return payload.get("at")

    def _check_drive(self, drive_id: str, user: str) -> None:
        drive = self.state.drive(drive_id)
        if drive is None or not self.state.is_member(drive, user):
            raise error(404, "notFound", f"Shared drive not found: {drive_id}", location="driveId")

    # -- files -----------------------------------------------------------------------------

    async def files_list(self, request: Request) -> Response:
        """`files.list`."""
        ctx = self._context(request)
        params = request.query_params
        selected = mask(params, _DEFAULT_FILE_LIST, FILE_LIST)
        want = page_size(params, maximum=1000, default=100) or 100
        supports = flag(params, "supportsAllDrives", "supportsTeamDrives")
        include = flag(params, "includeItemsFromAllDrives", "includeTeamDriveItems")
        corpora = params.get("corpora", "user")
        drive_id = params.get("driveId") or params.get("teamDriveId")
        if corpora not in ("user", "domain", "drive", "allDrives"):
            raise bad_value("corpora")
        if (corpora == "drive") != (drive_id is not None):
            raise error(
                400,
                "teamDriveIdRequiresTeamDriveCorpora",
                "The driveId parameter must be specified if and only if corpora is set to drive.",
            )
        if corpora in ("drive", "allDrives") and not (supports and include):
            raise _include_items_required()
        text = params.get("q", "").strip()
        scope = hashlib.sha256(
            repr((ctx.user, text, corpora, drive_id, supports, include)).encode()
        ).hexdigest()[:16]
        at = self._position(params.get("pageToken"), scope)
        with self.state.lock:
            if drive_id is not None:
                self._check_drive(drive_id, ctx.user)
            try:
                query = parse_query(text, self.state.resolve_alias(ctx.user)) if text else None
            except QueryError as exc:
                raise bad_value("q") from exc
            start, served_empty = _list_start(at)
            if self.state.empty_pages and not served_empty:
                files: list[DriveFile] = []
                after: tuple[int, int] | None = start
                served_empty = True
            else:
                files, after = self.state.list_files(
                    ctx.user,
                    matches=query.matches if query else _everything,
                    folders=query.folders if query else None,
                    drive_id=drive_id,
                    include_drives=supports and include,
                    start=start,
                    want=want,
                    budget=_scan_budget(want),
                )
                served_empty = False
            fault = request.scope.get("state", {}).get(LISTING_FAULT_STATE)
            if fault == "incomplete":
                # Drive could not search every corpus: the shared drives' items are missing.
                files = [f for f in files if f.drive_id is None]
            elif fault == "truncated":
                after = None  # the search gave up here: no next page
            incomplete = self.state.incomplete_search or fault in LISTING_FAULTS
            next_token = (
                None
                if after is None
                else self.tokens.encode({"scope": scope, "at": [*after, served_empty]})
            )
            getters: dict[str, Getter[None]] = {
                "kind": lambda o, c, m: "drive#fileList",
                "nextPageToken": lambda o, c, m: next_token,
                "incompleteSearch": lambda o, c, m: incomplete,
                "files": lambda o, c, m: [render_file(f, c, m) for f in files],
            }
            body = project(None, ctx, selected, getters, nested=("files",))
        return json_response(body)

    async def files_get(self, request: Request) -> Response:
        """`files.get`: metadata, or the bytes with `alt=media`."""
        ctx = self._context(request)
        params = request.query_params
        alt = params.get("alt", "json")
        if alt not in ("json", "media"):
            raise bad_value("alt")
        selected = mask(params, _DEFAULT_FILE, FILE)
        all_drives = flag(params, "supportsAllDrives", "supportsTeamDrives")
        with self.state.lock:
            f = self._file(request, ctx, all_drives=all_drives)
            if alt == "json":
                return json_response(render_file(f, ctx, selected))
            content, mime_type = f.content, f.mime_type
        if f.is_apps or content is None:
            raise error(
                403,
                "fileNotDownloadable",
                "Only files with binary content can be downloaded. Use Export with Docs Editors "
                "files.",
                location="alt",
            )
        return _ranged(request, content, mime_type)

    async def files_export(self, request: Request) -> Response:
        """`files.export` (capped at `export_limit_bytes`, as Drive caps at 10 MB)."""
        ctx = self._context(request)
        target = required(request.query_params, "mimeType")
        with self.state.lock:
            f = self._file(request, ctx, all_drives=True)
            data = self._export(f, target)
        if len(data) > self.state.export_limit_bytes:
            raise error(403, "exportSizeLimitExceeded", "This file is too large to be exported.")
        return Response(data, media_type=target)

    async def export_link(self, request: Request) -> Response:
        """The target of `exportLinks`: like export, without the size cap."""
        ctx = self._context(request)
        file_id = required(request.query_params, "id")
        ext = required(request.query_params, "exportFormat")
        with self.state.lock:
            f = self.state.lookup(file_id, ctx.user, all_drives=True)
            if f is None:
                raise not_found(file_id)
            formats = EXPORT_FORMATS.get(f.mime_type, {})
            target = next((mime for mime, name in formats.items() if name == ext), ext)
            data = self._export(f, target)
        return Response(data, media_type=target)

    @staticmethod
    def _export(f: DriveFile, target: str) -> bytes:
        formats = EXPORT_FORMATS.get(f.mime_type)
        if not formats:
            raise error(403, "fileNotExportable", "Export only supports Docs Editors files.")
        if target not in formats:
            raise error(
                400,
                "badRequest",
                "The requested conversion is not supported.",
                location="convertTo",
            )
        text = (f.content or b"").decode("utf-8", "replace")
        return export_bytes(f.mime_type, target, text)

    async def permissions_list(self, request: Request) -> Response:
        """`permissions.list`, also on a shared drive's id (its members).

        Without `pageSize`, a shared-drive item pages by 100 and a My Drive item returns
        everything, as Drive documents.
        """
        ctx = self._context(request)
        params = request.query_params
        selected = mask(params, _DEFAULT_PERMISSION_LIST, PERMISSION_LIST)
        want = page_size(params, maximum=100, default=None)
        all_drives = flag(params, "supportsAllDrives", "supportsTeamDrives")
        with self.state.lock:
            f = self._file(request, ctx, all_drives=all_drives)
            at = self._position(params.get("pageToken"), f"perm:{f.id}")
            start = at if isinstance(at, int) else 0
            perms = render_permissions(f, ctx)
        if want is None:
            want = 100 if f.drive_id else max(1, len(perms))
        page = perms[start : start + want]
        more = start + want < len(perms)
        next_token = (
            self.tokens.encode({"scope": f"perm:{f.id}", "at": start + want}) if more else None
        )
        getters: dict[str, Getter[None]] = {
            "kind": lambda o, c, m: "drive#permissionList",
            "nextPageToken": lambda o, c, m: next_token,
            "permissions": lambda o, c, m: page,
        }
        return json_response(project(None, ctx, selected, getters))

    # -- changes ---------------------------------------------------------------------------

    async def start_page_token(self, request: Request) -> Response:
        """`changes.getStartPageToken`: tokens are log positions and never expire."""
        ctx = self._context(request)
        selected = mask(request.query_params, _ALL, START_TOKEN)
        drive_id = request.query_params.get("driveId")
        with self.state.lock:
            if drive_id is not None:
                self._check_drive(drive_id, ctx.user)
            token = str(len(self.state.changes) + 1)
        getters: dict[str, Getter[None]] = {
            "kind": lambda o, c, m: "drive#startPageToken",
            "startPageToken": lambda o, c, m: token,
        }
        return json_response(project(None, ctx, selected, getters))

    async def changes_list(self, request: Request) -> Response:
        """`changes.list`: oldest first; `nextPageToken` xor `newStartPageToken`."""
        ctx = self._context(request)
        params = request.query_params
        raw = required(params, "pageToken")
        selected = mask(params, _DEFAULT_CHANGE_LIST, CHANGE_LIST)
        want = page_size(params, maximum=1000, default=100) or 100
        include_removed = flag(params, "includeRemoved") if "includeRemoved" in params else True
        include_drives = flag(params, "supportsAllDrives", "supportsTeamDrives") and flag(
            params, "includeItemsFromAllDrives", "includeTeamDriveItems"
        )
        drive_id = params.get("driveId") or params.get("teamDriveId")
        if drive_id is not None and not include_drives:
            raise _include_items_required()
        restrict = flag(params, "restrictToMyDrive")
        with self.state.lock:
            end = len(self.state.changes)
            if not raw.isdigit() or not 1 <= int(raw) <= end + 1:
                raise bad_value("pageToken")
            if drive_id is not None:
                self._check_drive(drive_id, ctx.user)
            start = int(raw) - 1
            if start < end and self.state.serve_empty_first(start):
                views: list[ChangeView] = []
                after = start
            else:
                views, after = self.state.read_changes(
                    ctx.user,
                    start=start,
                    want=want,
                    budget=_scan_budget(want),
                    include_removed=include_removed,
                    include_drives=include_drives,
                    drive_id=drive_id,
                    restrict_to_my_drive=restrict,
                )
            at_end = after >= end
            getters: dict[str, Getter[None]] = {
                "kind": lambda o, c, m: "drive#changeList",
                "nextPageToken": lambda o, c, m: None if at_end else str(after + 1),
                "newStartPageToken": lambda o, c, m: str(end + 1) if at_end else None,
                "changes": lambda o, c, m: [render_change(v, c, m) for v in views],
            }
            body = project(None, ctx, selected, getters, nested=("changes",))
        return json_response(body)

    # -- drives and about --------------------------------------------------------------------

    async def drives_list(self, request: Request) -> Response:
        """`drives.list`: shared drives the caller is a member of."""
        ctx = self._context(request)
        params = request.query_params
        selected = mask(params, _DEFAULT_DRIVE_LIST, DRIVE_LIST)
        want = page_size(params, maximum=100, default=10) or 10
        at = self._position(params.get("pageToken"), f"drives:{ctx.user}")
        start = at if isinstance(at, int) else 0
        with self.state.lock:
            drives = self.state.drives_of(ctx.user)
        page = drives[start : start + want]
        more = start + want < len(drives)
        next_token = (
            self.tokens.encode({"scope": f"drives:{ctx.user}", "at": start + want})
            if more
            else None
        )
        getters: dict[str, Getter[None]] = {
            "kind": lambda o, c, m: "drive#driveList",
            "nextPageToken": lambda o, c, m: next_token,
            "drives": lambda o, c, m: [render_drive(d, c, m) for d in page],
        }
        return json_response(project(None, ctx, selected, getters, nested=("drives",)))

    async def about(self, request: Request) -> Response:
        """`about.get`: Drive requires `fields` here."""
        ctx = self._context(request)
        if not request.query_params.get("fields"):
            raise error(
                400,
                "required",
                "The 'fields' parameter is required for this method.",
                location="fields",
            )
        selected = mask(request.query_params, _ALL, ABOUT)
        getters: dict[str, Getter[None]] = {
            "kind": lambda o, c, m: "drive#about",
            "user": lambda o, c, m: user_json(c.user, c.user),
            "storageQuota": lambda o, c, m: {
                "limit": "16106127360",
                "usage": "0",
                "usageInDrive": "0",
                "usageInDriveTrash": "0",
            },
            "exportFormats": lambda o, c, m: {
                source: list(targets) for source, targets in EXPORT_FORMATS.items()
            },
            "importFormats": lambda o, c, m: {},
            "maxUploadSize": lambda o, c, m: "5242880000000",
            "appInstalled": lambda o, c, m: False,
            "canCreateDrives": lambda o, c, m: True,
        }
        return json_response(project(None, ctx, selected, getters))


def _include_items_required() -> DriveError:
    # Status and wording from a public report of the real API (403, not 400).
    return error(
        403,
        "teamDriveIncludeItemsRequired",
        "The includeItemsFromAllDrives parameter must be set to true when driveId is "
        "specified or corpora contains drive or allDrives.",
        location="includeItemsFromAllDrives",
    )


def _list_start(at: JSON) -> tuple[tuple[int, int], bool]:
    """(position, whether the empty page for it was served) from a files.list token."""
    if at is None:
        return (0, 0), False
    if isinstance(at, list) and len(at) == 3:
        seg, off, served_empty = at
        if isinstance(seg, int) and isinstance(off, int):
            return (seg, off), bool(served_empty)
    raise bad_value("pageToken")


def _everything(_: DriveFile) -> bool:
    return True


def _ranged(request: Request, content: bytes, mime_type: str) -> Response:
    """The bytes, honouring a single `Range: bytes=a-b` as Drive does."""
    header = request.headers.get("range")
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return Response(content, media_type=mime_type)
    total = len(content)
    if match.group(1) == "":
        first, last = max(0, total - int(match.group(2))), total - 1
    else:
        first = int(match.group(1))
        last = min(int(match.group(2)), total - 1) if match.group(2) else total - 1
    if first >= total or first > last:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
    return Response(
        content[first : last + 1],
        206,
        {"Content-Range": f"bytes {first}-{last}/{total}"},
        media_type=mime_type,
    )
