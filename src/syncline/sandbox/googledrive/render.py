"""Drive v3 resources as JSON, rendering only what `fields` selects.

Each resource is a table of getters; a getter returning None means "absent", since Drive
omits unset fields rather than sending null. Rendering only selected names keeps a
1000-file page cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from syncline.sandbox.googledrive.export import EXPORT_FORMATS
from syncline.sandbox.googledrive.fields import ANY_OBJECT, Mask, Schema, select
from syncline.sandbox.googledrive.model import (
    FOLDER,
    ROLES,
    SHORTCUT,
    DriveFile,
    Permission,
    SharedDrive,
    display_name,
    permission_id,
    rfc3339,
)
from syncline.sandbox.googledrive.state import ChangeView, DriveState
from syncline.types import JSON, JSONObject

__all__ = [
    "ABOUT",
    "CHANGE_LIST",
    "DRIVE_LIST",
    "FILE",
    "FILE_LIST",
    "PERMISSION_LIST",
    "START_TOKEN",
    "EffectivePermission",
    "RenderContext",
    "effective_permissions",
    "project",
    "render_change",
    "render_drive",
    "render_file",
    "render_permissions",
    "user_json",
]

T = TypeVar("T")
Getter: TypeAlias = Callable[[T, "RenderContext", "Mask | None"], JSON]


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Who is asking, and where the server lives (for links that point back at it)."""

    state: DriveState
    user: str
    base_url: str


def project(
    obj: T,
    ctx: RenderContext,
    mask: Mask | None,
    getters: Mapping[str, Getter[T]],
    nested: Collection[str] = (),
) -> JSONObject:
    """Render the selected names of `obj` (all of them when `mask` is None or has `*`).

    Getters named in `nested` render sub-resources and apply their sub-mask themselves.
    """
    names = getters.keys() if mask is None or "*" in mask else mask.keys()
    out: JSONObject = {}
    for name in names:
        getter = getters.get(name)
        if getter is None:
            continue  # a real field the fake does not model
        sub = None if mask is None else mask.get(name)
        value = getter(obj, ctx, sub)
        if value is not None:
            out[name] = value if sub is None or name in nested else select(value, sub)
    return out


# -- schemas: every name Drive accepts in `fields`, modelled or not --------------------------


def _names(*names: str, **objects: Schema) -> Schema:
    schema: dict[str, Schema | None] = dict.fromkeys(names)
    schema.update(objects)
    return schema


