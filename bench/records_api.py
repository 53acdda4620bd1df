"""The records API: a full pull of a large feed, and the latency of a page near its start and end.

    python -m bench.records_api [--records 1000000] [--db sqlite,postgres] [--runs 3]

The feed is seeded through the store's own page commits, then `syncline serve` runs as its own
process and a client pulls every record over HTTP in pages of 1000, following the cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bench.common import fresh_database, median, serve_process, table
from syncline.auth import generate_signing_key
from syncline.domain.ids import sync_id as make_sync_id
from syncline.domain.projects import Project
from syncline.domain.records import Upsert
from syncline.store import Database, Store
from syncline.store.migrate import upgrade
from syncline.store.store import NewCredential, NewSync, Progress, RunWrite

PAGE = 1000


def _file(i: int) -> Upsert:
    ext = f"file-{i:08d}"
    return Upsert(
        ext,
        {
            "externalId": ext,
            "name": f"report {i}.pdf",
            "mimeType": "application/pdf",
            "size": 1000 + i,
            "url": f"https://drive.google.com/file/d/{ext}/view",
            "thumbnailUrl": None,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-02T00:00:00.000Z",
            "hash": {"type": "MD5", "value": f"{i:032x}"},
            "parentFolderId": "folder-1",
            "customFields": {},
        },
    )


async def seed(url: str, project: Project, user: str, records: int) -> str:
    upgrade(url)
    db = Database(url)
    store = Store(db)
    now = datetime.now(UTC)
    await store.create_project(project, now)
    credential = await store.add_credential(
        NewCredential(project.id, user, "googledrive", "x", None, None, [], None), now
    )
    sid = make_sync_id(project.id, user, "googledrive", "files", "default")
    await store.create_sync(
        NewSync(sid, project.id, user, "googledrive", "files", "default", {}, credential.id, "24h"),
        now,
    )
    await store.update_sync(sid, now, next_run_at=now + timedelta(days=365))
    sync = (await store.claim_due("seeder", now + timedelta(days=366), 1, timedelta(hours=1)))[0]
    run = RunWrite(sync, "seeder", str(uuid.uuid4()), timedelta(hours=1), True, 1)
    progress = Progress(cursor="1", checkpoint=None, checkpoint_type=None)
    for start in range(0, records, PAGE):
        items = [_file(i) for i in range(start, min(records, start + PAGE))]
        await store.commit_page(run, now, upserts=items, progress=progress)
    await store.update_run(run, now, values={"status": "IDLE"}, release=True)
    await db.dispose()
    return sid


def measure(url: str, records: int, runs: int) -> dict[str, float]:
    signing = generate_signing_key()
    project = Project(str(uuid.uuid4()), "bench", signing.public_pem, None, None, datetime.now(UTC))
    started = time.perf_counter()
    sid = asyncio.run(seed(url, project, "u", records))
    seeded = time.perf_counter() - started
    keys = (signing.private_pem, signing.public_pem)
    with serve_process(url, project.id, keys) as served:
        client = served.client
        pulls = []
        for _ in range(runs):
            cursor, count, t0 = None, 0, time.perf_counter()
            cursors = []
            while True:
                params = {"pageSize": PAGE, **({"cursor": cursor} if cursor else {})}
                response = client.get(f"/api/syncs/{sid}/records", params=params)
                body = orjson.loads(response.content)
                count += len(body["data"])
                cursors.append(cursor)
                cursor = body["paging"]["cursor"]
                if not body["data"] or body["paging"]["remainingRecords"] == 0:
                    break
            pulls.append(time.perf_counter() - t0)
            assert count == records, (count, records)

        def latency(cursor: str | None) -> float:
            samples = []
            for _ in range(21):
                t0 = time.perf_counter()
                params = {"pageSize": PAGE, **({"cursor": cursor} if cursor else {})}
                client.get(f"/api/syncs/{sid}/records", params=params).raise_for_status()
                samples.append(time.perf_counter() - t0)
            return median(samples)

        near_start = latency(cursors[1])
        near_end = latency(cursors[-2])
    pull = median(pulls)
    return {
        "seed_s": seeded,
        "pull_s": pull,
        "rate": records / pull,
        "start_ms": near_start * 1000,
        "end_ms": near_end * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncline-bench-"))
    rows = [
        [
            "db",
            "records/s (full pull)",
            "pull s",
            "page near start ms",
            "page near end ms",
            "end/start",
        ]
    ]
    for kind in args.db.split(","):
        result = measure(fresh_database(kind, tmp, "records"), args.records, args.runs)
        rows.append(
            [
                kind,
                f"{result['rate']:,.0f}",
                f"{result['pull_s']:.2f}",
                f"{result['start_ms']:.1f}",
                f"{result['end_ms']:.1f}",
                f"{result['end_ms'] / result['start_ms']:.2f}",
            ]
        )
    print(
        f"records API over HTTP, {args.records:,} records, pages of {PAGE}, "
        f"median of {args.runs} pulls and of 21 single-page requests\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
