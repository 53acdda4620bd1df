"""The fetch-only ceiling: a plain async client that pages through the listing and parses it.

Prints one JSON line: {seconds, records}.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httpx
import orjson

from syncline.connectors.googledrive.connector import LIST_FIELDS


async def fetch_all(drive: str, access: str) -> dict[str, float]:
    params = {
        "corpora": "allDrives",
        "includeItemsFromAllDrives": "true",
        "supportsAllDrives": "true",
        "q": "trashed = false",
        "pageSize": "1000",
        "fields": LIST_FIELDS,
    }
    headers = {"Authorization": f"Bearer {access}"}
    count = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=drive, headers=headers, timeout=60) as client:
        token = None
        while True:
            query = dict(params, **({"pageToken": token} if token else {}))
            body = orjson.loads((await client.get("/drive/v3/files", params=query)).content)
            count += len(body.get("files", []))
            token = body.get("nextPageToken")
            if not token:
                break
    return {"seconds": time.perf_counter() - started, "records": count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drive", required=True)
    parser.add_argument("--access", required=True)
    args = parser.parse_args()
    sys.stdout.write(orjson.dumps(asyncio.run(fetch_all(args.drive, args.access))).decode() + "\n")


if __name__ == "__main__":
    main()