_USER = _names("kind", "displayName", "photoLink", "me", "permissionId", "emailAddress")
_PERMISSION = _names(
    "kind",
    "id",
    "type",
    "emailAddress",
    "domain",
    "role",
    "view",
    "allowFileDiscovery",
    "displayName",
    "photoLink",
    "expirationTime",
    "deleted",
    "pendingOwner",
    "inheritedPermissionsDisabled",
    permissionDetails=_names("permissionType", "role", "inheritedFrom", "inherited"),
    teamDrivePermissionDetails=ANY_OBJECT,
)
FILE = _names(
    "kind",
    "driveId",
    "fileExtension",
    "copyRequiresWriterPermission",
    "md5Checksum",
    "writersCanShare",
    "viewedByMe",
    "mimeType",
    "parents",
    "thumbnailLink",
    "iconLink",
    "shared",
    "headRevisionId",
    "webViewLink",
    "webContentLink",
    "size",
    "viewersCanCopyContent",
    "hasThumbnail",
    "spaces",
    "folderColorRgb",
    "id",
    "name",
    "description",
    "starred",
    "trashed",
    "explicitlyTrashed",
    "createdTime",
    "modifiedTime",
    "modifiedByMeTime",
    "viewedByMeTime",
    "sharedWithMeTime",
    "quotaBytesUsed",
    "version",
    "originalFilename",
    "ownedByMe",
    "fullFileExtension",
    "isAppAuthorized",
    "teamDriveId",
    "hasAugmentedPermissions",
    "thumbnailVersion",
    "trashedTime",
    "modifiedByMe",
    "permissionIds",
    "resourceKey",
    "sha1Checksum",
    "sha256Checksum",
    "inheritedPermissionsDisabled",
    owners=_USER,
    lastModifyingUser=_USER,
    sharingUser=_USER,
    trashingUser=_USER,
    permissions=_PERMISSION,
    shortcutDetails=_names("targetId", "targetMimeType", "targetResourceKey"),
    exportLinks=ANY_OBJECT,
    capabilities=ANY_OBJECT,
    contentHints=ANY_OBJECT,
    imageMediaMetadata=ANY_OBJECT,
    videoMediaMetadata=ANY_OBJECT,
    properties=ANY_OBJECT,
    appProperties=ANY_OBJECT,
    contentRestrictions=ANY_OBJECT,
    linkShareMetadata=ANY_OBJECT,
    labelInfo=ANY_OBJECT,
    downloadRestrictions=ANY_OBJECT,
    clientEncryptionDetails=ANY_OBJECT,
)
_DRIVE = _names(
    "kind",
    "id",
    "name",
    "themeId",
    "colorRgb",
    "backgroundImageLink",
    "createdTime",
    "hidden",
    "orgUnitId",
    backgroundImageFile=ANY_OBJECT,
    capabilities=ANY_OBJECT,
    restrictions=ANY_OBJECT,
)
_CHANGE = _names(
    "kind",
    "changeType",
    "time",
    "removed",
    "fileId",
    "driveId",
    "teamDriveId",
    "type",
    file=FILE,
    drive=_DRIVE,
    teamDrive=ANY_OBJECT,
)
FILE_LIST = _names("kind", "nextPageToken", "incompleteSearch", files=FILE)
CHANGE_LIST = _names("kind", "nextPageToken", "newStartPageToken", changes=_CHANGE)
START_TOKEN = _names("kind", "startPageToken")
PERMISSION_LIST = _names("kind", "nextPageToken", permissions=_PERMISSION)
DRIVE_LIST = _names("kind", "nextPageToken", drives=_DRIVE)
ABOUT = _names(
    "kind",
    "maxUploadSize",
    "appInstalled",
    "folderColorPalette",
    "canCreateDrives",
    "canCreateTeamDrives",
    user=_USER,
    storageQuota=ANY_OBJECT,
    importFormats=ANY_OBJECT,
    exportFormats=ANY_OBJECT,
    maxImportSizes=ANY_OBJECT,
    driveThemes=ANY_OBJECT,
    teamDriveThemes=ANY_OBJECT,
)


# -- files -------------------------------------------------------------------------------------


def user_json(email: str, viewer: str) -> JSONObject:
    """A `drive#user` as Drive shows people to `viewer`."""
    return {
        "kind": "drive#user",
        "displayName": display_name(email),
        "me": email == viewer,
        "permissionId": permission_id(email),
        "emailAddress": email,
    }


_APP_LINKS = {
    "application/vnd.google-apps.document": "https://docs.google.com/document/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.spreadsheet": "https://docs.google.com/spreadsheets/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.presentation": "https://docs.google.com/presentation/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.drawing": "https://docs.google.com/drawings/d/{}/edit?usp=drivesdk",
    FOLDER: "https://drive.google.com/drive/folders/{}",
}
_EXPORT_KIND = {
    "application/vnd.google-apps.document": "documents",
    "application/vnd.google-apps.spreadsheet": "spreadsheets",
    "application/vnd.google-apps.presentation": "presentations",
    "application/vnd.google-apps.drawing": "drawings",
}


def _web_view(f: DriveFile) -> str:
    template = _APP_LINKS.get(f.mime_type, "https://drive.google.com/file/d/{}/view?usp=drivesdk")
    return template.format(f.id)


def _export_links(f: DriveFile, ctx: RenderContext) -> JSON:
    formats = EXPORT_FORMATS.get(f.mime_type)
    if not formats:
        return None
    # Unlike files.export, these links have no size cap; they point back at the sandbox.
    base = f"{ctx.base_url}/feeds/download/{_EXPORT_KIND[f.mime_type]}/Export?id={f.id}"
    return {mime: f"{base}&exportFormat={ext}" for mime, ext in formats.items()}


def _binary(f: DriveFile) -> bool:
    return f.size is not None


def _extension(f: DriveFile) -> str | None:
    if not _binary(f) or "." not in f.name.strip("."):
        return None
    return f.name.rsplit(".", 1)[1]


def _full_extension(f: DriveFile) -> str | None:
    if not _binary(f) or "." not in f.name.strip("."):
        return None
    return f.name.lstrip(".").split(".", 1)[1]


def _owners(f: DriveFile, ctx: RenderContext) -> JSON:
    owner = f.owner_email()
    return None if owner is None else [user_json(owner, ctx.user)]


