"""Dropbox API v2's routes over one `DropboxState`, as the stone spec (dropbox/dropbox-api-spec)
describes them. RPC routes are `POST /2/<namespace>/<route>` with a JSON body; content routes
(`files/download`, `files/export`) are on the content host, here under `/_dropbox-content/2/`,
taking their argument in the `Dropbox-API-Arg` header (or an `arg` query parameter) and
answering the bytes with the result in the `Dropbox-API-Result` header.

- `files/list_folder` (`path` "" for the root, a path, `id:...` or `ns:<id>[/...]`;
  `recursive`, `include_deleted`, `include_has_explicit_shared_members`, `limit` 1..2000),
  `files/list_folder/continue` (`cursor`), `files/list_folder/get_latest_cursor`: a listing
  pages by path (parents before children; a recursive listing of a folder includes it), each
  page what is there when it is served after the last path served (a page costs what it
  serves: see `DropboxState.listing`), and its last cursor replays the change log from when
  the listing started; a cursor from `get_latest_cursor` replays from when it was taken. An
  expired cursor is 409 `reset`.
- `files/get_metadata` (`include_deleted`; the root is unsupported, as Dropbox says).
- `sharing/list_folder_members` (+ `/continue`), `sharing/list_file_members` (+ `/continue`),
  `sharing/get_folder_metadata`.
- `users/get_current_account`.
- Team routes (a team-linked token; a user token is a plain-text 400):
  `team/team_folder/list` (+ `/continue`), `team/groups/list` (+ `/continue`),
  `team/groups/members/list` (+ `/continue`), `team/token/get_authenticated_admin` (no
  arguments: `{"admin_profile": <TeamMemberProfile>}` of the admin who linked the app; 409
  `mapping_not_found` when the state recorded none, `admin_not_active` when that member lost
  the admin role). A team token on a user route needs
  `Dropbox-API-Select-User: <team_member_id>`.
- `Dropbox-API-Path-Root`: `{".tag": "home"}`, `{".tag": "root", "root": <team space root
  namespace id>}` or `{".tag": "namespace_id", "namespace_id": ...}`; a wrong one is 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.dropbox.auth import ACCESS_PREFIX
from syncline.sandbox.dropbox.errors import (
    DropboxError,
    bad_input,
    json_response,
    route_error,
    unauthorized,
)
from syncline.sandbox.dropbox.render import (
    deleted_entry,
    group_summary,
    member_profile,
    membership,
    metadata,
    team_folder,
    team_member_profile,
    timestamp,
)
from syncline.sandbox.dropbox.state import (
    CONTENT_PREFIX,
    PAPER_EXPORT_OPTIONS,
    DropboxState,
    Item,
    Member,
    User,
    content_hash,
    in_scope,
)
from syncline.types import JSON, JSONObject

__all__ = ["DropboxApi"]

MAX_LIST_LIMIT = 2000
DEFAULT_LIST_LIMIT = 2000
_PATH = re.compile(r"^(/(.|[\r\n])*)?$|^id:.+$|^ns:[0-9]+(/(.|[\r\n])*)?$")
_READ_PATH = re.compile(r"^/(.|[\r\n])*$|^id:.+$|^rev:[0-9a-f]{9,}$|^ns:[0-9]+(/(.|[\r\n])*)?$")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    root: str
    """The view `Dropbox-API-Path-Root` picks: `home`, `root` or a namespace id."""


def _not_found() -> DropboxError:
    return route_error({".tag": "path", "path": {".tag": "not_found"}})


def _lookup(tag: str) -> DropboxError:
    return route_error({".tag": "path", "path": {".tag": tag}})


def _int(args: JSONObject, route: str, name: str, default: int, low: int, high: int) -> int:
    value = args.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_input(
            route, f"request body: {name}: expected integer, got {type(value).__name__}"
        )
    if not low <= value <= high:
        raise bad_input(route, f"request body: {name}: {value} is not within [{low}, {high}]")
    return value


def _bool(args: JSONObject, route: str, name: str, default: bool) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        raise bad_input(route, f"request body: {name}: expected boolean, got {value!r}")
    return value


def _str(args: JSONObject, route: str, name: str) -> str:
    value = args.get(name)
    if value is None:
        raise bad_input(route, f"request body: missing required field '{name}'")
    if not isinstance(value, str):
        raise bad_input(route, f"request body: {name}: expected string, got {type(value).__name__}")
    return value


def _n(value: JSON) -> int:
    """An integer a cursor of ours carries."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


