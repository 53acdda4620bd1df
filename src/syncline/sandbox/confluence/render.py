"""Confluence's JSON shapes, field by field as the Cloud OpenAPI specs define them (v2:
`PageBulk`, `PageSingle`, `SpaceBulk`, `ChildrenResponse`, `DescendantsResponse`,
`SpacePermissionAssignment`; v1: `Content`, `SearchResult`, `User`, `Group`,
`ContentRestriction`), with the site's absolute and relative links.

- Times are UTC with milliseconds and `Z` ("In format YYYY-MM-DDTHH:mm:ss.sssZ").
- Ids are strings in both APIs (v1 spaces' `id` is the one integer).
- v2 `_links.webui` is relative to the site's `/wiki` (`/spaces/ENG/pages/123/Runbook`); a
  single page or space adds `_links.base` (`https://<site>.atlassian.net/wiki`) (GUESS from
  responses seen in the wild; `AbstractPageLinks` in the spec lists webui, editui and tinyui).
- v1 user `email` is an empty string when the user's privacy settings hide it (the spec: "this
  may return an empty string"), and `displayName` may then be the public name.
- Bodies: `storage` is the page's storage-format XHTML; `view`, `export_view`, `styled_view`,
  `anonymous_export_view` and `editor` answer that same markup (the sandbox renders no macros);
  `atlas_doc_format` is a minimal ADF document of the text's paragraphs (the sandbox's own
  conversion).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from html import unescape
from urllib.parse import quote_plus

import orjson

from syncline.sandbox.confluence.state import (
    ConfluenceState,
    Group,
    Page,
    Restriction,
    Space,
    SpacePermission,
    User,
    Version,
)
from syncline.types import JSON, JSONObject

__all__ = ["Renderer", "iso"]


def iso(epoch: float) -> str:
    """`2024-05-02T10:11:12.345Z`."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tiny(page_id: str) -> str:
    """Confluence's tiny link: the id's little-endian bytes in base64url, zeros trimmed."""
    number = int(page_id)
    raw = number.to_bytes(max(1, (number.bit_length() + 7) // 8), "little")
    return "/x/" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Renderer:
    """Renders the site's objects; `wiki` is the site's `https://<site>.atlassian.net/wiki`."""

    def __init__(self, state: ConfluenceState) -> None:
        self.state = state
        self.wiki = f"{state.site_url}/wiki"

    # -- v2 -----------------------------------------------------------------------------------

    def page_links(self, page: Page, *, base: bool = False) -> JSONObject:
        space = self.state.spaces[page.space_id]
        links: JSONObject = {
            "editui": f"/pages/resumedraft.action?draftId={page.id}",
            "webui": f"/spaces/{space.key}/pages/{page.id}/{quote_plus(page.title)}",
            "edituiv2": f"/spaces/{space.key}/pages/edit-v2/{page.id}",
            "tinyui": tiny(page.id),
        }
        if base:
            links["base"] = self.wiki
        return links

    def version_v2(self, version: Version) -> JSONObject:
        return {
            "number": version.number,
            "message": version.message,
            "minorEdit": version.minor_edit,
            "authorId": version.author_id,
            "createdAt": iso(version.created),
        }

    def body_v2(self, page: Page, representation: str | None, version: Version) -> JSONObject:
        if representation is None:
            return {}
        value = version.body
        if representation == "atlas_doc_format":
            value = adf(version.body)
        return {representation: {"representation": representation, "value": value}}

    def page_v2(
        self,
        page: Page,
        representation: str | None,
        *,
        single: bool = False,
        version: Version | None = None,
        include_version: bool = True,
    ) -> JSONObject:
        shown = version or page.version
        body: JSONObject = {
            "parentType": "page" if page.parent_id else None,
            "parentId": page.parent_id,
            "spaceId": page.space_id,
            "ownerId": page.owner_id,
            "lastOwnerId": page.last_owner_id,
            "createdAt": iso(page.created),
            "authorId": page.author_id,
            "position": page.position,
        }
        if include_version:
            body["version"] = self.version_v2(shown)
        body["body"] = self.body_v2(page, representation, shown)
        body["status"] = (
            "historical" if version is not None and shown is not page.version else (page.status)
        )
        body["title"] = shown.title
        body["id"] = page.id
        body["_links"] = self.page_links(page, base=single)
        return body

    def space_v2(
        self, space: Space, description_format: str | None, *, single: bool = False
    ) -> JSONObject:
        links: JSONObject = {"webui": f"/spaces/{space.key}"}
        if single:
            links["base"] = self.wiki
        description: JSON = None
        if description_format is not None:
            description = {
                description_format: {
                    "representation": description_format,
                    "value": space.description,
                }
            }
        return {
            "createdAt": iso(space.created),
            "authorId": space.author_id,
            "homepageId": space.homepage_id,
            "icon": None,
            "description": description,
            "status": space.status,
            "name": space.name,
            "key": space.key,
            "id": space.id,
            "type": space.type,
            "currentActiveAlias": space.key,
            "_links": links,
        }

    def permission_v2(self, permission: SpacePermission) -> JSONObject:
        return {
            "id": permission.id,
            "principal": {"type": permission.principal_type, "id": permission.principal_id},
            "operation": {"key": permission.key, "targetType": permission.target_type},
        }

    def child_v2(self, page: Page) -> JSONObject:
        return {
            "id": page.id,
            "status": page.status,
            "title": page.title,
            "type": "page",
            "spaceId": page.space_id,
            "childPosition": page.position,
        }

    def child_page_v2(self, page: Page) -> JSONObject:
        """The deprecated `/pages/{id}/children` item (`ChildPage`)."""
        return {
            "id": page.id,
            "status": page.status,
            "title": page.title,
            "spaceId": page.space_id,
            "childPosition": page.position,
        }

    def descendant_v2(self, page: Page, depth: int) -> JSONObject:
        return {
            "id": page.id,
            "status": page.status,
            "title": page.title,
            "type": "page",
            "parentId": page.parent_id,
            "depth": depth,
            "childPosition": page.position,
        }

    # -- v1 -----------------------------------------------------------------------------------

    def user_v1(self, account_id: str) -> JSONObject:
        user = self.state.users.get(account_id)
        if user is None:
            return {"type": "unknown", "accountId": account_id, "accountType": ""}
        return self._user(user)

    def _user(self, user: User) -> JSONObject:
        avatar = f"/wiki/aa-avatar/{user.account_id}"
        return {
            "type": "known",
            "accountId": user.account_id,
            "accountType": user.account_type,
            "email": user.email if user.email_visible else "",
            "publicName": user.public_name,
            "profilePicture": {"path": avatar, "width": 48, "height": 48, "isDefault": False},
            "displayName": user.display_name if user.email_visible else user.public_name,
            "timeZone": user.time_zone if user.email_visible else None,
            "isExternalCollaborator": user.is_guest,
            "isGuest": user.is_guest,
            "_expandable": {"operations": "", "personalSpace": ""},
            "_links": {"self": f"{self.wiki}/rest/api/user?accountId={user.account_id}"},
        }

    def group_v1(self, group: Group) -> JSONObject:
        return {
            "type": "group",
            "name": group.name,
            "id": group.id,
            "_links": {"self": f"{self.wiki}/rest/api/group/by-id?id={group.id}"},
        }

    def space_v1(self, space: Space) -> JSONObject:
        return {
            "id": int(space.id),
            "key": space.key,
            "name": space.name,
            "type": space.type,
            "status": space.status,
            "_expandable": {"settings": "", "metadata": "", "operations": "", "lookAndFeel": "",
                            "identifiers": "", "permissions": "", "icon": "",
                            "description": "", "theme": "", "history": "", "homepage": ""},
            "_links": {"webui": f"/spaces/{space.key}",
                       "self": f"{self.wiki}/rest/api/space/{space.key}"},
        }  # fmt: skip

    def version_v1(self, page: Page) -> JSONObject:
        version = page.version
        return {
            "by": self.user_v1(version.author_id),
            "when": iso(version.created),
            "friendlyWhen": datetime.fromtimestamp(version.created, self.state.zone).strftime(
                "%b %d, %Y"
            ),
            "message": version.message,
            "number": version.number,
            "minorEdit": version.minor_edit,
            "contentTypeModified": False,
            "_expandable": {"collaborators": "", "content": f"/rest/api/content/{page.id}"},
            "_links": {"self": f"{self.wiki}/rest/api/content/{page.id}/version/{version.number}"},
        }

    def content_v1(self, page: Page, expand: set[str]) -> JSONObject:
        """A page as `Content`, with the expansions asked for (`version`, `space`,
        `ancestors`, `history`, `body.<representation>`, `restrictions.read.restrictions.user`,
        ...) and the rest listed under `_expandable`."""
        space = self.state.spaces[page.space_id]
        body: JSONObject = {
            "id": page.id,
            "type": "page",
            "status": page.status,
            "title": page.title,
        }
        expandable: JSONObject = {
            "childTypes": "",
            "container": f"/rest/api/space/{space.key}",
            "metadata": "",
            "operations": "",
            "schedulePublishDate": "",
            "children": f"/rest/api/content/{page.id}/child",
            "restrictions": f"/rest/api/content/{page.id}/restriction/byOperation",
            "history": f"/rest/api/content/{page.id}/history",
            "ancestors": "",
            "body": "",
            "version": "",
            "descendants": f"/rest/api/content/{page.id}/descendant",
            "space": f"/rest/api/space/{space.key}",
        }
        if "space" in expand:
            body["space"] = self.space_v1(space)
            expandable.pop("space")
        if "container" in expand:
            body["container"] = self.space_v1(space)
            expandable.pop("container")
        if "version" in expand:
            body["version"] = self.version_v1(page)
            expandable.pop("version")
        if "ancestors" in expand:
            body["ancestors"] = [
                self._ancestor_v1(self.state.pages[a]) for a in self.state.ancestor_ids(page)
            ]
            expandable.pop("ancestors")
        if any(e.startswith("history") for e in expand):
            history: JSONObject = {
                "latest": True,
                "createdBy": self.user_v1(page.author_id),
                "ownedBy": self.user_v1(page.owner_id),
                "createdDate": iso(page.created),
            }
            if "history.lastUpdated" in expand:
                history["lastUpdated"] = self.version_v1(page)
            body["history"] = history
            expandable.pop("history")
        representations = [e.split(".", 1)[1] for e in expand if e.startswith("body.")]
        if representations:
            bodies: JSONObject = {}
            for representation in representations:
                value = adf(page.body) if representation == "atlas_doc_format" else page.body
                bodies[representation] = {
                    "value": value,
                    "representation": representation,
                    "_expandable": {"content": f"/rest/api/content/{page.id}"},
                }
            body["body"] = bodies
            expandable.pop("body")
        if any(e.startswith("restrictions") for e in expand):
            body["restrictions"] = {
                operation: self.restriction_v1(page, operation, 0, 100)
                for operation in ("read", "update")
            }
            expandable.pop("restrictions")
        body["extensions"] = {"position": page.position}
        body["_expandable"] = expandable
        body["_links"] = self.content_links_v1(page)
        return body

    def _ancestor_v1(self, page: Page) -> JSONObject:
        return {
            "id": page.id,
            "type": "page",
            "status": page.status,
            "title": page.title,
            "_links": self.content_links_v1(page),
        }

    def content_links_v1(self, page: Page) -> JSONObject:
        space = self.state.spaces[page.space_id]
        return {
            "webui": f"/spaces/{space.key}/pages/{page.id}/{quote_plus(page.title)}",
            "edit": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": tiny(page.id),
            "self": f"{self.wiki}/rest/api/content/{page.id}",
        }

    def search_result_v1(self, page: Page, expand: set[str]) -> JSONObject:
        space = self.state.spaces[page.space_id]
        modified = page.modified
        return {
            "content": self.content_v1(page, expand),
            "title": page.title,
            "excerpt": _excerpt(page.body),
            "url": f"/spaces/{space.key}/pages/{page.id}/{quote_plus(page.title)}",
            "resultGlobalContainer": {"title": space.name, "displayUrl": f"/spaces/{space.key}"},
            "breadcrumbs": [],
            "entityType": "content",
            "iconCssClass": "aui-icon content-type-page",
            "lastModified": iso(modified),
            "friendlyLastModified": datetime.fromtimestamp(modified, self.state.zone).strftime(
                "%b %d, %Y"
            ),
            "score": 0.0,
        }

    def restriction_v1(self, page: Page, operation: str, start: int, limit: int) -> JSONObject:
        restriction = page.restrictions.get(operation) or Restriction()
        users = restriction.users[start : start + limit]
        groups = [self.state.groups[g] for g in restriction.groups if g in self.state.groups]
        shown_groups = groups[start : start + limit]
        return {
            "operation": operation,
            "restrictions": {
                "user": {
                    "results": [self.user_v1(u) for u in users],
                    "start": start,
                    "limit": limit,
                    "size": len(users),
                },
                "group": {
                    "results": [self.group_v1(g) for g in shown_groups],
                    "start": start,
                    "limit": limit,
                    "size": len(shown_groups),
                },
            },
            "_expandable": {"content": f"/rest/api/content/{page.id}"},
            "_links": {
                "self": f"{self.wiki}/rest/api/content/{page.id}/restriction/byOperation/"
                f"{operation}"
            },
        }


def adf(storage: str) -> str:
    """A minimal Atlassian Document Format rendering: one paragraph per block of text."""
    blocks = [
        unescape(re.sub(r"<[^>]+>", "", chunk)).strip()
        for chunk in re.split(r"</(?:p|h[1-6]|li|div)>", storage)
    ]
    content: list[JSON] = [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
        for text in blocks
        if text
    ]
    return orjson.dumps({"type": "doc", "version": 1, "content": content}).decode()


def _excerpt(storage: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", storage)).strip()[:250]


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
