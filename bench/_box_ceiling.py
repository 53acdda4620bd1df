"""The fetch-only ceiling for Box: a plain async client that makes the requests the connector's
initial listing makes, parses every page with orjson and counts the items. Prints one JSON
line: {seconds, records, requests}.

Breadth first from "All Files" (folder `0`) through each folder's `items` with marker paging,
the connector's page size and `fields`; one at a time, as the connector does, the
`collaborations` of every item marked `has_collaborations`, and once per group they name, the
group's `memberships` (the connector reads those to expand the group).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import httpx
import orjson

from syncline.connectors.box.connector import (
    COLLABORATIONS_PAGE_SIZE,
    MEMBERSHIPS_PAGE_SIZE,
    PAGE_SIZE,
)
from syncline.connectors.box.normalize import ITEM_FIELDS

_PATHS = {"file": "files", "folder": "folders", "web_link": "web_links"}


class _Walk:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.records = 0
        self.requests = 0
        self.groups: set[str] = set()

    async def get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        self.requests += 1
        response = await self.client.get(url, params=params)
        response.raise_for_status()
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def collaborations(self, kind: str, item_id: str) -> None:
        params = {"limit": str(COLLABORATIONS_PAGE_SIZE)}
        while True:
            body = await self.get(f"/2.0/{_PATHS[kind]}/{item_id}/collaborations", params)
            for entry in body.get("entries", []):
                accessible = entry.get("accessible_by") or {}
                if accessible.get("type") == "group":
                    self.groups.add(accessible["id"])
            if not body.get("next_marker"):
                return
            params = {**params, "marker": body["next_marker"]}

    async def members(self, group: str) -> None:
        offset = 0
        while True:
            params = {"limit": str(MEMBERSHIPS_PAGE_SIZE), "offset": str(offset)}
            body = await self.get(f"/2.0/groups/{group}/memberships", params)
            offset += len(body.get("entries", []))
            if not body.get("entries") or offset >= body.get("total_count", 0):
                return

    async def tree(self) -> None:
        pending = ["0"]
        base = {"usemarker": "true", "limit": str(PAGE_SIZE), "fields": ITEM_FIELDS}
        while pending:
            folder = pending.pop(0)
            params = base
            while True:
                body = await self.get(f"/2.0/folders/{folder}/items", params)
                for item in body.get("entries", []):
                    if item.get("item_status", "active") != "active":
                        continue
                    self.records += 1
                    if item.get("type") == "folder":
                        pending.append(item["id"])
                    if item.get("has_collaborations") is True:
                        await self.collaborations(item["type"], item["id"])
                if not body.get("next_marker"):
                    break
                params = {**base, "marker": body["next_marker"]}
        for group in sorted(self.groups):
            await self.members(group)


async def fetch_all(box: str, access: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access}"}
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=box, headers=headers, timeout=120) as client:
        walker = _Walk(client)
        await walker.tree()
    return {
        "seconds": time.perf_counter() - started,
        "records": walker.records,
        "requests": walker.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--box", required=True)
    parser.add_argument("--access", required=True)
    args = parser.parse_args()
    result = asyncio.run(fetch_all(args.box, args.access))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
