"""The Admin SDK Reports API's `activities.list` for the groups application, served next to
Drive: how a sync learns at once that a group's members changed (Drive reports nothing)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.googledrive.api import authenticate
from syncline.sandbox.googledrive.auth import REPORTS_SCOPE
from syncline.sandbox.googledrive.errors import bad_value, insufficient_scopes
from syncline.sandbox.googledrive.params import json_response
from syncline.sandbox.googledrive.state import DriveState, GroupActivity
from syncline.sandbox.kit.page_tokens import PageTokens
from syncline.types import JSON, JSONObject

__all__ = ["ReportsApi"]

MAX_RESULTS = 1000
CUSTOMER_ID = "C03sandbox"


def _rfc3339(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(raw: str) -> float:
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise bad_value(
            "startTime", f"Invalid value '{raw}'. Values must match RFC 3339."
        ) from None


class ReportsApi:
    """`GET /admin/reports/v1/activity/users/all/applications/groups`, bound to one `DriveState`.

    Needs `admin.reports.audit.readonly`, else 403 `insufficientPermissions`. Activities come
    newest first; `startTime` (RFC 3339) keeps those at or after it; `maxResults` is 1 to 1000
    (default 1000); `nextPageToken` pages on; `items` is left out when there are none.
    """

    def __init__(self, state: DriveState) -> None:
        self.state = state
        self.tokens = PageTokens()

    def routes(self) -> list[Route]:
        return [Route("/admin/reports/v1/activity/users/all/applications/groups", self.activities)]

    async def activities(self, request: Request) -> Response:
        user, scopes = authenticate(self.state, request)
        if REPORTS_SCOPE not in scopes:
            raise insufficient_scopes()
        params = request.query_params
        since = _parse_time(params["startTime"]) if "startTime" in params else 0.0
        raw = params.get("maxResults", str(MAX_RESULTS))
        want = int(raw) if raw.isdigit() else 0
        if not 1 <= want <= MAX_RESULTS:
            raise bad_value("maxResults")
        start = 0
        if (token := params.get("pageToken")) is not None:
            payload = self.tokens.decode(token)
            at = payload.get("at") if payload is not None else None
            if not isinstance(at, int):
                raise bad_value("pageToken")
            start = at
        found = self.state.group_activity(since)
        page = found[start : start + want]
        body: JSONObject = {"kind": "admin#reports#activities", "etag": f'"{len(found)}"'}
        if page:
            body["items"] = [_item(a, user) for a in page]
        if start + want < len(found):
            body["nextPageToken"] = self.tokens.encode({"at": start + want})
        return json_response(body)


def _item(activity: GroupActivity, actor: str) -> JSON:
    unique = hashlib.sha256(
        f"{activity.time}|{activity.name}|{activity.group}|{activity.member}".encode()
    ).hexdigest()[:19]
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": _rfc3339(activity.time),
            "uniqueQualifier": str(int(unique, 16)),
            "applicationName": "groups",
            "customerId": CUSTOMER_ID,
        },
        "actor": {"email": actor},
        "events": [
            {
                "type": "user_change",
                "name": activity.name,
                "parameters": [
                    {"name": "group_email", "value": activity.group},
                    {"name": "user_email", "value": activity.member},
                ],
            }
        ],
    }
