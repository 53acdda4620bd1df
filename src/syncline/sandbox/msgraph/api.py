"""Graph v1.0's drive, site, driveItem, delta, permissions, content and group routes, over one
`GraphState`.

Simplifications, on purpose: a OneDrive is readable by its owner only and a SharePoint library
by every user of the tenant; `$select` narrows top-level properties only; `$expand` knows
`listItem($expand=fields)`.
"""

from __future__ import annotations

import secrets
from collections import deque
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.sandbox.msgraph.auth import FILE_SCOPES, GROUP_SCOPES
from syncline.sandbox.msgraph.errors import GraphError, graph_error, json_response
from syncline.sandbox.msgraph.state import Drive, GraphState, Item, Permission, Site, quick_xor_hash
from syncline.types import JSON, JSONObject

__all__ = ["GraphApi"]

DEFAULT_PAGE = 200
MAX_PAGE = 999
DOWNLOAD_TTL = 3600.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphApi:
    def __init__(self, state: GraphState) -> None:
        self.state = state
        self.tokens = PageTokens()
        self._enumerations: dict[str, tuple[tuple[str, int, int], list[str]]] = {}

    def routes(self) -> list[Route]:
        v = "/v1.0"
        return [
            Route(f"{v}/me", self.me),
            Route(f"{v}/me/drive", self.my_drive),
            Route(f"{v}/drives/{{drive_id}}", self.drive),
            Route(f"{v}/sites/{{site_id}}", self.site),
            Route(f"{v}/sites/{{site_id}}/drive", self.site_drive),
            Route(f"{v}/sites/{{site_id}}/drives", self.site_drives),
            Route(f"{v}/drives/{{drive_id}}/root", self.root),
            Route(f"{v}/drives/{{drive_id}}/root/children", self.root_children),
            Route(f"{v}/drives/{{drive_id}}/root/delta", self.delta),
            Route(f"{v}/drives/{{drive_id}}/root/permissions", self.root_permissions),
            Route(f"{v}/drives/{{drive_id}}/items/{{item_id}}", self.item),
            Route(f"{v}/drives/{{drive_id}}/items/{{item_id}}/children", self.children),
            Route(f"{v}/drives/{{drive_id}}/items/{{item_id}}/permissions", self.permissions),
            Route(f"{v}/drives/{{drive_id}}/items/{{item_id}}/content", self.content),
            Route(f"{v}/groups/{{group_id}}/members", self.members),
            Route("/_download/{token}", self.download),
        ]

    # -- who is asking ------------------------------------------------------------------------

    def _caller(self, request: Request, scopes: frozenset[str] = FILE_SCOPES) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        grant = self.state.grants.grant_for(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None:
            raise graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired."
                if token
                else "Access token is empty.",
                headers={
                    "WWW-Authenticate": 'Bearer realm="", error="invalid_token", '
                    'error_description="expired_token"'
                },
            )
        user, granted = grant
        if scopes.isdisjoint(granted):
            raise graph_error(403, "accessDenied", "Access denied: the token lacks the scope.")
        return user

    def _drive(self, drive_id: str, user: str) -> Drive:
        drive = self.state.drives.get(drive_id)
        if drive is None:
            raise graph_error(404, "itemNotFound", "The resource could not be found.")
        if drive.drive_type == "personal" and drive.owner != user:
            raise graph_error(403, "accessDenied", "Access denied.")
        return drive

    def _item(self, drive: Drive, item_id: str) -> Item:
        item = self.state.items.get(drive.root_id if item_id == "root" else item_id)
        if item is None or item.deleted or item.drive_id != drive.id:
            raise graph_error(404, "itemNotFound", "The resource could not be found.")
        return item

    # -- rendering ----------------------------------------------------------------------------

    def _base(self, request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def _render(self, item: Item, request: Request, *, with_path: bool = True) -> JSONObject:
        state = self.state
        drive = state.drives[item.drive_id]
        body: JSONObject = {
            "id": item.id,
            "name": item.name,
            "eTag": f'"{{{item.id}}},{item.version}"',
            "cTag": f'"c:{{{item.id}}},{item.version}"',
            "createdDateTime": _iso(item.created),
            "lastModifiedDateTime": _iso(item.modified),
            "webUrl": f"https://{state.tenant_domain}/{drive.name}/{item.name}",
            "createdBy": self._identity(drive.owner),
            "lastModifiedBy": self._identity(drive.owner),
        }
        if item.parent_id is None:
            body["root"] = {}
            body["folder"] = {"childCount": len(state.children(item.id))}
        elif item.is_folder:
            body["folder"] = {"childCount": len(state.children(item.id))}
        else:
            body["size"] = len(item.content)
            body["file"] = {
                "mimeType": item.mime_type,
                "hashes": {"quickXorHash": quick_xor_hash(item.content)},
            }
        if item.parent_id is not None:
            parent: JSONObject = {
                "driveId": drive.id,
                "driveType": drive.drive_type,
                "id": item.parent_id,
            }
            if with_path:
                parent["path"] = state.path_of(item)
            if drive.site_id is not None:
                parent["siteId"] = drive.site_id
            body["parentReference"] = parent
        if item.parent_id is not None and item.permissions:
            body["shared"] = {"scope": "users"}
        if drive.drive_type == "documentLibrary":
            body["size"] = body.get("size", 0)
        return body

    def _identity(self, user_id: str) -> JSONObject:
        user = self.state.users.get(user_id)
        if user is None:
            return {}
        return {"user": {"id": user.id, "displayName": user.display_name, "email": user.mail}}

    def _shape(self, body: JSONObject, item: Item, request: Request) -> JSONObject:
        """`$select` and `$expand` of the request, applied to one rendered item."""
        params = request.query_params
        if "listItem" in params.get("$expand", "") and self.state.drives[item.drive_id].site_id:
            fields: JSONObject = {"@odata.etag": f'"{item.id},{item.version}"'}
            fields.update({k: _json(v) for k, v in item.fields.items()})
            body["listItem"] = {"id": str(abs(hash(item.id)) % 100000), "fields": fields}
        select = params.get("$select")
        if select:
            keep = {s.strip() for s in select.split(",")} | {"id", "listItem"}
            body = {k: v for k, v in body.items() if k in keep}
        return body

    def _page(self, request: Request) -> int:
        raw = request.query_params.get("$top")
        if raw is None:
            return DEFAULT_PAGE
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise graph_error(400, "invalidRequest", f"Invalid value '{raw}' for $top.")
        return int(raw)

    def _link(self, request: Request, path: str, token: str) -> str:
        keep = {
            k: v for k, v in request.query_params.items() if k in ("$select", "$expand", "$top")
        }
        return f"{self._base(request)}{path}?{urlencode({**keep, '$skiptoken': token})}"

    # -- routes -------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        user = self.state.users[self._caller(request, frozenset({"User.Read", *FILE_SCOPES}))]
        body: JSONObject = {
            "id": user.id,
            "displayName": user.display_name,
            "mail": user.mail,
            "userPrincipalName": user.mail,
        }
        return json_response(_select(body, request))

    def _drive_body(self, drive: Drive) -> JSONObject:
        return {
            "id": drive.id,
            "driveType": drive.drive_type,
            "name": drive.name,
            "owner": self._identity(drive.owner),
        }

    async def my_drive(self, request: Request) -> Response:
        user = self._caller(request)
        with self.state.lock:
            found = [
                d for d in self.state.drives.values()
                if d.drive_type == "personal" and d.owner == user
            ]  # fmt: skip
            if not found:
                raise graph_error(404, "itemNotFound", "The user has no OneDrive.")
            return json_response(_select(self._drive_body(found[0]), request))

    async def drive(self, request: Request) -> Response:
        user = self._caller(request)
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            return json_response(_select(self._drive_body(drive), request))

    def _site(self, request: Request) -> Site:
        self._caller(request)
        site = self.state.sites.get(request.path_params["site_id"])
        if site is None:
            raise graph_error(404, "itemNotFound", "Requested site could not be found")
        return site

    async def site(self, request: Request) -> Response:
        site = self._site(request)
        with self.state.lock:
            body: JSONObject = {
                "id": site.id,
                "name": site.name,
                "displayName": site.name,
                "webUrl": site.web_url,
            }
            return json_response(_select(body, request))

    async def site_drive(self, request: Request) -> Response:
        site = self._site(request)
        with self.state.lock:
            drive = self.state.drives[site.drive_ids[0]]
            return json_response(_select(self._drive_body(drive), request))

    async def site_drives(self, request: Request) -> Response:
        site = self._site(request)
        with self.state.lock:
            drives = [self.state.drives[d] for d in site.drive_ids]
            return json_response({"value": [_select(self._drive_body(d), request) for d in drives]})

    async def root(self, request: Request) -> Response:
        request.path_params["item_id"] = "root"
        return await self.item(request)

    async def item(self, request: Request) -> Response:
        user = self._caller(request)
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            item = self._item(drive, request.path_params["item_id"])
            return json_response(self._shape(self._render(item, request), item, request))

    async def root_children(self, request: Request) -> Response:
        request.path_params["item_id"] = "root"
        return await self.children(request)

    async def children(self, request: Request) -> Response:
        user = self._caller(request)
        want = self._page(request)
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            folder = self._item(drive, request.path_params["item_id"])
            start = self._skip(request, f"children:{folder.id}")
            found = self.state.children(folder.id)
            page = found[start : start + want]
            body: JSONObject = {
                "value": [self._shape(self._render(i, request), i, request) for i in page]
            }
            if start + want < len(found):
                token = self.tokens.encode({"scope": f"children:{folder.id}", "at": start + want})
                body["@odata.nextLink"] = self._link(request, request.url.path, token)
            return json_response(body)

    def _skip(self, request: Request, scope: str) -> int:
        token = request.query_params.get("$skiptoken")
        if token is None:
            return 0
        payload = self.tokens.decode(token)
        at = payload.get("at") if payload is not None and payload.get("scope") == scope else None
        if not isinstance(at, int):
            raise graph_error(400, "invalidRequest", "Invalid $skiptoken.")
        return at

    async def delta(self, request: Request) -> Response:
        """`root/delta`: no token enumerates the drive; `token=latest` gives the present; a
        token from an earlier link gives what changed since, the latest state of each item."""
        user = self._caller(request)
        want = self._page(request)
        params = request.query_params
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            raw = params.get("token")
            if raw == "latest":
                end = self.state.log_end(drive.id)
                return json_response(
                    {"value": [], "@odata.deltaLink": self._delta_link(request, drive, end)}
                )
            if raw is None:  # an enumeration of the drive, paged by $skiptoken
                skip = params.get("$skiptoken")
                payload = self._payload(skip, drive) if skip else None
                mark = int(payload["end"]) if payload else self.state.log_end(drive.id)  # type: ignore[arg-type]
                offset = int(payload["at"]) if payload else 0  # type: ignore[arg-type]
                ids = self._enumeration(drive)
                position = mark
            else:
                payload = self._payload(raw, drive)
                position = int(payload["at"])  # type: ignore[arg-type]
                if not self.state.honours(drive.id, position):
                    raise _resync(request, drive)
                ids, _ = self.state.changes_since(drive.id, position)
                offset = int(payload.get("offset", 0))  # type: ignore[arg-type]
            page_ids = ids[offset : offset + want]
            entries: list[JSON] = []
            for item_id in page_ids:
                item = self.state.items.get(item_id)
                if item is None or item.parent_id is None:
                    continue  # vanished without a trace, or the root
                entries.append(self._delta_entry(item, request))
            entries.reverse()  # children may come before their parents
            body: JSONObject = {"value": entries}
            more = offset + want < len(ids)
            if more and raw is None:
                token = self.tokens.encode(
                    {"drive": drive.id, "at": offset + want, "end": position}
                )
                body["@odata.nextLink"] = self._link(request, request.url.path, token)
            elif more:
                body["@odata.nextLink"] = self._delta_link(
                    request, drive, position, offset=offset + want
                )
            else:
                end = position if raw is None else position + len(ids)
                body["@odata.deltaLink"] = self._delta_link(request, drive, end)
            return json_response(body)

    def _enumeration(self, drive: Drive) -> list[str]:
        """Every item of the drive, breadth first; the same list for every page of one
        enumeration while nothing changes (each change appends to the log, and a silent
        deletion shrinks `items`)."""
        key = (drive.id, self.state.log_end(drive.id), len(self.state.items))
        cached = self._enumerations.get(drive.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        found: list[str] = []
        pending = deque([drive.root_id])
        while pending:
            folder = pending.popleft()
            for child in self.state.children(folder):
                found.append(child.id)
                if child.is_folder:
                    pending.append(child.id)
        self._enumerations[drive.id] = (key, found)
        return found

    def _payload(self, token: str, drive: Drive) -> JSONObject:
        payload = self.tokens.decode(token)
        if (
            payload is None
            or payload.get("drive") != drive.id
            or not isinstance(payload.get("at"), int)
        ):
            raise graph_error(400, "invalidRequest", "Invalid or malformed delta token.")
        return payload

    def _delta_link(self, request: Request, drive: Drive, at: int, *, offset: int = 0) -> str:
        keep = {
            k: v for k, v in request.query_params.items() if k in ("$select", "$expand", "$top")
        }
        payload: JSONObject = {"drive": drive.id, "at": at}
        if offset:
            payload["offset"] = offset
        query = urlencode({**keep, "token": self.tokens.encode(payload)})
        return f"{self._base(request)}/v1.0/drives/{drive.id}/root/delta?{query}"

    def _delta_entry(self, item: Item, request: Request) -> JSONObject:
        if item.deleted:
            # OneDrive for Business leaves the name and cTag out of a deleted item.
            return {
                "id": item.id,
                "deleted": {"state": "deleted"},
                "parentReference": {"driveId": item.drive_id, "id": item.parent_id},
            }
        return self._shape(self._render(item, request, with_path=False), item, request)

    async def root_permissions(self, request: Request) -> Response:
        request.path_params["item_id"] = "root"
        return await self.permissions(request)

    async def permissions(self, request: Request) -> Response:
        user = self._caller(request)
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            item = self._item(drive, request.path_params["item_id"])
            value: list[JSON] = [self._permission(p, None) for p in item.permissions]
            value += [self._permission(p, source) for p, source in self.state.inherited(item)]
            return json_response({"value": value})

    def _permission(self, permission: Permission, source: Item | None) -> JSONObject:
        body: JSONObject = {"id": permission.id, "roles": list(permission.roles)}
        if permission.link_scope is not None:
            body["link"] = {
                "scope": permission.link_scope,
                "type": "edit" if "write" in permission.roles else "view",
                "webUrl": f"https://{self.state.tenant_domain}/:w:/s/{permission.id}",
            }
            body["shareId"] = "s!" + permission.id
            if permission.link_users:
                body["grantedToIdentitiesV2"] = [self._identity(u) for u in permission.link_users]
        elif permission.user is not None:
            body["grantedToV2"] = self._identity(permission.user)
        elif permission.group is not None:
            group = self.state.groups.get(permission.group)
            name = group.display_name if group else ""
            body["grantedToV2"] = {"group": {"id": permission.group, "displayName": name}}
        elif permission.site_group is not None:
            site_group = next(
                (
                    s.site_groups[permission.site_group]
                    for s in self.state.sites.values()
                    if permission.site_group in s.site_groups
                ),
                (permission.site_group, ""),
            )
            body["grantedToV2"] = {
                "siteGroup": {
                    "id": permission.site_group,
                    "displayName": site_group[0],
                    "loginName": site_group[0],
                }
            }
        if source is not None:
            body["inheritedFrom"] = {
                "driveId": source.drive_id,
                "id": source.id,
                "path": self.state.path_of(source)
                if source.parent_id
                else f"/drives/{source.drive_id}/root:",
            }
        return body

    async def content(self, request: Request) -> Response:
        """302 to a short-lived download URL that needs no token (and refuses one)."""
        user = self._caller(request)
        with self.state.lock:
            drive = self._drive(request.path_params["drive_id"], user)
            item = self._item(drive, request.path_params["item_id"])
            if item.is_folder:
                raise graph_error(400, "invalidRequest", "The item is a folder and has no content.")
            token = secrets.token_urlsafe(24)
            self.state.download_tokens[token] = (item.id, self.state.clock() + DOWNLOAD_TTL)
        return RedirectResponse(f"{self._base(request)}/_download/{token}", status_code=302)

    async def download(self, request: Request) -> Response:
        if "authorization" in request.headers:
            # The pre-authenticated URL lives on another host in production: a bearer token
            # sent there is a leaked token.
            return json_response(
                {"error": {"code": "unauthenticated", "message": "Unexpected Authorization."}}, 401
            )
        with self.state.lock:
            entry = self.state.download_tokens.get(request.path_params["token"])
            if entry is None or entry[1] < self.state.clock():
                return json_response(
                    {"error": {"code": "itemNotFound", "message": "Expired."}}, 404
                )
            item = self.state.items.get(entry[0])
            if item is None or item.deleted:
                return json_response({"error": {"code": "itemNotFound", "message": "Gone."}}, 404)
            content, mime = item.content, item.mime_type
        return Response(content, media_type=mime)

    async def members(self, request: Request) -> Response:
        self._caller(request, GROUP_SCOPES)
        want = self._page(request)
        with self.state.lock:
            group = self.state.groups.get(request.path_params["group_id"])
            if group is None:
                raise graph_error(404, "Request_ResourceNotFound", "Resource does not exist.")
            start = self._skip(request, f"members:{group.id}")
            page = group.members[start : start + want]
            value: list[JSON] = []
            for member in page:
                if member in self.state.groups:
                    nested = self.state.groups[member]
                    value.append(
                        {
                            "@odata.type": "#microsoft.graph.group",
                            "id": nested.id,
                            "mail": nested.mail,
                            "displayName": nested.display_name,
                        }
                    )
                elif (found := self.state.users.get(member)) is not None:
                    value.append(
                        {
                            "@odata.type": "#microsoft.graph.user",
                            "id": found.id,
                            "mail": found.mail,
                            "userPrincipalName": found.mail,
                        }
                    )
            body: JSONObject = {"value": value}
            if start + want < len(group.members):
                token = self.tokens.encode({"scope": f"members:{group.id}", "at": start + want})
                body["@odata.nextLink"] = self._link(request, request.url.path, token)
            return json_response(body)


def _select(body: JSONObject, request: Request) -> JSONObject:
    select = request.query_params.get("$select")
    if not select:
        return body
    keep = {s.strip() for s in select.split(",")} | {"id"}
    return {k: v for k, v in body.items() if k in keep}


def _json(value: object) -> JSON:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _resync(request: Request, drive: Drive) -> GraphError:
    """410 Gone: the token can no longer be honoured; `Location` restarts the enumeration."""
    location = f"{str(request.base_url).rstrip('/')}/v1.0/drives/{drive.id}/root/delta"
    return graph_error(
        410,
        "resyncRequired",
        "Resync required. Replace any local items with the server's version (including "
        "deletes) if you're sure that the service was up to date with your local changes when "
        "you last sync'd. Upload any local changes that the server doesn't know about.",
        headers={"Location": location},
    )
