"""The fetch-only ceiling for Dropbox: a plain async client that makes the requests the
connector's initial listing makes, parses every page with orjson and counts the entries.
Prints one JSON line: {seconds, records, requests}.

`files/list_folder` of the whole Dropbox, recursive, with the connector's arguments and page
size, then `files/list_folder/continue` until `has_more` is false; one at a time, as the
connector does, `sharing/list_file_members` of every file with `has_explicit_shared_members`;
and once per shared folder met, its `sharing/list_folder_members` (the connector reads those
as the container's grants).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import httpx
import orjson

from syncline.connectors.dropbox.connector import (
    FILE_MEMBERS_PAGE_SIZE,
    MEMBERS_PAGE_SIZE,
    PAGE_SIZE,
)


class _Walk:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.records = 0
        self.requests = 0
        self.shared_folders: set[str] = set()

    async def rpc(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        response = await self.client.post(f"/2/{route}", content=orjson.dumps(body))
        response.raise_for_status()
        answer: dict[str, Any] = orjson.loads(response.content)
        return answer

    async def paged(self, route: str, body: dict[str, Any]) -> None:
        answer = await self.rpc(route, body)
        while answer.get("cursor"):
            answer = await self.rpc(f"{route}/continue", {"cursor": answer["cursor"]})

    async def listing(self) -> None:
        args = {
            "path": "",
            "recursive": True,
            "include_deleted": False,
            "include_has_explicit_shared_members": True,
            "include_mounted_folders": True,
            "include_non_downloadable_files": True,
            "limit": PAGE_SIZE,
        }
        body = await self.rpc("files/list_folder", args)
        while True:
            for entry in body.get("entries", []):
                if entry.get(".tag") not in ("file", "folder"):
                    continue
                self.records += 1
                info = entry.get("sharing_info") or {}
                folder = info.get("shared_folder_id") or info.get("parent_shared_folder_id")
                if folder is None:
                    folder = entry.get("parent_shared_folder_id")
                if folder is not None and folder not in self.shared_folders:
                    self.shared_folders.add(folder)
                    await self.paged(
                        "sharing/list_folder_members",
                        {"shared_folder_id": folder, "limit": MEMBERS_PAGE_SIZE},
                    )
                if entry.get("has_explicit_shared_members") is True:
                    await self.paged(
                        "sharing/list_file_members",
                        {
                            "file": entry["id"],
                            "include_inherited": False,
                            "limit": FILE_MEMBERS_PAGE_SIZE,
                        },
                    )
            if body.get("has_more") is not True:
                return
            body = await self.rpc("files/list_folder/continue", {"cursor": body["cursor"]})


async def fetch_all(dropbox: str, access: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access}", "Content-Type": "application/json"}
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=dropbox, headers=headers, timeout=600) as client:
        walker = _Walk(client)
        await walker.listing()
    return {
        "seconds": time.perf_counter() - started,
        "records": walker.records,
        "requests": walker.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dropbox", required=True)
    parser.add_argument("--access", required=True)
    args = parser.parse_args()
    result = asyncio.run(fetch_all(args.dropbox, args.access))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