def _role_of(f: DriveFile, ctx: RenderContext) -> str:
    names = ctx.state.principals(ctx.user)
    roles = [p.role for p in effective_permissions(f, ctx.state) if p.email in names]
    return min(roles, key=ROLES.index) if roles else "reader"


def _capabilities(f: DriveFile, ctx: RenderContext) -> JSON:
    can_edit = _role_of(f, ctx) in ("owner", "organizer", "fileOrganizer", "writer")
    return {
        "canDownload": True,
        "canCopy": f.mime_type != FOLDER,
        "canEdit": can_edit,
        "canListChildren": f.mime_type == FOLDER,
        "canShare": can_edit,
        "canTrash": can_edit,
    }


def _shortcut(f: DriveFile) -> JSON:
    if f.mime_type != SHORTCUT or f.shortcut_target is None:
        return None
    return {"targetId": f.shortcut_target, "targetMimeType": f.shortcut_target_mime}


FILE_GETTERS: dict[str, Getter[DriveFile]] = {
    "kind": lambda f, c, m: "drive#file",
    "id": lambda f, c, m: f.id,
    "name": lambda f, c, m: f.name,
    "mimeType": lambda f, c, m: f.mime_type,
    "parents": lambda f, c, m: None if f.parent is None else [f.parent],
    "trashed": lambda f, c, m: f.trashed,
    "explicitlyTrashed": lambda f, c, m: f.explicitly_trashed,
    "createdTime": lambda f, c, m: rfc3339(f.created),
    "modifiedTime": lambda f, c, m: rfc3339(f.modified),
    "version": lambda f, c, m: str(f.version),
    "size": lambda f, c, m: None if f.size is None else str(f.size),
    "quotaBytesUsed": lambda f, c, m: str(f.size or 0),
    "md5Checksum": lambda f, c, m: f.digest("md5"),
    "sha1Checksum": lambda f, c, m: f.digest("sha1"),
    "sha256Checksum": lambda f, c, m: f.digest("sha256"),
    "headRevisionId": lambda f, c, m: None if f.size is None else f"0B{f.id[1:12]}{f.version}",
    "driveId": lambda f, c, m: f.drive_id,
    "webViewLink": lambda f, c, m: _web_view(f),
    "webContentLink": lambda f, c, m: (
        f"https://drive.google.com/uc?id={f.id}&export=download" if _binary(f) else None
    ),
    "iconLink": lambda f, c, m: (
        f"https://drive-thirdparty.googleusercontent.com/16/type/{f.mime_type}"
    ),
    "hasThumbnail": lambda f, c, m: _binary(f),
    "thumbnailLink": lambda f, c, m: (
        f"https://lh3.googleusercontent.com/drive-storage/{f.id}=s220" if _binary(f) else None
    ),
    "thumbnailVersion": lambda f, c, m: "1" if _binary(f) else "0",
    "fileExtension": lambda f, c, m: _extension(f),
    "fullFileExtension": lambda f, c, m: _full_extension(f),
    "originalFilename": lambda f, c, m: f.name if _binary(f) else None,
    "shortcutDetails": lambda f, c, m: _shortcut(f),
    "owners": lambda f, c, m: _owners(f, c),
    "ownedByMe": lambda f, c, m: None if f.drive_id else f.owner_email() == c.user,
    "lastModifyingUser": lambda f, c, m: user_json(f.creator, c.user) if f.creator else None,
    "permissionIds": lambda f, c, m: [p.id for p in effective_permissions(f, c.state)],
    # Drive leaves `permissions` out for shared-drive items; permissions.list has them.
    "permissions": lambda f, c, m: None if f.drive_id else render_permissions(f, c),
    "exportLinks": lambda f, c, m: _export_links(f, c),
    "capabilities": lambda f, c, m: _capabilities(f, c),
    "spaces": lambda f, c, m: ["drive"],
    "starred": lambda f, c, m: False,
    "viewedByMe": lambda f, c, m: True,
    "shared": lambda f, c, m: None if f.drive_id else len(f.perms) > 1,
    "copyRequiresWriterPermission": lambda f, c, m: False,
    "writersCanShare": lambda f, c, m: True,
    "viewersCanCopyContent": lambda f, c, m: True,
    "isAppAuthorized": lambda f, c, m: False,
    "modifiedByMe": lambda f, c, m: f.creator == c.user,
    "hasAugmentedPermissions": lambda f, c, m: False if f.drive_id else None,
}


