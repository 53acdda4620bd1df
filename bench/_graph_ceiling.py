"""The fetch-only ceiling for Graph: a plain async client that pages through a drive, parses
every page with orjson and counts the items. Prints one JSON line: {seconds, records, requests}.

`--walk delta` (the default) follows `root/delta` from no token through `@odata.nextLink` to the
`@odata.deltaLink`: the whole drive in one paged feed. `--walk children` makes the requests the
connector's initial listing makes: breadth first through each folder's `children`. Both ask
for the connector's `$select` and page size. `--permissions` also reads, one at a time as the
connector does, the `permissions` of every item marked `shared`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from syncline.connectors.msgraph.connector import PAGE_SIZE
from syncline.connectors.msgraph.normalize import ITEM_SELECT


class _Walk:
    def __init__(self, client: httpx.AsyncClient, drive: str, permissions: bool) -> None:
        self.client = client
        self.drive = f"/v1.0/drives/{quote(drive, safe='')}"
        self.permissions = permissions
        self.records = 0
        self.requests = 0

    async def page(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        self.requests += 1
        response = await self.client.get(url, params=params)
        response.raise_for_status()
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def items(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = body.get("value", [])
        for item in value:
            if "root" in item or "deleted" in item:
                continue
            self.records += 1
            if self.permissions and "shared" in item:
                await self.page(f"{self.drive}/items/{quote(item['id'], safe='')}/permissions")
        return value

    async def delta(self) -> None:
        # No `$top`: the connector's delta requests leave the page size to Graph (200).
        body = await self.page(f"{self.drive}/root/delta", {"$select": ITEM_SELECT})
        while True:
            await self.items(body)
            link = body.get("@odata.nextLink")
            if link is None:
                assert "@odata.deltaLink" in body, "a last page without a deltaLink"
                return
            body = await self.page(link)

    async def children(self) -> None:
        pending = ["root"]
        params = {"$select": ITEM_SELECT, "$top": str(PAGE_SIZE)}
        while pending:
            folder = pending.pop(0)
            body = await self.page(f"{self.drive}/items/{quote(folder, safe='')}/children", params)
            while True:
                pending += [i["id"] for i in await self.items(body) if "folder" in i]
                link = body.get("@odata.nextLink")
                if link is None:
                    break
                body = await self.page(link)


async def fetch_all(
    graph: str, access: str, drive: str, walk: str, permissions: bool
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access}"}
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=graph, headers=headers, timeout=120) as client:
        walker = _Walk(client, drive, permissions)
        await (walker.delta() if walk == "delta" else walker.children())
    return {
        "seconds": time.perf_counter() - started,
        "records": walker.records,
        "requests": walker.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graph", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--drive", required=True)
    parser.add_argument("--walk", choices=["delta", "children"], default="delta")
    parser.add_argument("--permissions", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(
        fetch_all(args.graph, args.access, args.drive, args.walk, args.permissions)
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
