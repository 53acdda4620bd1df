"""The Admin SDK Directory API's `members.list`, served next to Drive for group expansion."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.googledrive.api import authenticate
from syncline.sandbox.googledrive.auth import DIRECTORY_SCOPES
from syncline.sandbox.googledrive.errors import bad_value, error, insufficient_scopes
from syncline.sandbox.googledrive.model import permission_id
from syncline.sandbox.googledrive.params import json_response
from syncline.sandbox.googledrive.state import DriveState
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.types import JSON, JSONObject

__all__ = ["DirectoryApi", "group_id"]

MAX_RESULTS = 200


def group_id(email: str) -> str:
    """A stable id shaped like a Directory group id (`03` and hex)."""
    return "03" + hashlib.sha256(email.lower().encode()).hexdigest()[:14]


def _etag(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f'"{digest[:27]}/{digest[27:54]}"'


class DirectoryApi:
    """`GET /admin/directory/v1/groups/{groupKey}/members`, bound to one `DriveState`.

    The caller's grant needs a Directory group scope (`DIRECTORY_SCOPES`), else 403
    `insufficientPermissions`; an unknown group is 404 `notFound`. Members come back in the
    order they were set, `type` GROUP for nested groups, and `members` is left out of an empty
    page, as Google does.
    """

    def __init__(self, state: DriveState) -> None:
        self.state = state
        self.tokens = PageTokens()

    def routes(self) -> list[Route]:
        """Starlette routes for the directory endpoints the sandbox serves."""
        return [Route("/admin/directory/v1/groups/{group_key}/members", self.members_list)]

    async def members_list(self, request: Request) -> Response:
        """`members.list`: pages of at most `maxResults` (1 to 200, default 200)."""
        _, scopes = authenticate(self.state, request)
        if scopes.isdisjoint(DIRECTORY_SCOPES):
            raise insufficient_scopes()
        key = request.path_params["group_key"]
        want = _max_results(request.query_params.get("maxResults"))
        start = self._start(request.query_params.get("pageToken"), key)
        with self.state.lock:
            email = self._group_email(key)
            if email is None:
                raise error(404, "notFound", "Resource Not Found: groupKey")
            members = self.state.group(email) or ()
            page = [self._member(m) for m in members[start : start + want]]
        body: JSONObject = {"kind": "admin#directory#members", "etag": _etag(email, str(start))}
        if page:
            body["members"] = page
        if start + want < len(members):
            body["nextPageToken"] = self.tokens.encode({"group": key, "at": start + want})
        return json_response(body)

    def _group_email(self, key: str) -> str | None:
        """Directory accepts a group's email, alias or id as `groupKey`."""
        if self.state.group(key) is not None:
            return key.lower()
        return next((g for g in self.state.group_emails() if group_id(g) == key), None)

    def _member(self, email: str) -> JSON:
        is_group = self.state.is_group(email)
        return {
            "kind": "admin#directory#member",
            "etag": _etag(email),
            "id": group_id(email) if is_group else permission_id(email)[:21],
            "email": email,
            "role": "MEMBER",
            "type": "GROUP" if is_group else "USER",
            "status": "ACTIVE",
        }

    def _start(self, token: str | None, key: str) -> int:
        if token is None:
            return 0
        payload = self.tokens.decode(token)
        at = payload.get("at") if payload is not None and payload.get("group") == key else None
        if not isinstance(at, int):
            raise bad_value("pageToken")
        return at


def _max_results(raw: str | None) -> int:
    if raw is None:
        return MAX_RESULTS
    value = int(raw) if raw.isdigit() else 0
    if not 1 <= value <= MAX_RESULTS:
        raise bad_value(
            "maxResults",
            f"Invalid value '{raw}'. Values must be within the range: [1, {MAX_RESULTS}]",
        )
    return value