def render_file(f: DriveFile, ctx: RenderContext, mask: Mask | None) -> JSONObject:
    """A `drive#file`; `mask` None renders every modelled field."""
    return project(f, ctx, mask, FILE_GETTERS)


# -- permissions -------------------------------------------------------------------------------


@dataclass(slots=True)
class EffectivePermission:
    """One principal's access to an item: the strongest role, and each grant behind it."""

    perm: Permission
    role: str
    details: list[JSONObject]

    @property
    def id(self) -> str:
        return self.perm.id

    @property
    def email(self) -> str | None:
        return self.perm.email


def effective_permissions(f: DriveFile, state: DriveState) -> list[EffectivePermission]:
    """Everyone with access to `f`, once per permission id: its own grants first, then those
    of the folders above (nearest first), then its shared drive's members.

    A folder owner's grant reaches items below as `writer`, since an item has one owner.
    On a shared drive's root (the drive itself), members are direct grants of type `member`.
    """
    merged: dict[str, EffectivePermission] = {}

    def add(perm: Permission, kind: str, role: str, inherited_from: str | None) -> None:
        detail: JSONObject = {
            "permissionType": kind,
            "role": role,
            "inherited": inherited_from is not None,
        }
        if inherited_from is not None:
            detail["inheritedFrom"] = inherited_from
        entry = merged.get(perm.id)
        if entry is None:
            merged[perm.id] = EffectivePermission(perm, role, [detail])
            return
        entry.details.append(detail)
        if ROLES.index(role) < ROLES.index(entry.role):
            entry.role = role

    for perm in f.perms:
        add(perm, "file", perm.role, None)
    for folder in state.ancestors(f):
        for perm in folder.perms:
            add(perm, "file", "writer" if perm.role == "owner" else perm.role, folder.id)
    drive = state.drive(f.drive_id) if f.drive_id else None
    if drive is not None:
        for perm in drive.member_permissions():
            add(perm, "member", perm.role, None if f.is_root else drive.id)
    return list(merged.values())


def _permission_json(entry: EffectivePermission) -> JSONObject:
    perm = entry.perm
    out: JSONObject = {
        "kind": "drive#permission",
        "id": perm.id,
        "type": perm.type,
        "role": entry.role,
    }
    if perm.email is not None:
        out |= {
            "emailAddress": perm.email,
            "displayName": display_name(perm.email),
            "deleted": False,
            "pendingOwner": False,
        }
    if perm.domain is not None:
        out |= {"domain": perm.domain, "displayName": perm.domain}
    if perm.type in ("domain", "anyone"):
        out["allowFileDiscovery"] = perm.discoverable
    out["permissionDetails"] = list(entry.details)
    return out


def render_permissions(f: DriveFile, ctx: RenderContext) -> list[JSON]:
    """Every permission on `f` with `permissionDetails` saying where each part comes from."""
    return [_permission_json(entry) for entry in effective_permissions(f, ctx.state)]


# -- changes and drives ------------------------------------------------------------------------


DRIVE_GETTERS: dict[str, Getter[SharedDrive]] = {
    "kind": lambda d, c, m: "drive#drive",
    "id": lambda d, c, m: d.id,
    "name": lambda d, c, m: d.name,
    "createdTime": lambda d, c, m: rfc3339(d.created),
    "hidden": lambda d, c, m: False,
}


def render_drive(drive: SharedDrive, ctx: RenderContext, mask: Mask | None) -> JSONObject:
    """A `drive#drive`."""
    return project(drive, ctx, mask, DRIVE_GETTERS)


CHANGE_GETTERS: dict[str, Getter[ChangeView]] = {
    "kind": lambda v, c, m: "drive#change",
    "changeType": lambda v, c, m: "drive" if v.is_drive else "file",
    "time": lambda v, c, m: rfc3339(v.time),
    "removed": lambda v, c, m: v.removed,
    "fileId": lambda v, c, m: None if v.is_drive else v.key,
    "file": lambda v, c, m: None if v.file is None else render_file(v.file, c, m),
    "driveId": lambda v, c, m: v.drive_id,
    "drive": lambda v, c, m: None if v.drive is None else render_drive(v.drive, c, m),
}


def render_change(view: ChangeView, ctx: RenderContext, mask: Mask | None) -> JSONObject:
    """A `drive#change`: removed ones carry no `file`."""
    return project(view, ctx, mask, CHANGE_GETTERS, nested=("file", "drive"))
