"""dlt loading the same Drive listing (run with the benchmark's own dlt virtualenv).

Prints one JSON line: {seconds, records}. Only the standard library, requests and dlt are used,
so this file runs outside Syncline's environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import dlt
import requests

FIELDS = (
    "nextPageToken,incompleteSearch,files(id,name,mimeType,size,md5Checksum,webViewLink,"
    "thumbnailLink,createdTime,modifiedTime,parents,trashed,driveId)"
)


def files(drive: str, access: str):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access}"
    params = {
        "corpora": "allDrives",
        "includeItemsFromAllDrives": "true",
        "supportsAllDrives": "true",
        "q": "trashed = false",
        "pageSize": "1000",
        "fields": FIELDS,
    }
    token = None
    while True:
        query = dict(params, **({"pageToken": token} if token else {}))
        body = session.get(f"{drive}/drive/v3/files", params=query, timeout=60).json()
        yield body.get("files", [])
        token = body.get("nextPageToken")
        if not token:
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drive", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--destination", choices=["sqlite", "duckdb"], required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--name", default="drive_bench")
    args = parser.parse_args()
    if args.destination == "sqlite":
        destination = dlt.destinations.sqlalchemy(credentials=f"sqlite:///{args.path}")
    else:
        destination = dlt.destinations.duckdb(args.path)
    pipeline = dlt.pipeline(
        pipeline_name=args.name,
        destination=destination,
        dataset_name="drive",
        pipelines_dir=f"{args.path}.pipelines",
    )
    resource = dlt.resource(
        files(args.drive, args.access), name="files", write_disposition="merge", primary_key="id"
    )
    started = time.perf_counter()
    info = pipeline.run(resource)
    seconds = time.perf_counter() - started
    count = pipeline.last_trace.last_normalize_info.row_counts.get("files", 0)
    assert not info.has_failed_jobs
    sys.stdout.write(json.dumps({"seconds": seconds, "records": count}) + "\n")


if __name__ == "__main__":
    main()
