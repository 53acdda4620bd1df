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

# The same file fields Syncline asks for, permissions included (dlt loads them into its
# `files__permissions` child table), so both load the same listing.
FIELDS = (
    "nextPageToken,incompleteSearch,files(id,name,mimeType,size,md5Checksum,webViewLink,"
    "thumbnailLink,createdTime,modifiedTime,parents,trashed,driveId,"
    "shortcutDetails(targetId,targetMimeType),permissionIds,permissions(id,type,role,"
    "emailAddress,domain,allowFileDiscovery,deleted,permissionDetails(inherited,inheritedFrom,"
    "permissionType)))"
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
        response = session.get(f"{drive}/drive/v3/files", params=query, timeout=60)
        response.raise_for_status()
        body = response.json()
        yield body.get("files", [])
        token = body.get("nextPageToken")
        if not token:
            return


def changes(drive: str, access: str, token: str):
    """Files changed since `token`, from the changes feed, page by page."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access}"
    # FIELDS ends with the `)` that closes `files(`; here it closes `file(`, and one more
    # closes `changes(`. An unbalanced mask is a 400, which once made this feed silently empty.
    fields = (
        "nextPageToken,newStartPageToken,changes(fileId,removed,file("
        + FIELDS.split("files(")[1]
        + ")"
    )
    while True:
        params = {
            "pageToken": token,
            "pageSize": "1000",
            "includeItemsFromAllDrives": "true",
            "supportsAllDrives": "true",
            "fields": fields,
        }
        response = session.get(f"{drive}/drive/v3/changes", params=params, timeout=60)
        response.raise_for_status()
        body = response.json()
        yield [c["file"] for c in body.get("changes", []) if c.get("file")]
        token = body.get("nextPageToken")
        if not token:
            return


def start_token(drive: str, access: str) -> str:
    headers = {"Authorization": f"Bearer {access}"}
    url = f"{drive}/drive/v3/changes/startPageToken?supportsAllDrives=true"
    return requests.get(url, headers=headers, timeout=60).json()["startPageToken"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drive", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--destination", choices=["sqlite", "duckdb"], required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--name", default="drive_bench")
    parser.add_argument("--incremental", type=int, default=0, help="then time N changed files")
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
    token = start_token(args.drive, args.access)
    started = time.perf_counter()
    info = pipeline.run(resource)
    seconds = time.perf_counter() - started
    count = pipeline.last_trace.last_normalize_info.row_counts.get("files", 0)
    assert not info.has_failed_jobs
    result = {"seconds": seconds, "records": count}
    if args.incremental:
        requests.post(
            f"{args.drive}/_bench/mutate", params={"update": args.incremental}, timeout=60
        )
        changed = dlt.resource(
            changes(args.drive, args.access, token),
            name="files",
            write_disposition="merge",
            primary_key="id",
        )
        started = time.perf_counter()
        info = pipeline.run(changed)
        result["incremental_s"] = time.perf_counter() - started
        assert not info.has_failed_jobs
        merged = pipeline.last_trace.last_normalize_info.row_counts.get("files", 0)
        assert merged == args.incremental, f"dlt merged {merged} of {args.incremental} changes"
        result["incremental_records"] = merged
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
