"""Notion's JSON objects as one integration sees them under one `Notion-Version`.

Shapes follow the SDK's generated types for each version (makenotion/notion-sdk-js
`src/api-endpoints.ts` just before v5, for `2022-06-28`, and v5 before `2026-03-11` support,
for `2025-09-03`) and the object reference pages (page, block, database, data source, parent,
user). What differs between the two versions, as the upgrade guide for `2025-09-03` describes:

- a row's parent: `{"type": "database_id", "database_id"}` before, `{"type":
  "data_source_id", "data_source_id", "database_id"}` after;
- a database: before, it carries `properties`, `archived`, `created_by` and `last_edited_by`;
  after, it is a container listing `data_sources: [{id, name}]`, and the schema lives in the
  data source object (`object: "data_source"`, `parent: {"type": "database_id"}`,
  `database_parent`).

Additive fields (`in_trash`, `is_locked`, `workspace_id` of a bot) appear in both, since
"versioning is only for backwards incompatible changes" (reference/versioning).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from syncline.sandbox.notion.state import Block, Bot, Database, NotionState, Page, Parent
from syncline.types import JSON, JSONObject

__all__ = ["Renderer", "iso"]

_FILE_URL_TTL = 3600.0
"""Notion-hosted file URLs expire an hour after the read (reference/file-object)."""


def iso(epoch: float) -> str:
    """Notion's timestamp, rounded down to the minute: `2024-05-02T10:11:00.000Z`."""
    return datetime.fromtimestamp(epoch - epoch % 60, UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")


def _iso_exact(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _page_url(title: str, object_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    compact = object_id.replace("-", "")
    return f"https://www.notion.so/{slug}-{compact}" if slug else f"https://www.notion.so/{compact}"


class Renderer:
    """Renders `state`'s objects for `bot` under `version` (`2022-06-28` or `2025-09-03`)."""

    def __init__(self, state: NotionState, version: str, bot: Bot) -> None:
        self.state = state
        self.version = version
        self.bot = bot
        self.data_sources = version >= "2025-09-03"

    # -- users --------------------------------------------------------------------------------

    @staticmethod
    def partial_user(user_id: str) -> JSONObject:
        return {"object": "user", "id": user_id}

    def user(self, user_id: str) -> JSONObject:
        """A full user object when the integration may read user information, else the
        partial `{object, id}`."""
        if self.bot.user_info == "none":
            return self.partial_user(user_id)
        person = self.state.people.get(user_id)
        if person is not None:
            details: JSONObject = {}
            if self.bot.user_info == "with_email" and person.email:
                details["email"] = person.email
            return {
                "object": "user",
                "id": person.id,
                "name": person.name,
                "avatar_url": person.avatar_url,
                "type": "person",
                "person": details,
            }
        bot = self.state.bots.get(user_id)
        if bot is not None:
            info: JSONObject = self.bot_info(bot) if bot.id == self.bot.id else {}
            return {
                "object": "user",
                "id": bot.id,
                "name": bot.name,
                "avatar_url": bot.avatar_url,
                "type": "bot",
                "bot": info,
            }
        return self.partial_user(user_id)

    def owner(self, bot: Bot) -> JSONObject:
        if bot.owner is None:
            return {"type": "workspace", "workspace": True}
        return {"type": "user", "user": self.user(bot.owner)}

    def bot_info(self, bot: Bot) -> JSONObject:
        return {
            "owner": self.owner(bot),
            "workspace_name": self.state.workspace_name,
            "workspace_id": self.state.workspace_id,
            "workspace_limits": {"max_file_upload_size_in_bytes": 5_242_880},
        }

    # -- parents ------------------------------------------------------------------------------

    def parent(self, parent: Parent) -> JSONObject:
        kind, holder = parent
        if kind == "workspace" or holder is None:
            return {"type": "workspace", "workspace": True}
        if kind == "database_id" and self.data_sources:
            database = self.state.databases.get(holder)
            source = database.data_source_id if database is not None else holder
            return {"type": "data_source_id", "data_source_id": source, "database_id": holder}
        return {"type": kind, kind: holder}

    # -- pages --------------------------------------------------------------------------------

    def page(self, page: Page, *, trashed: bool, only: frozenset[str] | None = None) -> JSONObject:
        """A page object; `only` keeps the properties whose ids it names (`filter_properties`)."""
        properties = self.properties(page)
        if only is not None:
            properties = {
                n: v for n, v in properties.items() if isinstance(v, dict) and v.get("id") in only
            }
        return {
            "object": "page",
            "id": page.id,
            "created_time": iso(page.created),
            "last_edited_time": iso(page.edited),
            "created_by": self.partial_user(page.created_by),
            "last_edited_by": self.partial_user(page.edited_by),
            "cover": page.cover,
            "icon": page.icon,
            "parent": self.parent(page.parent),
            "archived": trashed,
            "in_trash": trashed,
            "is_locked": page.is_locked,
            "properties": properties,
            "url": _page_url(page.title, page.id),
            "public_url": page.public_url,
        }

    def properties(self, page: Page) -> JSONObject:
        database = self.state.database_of(page)
        if database is None:
            return {
                "title": {"id": "title", "type": "title", "title": page.values.get("title") or []}
            }
        return {
            name: self._property(page, config, page.values.get(name))
            for name, config in database.schema.items()
        }

    def _property(self, page: Page, config: JSONObject, raw: JSON) -> JSONObject:
        kind = str(config["type"])
        value: JSON
        if kind in ("title", "rich_text"):
            value = raw if isinstance(raw, list) else []
        elif kind in ("select", "status"):
            value = self._option(config, raw) if isinstance(raw, str) else None
        elif kind == "multi_select":
            value = [self._option(config, n) for n in raw] if isinstance(raw, list) else []
        elif kind == "checkbox":
            value = bool(raw)
        elif kind == "people":
            value = [self.user(str(p)) for p in raw] if isinstance(raw, list) else []
        elif kind == "created_time":
            value = iso(page.created)
        elif kind == "last_edited_time":
            value = iso(page.edited)
        elif kind == "created_by":
            value = self.user(page.created_by)
        elif kind == "last_edited_by":
            value = self.user(page.edited_by)
        else:  # number, date, url, email, phone_number
            value = raw
        return {"id": config["id"], "type": kind, kind: value}

    @staticmethod
    def _option(config: JSONObject, name: JSON) -> JSONObject:
        options = config[str(config["type"])]
        assert isinstance(options, dict)
        known = options.get("options")
        for option in known if isinstance(known, list) else []:
            if isinstance(option, dict) and option.get("name") == name:
                return {"id": option["id"], "name": option["name"], "color": option["color"]}
        return {"id": "", "name": name, "color": "default"}

    # -- databases and data sources -------------------------------------------------------------

    def database(self, database: Database, *, trashed: bool) -> JSONObject:
        if not self.data_sources:
            return {
                "object": "database",
                "id": database.id,
                "cover": database.cover,
                "icon": database.icon,
                "created_time": iso(database.created),
                "created_by": self.partial_user(database.created_by),
                "last_edited_by": self.partial_user(database.edited_by),
                "last_edited_time": iso(database.edited),
                "title": database.title_rich,
                "description": database.description,
                "is_inline": database.is_inline,
                "properties": database.schema,  # type: ignore[dict-item]
                "parent": self.parent(database.parent),
                "url": _page_url("", database.id),
                "public_url": database.public_url,
                "archived": trashed,
                "in_trash": trashed,
                "is_locked": database.is_locked,
            }
        return {
            "object": "database",
            "id": database.id,
            "title": database.title_rich,
            "description": database.description,
            "parent": self.parent(database.parent),
            "is_inline": database.is_inline,
            "in_trash": trashed,
            "is_locked": database.is_locked,
            "created_time": iso(database.created),
            "last_edited_time": iso(database.edited),
            "data_sources": [{"id": database.data_source_id, "name": database.title}],
            "icon": database.icon,
            "cover": database.cover,
            "url": _page_url("", database.id),
            "public_url": database.public_url,
        }

    def data_source(self, database: Database, *, trashed: bool) -> JSONObject:
        return {
            "object": "data_source",
            "id": database.data_source_id,
            "title": database.title_rich,
            "description": database.description,
            "parent": {"type": "database_id", "database_id": database.id},
            "database_parent": self.parent(database.parent),
            "is_inline": database.is_inline,
            "archived": trashed,
            "in_trash": trashed,
            "created_time": iso(database.created),
            "last_edited_time": iso(database.edited),
            "created_by": self.partial_user(database.created_by),
            "last_edited_by": self.partial_user(database.edited_by),
            "properties": database.schema,  # type: ignore[dict-item]
            "icon": database.icon,
            "cover": database.cover,
            "url": _page_url("", database.data_source_id),
            "public_url": database.public_url,
        }

    def searchable(self, node: Page | Database, *, trashed: bool) -> JSONObject:
        """What search returns for a page or a database (its data source from `2025-09-03`)."""
        if isinstance(node, Page):
            return self.page(node, trashed=trashed)
        if self.data_sources:
            return self.data_source(node, trashed=trashed)
        return self.database(node, trashed=trashed)

    # -- blocks -------------------------------------------------------------------------------

    def block(self, node: Page | Database | Block, *, trashed: bool) -> JSONObject:
        """A block object: a page reads as a `child_page` block, a database as a
        `child_database` one (their ids are the page's and the database's)."""
        payload: JSONObject
        if isinstance(node, Page):
            kind, payload = "child_page", {"title": node.title}
            has_children = self.state.has_live_children(node)
        elif isinstance(node, Database):
            # GUESS: a child_database block reports no children (its rows are not blocks).
            kind, payload, has_children = "child_database", {"title": node.title}, False
        else:
            kind, payload = node.type, self._payload(node)
            has_children = self.state.has_live_children(node)
        return {
            "object": "block",
            "id": node.id,
            "parent": self.parent(node.parent),
            "created_time": iso(node.created),
            "last_edited_time": iso(node.edited),
            "created_by": self.partial_user(node.created_by),
            "last_edited_by": self.partial_user(node.edited_by),
            "has_children": has_children,
            "archived": trashed,
            "in_trash": trashed,
            "type": kind,
            kind: payload,
        }

    def _payload(self, block: Block) -> JSONObject:
        data = block.data
        if data.get("type") == "file":
            hosted = data.get("file")
            if isinstance(hosted, dict):
                expiry = _iso_exact(self.state.clock() + _FILE_URL_TTL)
                return {**data, "file": {**hosted, "expiry_time": expiry}}
        return data