class DropboxApi:
    def __init__(self, state: DropboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        rpc: dict[str, Handler] = {
            "files/list_folder": self.list_folder,
            "files/list_folder/continue": self.list_folder_continue,
            "files/list_folder/get_latest_cursor": self.get_latest_cursor,
            "files/get_metadata": self.get_metadata,
            "sharing/list_folder_members": self.list_folder_members,
            "sharing/list_folder_members/continue": self.list_folder_members_continue,
            "sharing/list_file_members": self.list_file_members,
            "sharing/list_file_members/continue": self.list_file_members_continue,
            "sharing/get_folder_metadata": self.get_folder_metadata,
            "users/get_current_account": self.get_current_account,
            "team/team_folder/list": self.team_folder_list,
            "team/team_folder/list/continue": self.team_folder_list_continue,
            "team/groups/list": self.groups_list,
            "team/groups/list/continue": self.groups_list_continue,
            "team/groups/members/list": self.group_members_list,
            "team/groups/members/list/continue": self.group_members_list_continue,
            "team/token/get_authenticated_admin": self.token_get_authenticated_admin,
        }
        content: dict[str, Handler] = {
            "files/download": self.download,
            "files/export": self.export,
        }
        return [Route(f"/2/{name}", h, methods=["POST"]) for name, h in rpc.items()] + [
            Route(f"{CONTENT_PREFIX}/2/{name}", h, methods=["GET", "POST"])
            for name, h in content.items()
        ]

    # -- request plumbing ----------------------------------------------------------------------

    @staticmethod
    def _route(request: Request) -> str:
        return request.url.path.removeprefix(CONTENT_PREFIX).removeprefix("/2/")

    async def _args(self, request: Request) -> JSONObject:
        """An RPC route's JSON body: `Content-Type: application/json` and an object."""
        route = self._route(request)
        raw = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json" and raw:
            raise bad_input(
                route,
                f'Bad HTTP "Content-Type" header: "{kind}".  Expecting one of '
                '"application/json", "application/json; charset=utf-8", '
                '"text/plain; charset=dropbox-cors-hack".',
            )
        if not raw or raw.strip() == b"null":
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise bad_input(route, "request body: could not decode input as JSON") from None
        if not isinstance(body, dict):
            raise bad_input(route, "request body: expected object")
        return body

    def _content_args(self, request: Request) -> JSONObject:
        route = self._route(request)
        raw = request.headers.get("dropbox-api-arg") or request.query_params.get("arg")
        if raw is None:
            raise bad_input(
                route, 'Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".'
            )
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_input(
                route, 'HTTP header "Dropbox-API-Arg": could not decode input as JSON'
            ) from None
        if not isinstance(body, dict):
            raise bad_input(route, 'HTTP header "Dropbox-API-Arg": expected object')
        return body

    def _bearer(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise bad_input(
                self._route(request),
                'Invalid authorization value in HTTP header "Authorization": "'
                + request.headers.get("authorization", "")
                + '".  Expecting "Bearer <oauth2-access-token>".',
            )
        return token

    def _token_owner(self, request: Request) -> str:
        token = self._bearer(request)
        owner = self.state.grants.user_for(token)
        if owner is None:
            # A token of ours that lapsed reads as expired; anything else as invalid.
            raise unauthorized(
                "expired_access_token"
                if token.startswith(ACCESS_PREFIX)
                else "invalid_access_token"
            )
        return owner

    def _user(self, request: Request) -> Caller:
        """The account a user route acts for, and the view its paths are relative to."""
        state = self.state
        route = self._route(request)
        owner = self._token_owner(request)
        team = state.team
        if team is not None and owner == team.team_id:
            select = request.headers.get("dropbox-api-select-user")
            if not select:
                raise bad_input(
                    route,
                    "This API function operates on a single Dropbox account, but the OAuth 2 "
                    "access token you provided is for an entire Dropbox Business team.  Since "
                    "your API app key has team member file access permissions, you can operate "
                    'on a team member\'s Dropbox by providing the "Dropbox-API-Select-User" HTTP '
                    'header or "select_user" URL parameter to specify the exact user '
                    "<https://www.dropbox.com/developers/documentation/http/teams>.",
                )
            member = state.member_by_team_id(select)
            if member is None:
                raise unauthorized("invalid_select_user")
            user = member
        else:
            user = state.users[owner]
        return Caller(user, self._path_root(request, user))

    def _team(self, request: Request) -> None:
        owner = self._token_owner(request)
        if self.state.team is None or owner != self.state.team.team_id:
            raise bad_input(
                self._route(request),
                "This API function operates on a Dropbox Business team, but the OAuth 2 access "
                "token you provided is for a single Dropbox user.",
            )

    def _root_info(self, user: User) -> JSONObject:
        team = self.state.team
        if team is not None:
            return {
                ".tag": "team",
                "root_namespace_id": team.root_ns,
                "home_namespace_id": user.home,
                "home_path": "/" + user.name,
            }
        return {".tag": "user", "root_namespace_id": user.home, "home_namespace_id": user.home}

    def _path_root(self, request: Request, user: User) -> str:
        raw = request.headers.get("dropbox-api-path-root")
        if raw is None:
            return "home"
        try:
            root = json.loads(raw)
            tag = root[".tag"]
        except (ValueError, KeyError, TypeError):
            raise bad_input(
                self._route(request),
                'HTTP header "Dropbox-API-Path-Root": could not decode input as JSON',
            ) from None
        state = self.state
        if tag == "home":
            return "home"
        if tag == "root":
            expected = state.team.root_ns if state.team else user.home
            if root.get("root") != expected:
                raise route_error(
                    {".tag": "invalid_root", "invalid_root": self._root_info(user)}, 422
                )
            return "root" if state.team else "home"
        if tag == "namespace_id":
            ns = state.namespaces.get(str(root.get("namespace_id")))
            if (
                ns is None
                or (ns.kind == "home" and ns.ns_id != user.home)
                or (ns.kind != "home" and state.access(user, ns) is None)
            ):
                raise route_error({".tag": "no_permission"}, 422)
            return "home" if ns.ns_id == user.home else ns.ns_id
        raise bad_input(
            self._route(request), f'HTTP header "Dropbox-API-Path-Root": unknown tag "{tag}"'
        )

    def _resolve(
        self, caller: Caller, route: str, path: str, *, pattern: re.Pattern[str] = _PATH
    ) -> tuple[str, Item | None]:
        """(display path in the caller's view, the item there; None for the root)."""
        if not pattern.match(path):
            raise bad_input(
                route,
                f"request body: path: '{path}' did not match pattern '{pattern.pattern}'",
            )
        state = self.state
        if path == "":
            return "", None
        if path.startswith("id:"):
            item = state.items.get(path)
            mount = None if item is None else state.mounts(caller.user, caller.root).get(item.ns)
            if item is None or mount is None or not mount + item.path:
                raise _not_found()
            return mount + item.path, item
        if path.startswith("rev:"):
            for shown, found in state.view(caller.user, caller.root):
                if found.rev == path[4:]:
                    return shown, found
            raise _not_found()
        if path.startswith("ns:"):
            ns_id, _, rest = path[3:].partition("/")
            mount = state.mounts(caller.user, caller.root).get(ns_id)
            if mount is None:
                raise _not_found()
            path = mount + ("/" + rest if rest else "")
            if path == "":
                return "", None
        key = path.rstrip("/").lower() if path != "/" else "/"
        at = state.at_path(caller.user, caller.root, key)
        if at is None:
            raise _not_found()
        return at

    # -- files ---------------------------------------------------------------------------------

    def _scope(self, caller: Caller, args: JSONObject, route: str) -> tuple[str, Item | None]:
        path = _str(args, route, "path")
        shown, item = self._resolve(caller, route, path)
        if item is not None and item.tag != "folder":
            raise _lookup("not_folder")
        return shown, item

    def _cursor(
        self,
        caller: Caller,
        scope: str,
        args: JSONObject,
        route: str,
        *,
        seq: int,
        after: str | None,
    ) -> str:
        payload: JSONObject = {
            "u": caller.user.account_id,
            "v": caller.root,
            "p": scope.lower(),
            "r": _bool(args, route, "recursive", False),
            "d": _bool(args, route, "include_deleted", False),
            "x": _bool(args, route, "include_has_explicit_shared_members", False),
            "l": _int(args, route, "limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT),
            "e": self.state.cursor_epoch,
            "s": seq,
            "a": after,
        }
        return self.state.tokens.encode(payload)

    async def list_folder(self, request: Request) -> Response:
        args = await self._args(request)
        route = "files/list_folder"
        with self.state.lock:
            caller = self._user(request)
            if "shared_link" in args:
                raise bad_input(route, "shared_link is not supported by this sandbox")
            scope, _ = self._scope(caller, args, route)
            cursor = self._cursor(caller, scope, args, route, seq=self.state.position, after="")
            payload = self.state.tokens.decode(cursor)
            assert payload is not None
            payload["i"] = self.state.new_listing()  # the listing's rows are kept by this id
            return json_response(self._page(caller, payload))

    async def get_latest_cursor(self, request: Request) -> Response:
        args = await self._args(request)
        route = "files/list_folder/get_latest_cursor"
        with self.state.lock:
            caller = self._user(request)
            scope, _ = self._scope(caller, args, route)
            return json_response(
                {
                    "cursor": self._cursor(
                        caller, scope, args, route, seq=self.state.position, after=None
                    )
                }
            )

    async def list_folder_continue(self, request: Request) -> Response:
        args = await self._args(request)
        route = "files/list_folder/continue"
        with self.state.lock:
            caller = self._user(request)
            cursor = _str(args, route, "cursor")
            payload = self.state.tokens.decode(cursor)
            if payload is None or payload.get("u") != caller.user.account_id:
                raise bad_input(route, f"request body: cursor: invalid cursor {cursor[:40]!r}")
            if payload["e"] != self.state.cursor_epoch:
                raise route_error({".tag": "reset"})
            if payload["v"] != caller.root:
                raise route_error({".tag": "reset"})
            return json_response(self._page(caller, payload))

    def _page(self, caller: Caller, payload: JSONObject) -> JSONObject:
        """One page of a listing (`a` is the last path served, `i` the listing's id) or of
        changes (`a` is None): what it serves is all it renders."""
        state = self.state
        scope, recursive = str(payload["p"]), bool(payload["r"])
        limit = _n(payload["l"])
        explicit = bool(payload["x"])
        entries: list[JSONObject] = []
        if payload["a"] is not None:
            listing_id = payload.get("i")
            if not isinstance(listing_id, int) or isinstance(listing_id, bool):
                listing_id = None
            listing = state.listing(
                listing_id, caller.user, caller.root, scope, recursive, bool(payload["d"])
            )
            page, more = listing.page(str(payload["a"]), limit)
            entries = [
                deleted_entry(row.shown)
                if row.item is None
                else metadata(state, caller.user, row.shown, row.item, explicit=explicit)
                for row in page
            ]
            next_payload = {**payload, "a": page[-1].key if more else None}
            if not more:  # the listing is over: its last cursor only replays changes
                next_payload.pop("i", None)
                state.end_listing(listing_id)
        else:
            seq = _n(payload["s"])
            mounts = state.mounts(caller.user, caller.root)
            consumed = seq
            for index in range(seq, len(state.log)):
                if len(entries) >= limit:
                    break
                entry = state.log[index]
                consumed = entry.seq
                mount = mounts.get(entry.ns)
                if mount is None:
                    continue
                shown = mount + entry.path
                if not shown or not in_scope(shown.lower(), scope, recursive):
                    continue
                if entry.kind == "delete":
                    entries.append(deleted_entry(shown))
                else:
                    assert entry.item is not None
                    entries.append(
                        metadata(state, caller.user, shown, entry.item, explicit=explicit)
                    )
            more = len(entries) >= limit and consumed < state.position
            next_payload = {**payload, "s": consumed if more else state.position}
        return {
            "entries": entries,  # type: ignore[dict-item]
            "cursor": state.tokens.encode(next_payload),
            "has_more": more,
        }

    async def get_metadata(self, request: Request) -> Response:
        args = await self._args(request)
        route = "files/get_metadata"
        with self.state.lock:
            caller = self._user(request)
            path = _str(args, route, "path")
            if path == "":
                raise bad_input(route, "request body: path: The root folder is unsupported.")
            try:
                shown, item = self._resolve(caller, route, path, pattern=_READ_PATH)
            except DropboxError as exc:
                if (
                    exc.status == 409
                    and _bool(args, route, "include_deleted", False)
                    and path.startswith("/")
                ):
                    mounts = self.state.mounts(caller.user, caller.root)
                    for (ns, key), display in self.state.tombstones.items():
                        if ns in mounts and (mounts[ns] + key) == path.lower():
                            return json_response(deleted_entry(mounts[ns] + display))
                raise
            assert item is not None
            explicit = _bool(args, route, "include_has_explicit_shared_members", False)
            return json_response(metadata(self.state, caller.user, shown, item, explicit=explicit))

    def _file(self, caller: Caller, route: str, args: JSONObject) -> tuple[str, Item]:
        shown, item = self._resolve(caller, route, _str(args, route, "path"), pattern=_READ_PATH)
        if item is None or item.tag != "file":
            raise _lookup("not_file")
        return shown, item

    async def download(self, request: Request) -> Response:
        args = self._content_args(request)
        route = "files/download"
        with self.state.lock:
            caller = self._user(request)
            shown, item = self._file(caller, route, args)
            if item.paper is not None:
                raise route_error({".tag": "unsupported_file"})
            result = metadata(self.state, caller.user, shown, item)
            content = item.content
        return _bytes(request, content, result)

    async def export(self, request: Request) -> Response:
        args = self._content_args(request)
        route = "files/export"
        with self.state.lock:
            caller = self._user(request)
            shown, item = self._file(caller, route, args)
            if item.paper is None:
                raise route_error({".tag": "non_exportable"})
            fmt = args.get("export_format") or "html"
            if fmt not in PAPER_EXPORT_OPTIONS:
                raise route_error({".tag": "invalid_export_format"})
            data, ext = _export_paper(item.paper, str(fmt))
            base = shown.rsplit("/", 1)[-1].removesuffix(".paper")
            result: JSONObject = {
                "export_metadata": {
                    "name": f"{base}.{ext}",
                    "size": len(data),
                    "export_hash": content_hash(data),
                    "paper_revision": int(item.rev, 16) % 1000,
                },
                "file_metadata": metadata(self.state, caller.user, shown, item),
            }
        return _bytes(request, data, result)

    # -- sharing -------------------------------------------------------------------------------

    def _members_page(
        self,
        caller: User,
        rows: list[tuple[Member, bool]],
        offset: int,
        limit: int,
        kind: str,
        key: str,
    ) -> JSONObject:
        body: JSONObject = {"users": [], "groups": [], "invitees": []}
        for member, inherited in rows[offset : offset + limit]:
            bucket, entry = membership(self.state, caller, member, inherited=inherited)
            body[bucket].append(entry)  # type: ignore[union-attr]
        if offset + limit < len(rows):
            body["cursor"] = self.state.tokens.encode(
                {"k": kind, "id": key, "o": offset + limit, "l": limit, "u": caller.account_id}
            )
        return body

    def _folder_rows(self, caller: User, shared_folder_id: str) -> list[tuple[Member, bool]]:
        ns = self.state.namespaces.get(shared_folder_id)
        if ns is None or ns.kind == "home":
            raise route_error({".tag": "invalid_id"})
        if self.state.access(caller, ns) is None:
            raise route_error({".tag": "not_a_member"})
        order = {"user": 0, "group": 1, "invitee": 2}
        return [(m, False) for m in sorted(ns.members, key=lambda m: order[m.kind])]

    async def list_folder_members(self, request: Request) -> Response:
        args = await self._args(request)
        route = "sharing/list_folder_members"
        with self.state.lock:
            caller = self._user(request)
            folder = _str(args, route, "shared_folder_id")
            limit = _int(args, route, "limit", 1000, 1, 1000)
            rows = self._folder_rows(caller.user, folder)
            return json_response(self._members_page(caller.user, rows, 0, limit, "folder", folder))

    def _members_cursor(self, caller: User, route: str, args: JSONObject, kind: str) -> JSONObject:
        cursor = self.state.tokens.decode(_str(args, route, "cursor"))
        if cursor is None or cursor.get("k") != kind or cursor.get("u") != caller.account_id:
            raise route_error({".tag": "invalid_cursor"})
        return cursor

    async def list_folder_members_continue(self, request: Request) -> Response:
        args = await self._args(request)
        route = "sharing/list_folder_members/continue"
        with self.state.lock:
            caller = self._user(request)
            cursor = self._members_cursor(caller.user, route, args, "folder")
            try:
                rows = self._folder_rows(caller.user, str(cursor["id"]))
            except DropboxError as exc:
                error = exc.body["error"] if isinstance(exc.body, dict) else None
                raise route_error({".tag": "access_error", "access_error": error}) from None
            page = self._members_page(
                caller.user, rows, _n(cursor["o"]), _n(cursor["l"]), "folder", str(cursor["id"])
            )
            return json_response(page)

    def _file_rows(
        self, caller: Caller, route: str, file: str, inherited: bool
    ) -> tuple[Item, list[tuple[Member, bool]]]:
        try:
            _, item = self._resolve(caller, route, file)
        except DropboxError:
            raise route_error(
                {".tag": "access_error", "access_error": {".tag": "invalid_file"}}
            ) from None
        if item is None or item.tag != "file":
            raise route_error({".tag": "access_error", "access_error": {".tag": "is_folder"}})
        state = self.state
        ns = state.namespaces[item.ns]
        rows: list[tuple[Member, bool]] = []
        if ns.kind == "home":
            owner = next(u for u in state.users.values() if u.home == ns.ns_id)
            rows.append((Member("user", owner.email, "owner"), False))
        explicit = [(m, False) for m in item.members]
        rows += explicit
        if inherited and ns.kind != "home":
            seen = {(m.kind, m.key) for m, _ in rows}
            rows += [(m, True) for m in ns.members if (m.kind, m.key) not in seen]
        order = {"user": 0, "group": 1, "invitee": 2}
        rows.sort(key=lambda row: order[row[0].kind])
        return item, rows

    async def list_file_members(self, request: Request) -> Response:
        args = await self._args(request)
        route = "sharing/list_file_members"
        with self.state.lock:
            caller = self._user(request)
            file = _str(args, route, "file")
            inherited = _bool(args, route, "include_inherited", True)
            limit = _int(args, route, "limit", 100, 1, 300)
            item, rows = self._file_rows(caller, route, file, inherited)
            body = self._members_page(caller.user, rows, 0, limit, "file", item.id)
            if "cursor" in body:  # remember include_inherited
                cursor = self.state.tokens.decode(str(body["cursor"]))
                assert cursor is not None
                body["cursor"] = self.state.tokens.encode({**cursor, "i": inherited})
            return json_response(body)

    async def list_file_members_continue(self, request: Request) -> Response:
        args = await self._args(request)
        route = "sharing/list_file_members/continue"
        with self.state.lock:
            caller = self._user(request)
            cursor = self._members_cursor(caller.user, route, args, "file")
            inherited = bool(cursor.get("i", True))
            item, rows = self._file_rows(caller, route, str(cursor["id"]), inherited)
            body = self._members_page(
                caller.user, rows, _n(cursor["o"]), _n(cursor["l"]), "file", item.id
            )
            if "cursor" in body:
                decoded = self.state.tokens.decode(str(body["cursor"]))
                assert decoded is not None
                body["cursor"] = self.state.tokens.encode({**decoded, "i": inherited})
            return json_response(body)

    async def get_folder_metadata(self, request: Request) -> Response:
        args = await self._args(request)
        route = "sharing/get_folder_metadata"
        with self.state.lock:
            caller = self._user(request)
            folder = _str(args, route, "shared_folder_id")
            self._folder_rows(caller.user, folder)
            state = self.state
            ns = state.namespaces[folder]
            access = state.access(caller.user, ns) or "no_access"
            mount = state.mounts(caller.user, caller.root).get(ns.ns_id)
            owners = [
                state.user(m.key).name
                for m in ns.members
                if m.kind == "user" and m.access == "owner"
            ]
            body: JSONObject = {
                "access_type": {".tag": access},
                "is_inside_team_folder": ns.kind == "team_folder",
                "is_team_folder": ns.kind == "team_folder",
                "owner_display_names": owners,  # type: ignore[dict-item]
                "name": ns.name,
                "policy": {
                    "acl_update_policy": {".tag": "owner"},
                    "shared_link_policy": {".tag": "anyone"},
                    "viewer_info_policy": {".tag": "enabled"},
                },
                "preview_url": f"https://www.dropbox.com/scl/fo/{ns.ns_id}",
                "shared_folder_id": ns.ns_id,
                "time_invited": timestamp(ns.created),
                "access_inheritance": {".tag": "inherit"},
                "folder_id": ns.root_id,
            }
            if state.team is not None:
                body["owner_team"] = {"id": state.team.team_id, "name": state.team.name}
            if mount:
                body["path_lower"] = mount.lower()
                body["path_display"] = mount
            return json_response(body)

    async def get_current_account(self, request: Request) -> Response:
        await self._args(request)
        with self.state.lock:
            user = self._user(request).user
            given, _, surname = user.name.partition(" ")
            body: JSONObject = {
                "account_id": user.account_id,
                "name": {
                    "given_name": given,
                    "surname": surname,
                    "familiar_name": given,
                    "display_name": user.name,
                    "abbreviated_name": "".join(p[0] for p in user.name.split() if p),
                },
                "email": user.email,
                "email_verified": True,
                "disabled": False,
                "locale": "en",
                "referral_link": "https://db.tt/sandbox",
                "is_paired": False,
                "account_type": {".tag": "business" if self.state.team else "basic"},
                "root_info": self._root_info(user),
                "country": "US",
            }
            if self.state.team is not None:
                body["team"] = {"id": self.state.team.team_id, "name": self.state.team.name}
                body["team_member_id"] = user.team_member_id
            return json_response(body)

    # -- team ----------------------------------------------------------------------------------

    def _team_page(
        self, key: str, rows: list[JSON], offset: int, limit: int, extra: JSONObject | None = None
    ) -> JSONObject:
        more = offset + limit < len(rows)
        cursor = self.state.tokens.encode(
            {"k": key, "o": offset + limit, "l": limit, **(extra or {})}
        )
        return {"rows": rows[offset : offset + limit], "cursor": cursor, "has_more": more}

    def _team_cursor(self, route: str, args: JSONObject, key: str) -> JSONObject:
        cursor = self.state.tokens.decode(_str(args, route, "cursor"))
        if cursor is None or cursor.get("k") != key:
            raise route_error({".tag": "invalid_cursor"})
        return cursor

    def _team_folders(self) -> list[JSON]:
        team = self.state.team
        assert team is not None
        return [
            team_folder(ns)
            for ns in self.state.namespaces.values()
            if ns.kind == "team_folder" and ns.ns_id != team.root_ns
        ]

    async def team_folder_list(self, request: Request) -> Response:
        args = await self._args(request)
        with self.state.lock:
            self._team(request)
            limit = _int(args, "team/team_folder/list", "limit", 1000, 1, 1000)
            page = self._team_page("tf", self._team_folders(), 0, limit)
            return json_response({"team_folders": page.pop("rows"), **page})

    async def team_folder_list_continue(self, request: Request) -> Response:
        args = await self._args(request)
        with self.state.lock:
            self._team(request)
            cursor = self._team_cursor("team/team_folder/list/continue", args, "tf")
            page = self._team_page("tf", self._team_folders(), _n(cursor["o"]), _n(cursor["l"]))
            return json_response({"team_folders": page.pop("rows"), **page})

    def _groups(self) -> list[JSON]:
        return [group_summary(g) for g in self.state.groups.values()]

    async def groups_list(self, request: Request) -> Response:
        args = await self._args(request)
        with self.state.lock:
            self._team(request)
            limit = _int(args, "team/groups/list", "limit", 1000, 1, 1000)
            page = self._team_page("g", self._groups(), 0, limit)
            return json_response({"groups": page.pop("rows"), **page})

    async def groups_list_continue(self, request: Request) -> Response:
        args = await self._args(request)
        with self.state.lock:
            self._team(request)
            cursor = self._team_cursor("team/groups/list/continue", args, "g")
            page = self._team_page("g", self._groups(), _n(cursor["o"]), _n(cursor["l"]))
            return json_response({"groups": page.pop("rows"), **page})

    def _joined(self) -> float:
        """When members joined the team: when the state's first namespace was made."""
        return min((ns.created for ns in self.state.namespaces.values()), default=0.0)

    def _group_members(self, group_id: str) -> list[JSON]:
        group = self.state.groups.get(group_id)
        if group is None:
            raise route_error({".tag": "group_not_found"})
        joined = self._joined()
        return [
            {
                "profile": member_profile(self.state.user(email), joined),
                "access_type": {".tag": "owner" if email in group.owners else "member"},
            }
            for email in group.members
        ]

    async def group_members_list(self, request: Request) -> Response:
        args = await self._args(request)
        route = "team/groups/members/list"
        with self.state.lock:
            self._team(request)
            selector = args.get("group")
            if not isinstance(selector, dict) or selector.get(".tag") not in (
                "group_id",
                "group_external_id",
            ):
                raise bad_input(route, "request body: group: expected a GroupSelector")
            if selector[".tag"] == "group_external_id":
                raise route_error({".tag": "group_not_found"})
            group_id = str(selector.get("group_id"))
            limit = _int(args, route, "limit", 1000, 1, 1000)
            page = self._team_page("gm", self._group_members(group_id), 0, limit, {"id": group_id})
            return json_response({"members": page.pop("rows"), **page})

    async def group_members_list_continue(self, request: Request) -> Response:
        args = await self._args(request)
        with self.state.lock:
            self._team(request)
            cursor = self._team_cursor("team/groups/members/list/continue", args, "gm")
            group_id = str(cursor["id"])
            try:
                rows = self._group_members(group_id)
            except DropboxError:
                raise route_error({".tag": "invalid_cursor"}) from None
            page = self._team_page("gm", rows, _n(cursor["o"]), _n(cursor["l"]), {"id": group_id})
            return json_response({"members": page.pop("rows"), **page})

    async def token_get_authenticated_admin(self, request: Request) -> Response:
        """The admin who linked the team app, as a `TeamMemberProfile`; 409 `mapping_not_found`
        when no admin was recorded for the token, `admin_not_active` when that member is no
        longer on the team or no longer has the admin role it linked with."""
        await self._args(request)
        with self.state.lock:
            self._team(request)
            link = self.state.team_link(self._bearer(request))
            if link is None:
                raise route_error({".tag": "mapping_not_found"})
            admin = self.state.users.get(link.admin)
            if (
                admin is None
                or admin.team_member_id is None
                or (link.as_admin and not admin.is_admin)
            ):
                raise route_error({".tag": "admin_not_active"})
            profile = team_member_profile(self.state, admin, self._joined())
            return json_response({"admin_profile": profile})


def _export_paper(markdown: str, fmt: str) -> tuple[bytes, str]:
    if fmt == "markdown":
        return markdown.encode(), "md"
    if fmt == "plain_text":
        return re.sub(r"^[#>*\-\s]+", "", markdown, flags=re.M).encode(), "txt"
    lines = []
    for line in markdown.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = len(heading.group(1))
            lines.append(f"<h{level}>{_escape(heading.group(2))}</h{level}>")
        elif line.strip():
            lines.append(f"<p>{_escape(line)}</p>")
    body = "".join(lines)
    return (
        f'<!DOCTYPE html><html><head><meta charset="UTF-8"></head><body>{body}</body>'
        "</html>".encode(),
        "html",
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bytes(request: Request, content: bytes, result: JSONObject) -> Response:
    """The bytes, with the result metadata in `Dropbox-API-Result` (JSON, non-ASCII escaped
    so the header stays ASCII); a `Range` of one span answers 206."""
    headers = {"Dropbox-API-Result": json.dumps(result, ensure_ascii=True, separators=(",", ":"))}
    status = 200
    span = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("range", ""))
    if span and (span.group(1) or span.group(2)) and content:
        size = len(content)
        if span.group(1):
            start = int(span.group(1))
            end = min(int(span.group(2)), size - 1) if span.group(2) else size - 1
        else:
            start, end = max(0, size - int(span.group(2))), size - 1
        if start < size and start <= end:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            content, status = content[start : end + 1], 206
    return Response(content, status, headers=headers, media_type="application/octet-stream")
